// cli/internal/plan_apply_output.h: what `certdeploy apply` shows while and after it runs.
//
// ProgressDisplay draws the executor's progress on stderr from its own thread: a live bar with
// counts, rate, ETA (from the write budget) and what Graph is waiting for, redrawn in place on a
// terminal, or one plain line every 5 s otherwise (logs, CI). RenderSummary / ReportJson describe the finished run, failures first-class: each
// failed item with its Graph error code and request-id.

#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <thread>

#include "base/clock.h"
#include "cli/internal/wait_notices.h"
#include "deploy/executor.h"

namespace certdeploy::cli {

// What one progress line is drawn from.
struct ProgressLineInputs {
  deploy::ExecutionProgress progress;
  Duration elapsed{0};
  bool bar = false;  // A terminal's bar, else a plain line.
  // The write budget (limits.writesPer20s / windowSeconds), when apply paces its writes.
  std::optional<double> budget_writes_per_second;
  std::string notice;  // What Graph is waiting for (WaitNotices::Current()), or "".
};

class ProgressDisplay {
 public:
  // Starts the drawing thread. `err`, `clock` and `notices` (optional) must outlive the display.
  ProgressDisplay(std::ostream& err, bool terminal, Clock& clock,
                  std::optional<double> budget_writes_per_second = std::nullopt,
                  WaitNotices* notices = nullptr);
  // Stops the thread after drawing the final state (Finish() is implied).
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // Records the latest counters. Cheap; safe from any thread.
  void Update(const deploy::ExecutionProgress& progress);
  // Draws the final state (and ends the bar's line) and stops the thread. Idempotent.
  void Finish();

  // One rendering: "[#####-----] 12/40 items (1 failed)  3.1/s  ETA 0:09  user PFX  elapsed
  // 0:04  Graph 503, retry 2/5 in 4 s". The rate shown is the average so far, but never above
  // the write budget.
  static std::string Line(const ProgressLineInputs& in);

  // Time left for `remaining` items after `finished` took `elapsed`: each item is at least one
  // write, so never less than remaining / budget_writes_per_second (the budget, not the start's
  // burst, sets the pace), and never less than the average pace so far (when Graph, not the
  // budget, is the bottleneck). Nullopt until there is something to go by.
  static std::optional<Duration> EstimateRemaining(int finished, int remaining, Duration elapsed,
                                                   std::optional<double> budget_writes_per_second);

 private:
  void Loop();
  void Draw(bool final);  // REQUIRES: mu_ held.

  std::ostream& err_;
  const bool terminal_;
  Clock& clock_;
  const SteadyTime start_;
  const std::optional<double> budget_writes_per_second_;
  WaitNotices* const notices_;

  std::mutex mu_;
  std::condition_variable wake_;
  deploy::ExecutionProgress latest_;  // Guarded by mu_.
  bool stop_ = false;                 // Guarded by mu_.
  bool finished_ = false;             // Guarded by mu_.
  std::thread thread_;
};

// What `plan` prints after the plan: with writes and a saved plan (`saved_to` not empty), how to
// apply exactly it; without writes, that there is nothing to do (and why, if rows are invalid),
// never an apply hint.
std::string PlanClosingNote(const deploy::Plan& plan, const std::string& config,
                            const std::string& saved_to);

// "Apply complete: ..." plus one line per failed item, and a note on invalid rows.
std::string RenderSummary(const deploy::Plan& plan, const deploy::ExecutionReport& report,
                          Duration elapsed);

// One failed item: "<kind> <key>: <message> [http 400, Graph BadRequest, request-id X]".
std::string DescribeFailure(const deploy::ItemResult& item);

// The --output json report: {"summary": {...}, "items": [{kind, key, ok, reconciled, attempts,
// objectId, error: {code, message, httpStatus, graphCode, requestId}}]}.
// `elapsed`, when given, is the execution time (reported as summary.elapsedSeconds).
nlohmann::json ReportJson(const deploy::Plan& plan, const deploy::ExecutionReport& report,
                          std::optional<Duration> elapsed = std::nullopt);

}  // namespace certdeploy::cli
