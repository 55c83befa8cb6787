// The OpenAPI 3.1 document of the REST API, served at GET /openapi.json.
//
// Kept next to the handlers: a route added to api.cc must be described here too (api_test checks
// that every routed path appears).

#include <string>

#include "service/api.h"
#include "service/internal/openapi_parts.h"

namespace certdeploy::service {
namespace openapi {

Json Ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

Json Problem(const std::string& description) {
  return {{"description", description},
          {"content", {{"application/problem+json", {{"schema", Ref("Problem")}}}}}};
}

Json JsonBody(const std::string& description, const Json& schema) {
  return {{"description", description}, {"content", {{"application/json", {{"schema", schema}}}}}};
}

Json IdParam() {
  return Json::array({{{"name", "id"},
                       {"in", "path"},
                       {"required", true},
                       {"schema", {{"type", "string"}, {"pattern", "^[A-Za-z0-9_-]{1,64}$"}}}}});
}

Json Errors(Json responses, bool unprocessable) {
  responses["401"] = Problem("Missing or unknown API key");
  responses["403"] = Problem("The API key lacks the required scope");
  responses["503"] = Problem("Store or Graph unavailable; retry later");
  if (unprocessable) responses["422"] = Problem("Validation failed (see findings)");
  return responses;
}

Json Operation(const std::string& summary, const std::string& scope, Json responses) {
  Json op = {{"summary", summary}, {"responses", std::move(responses)}};
  op["security"] =
      Json::array({{{"apiKey", scope.empty() ? Json::array() : Json::array({scope})}}});
  return op;
}

Json ReadOrRollouts() {
  return Json::array(
      {{{"apiKey", Json::array({"read"})}}, {{"apiKey", Json::array({"rollouts"})}}});
}

}  // namespace openapi

namespace {

using namespace openapi;  // NOLINT: the document's building blocks.

Json Schemas() {
  Json counts = {{"type", "object"},
                 {"properties",
                  {{"queued", {{"type", "integer"}}},
                   {"running", {{"type", "integer"}}},
                   {"succeeded", {{"type", "integer"}}},
                   {"failed",
                    {{"type", "integer"}, {"description", "Deployments that failed"}}},
                   {"invalid",
                    {{"type", "integer"},
                     {"description",
                      "Rows refused when the rollout was created (never sent to Graph); they "
                      "decide neither the halt nor the rollout's outcome"}}},
                   {"cancelled", {{"type", "integer"}}},
                   {"total", {{"type", "integer"}}}}}};
  Json error = {{"type", "object"},
                {"properties",
                 {{"code", {{"type", "string"}}},
                  {"message", {{"type", "string"}}},
                  {"requestId", {{"type", "string"}, {"description", "Graph request-id"}}}}}};
  Json finding = {
      {"type", "object"},
      {"required", {"code", "severity", "message"}},
      {"properties",
       {{"code", {{"type", "string"}, {"examples", {"bad-password", "email-mismatch"}}}},
        {"severity", {{"enum", {"error", "warning"}}}},
        {"message", {{"type", "string"}}}}}};
  Json wave = {{"type", "object"},
               {"required", {"percent"}},
               {"properties",
                {{"percent", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}},
                 {"after",
                  {{"type", "string"},
                   {"description", "ISO 8601 duration after the previous wave finished"},
                   {"examples", {"PT2H", "P1D"}}}}}}};
  return {
      {"Problem",
       {{"type", "object"},
        {"description", "RFC 9457 problem details"},
        {"required", {"type", "title", "status", "detail"}},
        {"properties",
         {{"type", {{"type", "string"}}},
          {"title", {{"type", "string"}}},
          {"status", {{"type", "integer"}}},
          {"detail", {{"type", "string"}}},
          {"findings", {{"type", "array"}, {"items", Ref("Finding")}}}}}}},
      {"Finding", finding},
      {"Error", error},
      {"Counts", counts},
      {"Wave", wave},
      {"EnrollmentRequest",
       {{"type", "object"},
        {"required", {"userPrincipalName", "pfx", "password"}},
        {"additionalProperties", false},
        {"properties",
         {{"userPrincipalName", {{"type", "string"}}},
          {"pfx", {{"type", "string"}, {"contentEncoding", "base64"}}},
          {"password",
           {{"type", "string"},
            {"writeOnly", true},
            {"description", "Sealed to the connector key at once; never stored in clear"}}},
          {"intendedPurpose",
           {{"enum", {"smimeEncryption", "smimeSigning", "vpn", "wifi", "unassigned"}}}},
          {"dryRun", {{"type", "boolean"}, {"default", false}}}}}}},
      {"Accepted",
       {{"type", "object"},
        {"properties", {{"id", {{"type", "string"}}}, {"status", {{"const", "queued"}}}}}}},
      {"OffboardingRequest",
       {{"type", "object"},
        {"required", {"userPrincipalName"}},
        {"additionalProperties", false},
        {"properties",
         {{"userPrincipalName", {{"type", "string"}}},
          {"thumbprints",
           {{"type", "array"},
            {"minItems", 1},
            {"maxItems", 100},
            {"items", {{"type", "string"}, {"pattern", "^[0-9A-Fa-f]{40}$"}}},
            {"description", "Only these certificates; omit to remove all of the user's"}}}}}}},
      {"Offboarding",
       {{"type", "object"},
        {"properties",
         {{"id", {{"type", "string"}}},
          {"userPrincipalName", {{"type", "string"}}},
          {"thumbprints", {{"type", "array"}, {"items", {{"type", "string"}}}}},
          {"status", {{"enum", {"queued", "running", "succeeded", "failed"}}}},
          {"removed",
           {{"type", "array"},
            {"items", {{"type", "string"}}},
            {"description", "Thumbprints deleted and read back as gone"}}},
          {"cancelledItems",
           {{"type", "integer"}, {"description", "The user's queued items cancelled"}}},
          {"error", Ref("Error")},
          {"createdAt", {{"type", "string"}, {"format", "date-time"}}},
          {"updatedAt", {{"type", "string"}, {"format", "date-time"}}}}}}},
      {"Enrollment",
       {{"type", "object"},
        {"properties",
         {{"id", {{"type", "string"}}},
          {"userPrincipalName", {{"type", "string"}}},
          {"thumbprint", {{"type", "string"}}},
          {"status",
           {{"enum", {"queued", "running", "succeeded", "failed", "cancelled"}},
            {"description", "cancelled: by an offboarding of the user (error code offboarded)"}}},
          {"error", Ref("Error")},
          {"createdAt", {{"type", "string"}, {"format", "date-time"}}},
          {"updatedAt", {{"type", "string"}, {"format", "date-time"}}}}}}},
      {"DryRun",
       {{"type", "object"},
        {"properties",
         {{"dryRun", {{"const", true}}},
          {"userPrincipalName", {{"type", "string"}}},
          {"thumbprint", {{"type", "string"}}},
          {"findings", {{"type", "array"}, {"items", Ref("Finding")}}},
          {"plan", Ref("Plan")}}}}},
      {"Plan", {{"type", "object"}, {"description", "The plan file format (docs/plan-format.md)"}}},
      {"RolloutRequest",
       {{"type", "object"},
        {"required", {"name", "manifest"}},
        {"additionalProperties", false},
        {"properties",
         {{"name", {{"type", "string"}}},
          {"manifest", {{"type", "string"}, {"description", "Path inside service.inbox"}}},
          {"startAt",
           {{"type", "string"},
            {"format", "date-time"},
            {"description",
             "Omitted: now. More than 5 minutes in the past: 422 start-at-in-the-past"}}},
          {"waves", {{"type", "array"}, {"items", Ref("Wave")}}},
          {"haltOnFailurePercent", {{"type", "integer"}, {"minimum", 0}, {"maximum", 100}}},
          {"dryRun", {{"type", "boolean"}, {"default", false}}}}}}},
      {"RolloutState",
       {{"type", "object"},
        {"properties",
         {{"id", {{"type", "string"}}},
          {"status",
           {{"enum", {"scheduled", "running", "paused", "succeeded", "failed", "cancelled"}}}}}}}},
      {"Certificate",
       {{"type", "object"},
        {"properties",
         {{"userPrincipalName", {{"type", "string"}}},
          {"thumbprint", {{"type", "string"}}},
          {"intendedPurpose", {{"type", "string"}}},
          {"startDateTime", {{"type", "string"}, {"format", "date-time"}}},
          {"expirationDateTime", {{"type", "string"}, {"format", "date-time"}}},
          {"status", {{"enum", {"valid", "expiring", "expired"}}}},
          {"supersededBy", {{"type", {"string", "null"}}}},
          {"id", {{"type", "string"}}},
          {"devices",
           {{"type", "array"},
            {"description",
             "devices=true only: what devices reported for the imported-PFX profile delivering "
             "the certificate (Graph beta deviceStatuses). Empty means nothing was reported, "
             "not that nothing was delivered."},
            {"items", Ref("DeviceDelivery")}}}}}}},
      {"DeviceDelivery",
       {{"type", "object"},
        {"properties",
         {{"deviceDisplayName", {{"type", "string"}}},
          {"platform", {{"type", "string"}, {"description", "The profile's platform"}}},
          {"status",
           {{"type", "string"},
            {"description",
             "Graph complianceStatus as sent: unknown, notApplicable, compliant, remediated, "
             "nonCompliant, error, conflict, notAssigned (or a newer value)"}}},
          {"lastReportedDateTime", {{"type", {"string", "null"}}, {"format", "date-time"}}}}}}},
      {"CertificatePage",
       {{"type", "object"},
        {"properties",
         {{"value", {{"type", "array"}, {"items", Ref("Certificate")}}},
          {"count", {{"type", "integer"}}},
          {"nextLink", {{"type", "string"}}}}}}},
      {"Rollout",
       {{"type", "object"},
        {"properties",
         {{"id", {{"type", "string"}}},
          {"name", {{"type", "string"}}},
          {"manifest", {{"type", "string"}}},
          {"status",
           {{"enum", {"scheduled", "running", "paused", "succeeded", "failed", "cancelled"}}}},
          {"dryRun", {{"type", "boolean"}}},
          {"startAt", {{"type", "string"}, {"format", "date-time"}}},
          {"haltOnFailurePercent", {{"type", "integer"}}},
          {"currentWave", {{"type", "integer"}}},
          {"nextWaveAt",
           {{"type", "string"},
            {"format", "date-time"},
            {"description",
             "When the next wave starts by the clock: while scheduled, and between a finished "
             "wave and the next; absent while a wave runs, while paused and after the last"}}},
          {"waves",
           {{"type", "array"},
            {"items",
             {{"allOf", {Ref("Wave")}},
              {"properties",
               {{"wave", {{"type", "integer"}}},
                {"state", {{"enum", {"pending", "running", "finished"}}}},
                {"startedAt", {{"type", "string"}, {"format", "date-time"}}},
                {"finishedAt", {{"type", "string"}, {"format", "date-time"}}},
                {"counts", Ref("Counts")}}}}}}},
          {"counts", Ref("Counts")},
          {"failures", {{"type", "array"}, {"items", {{"type", "object"}}}}},
          {"createdAt", {{"type", "string"}, {"format", "date-time"}}},
          {"updatedAt", {{"type", "string"}, {"format", "date-time"}}}}}}},
  };
}

Json RolloutAction(const std::string& verb) {
  Json responses = Errors(
      {{"200", JsonBody("The status (unchanged when the rollout already was in it)",
                        Ref("RolloutState"))},
       {"404", Problem("No such rollout")},
       {"409", Problem("rollout-transition-not-allowed: not possible in the rollout's status "
                       "(e.g. resume a succeeded one); conflict: it changed meanwhile, retry")}});
  Json op = Operation(verb + " the rollout", "rollouts", responses);
  op["parameters"] = IdParam();
  return {{"post", op}};
}

}  // namespace

