#include "sandbox/internal/odata.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "base/encoding.h"
#include "base/strings.h"

namespace certdeploy::sandbox::internal {
namespace {

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  void SkipSpace() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ >= s_.size();
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::optional<std::string> Identifier() {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                s_[pos_] == '_' || s_[pos_] == '.')) {
      ++pos_;
    }
    if (pos_ == start) return std::nullopt;
    return std::string(s_.substr(start, pos_ - start));
  }
  // A keyword must be followed by a space (or the end).
  bool Keyword(std::string_view word) {
    SkipSpace();
    if (s_.substr(pos_, word.size()) != word) return false;
    size_t after = pos_ + word.size();
    if (after < s_.size() && s_[after] != ' ') return false;
    pos_ = after;
    return true;
  }
  std::optional<std::string> Literal() {
    SkipSpace();
    if (pos_ >= s_.size() || s_[pos_] != '\'') return std::nullopt;
    ++pos_;
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '\'') {
        if (pos_ < s_.size() && s_[pos_] == '\'') {
          out += '\'';
          ++pos_;
        } else {
          return out;
        }
      } else {
        out += c;
      }
    }
    return std::nullopt;  // Unterminated.
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

std::optional<int> ParseNonNegativeInt(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string EncodeQueryKey(std::string_view key) {
  if (!key.empty() && key[0] == '$') return "$" + PercentEncode(key.substr(1));
  return PercentEncode(key);
}

Refusal BadQuery(std::string message) {
  return Refusal{400, "BadRequest", std::move(message), "query: invalid option"};
}

}  // namespace

std::optional<std::vector<EqClause>> ParseEqFilter(std::string_view filter) {
  Lexer lex(filter);
  std::vector<EqClause> clauses;
  do {
    EqClause clause;
    auto name = lex.Identifier();
    if (!name) return std::nullopt;
    if (*name == "tolower") {
      if (!lex.Consume('(')) return std::nullopt;
      name = lex.Identifier();
      if (!name || !lex.Consume(')')) return std::nullopt;
      clause.tolower = true;
    }
    clause.property = *name;
    if (!lex.Keyword("eq")) return std::nullopt;
    auto literal = lex.Literal();
    if (!literal) return std::nullopt;
    clause.literal = *literal;
    clauses.push_back(std::move(clause));
  } while (!lex.AtEnd() && lex.Keyword("and"));
  if (!lex.AtEnd()) return std::nullopt;
  return clauses;
}

std::optional<std::string> ParseIsOf(std::string_view filter) {
  Lexer lex(filter);
  auto fn = lex.Identifier();
  if (!fn || *fn != "isof" || !lex.Consume('(')) return std::nullopt;
  auto literal = lex.Literal();
  if (!literal || !lex.Consume(')') || !lex.AtEnd()) return std::nullopt;
  constexpr std::string_view kPrefix = "microsoft.graph.";
  if (literal->rfind(kPrefix, 0) != 0) return std::nullopt;
  return literal->substr(kPrefix.size());
}

std::optional<KeySegment> ParseKeySegment(std::string_view segment) {
  size_t open = segment.find('(');
  if (open == std::string_view::npos) {
    if (segment.find(')') != std::string_view::npos) return std::nullopt;
    return KeySegment{std::string(segment), std::nullopt};
  }
  if (segment.back() != ')' || open == 0) return std::nullopt;
  std::string_view inner = segment.substr(open + 1, segment.size() - open - 2);
  std::string key;
  if (!inner.empty() && inner.front() == '\'') {
    Lexer lex(inner);
    auto literal = lex.Literal();
    if (!literal || !lex.AtEnd()) return std::nullopt;
    key = *literal;
  } else {
    if (inner.find_first_of("'()") != std::string_view::npos) return std::nullopt;
    key = std::string(inner);
  }
  if (key.empty()) return std::nullopt;
  return KeySegment{std::string(segment.substr(0, open)), key};
}

