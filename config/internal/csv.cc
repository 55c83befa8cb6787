// RFC 4180 CSV splitting with per-record error recovery.

#include <algorithm>
#include <string_view>

#include "base/secret.h"
#include "config/manifest.h"

namespace certdeploy::config {
namespace {

struct Cursor {
  std::string_view text;
  size_t pos = 0;
  int line = 1;

  bool done() const { return pos >= text.size(); }
  char peek() const { return text[pos]; }
  // Consumes a line break (LF or CRLF or lone CR) if there is one.
  bool EatNewline() {
    if (done()) return false;
    if (text[pos] == '\n') {
      ++pos;
      ++line;
      return true;
    }
    if (text[pos] == '\r') {
      ++pos;
      if (!done() && text[pos] == '\n') ++pos;
      ++line;
      return true;
    }
    return false;
  }
  void SkipToNextLine() {
    while (!done() && !EatNewline()) ++pos;
  }
};

// Fields may hold inline passwords: wiped before they are dropped.
void Wipe(std::string& s) {
  SecureWipe(s.data(), s.size());
  s.clear();
}
void Wipe(std::vector<std::string>& fields) {
  for (std::string& f : fields) Wipe(f);
  fields.clear();
}

// Records over the bounds are still scanned to their end (so the next record starts in the
// right place) but no longer stored: a hostile line costs time linear in its length and a
// bounded amount of memory.
std::string TooLong(size_t bytes, size_t limit, const char* what) {
  return std::string(what) + " is " + std::to_string(bytes) + " bytes long; at most " +
         std::to_string(limit) + " are allowed";
}

// Fields kept (as excerpts) of a row over kMaxCsvRecordBytes.
constexpr size_t kMaxCsvExcerptFields = 16;

// Parses one record starting at the cursor. On error, leaves the cursor at the start of the
// line after the record's first line, so a broken record costs only its own line.
CsvRecord ParseRecord(Cursor& c) {
  CsvRecord record;
  record.line = c.line;
  const size_t start_pos = c.pos;
  const int start_line = c.line;
  std::string field;
  size_t field_bytes = 0;     // The current field's length, stored or not.
  size_t longest_field = 0;   // The longest field over kMaxCsvFieldBytes, if any.
  auto over_record = [&] { return c.pos - start_pos > kMaxCsvRecordBytes; };
  auto append = [&](std::string_view text) {
    field_bytes += text.size();
    if (field.size() < kMaxCsvFieldBytes) {
      field.append(text.substr(0, kMaxCsvFieldBytes - field.size()));
    }
  };
  auto fail_from_start = [&](std::string error) {
    record.error = std::move(error);
    Wipe(record.fields);
    Wipe(field);
    c.pos = start_pos;
    c.line = start_line;
    c.SkipToNextLine();
    record.record_bytes = c.pos - start_pos;
    return record;
  };
  for (;;) {
    if (!c.done() && c.peek() == '"') {
      ++c.pos;
      bool closed = false;
      while (!c.done()) {
        if (over_record()) {
          // A quoted field may span lines; past the bound, give up on it as on an open quote.
          record.too_large = true;
          return fail_from_start(TooLong(c.pos - start_pos, kMaxCsvRecordBytes, "the row") +
                                 " (a quoted field does not end)");
        }
        char ch = c.peek();
        if (ch == '"') {
          if (c.pos + 1 < c.text.size() && c.text[c.pos + 1] == '"') {
            append("\"");
            c.pos += 2;
            continue;
          }
          ++c.pos;
          closed = true;
          break;
        }
        if (ch == '\n' || ch == '\r') {
          size_t before = c.pos;
          c.EatNewline();
          append(c.text.substr(before, c.pos - before));
          continue;
        }
        append(std::string_view(&ch, 1));
        ++c.pos;
      }
      if (!closed) return fail_from_start("a quoted field is never closed");
      if (!c.done() && c.peek() != ',' && c.peek() != '\n' && c.peek() != '\r') {
        return fail_from_start(
            "unexpected text after a closing quote (quotes inside a field must be doubled)");
      }
    } else {
      const size_t begin = c.pos;
      while (!c.done() && c.peek() != ',' && c.peek() != '\n' && c.peek() != '\r') {
        if (c.peek() == '"') {
          record.error = "a quote inside an unquoted field (quote the whole field and double it)";
          Wipe(record.fields);
          Wipe(field);
          c.SkipToNextLine();
          record.record_bytes = c.pos - start_pos;
          return record;
        }
        ++c.pos;
      }
      append(c.text.substr(begin, c.pos - begin));
    }
    if (field_bytes > kMaxCsvFieldBytes) longest_field = std::max(longest_field, field_bytes);
    // Fields stop being kept once the row is over its bound (a line of commas is not a
    // million empty fields).
    if (!over_record()) {
      record.fields.push_back(std::move(field));
    } else if (record.fields.size() < kMaxCsvExcerptFields) {
      // Past the bound only an excerpt of the first fields is kept, so the message can still
      // name the row (its UPN may be the field that made it too long).
      if (field.size() > kCsvExcerptBytes) {
        SecureWipe(field.data() + kCsvExcerptBytes, field.size() - kCsvExcerptBytes);
        field.resize(kCsvExcerptBytes);
      }
      record.fields.push_back(std::move(field));
    }
    Wipe(field);
    field_bytes = 0;
    bool more = !c.done() && c.peek() == ',';
    if (more) {
      ++c.pos;
      continue;
    }
    record.record_bytes = c.pos - start_pos;
    c.EatNewline();
    break;
  }
  if (record.record_bytes > kMaxCsvRecordBytes) {
    record.error = TooLong(record.record_bytes, kMaxCsvRecordBytes, "the row");
  } else if (longest_field > 0) {
    record.error = TooLong(longest_field, kMaxCsvFieldBytes, "a field");
  }
  record.too_large = !record.error.empty();
  if (record.too_large) {
    // Keep only the start of each field: enough for a message to name the row.
    for (std::string& f : record.fields) {
      if (f.size() > kCsvExcerptBytes) {
        SecureWipe(f.data() + kCsvExcerptBytes, f.size() - kCsvExcerptBytes);
        f.resize(kCsvExcerptBytes);
      }
    }
  }
  return record;
}

}  // namespace

std::vector<CsvRecord> ParseCsv(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<CsvRecord> records;
  Cursor c{text};
  while (!c.done()) {
    if (c.EatNewline()) continue;  // Blank line.
    records.push_back(ParseRecord(c));
  }
  return records;
}

}  // namespace certdeploy::config
