// RFC 4180 CSV splitting with per-record error recovery.

#include <string_view>

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

// Parses one record starting at the cursor. On error, leaves the cursor at the start of the
// line after the record's first line, so a broken record costs only its own line.
CsvRecord ParseRecord(Cursor& c) {
  CsvRecord record;
  record.line = c.line;
  const size_t start_pos = c.pos;
  const int start_line = c.line;
  std::string field;
  for (;;) {
    if (!c.done() && c.peek() == '"') {
      ++c.pos;
      bool closed = false;
      while (!c.done()) {
        char ch = c.peek();
        if (ch == '"') {
          if (c.pos + 1 < c.text.size() && c.text[c.pos + 1] == '"') {
            field.push_back('"');
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
          field.append(c.text.substr(before, c.pos - before));
          continue;
        }
        field.push_back(ch);
        ++c.pos;
      }
      if (!closed) {
        record.error = "a quoted field is never closed";
        c.pos = start_pos;
        c.line = start_line;
        c.SkipToNextLine();
        return record;
      }
      if (!c.done() && c.peek() != ',' && c.peek() != '\n' && c.peek() != '\r') {
        record.error = "unexpected text after a closing quote (quotes inside a field must be doubled)";
        c.pos = start_pos;
        c.line = start_line;
        c.SkipToNextLine();
        return record;
      }
    } else {
      while (!c.done() && c.peek() != ',' && c.peek() != '\n' && c.peek() != '\r') {
        if (c.peek() == '"') {
          record.error = "a quote inside an unquoted field (quote the whole field and double it)";
          c.SkipToNextLine();
          return record;
        }
        field.push_back(c.peek());
        ++c.pos;
      }
    }
    record.fields.push_back(std::move(field));
    field.clear();
    if (c.done()) return record;
    if (c.peek() == ',') {
      ++c.pos;
      continue;
    }
    c.EatNewline();
    return record;
  }
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
