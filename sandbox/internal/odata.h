// sandbox/internal/odata.h: the slice of OData the sandbox understands.
//
// - $filter made of `prop eq 'literal'` / `tolower(prop) eq 'literal'` clauses joined by `and`
//   (string literals escape ' as ''), and `isof('microsoft.graph.type')`;
// - key segments: `name`, `name('key')`, `name(key)`;
// - server-side paging: each collection is ordered by a key, a page holds at most page_size
//   items ($top lowers it), and @odata.nextLink is an absolute URL that repeats the request's
//   query with an opaque $skiptoken (the last key, base64url) - clients must follow it as is;
// - $select (keeps id and @odata.type) and a check that only supported $-options appear, once.

#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sandbox/internal/wire.h"

namespace certdeploy::sandbox::internal {

struct EqClause {
  std::string property;
  bool tolower = false;  // tolower(property) eq '...'
  std::string literal;   // Unescaped.
};

// nullopt unless the whole filter is one or more eq clauses joined by "and".
std::optional<std::vector<EqClause>> ParseEqFilter(std::string_view filter);
// "isof('microsoft.graph.iosTrustedRootCertificate')" -> "iosTrustedRootCertificate".
std::optional<std::string> ParseIsOf(std::string_view filter);

// The $filter a configuration list applies, as Intune does for deviceConfigurations:
// isof('microsoft.graph.T') and displayName eq '...' (optionally tolower(displayName)); any other
// filter is ignored, not refused.
struct TypeAndNameFilter {
  std::optional<std::string> type;  // "iosTrustedRootCertificate"
  std::optional<EqClause> name;

  // Whether a record of `record_type` named `display_name` passes.
  bool Matches(const std::string& record_type, const std::string& display_name) const;
};
TypeAndNameFilter ParseTypeAndNameFilter(std::optional<std::string_view> filter);

struct KeySegment {
  std::string name;
  std::optional<std::string> key;
};
// nullopt for unbalanced parentheses or quotes.
std::optional<KeySegment> ParseKeySegment(std::string_view segment);

// Refuses (400) $-options outside `allowed` and any option given twice.
std::optional<Refusal> CheckQueryOptions(const Operation& op,
                                         std::initializer_list<std::string_view> allowed);

struct PageItem {
  std::string key;  // Sort and paging key; unique within the collection.
  json value;
};

// Sorts `items` by key and returns {"@odata.context":..., "value":[...], "@odata.nextLink"?},
// or a refusal for a bad $top/$skiptoken. `context` is appended to "<base>/<version>/$metadata#".
std::variant<json, Refusal> MakePage(const Operation& op, std::vector<PageItem> items,
                                     int page_size, std::string_view context);

// Applies $select to one object, if the operation has one.
void ApplySelect(const Operation& op, json* object);

}  // namespace certdeploy::sandbox::internal
