// service/internal/openapi_parts.h: the building blocks of the OpenAPI document (openapi.cc),
// shared with the files that describe groups of paths (openapi_lists.cc).

#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace certdeploy::service {
namespace openapi {

using Json = nlohmann::json;

Json Ref(const std::string& name);                   // {"$ref": "#/components/schemas/<name>"}
Json Problem(const std::string& description);        // A problem+json response.
Json JsonBody(const std::string& description, const Json& schema);
Json IdParam();                                      // The {id} path parameter.
// Adds 401, 403 and 503 (they apply to every authenticated operation), and 422 when asked.
Json Errors(Json responses, bool unprocessable = false);
// An operation needing `scope` ("" for any key).
Json Operation(const std::string& summary, const std::string& scope, Json responses);
// Either scope is enough (OpenAPI: alternative security requirements).
Json ReadOrRollouts();

}  // namespace openapi

// The operators' lists, /v1/me, /v1/throughput and /ui/ (openapi_lists.cc): their paths and
// schemas.
void AddConsolePaths(nlohmann::json& paths, nlohmann::json& schemas);

}  // namespace certdeploy::service