std::optional<Refusal> CheckQueryOptions(const Operation& op,
                                         std::initializer_list<std::string_view> allowed) {
  std::set<std::string> seen;
  for (const auto& [key, value] : op.query) {
    if (key.empty() || key[0] != '$') continue;  // Graph ignores non-system parameters.
    if (!seen.insert(key).second) {
      return BadQuery("Query option '" + key +
                      "' was specified more than once, but it must be "
                      "specified at most once.");
    }
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return BadQuery("Query option '" + key +
                      "' is not supported on this resource by the "
                      "sandbox.");
    }
  }
  return std::nullopt;
}

std::variant<json, Refusal> MakePage(const Operation& op, std::vector<PageItem> items,
                                     int page_size, std::string_view context) {
  int limit = std::max(page_size, 1);
  if (auto top = op.Query("$top")) {
    auto value = ParseNonNegativeInt(*top);
    if (!value) return BadQuery("Invalid value '" + *top + "' for query option '$top'.");
    limit = std::min(limit, *value);
  }
  std::optional<std::string> after;
  if (auto token = op.Query("$skiptoken")) {
    after = Base64UrlDecode(*token);
    if (!after || after->empty()) return BadQuery("The $skiptoken is not valid.");
  }
  std::sort(items.begin(), items.end(),
            [](const PageItem& a, const PageItem& b) { return a.key < b.key; });
  auto first = items.begin();
  if (after) {
    first =
        std::upper_bound(items.begin(), items.end(), *after,
                         [](const std::string& k, const PageItem& item) { return k < item.key; });
  }
  json page = json::object();
  page["@odata.context"] =
      op.context->base_url + "/" + op.version + "/$metadata#" + std::string(context);
  json values = json::array();
  auto it = first;
  for (int n = 0; it != items.end() && n < limit; ++it, ++n) {
    json value = std::move(it->value);
    ApplySelect(op, &value);
    values.push_back(std::move(value));
  }
  page["value"] = std::move(values);
  if (it != items.end() && limit > 0) {
    std::string link = op.context->base_url + "/" + op.version;
    for (const auto& segment : op.segments) link += "/" + PercentEncode(segment);
    char sep = '?';
    for (const auto& [key, value] : op.query) {
      if (key == "$skiptoken") continue;
      link += sep + EncodeQueryKey(key) + "=" + PercentEncode(value);
      sep = '&';
    }
    link += sep + std::string("$skiptoken=") + Base64UrlEncode(std::prev(it)->key);
    page["@odata.nextLink"] = link;
  }
  return page;
}

void ApplySelect(const Operation& op, json* object) {
  auto select = op.Query("$select");
  if (!select || !object->is_object()) return;
  std::set<std::string> keep = {"id", "@odata.type"};
  size_t start = 0;
  while (start <= select->size()) {
    size_t comma = select->find(',', start);
    if (comma == std::string::npos) comma = select->size();
    std::string name = select->substr(start, comma - start);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    keep.insert(name);
    start = comma + 1;
  }
  for (auto it = object->begin(); it != object->end();) {
    if (keep.count(it.key()) == 0) {
      it = object->erase(it);
    } else {
      ++it;
    }
  }
}

TypeAndNameFilter ParseTypeAndNameFilter(std::optional<std::string_view> filter) {
  TypeAndNameFilter out;
  if (!filter) return out;
  out.type = ParseIsOf(*filter);
  std::optional<std::vector<EqClause>> clauses = ParseEqFilter(*filter);
  if (clauses && clauses->size() == 1 && (*clauses)[0].property == "displayName") {
    out.name = (*clauses)[0];
  }
  return out;
}

bool TypeAndNameFilter::Matches(const std::string& record_type,
                                const std::string& display_name) const {
  if (type && record_type != *type) return false;
  if (!name) return true;
  return (name->tolower ? AsciiToLower(display_name) : display_name) == name->literal;
}

}  // namespace certdeploy::sandbox::internal
