// cli/commands.h: the certdeploy command line, one function per subcommand.
//
// cli/main.cc calls Main(); Main parses the flags (CLI11, confined to cli/internal/flags.cc) and
// calls one of the Run* functions below. They never see CLI11, so each command is testable
// in-process by calling it with its args struct and string streams.
//
// Exit codes shared by all commands:
//   0 success, 1 the work found problems (invalid rows, failed items, undeployable PFX),
//   2 usage or configuration error (bad flags, unreadable files), 3 Graph or auth failure,
//   5 stale plan.

#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace certdeploy::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitGraph = 3;
inline constexpr int kExitStalePlan = 5;

// The whole command line: `certdeploy [--log-level L] <subcommand> [flags] [--log-level L]`
// (global options before or after the subcommand). `in`, `out` and `err` stand for stdin,
// stdout and stderr (help and parse errors go to `out`/`err` as CLI11 prints them). An unknown
// subcommand is answered on `err` with the closest one ("did you mean 'apply'?") and the list,
// exit 2. Returns the process exit code.
int Main(int argc, const char* const* argv, std::istream& in, std::ostream& out,
         std::ostream& err);

// ---- certdeploy validate ----
//
//   certdeploy validate --pfx FILE --upn U (--password-env VAR | --password-file FILE) [...]
//   certdeploy validate --manifest CSV [--config FILE] [--output text|json]
//
// Offline (no Graph). With --manifest every row is checked with its own files and password, in
// parallel (one worker per core; output in manifest order), as `plan` checks rows before it
// reads the tenant; the certificate's address is checked against the UPN. Rows with identical
// findings are one group in the text ("4000 rows: password-unreadable: ..."); the JSON has
// every row and the groups. With --config the config's pfx settings, trust bundle and
// connector key are used, else --purpose, --expires-soon-days, --trust-bundle, --connector-key.
// Exit codes: 0 deployable (every row), 1 findings (a row not deployable or malformed), 2 usage.
struct ValidateArgs {
  std::string manifest;  // Exactly one of manifest / pfx_file.
  std::string config;    // Optional, with manifest only.
  std::string pfx_file;
  std::string upn;
  std::string email;          // The address the certificate must carry; "" = the UPN.
  std::string password_env;   // Exactly one of password_env / password_file.
  std::string password_file;
  std::string purpose = "smimeEncryption";
  std::string trust_bundle;   // Optional PEM file of extra CA certificates.
  std::string connector_key;  // Optional: prove the password seals to this key.
  std::string padding = "oaepSha512";
  int expires_soon_days = 30;
  std::string output = "text";  // "text" | "json"
};

int RunValidate(const ValidateArgs& args, std::ostream& out, std::ostream& err);
// The --manifest form (RunValidate calls it when args.manifest is set).
int RunValidateManifest(const ValidateArgs& args, std::ostream& out, std::ostream& err);

// ---- certdeploy plan / apply ----
//
//   certdeploy plan  --config FILE --manifest CSV [--out PLAN.json] [--output text|json] [--summary]
//   certdeploy apply --config FILE (--plan PLAN.json | --manifest CSV) [--yes] [--output text|json]
//                    [--summary]
//
// plan reads the manifest's PFX files, reads the tenant (token + GET requests only: a dry run
// never writes) and prints what apply would do, terraform-style (+ add, ~ change, - remove,
// = unchanged, ! invalid, then "Plan: N to add, M to change, K to remove, J unchanged,
// I invalid."). Invalid rows with identical findings are one grouped line; --summary prints
// counts by action and by finding instead. --out writes the reviewed plan as JSON
// (docs/plan-format.md), complete and per row: no passwords, no PFX bytes, no ciphertext. A plan
// with nothing to apply says so instead of suggesting `apply --plan`.
//
// apply --plan executes exactly the reviewed actions, after checking that nothing drifted: the
// manifest's SHA-256, every PFX file's SHA-256 and the digest of the tenant's observed state must
// be the plan's, else it refuses with exit 5 ("plan is stale, re-run plan"). apply --manifest
// plans, prints the plan and asks for confirmation on a terminal (or takes --yes; without a
// terminal and without --yes it refuses). Progress goes to stderr: a live bar on a terminal, one
// line per 5 s otherwise. A summary follows, with each failed item's Graph error code and
// request-id.
//
// Ownership: a plan that would rewrite assignments owned by another config's profiles section
// shows `! ... assignments-owned-elsewhere`, and apply refuses it before any write (exit 1)
// unless --take-over-assignments or profiles.takeOverAssignments is given.
//
// Interrupts: SIGINT/SIGTERM during apply start no further write, let the ones in flight finish,
// print "interrupted after N of M actions; re-run the same command to finish" and exit 130; a
// second signal exits at once. apply --plan on the same plan then finishes it: the tenant's
// changes that the plan's own actions explain are not drift (deploy/resume.h), and done actions
// are not sent again.
//
// Exit codes (above): 0 ok; 1 some rows invalid (plan still written) or
// some items failed, or the confirmation was declined, or assignments are owned elsewhere; 2
// usage or configuration error; 3 Graph or authentication failure; 5 stale plan; 130
// interrupted.

