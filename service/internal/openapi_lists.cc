// The OpenAPI description of the operators' lists (api_lists.cc), GET /v1/me, GET
// /v1/throughput and the console's files (api_console.cc).

#include "service/internal/openapi_parts.h"

namespace certdeploy::service {
namespace {

using namespace openapi;  // NOLINT: the document's building blocks.

Json Query(const char* name, Json schema, const char* description) {
  return Json{{"name", name}, {"in", "query"}, {"schema", std::move(schema)},
              {"description", description}};
}

// ?limit= and ?cursor=, plus `extra`.
Json PageParams(Json extra) {
  extra.push_back(Query("limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 200}},
                        "Rows per page (default 50)"));
  extra.push_back(Query("cursor", {{"type", "string"}},
                        "Opaque; from the previous page's `next` link (a malformed one is a 400)"));
  return extra;
}

Json PageOf(const Json& item) {
  return {{"type", "object"},
          {"required", {"value"}},
          {"properties",
           {{"value", {{"type", "array"}, {"items", item}}},
            {"next",
             {{"type", "string"},
              {"description", "The next page's path and query; absent on the last page"}}}}}};
}

Json Time() { return {{"type", "string"}, {"format", "date-time"}}; }

Json ItemStatuses() { return Json::array({"queued", "running", "succeeded", "failed", "cancelled"}); }

Json ListSchemas() {
  Json rollout_status = {
      {"enum", {"scheduled", "running", "paused", "succeeded", "failed", "cancelled"}}};
  Json finding = {{"type", "object"},
                  {"properties", {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}};
  return {
      {"RolloutSummary",
       {{"type", "object"},
        {"properties",
         {{"id", {{"type", "string"}}},
          {"name", {{"type", "string"}}},
          {"status", rollout_status},
          {"dryRun", {{"type", "boolean"}}},
          {"currentWave", {{"type", "integer"}, {"description", "0 before the first wave"}}},
          {"waveCount", {{"type", "integer"}}},
          {"startAt", Time()},
          {"counts", Ref("Counts")},
          {"createdAt", Time()},
          {"updatedAt", Time()}}}}},
      {"RolloutItem",
       {{"type", "object"},
        {"properties",
         {{"id", {{"type", "string"}}},
          {"line", {{"type", "integer"}, {"description", "Manifest line"}}},
          {"wave", {{"type", "integer"}}},
          {"userPrincipalName", {{"type", "string"}}},
          {"status", {{"enum", ItemStatuses()}}},
          {"invalid",
           {{"type", "boolean"},
            {"description",
             "A row refused when the rollout was created (status failed, never sent to Graph; "
             "counted as invalid, not failed)"}}},
          {"thumbprint", {{"type", "string"}}},
          {"intendedPurpose", {{"type", "string"}}},
          {"attempts", {{"type", "integer"}}},
          {"error", Ref("Error")},
          {"findings",
           {{"type", "array"},
            {"description", "Failed items: the row check's findings (e.g. email-mismatch)"},
            {"items", finding}}},
          {"updatedAt", Time()}}}}},
      {"AuditRecord",
       {{"type", "object"},
        {"properties",
         {{"id", {{"type", "integer"}}},
          {"at", Time()},
          {"apiKey", {{"type", "string"}, {"description", "The key's name; empty for the daemon"}}},
          {"action", {{"type", "string"}}},
          {"userPrincipalName", {{"type", "string"}}},
          {"thumbprint", {{"type", "string"}}},
          {"outcome", {{"type", "string"}}},
          {"requestIds", {{"type", "string"}}},
          {"detail", {{"type", "string"}}}}}}},
      {"Throughput",
       {{"type", "object"},
        {"properties",
         {{"windowSeconds", {{"type", "integer"}}},
          {"writesPerWindow", {{"type", "integer"}, {"description", "The write budget"}}},
          {"requestsPerWindow", {{"type", "integer"}}},
          {"samples",
           {{"type", "array"},
            {"description", "Oldest first, the last hour; one per budget window"},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"at", Time()},
                {"seconds", {{"type", "number"}, {"description", "Length of the interval"}}},
                {"writes", {{"type", "integer"}}},
                {"requests", {{"type", "integer"}}},
                {"queueDepth",
                 {{"type", "integer"}, {"description", "-1 when the store did not answer"}}}}}}}}}}}}},
  };
}

}  // namespace