nlohmann::json OpenApiDocument() {
  Json text = {{"text/plain", {{"schema", {{"type", "string"}}}}}};
  Json paths;
  paths["/healthz"]["get"] = {{"summary", "Liveness: the process is up"},
                              {"security", Json::array()},
                              {"responses", {{"200", JsonBody("Alive", {{"type", "object"}})}}}};
  paths["/readyz"]["get"] =
      Operation("Readiness: the job store answers and a Graph token can be obtained", "",
                Errors({{"200", JsonBody("Ready", {{"type", "object"}})}}));
  paths["/metrics"]["get"] =
      Operation("Prometheus metrics (text format 0.0.4)", "read",
                Errors({{"200", {{"description", "Metrics"}, {"content", text}}}}));
  paths["/openapi.json"]["get"] = Operation(
      "This document", "read", Errors({{"200", JsonBody("OpenAPI 3.1", {{"type", "object"}})}}));
  Json enroll = Operation(
      "Validate, seal and queue a user's PFX for import (or plan it with dryRun)", "enroll",
      Errors({{"202", JsonBody("Queued", Ref("Accepted"))},
              {"200", JsonBody("Dry run: the plan for this user; nothing stored", Ref("DryRun"))},
              {"400", Problem("Malformed JSON or fields")},
              {"413", Problem("Body larger than service.maxBodyBytes")}},
             true));
  enroll["requestBody"] = {
      {"required", true},
      {"content", {{"application/json", {{"schema", Ref("EnrollmentRequest")}}}}}};
  enroll["parameters"] = Json::array(
      {{{"name", "Idempotency-Key"},
        {"in", "header"},
        {"schema", {{"type", "string"}, {"maxLength", 200}}},
        {"description", "Same key and body: the same response. Same key, other body: 422."}}});
  paths["/v1/enrollments"]["post"] = enroll;
  Json get_enrollment = Operation("An enrollment's status", "read",
                                  Errors({{"200", JsonBody("Enrollment", Ref("Enrollment"))},
                                          {"404", Problem("No such enrollment")}}));
  get_enrollment["parameters"] = IdParam();
  paths["/v1/enrollments/{id}"]["get"] = get_enrollment;
  Json offboard = Operation(
      "Remove a leaver's certificates from Intune (all, or those named); cancels the user's "
      "queued enrollments",
      "enroll",
      Errors({{"202", JsonBody("Queued", Ref("Accepted"))},
              {"400", Problem("Malformed JSON, user principal name or thumbprints")},
              {"422", Problem("Idempotency-Key reused with another body")}}));
  offboard["requestBody"] = {
      {"required", true},
      {"content", {{"application/json", {{"schema", Ref("OffboardingRequest")}}}}}};
  offboard["parameters"] = enroll["parameters"];
  paths["/v1/offboardings"]["post"] = offboard;
  Json get_offboarding = Operation("An offboarding's status", "read",
                                   Errors({{"200", JsonBody("Offboarding", Ref("Offboarding"))},
                                           {"404", Problem("No such offboarding")}}));
  get_offboarding["parameters"] = IdParam();
  get_offboarding["security"] = Json::array(
      {{{"apiKey", Json::array({"read"})}}, {{"apiKey", Json::array({"enroll"})}}});
  paths["/v1/offboardings/{id}"]["get"] = get_offboarding;
  Json certificates = Operation(
      "The tenant's user certificates with expiry, read from Graph (newest view, paged)", "read",
      Errors({{"200", JsonBody("A page of certificates", Ref("CertificatePage"))},
              {"400", Problem("Bad upn, expiringWithinDays, pageSize, cursor or devices; "
                              "devices=true without upn (devices-require-upn)")},
              {"503", Problem("Graph unavailable")}}));
  auto query = [](const char* name, Json schema, const char* description) {
    return Json{{"name", name}, {"in", "query"}, {"schema", std::move(schema)},
                {"description", description}};
  };
  certificates["parameters"] = Json::array(
      {query("upn", {{"type", "string"}}, "Only this user's certificates"),
       query("expiringWithinDays", {{"type", "integer"}, {"minimum", 0}},
             "Only certificates expiring within this many days, expired ones included"),
       query("pageSize", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}},
             "Rows per page (default 100)"),
       query("cursor", {{"type", "integer"}, {"minimum", 0}}, "From nextLink"),
       query("devices", {{"type", "boolean"}, {"default", false}},
             "Add each certificate's per-device report (needs upn)")});
  paths["/v1/certificates"]["get"] = certificates;
  Json create_rollout =
      Operation("Schedule a rollout of a manifest from the inbox, in waves", "rollouts",
                Errors({{"201", JsonBody("Scheduled (a replayed Idempotency-Key: the rollout's "
                                         "status now)",
                                         Ref("RolloutState"))},
                        {"400", Problem("Malformed JSON or fields")}},
                       true));
  create_rollout["parameters"] = enroll["parameters"];
  create_rollout["requestBody"] = {
      {"required", true}, {"content", {{"application/json", {{"schema", Ref("RolloutRequest")}}}}}};
  paths["/v1/rollouts"]["post"] = create_rollout;
  Json get_rollout = Operation(
      "A rollout's status, waves, counts and failures", "read",
      Errors({{"200", JsonBody("Rollout", Ref("Rollout"))}, {"404", Problem("No such rollout")}}));
  get_rollout["parameters"] = IdParam();
  get_rollout["security"] = ReadOrRollouts();
  paths["/v1/rollouts/{id}"]["get"] = get_rollout;
  Json plan_content = {{"application/json", {{"schema", Ref("Plan")}}},
                       {"text/plain", text["text/plain"]}};
  Json get_plan =
      Operation("The rollout's dry-run plan now (JSON, or text with Accept: text/plain)", "read",
                Errors({{"200", {{"description", "Plan"}, {"content", plan_content}}},
                        {"404", Problem("No such rollout")}},
                       true));
  get_plan["parameters"] = IdParam();
  get_plan["security"] = ReadOrRollouts();
  paths["/v1/rollouts/{id}/plan"]["get"] = get_plan;
  paths["/v1/rollouts/{id}/pause"] = RolloutAction("Pause");
  paths["/v1/rollouts/{id}/resume"] = RolloutAction("Resume");
  paths["/v1/rollouts/{id}/cancel"] = RolloutAction("Cancel");
  Json schemas = Schemas();
  AddConsolePaths(paths, schemas);

  return {
      {"openapi", "3.1.0"},
      {"info",
       {{"title", "certdeploy"},
        {"version", "0.1.0"},
        {"description",
         "Deploys users' S/MIME certificates (PFX) to Intune: onboarding enrollments and "
         "scheduled bulk rollouts."}}},
      {"security", Json::array({{{"apiKey", Json::array()}}})},
      {"components",
       {{"securitySchemes",
         {{"apiKey",
           {{"type", "http"},
            {"scheme", "bearer"},
            {"description", "An API key from service.apiKeys; scopes enroll, rollouts, read"}}}}},
        {"schemas", schemas}}},
      {"paths", paths}};
}

}  // namespace certdeploy::service
