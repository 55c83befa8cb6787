#include "sandbox/internal/journal.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace certdeploy::sandbox::internal {

Journal::~Journal() {
  if (file_ != nullptr) std::fclose(file_);
}

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& path,
                                               std::vector<json>* entries) {
  entries->clear();
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str();
    }
  }
  size_t good_length = 0;  // Bytes up to and including the last complete, valid line.
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    size_t nl = text.find('\n', pos);
    bool complete = nl != std::string::npos;
    std::string_view line(text.data() + pos, (complete ? nl : text.size()) - pos);
    size_t next = complete ? nl + 1 : text.size();
    bool last = next >= text.size();
    json entry = json::parse(line, nullptr, false);
    bool valid = complete && entry.is_object();
    if (!valid) {
      if (last) break;  // Torn tail: dropped below.
      if (line.empty()) {
        pos = next;
        good_length = next;
        continue;
      }
      return DataLossError("state file " + path + " line " + std::to_string(line_no) +
                           " is corrupt");
    }
    entries->push_back(std::move(entry));
    pos = next;
    good_length = next;
  }
  if (good_length < text.size()) {
    if (truncate(path.c_str(), static_cast<off_t>(good_length)) != 0) {
      return InvalidArgumentError("state file " + path +
                                  ": cannot truncate torn tail: " + std::strerror(errno));
    }
  }
  std::FILE* file = std::fopen(path.c_str(), "ab");
  if (file == nullptr) {
    return InvalidArgumentError("state file " + path +
                                ": cannot open for append: " + std::strerror(errno));
  }
  return std::unique_ptr<Journal>(new Journal(path, file));
}

Status Journal::Append(const json& entry) {
  std::string line = entry.dump(-1, ' ', false, json::error_handler_t::replace);
  line += '\n';
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    return InternalError("state file " + path_ + ": write failed: " + std::strerror(errno));
  }
  return OkStatus();
}

}  // namespace certdeploy::sandbox::internal