void AddConsolePaths(Json& paths, Json& schemas) {
  const Json list_schemas = ListSchemas();
  for (auto it = list_schemas.begin(); it != list_schemas.end(); ++it) schemas[it.key()] = *it;
  Json status = {{"type", "string"}};
  Json list_rollouts = Operation(
      "Rollouts, newest first, with their counts", "read",
      Errors({{"200", JsonBody("A page of rollouts", PageOf(Ref("RolloutSummary")))},
              {"400", Problem("Bad status, limit or cursor")}}));
  list_rollouts["security"] = ReadOrRollouts();
  list_rollouts["parameters"] = PageParams(Json::array(
      {Query("status", {{"enum", {"scheduled", "running", "paused", "succeeded", "failed",
                                  "cancelled"}}},
             "Only rollouts in this status")}));
  paths["/v1/rollouts"]["get"] = list_rollouts;

  Json items = Operation(
      "A rollout's items in manifest order: status, thumbprint, error and findings", "read",
      Errors({{"200", JsonBody("A page of items", PageOf(Ref("RolloutItem")))},
              {"400", Problem("Bad status, upn, limit or cursor")},
              {"404", Problem("No such rollout")}}));
  items["security"] = ReadOrRollouts();
  items["parameters"] = IdParam();
  for (const Json& p : PageParams(Json::array(
           {Query("status", {{"enum", ItemStatuses()}}, "Only items in this status"),
            Query("upn", status, "Only this user's items (case-insensitive)")}))) {
    items["parameters"].push_back(p);
  }
  paths["/v1/rollouts/{id}/items"]["get"] = items;

  Json enrollments = Operation(
      "Enrollments, newest first", "read",
      Errors({{"200", JsonBody("A page of enrollments", PageOf(Ref("Enrollment")))},
              {"400", Problem("Bad status, upn, limit or cursor")}}));
  enrollments["parameters"] = PageParams(Json::array(
      {Query("upn", status, "Only this user's enrollments (case-insensitive)"),
       Query("status", {{"enum", ItemStatuses()}}, "Only enrollments in this status")}));
  paths["/v1/enrollments"]["get"] = enrollments;

  Json audit = Operation("The audit log, newest first", "read",
                         Errors({{"200", JsonBody("A page of records", PageOf(Ref("AuditRecord")))},
                                 {"400", Problem("Bad since, limit or cursor")}}));
  audit["parameters"] = PageParams(Json::array(
      {Query("since", Time(), "Only records at or after this time (RFC 3339)")}));
  paths["/v1/audit"]["get"] = audit;

  paths["/v1/throughput"]["get"] = Operation(
      "Graph writes and requests per budget window and queue depth, the last hour (this "
      "replica's, in memory)",
      "read", Errors({{"200", JsonBody("History", Ref("Throughput"))}}));
  paths["/v1/me"]["get"] = Operation(
      "The calling key's name and scopes", "",
      Errors({{"200", JsonBody("The key", {{"type", "object"},
                                           {"properties",
                                            {{"name", {{"type", "string"}}},
                                             {"scopes", {{"type", "array"},
                                                         {"items", {{"type", "string"}}}}}}}})}}));
  paths["/ui/"]["get"] = {
      {"summary", "The operator console (HTML; its scripts call this API with the key typed in)"},
      {"security", Json::array()},
      {"responses", {{"200", {{"description", "The console's page"}}}}}};
}

}  // namespace certdeploy::service
