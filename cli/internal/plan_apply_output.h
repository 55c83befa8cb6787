// cli/internal/plan_apply_output.h: what `certdeploy apply` shows while and after it runs.
//
// ProgressDisplay draws the executor's progress on stderr from its own thread: a live bar with
// counts, rate and ETA redrawn in place on a terminal, or one plain line every 5 s otherwise
// (logs, CI). RenderSummary / ReportJson describe the finished run, failures first-class: each
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
#include "deploy/executor.h"

namespace certdeploy::cli {

class ProgressDisplay {
 public:
  // Starts the drawing thread. `err` and `clock` must outlive the display.
  ProgressDisplay(std::ostream& err, bool terminal, Clock& clock);
  // Stops the thread after drawing the final state (Finish() is implied).
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // Records the latest counters. Cheap; safe from any thread.
  void Update(const deploy::ExecutionProgress& progress);
  // Draws the final state (and ends the bar's line) and stops the thread. Idempotent.
  void Finish();

  // One rendering of `p` after `elapsed`: "[#####-----] 12/40 (1 failed) 3.1/s ETA 0:09 ...".
  static std::string Line(const deploy::ExecutionProgress& p, Duration elapsed, bool bar);

 private:
  void Loop();
  void Draw(bool final);  // REQUIRES: mu_ held.

  std::ostream& err_;
  const bool terminal_;
  Clock& clock_;
  const SteadyTime start_;

  std::mutex mu_;
  std::condition_variable wake_;
  deploy::ExecutionProgress latest_;  // Guarded by mu_.
  bool stop_ = false;                 // Guarded by mu_.
  bool finished_ = false;             // Guarded by mu_.
  std::thread thread_;
};

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
