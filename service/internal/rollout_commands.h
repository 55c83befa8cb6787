// service/internal/rollout_commands.h: `certdeploy plan` and `certdeploy apply`.
//
//   certdeploy plan  --config FILE --manifest CSV [--out PLAN.json] [--output text|json]
//   certdeploy apply --config FILE (--plan PLAN.json | --manifest CSV) [--yes] [--output text|json]
//
// plan reads the manifest's PFX files, reads the tenant (token + GET requests only: a dry run
// never writes) and prints what apply would do, terraform-style (+ add, ~ change, - remove,
// = unchanged, ! invalid, then "Plan: N to add, M to change, K to remove, J unchanged,
// I invalid."). --out writes the reviewed plan as JSON (docs/plan-format.md): no passwords, no
// PFX bytes, no ciphertext.
//
// apply --plan executes exactly the reviewed actions, after checking that nothing drifted: the
// manifest's SHA-256, every PFX file's SHA-256 and the digest of the tenant's observed state must
// be the plan's, else it refuses with exit 5 ("plan is stale, re-run plan"). apply --manifest
// plans, prints the plan and asks for confirmation on a terminal (or takes --yes; without a
// terminal and without --yes it refuses). Progress goes to stderr: a live bar on a terminal, one
// line per 5 s otherwise. A summary follows, with each failed item's Graph error code and
// request-id.
//
// Exit codes (service/internal/commands.h): 0 ok; 1 some rows invalid (plan still written) or
// some items failed, or the confirmation was declined; 2 usage or configuration error; 3 Graph
// or authentication failure; 5 stale plan.

#pragma once

#include <iosfwd>
#include <optional>
#include <string>

namespace certdeploy::service {

struct PlanArgs {
  std::string config;
  std::string manifest;
  std::string out;              // Optional: where to write the JSON plan.
  std::string output = "text";  // What goes to stdout: "text" | "json" (the plan file's JSON).
};

int RunPlan(const PlanArgs& args, std::ostream& out, std::ostream& err);

struct ApplyArgs {
  std::string config;
  std::string plan;  // Exactly one of plan / manifest.
  std::string manifest;
  bool yes = false;  // Apply without asking (required when stdin is not a terminal).
  // "text": the plan and the summary on stdout. "json": a JSON report on stdout (the plan text,
  // if shown for confirmation, goes to stderr).
  std::string output = "text";
  // Terminal detection, overridable for tests: isatty(0) decides whether to ask for
  // confirmation, isatty(2) whether progress is a live bar or a line per 5 s.
  std::optional<bool> stdin_is_tty;
  std::optional<bool> stderr_is_tty;
  // The baseline strategy benchmarks compare against (GraphConnectionOptions::serial): one
  // request at a time, no pacing, only 429s resent. Slower by design; never needed otherwise.
  bool serial = false;
};

// `in` is where the confirmation answer is read from (stdin).
int RunApply(const ApplyArgs& args, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace certdeploy::service