struct PlanArgs {
  std::string config;
  std::string manifest;
  std::string out;              // Optional: where to write the JSON plan.
  std::string output = "text";  // What goes to stdout: "text" | "json" (the plan file's JSON).
  // --take-over-assignments: as profiles.takeOverAssignments: true (deploy/model.h, ownership).
  bool take_over_assignments = false;
  // Text only: counts by action and by finding with the first few examples
  // (deploy::RenderPlanSummary) instead of one line per action. The plan file stays complete.
  bool summary = false;
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
  // With --manifest: show the plan before confirmation as counts (like plan --summary).
  bool summary = false;
  // Terminal detection, overridable for tests: isatty(0) decides whether to ask for
  // confirmation, isatty(2) whether progress is a live bar or a line per 5 s.
  std::optional<bool> stdin_is_tty;
  std::optional<bool> stderr_is_tty;
  // The baseline strategy benchmarks compare against (GraphConnectionOptions::serial): one
  // request at a time, no pacing, only 429s resent. Slower by design; never needed otherwise.
  bool serial = false;
  // --take-over-assignments (with --manifest): as profiles.takeOverAssignments: true. A reviewed
  // plan carries its own decision.
  bool take_over_assignments = false;
};

// `in` is where the confirmation answer is read from (stdin).
int RunApply(const ApplyArgs& args, std::istream& in, std::ostream& out, std::ostream& err);

// ---- certdeploy inventory ----
//
//   certdeploy inventory --config FILE [--upn U [--devices]] [--expiring-within DAYS]
//                        [--output text|json|csv]
//
// What the tenant holds: one row per userPfxCertificate (all of them, or the user's), with its
// dates, its status (valid, expiring within DAYS or pfx.expiresSoonDays, expired) and the newer
// certificate of the same user and purpose that supersedes it. --expiring-within keeps only the
// rows expiring within DAYS, expired ones included. --devices adds what devices reported for the
// imported-PFX profile delivering each row (deploy/inventory.h): indented lines in text, a
// "devices" array in JSON; it needs --upn and is refused with csv. GET requests only.
// Exit codes: 0 ok; 2 usage or configuration error; 3 Graph or authentication failure.
struct InventoryArgs {
  std::string config;
  std::string upn;                     // "" = every user.
  std::optional<int> expiring_within;  // Days.
  std::string output = "text";         // "text" | "json" | "csv"
  bool devices = false;                // Per-device reports; needs `upn`, not with csv.
};
int RunInventory(const InventoryArgs& args, std::ostream& out, std::ostream& err);

// ---- certdeploy remove ----
//
//   certdeploy remove --config FILE --upn U [--thumbprint T ...] [--yes] [--output text|json]
//
// Offboarding: deletes a user's userPfxCertificates (all of them, or those named by --thumbprint).
// Without --yes it lists what it would delete and writes nothing. With it, each record is
// deleted by id and read back; a record still there after Graph answered its DELETE is deleted
// again, within the executor's attempts, and reported if it stays. Profiles are not touched.
// Exit codes: 0 done (or nothing to delete, or the dry run); 1 some deletes failed, or a
// --thumbprint the user has no record for; 2 usage or configuration error; 3 Graph failure.
struct RemoveArgs {
  std::string config;
  std::string upn;
  std::vector<std::string> thumbprints;  // Empty: every record of the user.
  bool yes = false;
  std::string output = "text";  // "text" | "json"
};
int RunRemove(const RemoveArgs& args, std::ostream& out, std::ostream& err);

// ---- certdeploy serve ----

// `certdeploy serve --config FILE`: the daemon (REST API, scheduler, dispatcher; see
// service/daemon.h). Prints the listening URL as the first line of stdout, logs to
// stderr, serves until SIGTERM or SIGINT, then stops accepting, finishes or hands back in-flight
// work and returns 0. Returns 2 for configuration problems (no service: section, unreadable keys,
// a store held by another process), 1 when it cannot start otherwise.
struct ServeArgs {
  std::string config;
  // Set when --log-level was given: it then wins over the config's logging.level.
  bool log_level_given = false;
  // Test hook (hidden flag --diag-migration-delay-ms): every schema migration that runs waits
  // this long inside its transaction, so a test can kill the process mid-migration.
  int64_t diag_migration_delay_ms = 0;
};

int RunServe(const ServeArgs& args, std::ostream& out, std::ostream& err);

// ---- certdeploy sandbox ----

// `certdeploy sandbox`: a strict local fake Intune tenant (sandbox/sandbox.h) on --listen. Prints
// its URL as the first line of `out`, serves until SIGTERM or SIGINT. The flags map one to one
// onto sandbox::SandboxOptions; durations are whole milliseconds or seconds as named.
struct SandboxArgs {
  std::string listen = "127.0.0.1:0";
  std::string connector_key;  // Connector PRIVATE key (PEM). Required.
  std::string users;          // Directory file; empty: every well-formed UPN exists.
  std::string groups;         // Directory groups file; empty: none.
  std::string client_id;
  std::string client_secret_env;
  std::string app_cert;
  int latency_ms = 0;
  int write_limit = 100;
  int window_seconds = 20;
  int request_limit = 1000;
  double fail_rate = 0;
  double drop_rate = 0;
  double bare_rate = 0;
  double throttle_rate = 0;
  double spike_rate = 0;
  int spike_ms = 0;
  int page_size = 10;
  std::string state;
  uint64_t seed = 0;
  int token_lifetime_seconds = 3599;
  bool without_outlook = false;  // Start without the seeded Outlook apps.
};

int RunSandbox(const SandboxArgs& args, std::ostream& out, std::ostream& err);

}  // namespace certdeploy::cli
