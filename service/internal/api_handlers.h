// service/internal/api_handlers.h: the REST handlers behind Api::Handle, and their helpers.
//
// Used by service/internal/api*.cc only. Every handler gets an authenticated, authorised Caller
// and returns a complete response; none throws.

#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "deploy/plan.h"
#include "pkcs/validate.h"
#include "service/api.h"
#include "service/internal/pfx_gate.h"
#include "service/internal/scheduler_waves.h"

namespace certdeploy::service {

struct Caller {
  std::string key_name;  // service.apiKeys[].name, for the audit log.
  std::vector<config::ApiScope> scopes;  // What the key may do (GET /v1/me shows them).
};

// An RFC 9457 problem. `type` is "about:blank" for plain HTTP errors, else a
// "urn:certdeploy:problem:<slug>" naming the condition.
struct Problem {
  int status = 500;
  std::string type = "about:blank";
  std::string title;
  std::string detail;
  std::vector<pkcs::Finding> findings;  // 422 validation only.
  std::vector<std::string> allow;       // 405 only: the Allow header.
  int retry_after_seconds = 0;          // 429/503: a Retry-After header when positive.

  http::ServerResponse ToResponse() const;
};

Problem BadRequest(std::string detail);                      // 400 invalid-request
Problem NotFound(std::string detail);                        // 404
Problem Unprocessable(std::string slug, std::string detail,  // 422
                      std::vector<pkcs::Finding> findings = {});
// 409; `slug` names the problem type: "conflict" for a concurrent change (retry), a specific
// one (e.g. "rollout-transition-not-allowed") for a request that cannot succeed as it is.
Problem Conflict(std::string detail, std::string_view slug = "conflict");
// What PfxGate::Enter refused: ResourceExhausted 429 (this key is busy), else 503; both with
// Retry-After.
Problem Busy(const Status& status);
// Maps a store or Graph failure: NotFound 404, Aborted/FailedPrecondition 409, Unavailable and
// DeadlineExceeded 503, anything else 500 (with a generic detail: internal messages may name
// tables).
Problem FromStatus(const Status& status, std::string_view what);

http::ServerResponse JsonResponse(int status, const nlohmann::json& body);

// Parses a JSON object body: BadRequest for anything else. Never echoes the body.
std::optional<nlohmann::json> ParseObject(const http::ServerRequest& request, Problem& problem);

// The request's Idempotency-Key, scoped to the caller ("<key name>/<header>"): nullopt without
// the header; false (with `problem` set, 400) for a malformed one.
bool IdempotencyKeyOf(const Caller& caller, const http::ServerRequest& request,
                      std::optional<std::string>& key, Problem& problem);

// RFC 3339 UTC with milliseconds, as the API shows times.
std::string ApiTime(SystemTime t);

// A rollout's or wave's item counts: queued, running, succeeded, failed (deployments), invalid
// (rows refused at intake, never sent), cancelled, total.
nlohmann::ordered_json ItemCountsJson(const store::ItemSummary& summary);

// The shared state of the handlers (Api::Impl holds one).
struct ApiContext {
  ApiDeps deps;
  // Bounds PFX work (opening, validating, sealing) across requests; see pfx_gate.h.
  std::unique_ptr<PfxGate> pfx_gate;
  const config::ServiceConfig& service() const { return *deps.config->service; }
  void Audit(const Caller& caller, std::string action, std::string upn, std::string thumbprint,
             std::string outcome, std::string detail) const;
};

// Enrollments (api_enrollments.cc).
http::ServerResponse CreateEnrollment(ApiContext& ctx, const Caller& caller, const http::ServerRequest& r);
http::ServerResponse GetEnrollment(ApiContext& ctx, const std::string& id);
// An enrollment as GET /v1/enrollments/{id} and the list show it (api_lists.cc).
nlohmann::ordered_json EnrollmentJson(const store::WorkItem& item);

// Offboardings (api_offboardings.cc).
http::ServerResponse CreateOffboarding(ApiContext& ctx, const Caller& caller,
                                       const http::ServerRequest& r);
http::ServerResponse GetOffboarding(ApiContext& ctx, const std::string& id);

// The tenant's certificates with expiry (api_certificates.cc).
http::ServerResponse ListCertificates(ApiContext& ctx, const http::ServerRequest& r);

// Rollouts (api_rollouts.cc).
http::ServerResponse CreateRollout(ApiContext& ctx, const Caller& caller, const http::ServerRequest& r);
http::ServerResponse GetRollout(ApiContext& ctx, const std::string& id);
http::ServerResponse GetRolloutPlan(ApiContext& ctx, const Caller& caller, const std::string& id,
                                    const http::ServerRequest& r);
http::ServerResponse RolloutAction(ApiContext& ctx, const Caller& caller, const std::string& id,
                             const std::string& action);

// The operators' lists, paged (api_lists.cc, api_paging.h), and the caller's own key.
http::ServerResponse ListRollouts(ApiContext& ctx, const http::ServerRequest& r);
http::ServerResponse ListRolloutItems(ApiContext& ctx, const std::string& id,
                                      const http::ServerRequest& r);
http::ServerResponse ListEnrollments(ApiContext& ctx, const http::ServerRequest& r);
http::ServerResponse ListAudit(ApiContext& ctx, const http::ServerRequest& r);
http::ServerResponse Me(const Caller& caller);

// The console (api_console.cc): its embedded files under /ui/ (public, GET only; "/ui" redirects
// to "/ui/", which is index.html), the security headers every answer carries (a CSP allowing
// only this origin and no inline script, no framing, no referrer, no sniffing), and the
// throughput history behind its budget chart.
bool IsConsolePath(std::string_view path);
http::ServerResponse ServeConsole(const http::ServerRequest& r);
void AddSecurityHeaders(http::ServerResponse& response);
http::ServerResponse GetThroughput(ApiContext& ctx);

// Rollout manifests (api_rollout_items.cc). Paths must resolve inside the inbox: a relative
// `requested` is taken relative to it; "..", absolute paths elsewhere and symlinks that lead out
// are refused (InvalidArgument), a path lexically outside the inbox before its existence is
// checked (so the answer does not reveal which files exist elsewhere). NotFound for a missing
// file inside. The result is the canonical path of an existing regular file.
Result<std::string> ResolveInboxPath(const std::string& inbox, const std::string& requested);

// `text` with every mention of the inbox's location removed, so that "/srv/inbox/users/a.pfx"
// reads "users/a.pfx": what answers and item errors show a client.
std::string HideInbox(const std::string& inbox, std::string text);

// The work items of a new rollout: every manifest row read, validated and sealed (rows that are
// malformed or not deployable become failed items carrying their findings), each assigned to its
// wave (AssignWaves). Rows are validated in parallel. When any row names a PFX or password file
// outside the inbox ("..", an absolute path elsewhere, a symlink leading out), nothing is read:
// `outside` lists those rows (code "path-outside-inbox") and `items` is empty.
struct ManifestItems {
  std::vector<store::WorkItem> items;
  int invalid = 0;
  std::vector<pkcs::Finding> outside;
};
Result<ManifestItems> BuildRolloutItems(ApiContext& ctx, const std::string& manifest_path,
                                        const std::string& rollout_id,
                                        const std::vector<Wave>& waves);

// The plan `certdeploy plan` would show for the manifest now (Graph reads only).
Result<deploy::Plan> PlanManifest(ApiContext& ctx, const std::string& manifest_path);

}  // namespace certdeploy::service
