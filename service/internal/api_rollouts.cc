// POST /v1/rollouts, GET /v1/rollouts/{id}[/plan], POST /v1/rollouts/{id}/pause|resume|cancel.

#include <set>

#include "base/log.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "deploy/plan.h"
#include "pkcs/digest.h"
#include "service/internal/api_handlers.h"
#include "service/scheduler.h"

namespace certdeploy::service {
namespace {

struct RolloutRequest {
  std::string name;
  std::string manifest;
  std::optional<SystemTime> start_at;
  std::vector<Wave> waves;
  bool dry_run = false;
  std::optional<int> halt_percent;
};

std::optional<RolloutRequest> ParseRequest(const http::ServerRequest& r, Problem& problem) {
  std::optional<nlohmann::json> body = ParseObject(r, problem);
  if (!body) return std::nullopt;
  static const std::set<std::string> kFields = {"name",  "manifest", "startAt",
                                                "waves", "dryRun",   "haltOnFailurePercent"};
  for (const auto& [key, value] : body->items()) {
    if (!kFields.count(key)) {
      problem = BadRequest("unknown field '" + key.substr(0, 64) + "'");
      return std::nullopt;
    }
  }
  auto fail = [&](std::string detail) {
    problem = BadRequest(std::move(detail));
    return std::nullopt;
  };
  RolloutRequest out;
  const nlohmann::json& name = (*body)["name"];
  if (!name.is_string() || name.get_ref<const std::string&>().empty() ||
      name.get_ref<const std::string&>().size() > 200) {
    return fail("name: expected a string of 1 to 200 characters");
  }
  out.name = name.get<std::string>();
  const nlohmann::json& manifest = (*body)["manifest"];
  if (!manifest.is_string() || manifest.get_ref<const std::string&>().empty()) {
    return fail("manifest: expected the manifest's path inside the inbox");
  }
  out.manifest = manifest.get<std::string>();
  if (body->contains("startAt")) {
    const nlohmann::json& start = (*body)["startAt"];
    Result<SystemTime> t =
        start.is_string()
            ? ParseApiTime(start.get<std::string>())
            : Result<SystemTime>(InvalidArgumentError("expected an RFC 3339 date-time string"));
    if (!t.ok()) return fail("startAt: " + std::string(t.status().message()));
    out.start_at = *t;
  }
  Result<std::vector<Wave>> waves =
      ParseWaves(body->contains("waves") ? (*body)["waves"] : nlohmann::json());
  if (!waves.ok()) return fail(std::string(waves.status().message()));
  out.waves = std::move(*waves);
  if (body->contains("dryRun")) {
    if (!(*body)["dryRun"].is_boolean()) return fail("dryRun: expected true or false");
    out.dry_run = (*body)["dryRun"].get<bool>();
  }
  if (body->contains("haltOnFailurePercent")) {
    const nlohmann::json& h = (*body)["haltOnFailurePercent"];
    if (!h.is_number_integer() || h.get<int64_t>() < 0 || h.get<int64_t>() > 100) {
      return fail("haltOnFailurePercent: expected an integer 0..100");
    }
    out.halt_percent = h.get<int>();
  }
  return out;
}

// How far in the past startAt may lie (clock skew, a request that waited in a queue): later
// than that it is refused, so a typo in the year cannot start a rollout at once.
constexpr Duration kStartAtTolerance = std::chrono::minutes(5);

// 201 {id, status}: a new rollout's "scheduled", or, for a replayed Idempotency-Key, the
// rollout's status now.
http::ServerResponse Created(const store::Rollout& r) {
  http::ServerResponse resp =
      JsonResponse(201, {{"id", r.id}, {"status", std::string(store::RolloutStatusName(r.status))}});
  resp.headers.emplace("location", "/v1/rollouts/" + r.id);
  return resp;
}

http::ServerResponse Replay(const store::Rollout& r, const std::string& request_sha256) {
  if (r.request_sha256 != request_sha256) {
    return Unprocessable("idempotency-key-reused",
                         "this Idempotency-Key was used with a different request body")
        .ToResponse();
  }
  return Created(r);
}

}  // namespace

http::ServerResponse CreateRollout(ApiContext& ctx, const Caller& caller, const http::ServerRequest& r) {
  const std::string request_sha256 = pkcs::Sha256Hex(r.body);
  std::optional<std::string> key;
  Problem problem;
  if (!IdempotencyKeyOf(caller, r, key, problem)) return problem.ToResponse();
  if (key) {
    Result<store::Rollout> earlier = ctx.deps.store->FindRolloutByIdempotencyKey(*key);
    if (earlier.ok()) return Replay(*earlier, request_sha256);
    if (earlier.status().code() != StatusCode::kNotFound) {
      return FromStatus(earlier.status(), "idempotency lookup").ToResponse();
    }
  }
  std::optional<RolloutRequest> req = ParseRequest(r, problem);
  if (!req) return problem.ToResponse();
  if (req->start_at && *req->start_at + kStartAtTolerance < ctx.deps.clock->Now()) {
    return Unprocessable("start-at-in-the-past",
                         "startAt " + FormatRfc3339Utc(*req->start_at) +
                             " is more than 5 minutes in the past; omit it to start now")
        .ToResponse();
  }
  if (ctx.service().inbox.empty()) {
    return Unprocessable("inbox-not-configured",
                         "rollouts need service.inbox in the daemon's configuration")
        .ToResponse();
  }
  Result<std::string> manifest = ResolveInboxPath(ctx.service().inbox, req->manifest);
  if (!manifest.ok()) {
    const bool missing = manifest.status().code() == StatusCode::kNotFound;
    if (!missing) {
      ctx.Audit(caller, "rollout.create", "", "", "refused: manifest-outside-inbox",
                "manifest " + req->manifest.substr(0, 200));
    }
    return Unprocessable(missing ? "manifest-not-found" : "manifest-outside-inbox",
                         std::string(manifest.status().message()))
        .ToResponse();
  }
  store::Rollout rollout;
  rollout.id = NewGuid(*ctx.deps.random);
  rollout.name = req->name;
  rollout.manifest_path = *manifest;
  rollout.start_at = req->start_at.value_or(ctx.deps.clock->Now());
  rollout.waves_json = WavesToJson(req->waves);
  rollout.halt_on_failure_percent =
      req->halt_percent.value_or(ctx.service().halt_on_failure_percent);
  rollout.dry_run = req->dry_run;
  rollout.status = store::RolloutStatus::kScheduled;
  rollout.idempotency_key = key;
  rollout.request_sha256 = request_sha256;
  ManifestItems items;
  if (!req->dry_run) {
    // Every row's PFX is opened: PFX work, bounded like an enrollment's (pfx_gate.h). A large
    // manifest may take longer than an enrollment's deadline; once admitted it runs to the end.
    Result<PfxGate::Ticket> ticket = ctx.pfx_gate->Enter(
        caller.key_name, ctx.deps.clock->SteadyNow() + ctx.service().pfx_work_deadline);
    if (!ticket.ok()) return Busy(ticket.status()).ToResponse();
    Result<ManifestItems> built = BuildRolloutItems(ctx, *manifest, rollout.id, req->waves);
    if (!built.ok()) {
      if (built.status().code() == StatusCode::kInvalidArgument ||
          built.status().code() == StatusCode::kNotFound) {
        return Unprocessable("manifest-invalid", std::string(built.status().message()))
            .ToResponse();
      }
      return FromStatus(built.status(), "reading the manifest").ToResponse();
    }
    items = std::move(*built);
    if (!items.outside.empty()) {
      ctx.Audit(caller, "rollout.create", "", "", "refused: path-outside-inbox",
                "manifest " + *manifest);
      return Unprocessable("manifest-outside-inbox",
                           "rows of the manifest name files outside the inbox; see findings",
                           std::move(items.outside))
          .ToResponse();
    }
  }
  Status created = ctx.deps.store->CreateRollout(rollout, items.items);
  if (created.code() == StatusCode::kAlreadyExists && key) {
    // A concurrent request with the same key won the insert.
    Result<store::Rollout> winner = ctx.deps.store->FindRolloutByIdempotencyKey(*key);
    if (winner.ok()) return Replay(*winner, request_sha256);
    return FromStatus(winner.status(), "idempotency lookup").ToResponse();
  }
  if (!created.ok()) return FromStatus(created, "storing the rollout").ToResponse();
  ctx.Audit(caller, "rollout.create", "", "", req->dry_run ? "scheduled: dry run" : "scheduled",
            "rollout " + rollout.id + " (" + rollout.name + "): " +
                std::to_string(items.items.size()) + " items, " + std::to_string(items.invalid) +
                " invalid, starts " + FormatRfc3339Utc(rollout.start_at));
  CD_LOG_INFO("rollout {} '{}' scheduled: {} items ({} invalid)", rollout.id,
              ForLog(rollout.name), items.items.size(), items.invalid);
  if (ctx.deps.wake) ctx.deps.wake();
  return Created(rollout);
}

http::ServerResponse GetRollout(ApiContext& ctx, const std::string& id) {
  Result<store::Rollout> r = ctx.deps.store->GetRollout(id);
  if (!r.ok()) return FromStatus(r.status(), "rollout " + id).ToResponse();
  Result<std::vector<Wave>> waves = WavesFromJson(r->waves_json);
  if (!waves.ok()) return FromStatus(waves.status(), "rollout " + id).ToResponse();
  store::ItemFilter filter;
  filter.rollout_id = id;
  Result<store::ItemSummary> all = ctx.deps.store->SummarizeItems(filter, 50);
  if (!all.ok()) return FromStatus(all.status(), "rollout " + id).ToResponse();

  nlohmann::ordered_json body;
  body["id"] = r->id;
  body["name"] = r->name;
  body["manifest"] = r->manifest_path;
  body["status"] = std::string(store::RolloutStatusName(r->status));
  body["dryRun"] = r->dry_run;
  body["startAt"] = ApiTime(r->start_at);
  body["haltOnFailurePercent"] = r->halt_on_failure_percent;
  body["currentWave"] = r->current_wave;
  body["waves"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < waves->size(); ++i) {
    const int number = static_cast<int>(i) + 1;
    nlohmann::ordered_json w;
    w["wave"] = number;
    w["percent"] = (*waves)[i].percent;
    if ((*waves)[i].after > Duration::zero()) w["after"] = FormatIsoDuration((*waves)[i].after);
    std::string state = number < r->current_wave ? "finished" : "pending";
    if (number == r->current_wave) state = r->wave_finished_at ? "finished" : "running";
    if (i < r->wave_times.size()) {
      const store::WaveTimes& t = r->wave_times[i];
      if (t.started_at) w["startedAt"] = ApiTime(*t.started_at);
      if (t.finished_at) w["finishedAt"] = ApiTime(*t.finished_at);
    }
    w["state"] = state;
    filter.wave = number;
    Result<store::ItemSummary> counts = ctx.deps.store->SummarizeItems(filter, 0);
    if (counts.ok()) w["counts"] = ItemCountsJson(*counts);
    body["waves"].push_back(std::move(w));
  }
  if (std::optional<SystemTime> next = NextWaveAt(*r)) body["nextWaveAt"] = ApiTime(*next);
  body["counts"] = ItemCountsJson(*all);
  body["failures"] = nlohmann::ordered_json::array();
  for (const store::ItemFailure& f : all->failures) {
    body["failures"].push_back(
        {{"id", f.id},
         {"wave", f.wave},
         {"line", f.manifest_line},
         {"userPrincipalName", f.user_principal_name},
         {"thumbprint", f.thumbprint},
         {"attempts", f.attempts},
         {"error",
          {{"code", f.error_code}, {"message", f.error_message}, {"requestId", f.request_id}}}});
  }
  body["createdAt"] = ApiTime(r->created_at);
  body["updatedAt"] = ApiTime(r->updated_at);
  return http::ServerResponse::Json(200, body.dump());
}

http::ServerResponse GetRolloutPlan(ApiContext& ctx, const Caller& caller, const std::string& id,
                                    const http::ServerRequest& req) {
  Result<store::Rollout> r = ctx.deps.store->GetRollout(id);
  if (!r.ok()) return FromStatus(r.status(), "rollout " + id).ToResponse();
  Result<PfxGate::Ticket> ticket = ctx.pfx_gate->Enter(
      caller.key_name, ctx.deps.clock->SteadyNow() + ctx.service().pfx_work_deadline);
  if (!ticket.ok()) return Busy(ticket.status()).ToResponse();
  Result<deploy::Plan> plan = PlanManifest(ctx, r->manifest_path);
  if (!plan.ok()) {
    const StatusCode code = plan.status().code();
    if (code == StatusCode::kInvalidArgument || code == StatusCode::kNotFound) {
      return Unprocessable("manifest-invalid", std::string(plan.status().message())).ToResponse();
    }
    return FromStatus(plan.status(), "planning rollout " + id).ToResponse();
  }
  if (req.Header("accept").value_or("").find("text/plain") != std::string::npos) {
    return http::ServerResponse::Text(200, deploy::RenderPlanText(*plan));
  }
  return JsonResponse(200, deploy::PlanToJson(*plan));
}

http::ServerResponse RolloutAction(ApiContext& ctx, const Caller& caller, const std::string& id,
                             const std::string& action) {
  bool changed = false;
  Result<store::Rollout> r =
      action == "pause"    ? PauseRollout(*ctx.deps.store, id, &changed)
      : action == "resume" ? ResumeRollout(*ctx.deps.store, id, &changed)
                           : CancelRollout(*ctx.deps.store, id, ctx.deps.owner, ctx.deps.notifier,
                                           &changed);
  if (r.status().code() == StatusCode::kFailedPrecondition) {
    return Conflict(std::string(r.status().message()), "rollout-transition-not-allowed")
        .ToResponse();
  }
  if (!r.ok()) return FromStatus(r.status(), "rollout " + id).ToResponse();
  if (changed) {  // A repeated action changed nothing: no audit record.
    ctx.Audit(caller, "rollout." + action, "", "", std::string(store::RolloutStatusName(r->status)),
              "rollout " + id + " (" + r->name + ")");
    if (ctx.deps.wake) ctx.deps.wake();
  }
  return JsonResponse(200, {{"id", r->id}, {"status", std::string(store::RolloutStatusName(r->status))}});
}

}  // namespace certdeploy::service
