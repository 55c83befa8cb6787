// Progress display and the end-of-apply summary.

#include "cli/internal/plan_apply_output.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace certdeploy::cli {
namespace {

using namespace std::chrono_literals;

constexpr Duration kBarInterval = 250ms;
constexpr Duration kLineInterval = 5s;
constexpr int kBarWidth = 30;

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

std::string FormatDuration(double seconds) {
  long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

ProgressDisplay::ProgressDisplay(std::ostream& err, bool terminal, certdeploy::Clock& clock,
                                 std::optional<double> budget_writes_per_second,
                                 WaitNotices* notices)
    : err_(err),
      terminal_(terminal),
      clock_(clock),
      start_(clock.SteadyNow()),
      budget_writes_per_second_(budget_writes_per_second),
      notices_(notices) {
  thread_ = std::thread([this] { Loop(); });
}

ProgressDisplay::~ProgressDisplay() { Finish(); }

void ProgressDisplay::Update(const deploy::ExecutionProgress& progress) {
  std::lock_guard<std::mutex> lock(mu_);
  latest_ = progress;
}

void ProgressDisplay::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProgressDisplay::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  const Duration interval = terminal_ ? kBarInterval : kLineInterval;
  while (!stop_) {
    wake_.wait_for(lock, interval, [this] { return stop_; });
    if (!stop_) Draw(false);
  }
  Draw(true);
}

void ProgressDisplay::Draw(bool final) {
  if (finished_) return;
  if (latest_.total == 0) return;  // Nothing ran: nothing to show.
  ProgressLineInputs in;
  in.progress = latest_;
  in.elapsed = clock_.SteadyNow() - start_;
  in.bar = terminal_;
  in.budget_writes_per_second = budget_writes_per_second_;
  if (notices_ != nullptr && !final) in.notice = notices_->Current();
  const std::string line = Line(in);
  if (terminal_) {
    err_ << "\r" << line << "\x1b[K";
    if (final) err_ << "\n";
  } else {
    err_ << "apply: " << line << "\n";
  }
  err_.flush();
  finished_ = final;
}

std::optional<Duration> ProgressDisplay::EstimateRemaining(
    int finished, int remaining, Duration elapsed, std::optional<double> budget_writes_per_second) {
  if (remaining <= 0) return Duration::zero();
  double seconds = 0;
  bool known = false;
  if (budget_writes_per_second && *budget_writes_per_second > 0) {
    seconds = remaining / *budget_writes_per_second;
    known = true;
  }
  const double secs = Seconds(elapsed);
  if (finished > 0 && secs > 0.05) {
    seconds = std::max(seconds, remaining * secs / finished);
    known = true;
  }
  if (!known) return std::nullopt;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

std::string ProgressDisplay::Line(const ProgressLineInputs& in) {
  const deploy::ExecutionProgress& p = in.progress;
  const int finished = p.succeeded + p.failed;
  std::ostringstream out;
  if (in.bar) {
    int filled = p.total > 0 ? kBarWidth * finished / p.total : kBarWidth;
    out << "[" << std::string(filled, '#') << std::string(kBarWidth - filled, '-') << "] ";
  }
  out << finished << "/" << p.total << " items";
  if (p.failed > 0) out << " (" << p.failed << " failed)";
  const double secs = Seconds(in.elapsed);
  if (secs > 0.05 && finished > 0) {
    double rate = finished / secs;
    if (in.budget_writes_per_second) rate = std::min(rate, *in.budget_writes_per_second);
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f/s", rate);
    out << "  " << buf;
  }
  if (finished < p.total) {
    std::optional<Duration> eta =
        EstimateRemaining(finished, p.total - finished, in.elapsed, in.budget_writes_per_second);
    if (eta) out << "  ETA " << FormatDuration(Seconds(*eta));
  }
  out << "  " << (finished < p.total ? p.phase : "done") << "  elapsed " << FormatDuration(secs);
  if (!in.notice.empty()) out << "  " << in.notice;
  return out.str();
}

std::string PlanClosingNote(const deploy::Plan& plan, const std::string& config,
                            const std::string& saved_to) {
  std::ostringstream out;
  if (plan.HasWrites()) {
    if (!saved_to.empty()) {
      out << "\nSaved the plan to " << saved_to << ". Apply exactly these actions with:\n"
          << "  certdeploy apply --config " << config << " --plan " << saved_to << "\n";
    }
    return out.str();
  }
  const int invalid = plan.Summary().invalid;
  if (invalid == 0) {
    out << "\nNothing to do: the tenant already matches the manifest.\n";
  } else {
    out << "\nNothing to apply: everything else is already in the tenant, and " << invalid
        << (invalid == 1 ? " action" : " actions")
        << " could not be planned (marked ! above); fix them and re-run plan.\n";
  }
  if (!saved_to.empty()) out << "The plan was saved to " << saved_to << " for the record.\n";
  return out.str();
}

std::string DescribeFailure(const deploy::ItemResult& item) {
  std::ostringstream out;
  out << deploy::ActionKindName(item.kind) << " " << item.key << ": " << item.status.message();
  std::vector<std::string> facts;
  facts.push_back(std::string(StatusCodeName(item.status.code())));
  if (const StatusDetails* d = item.status.details()) {
    if (d->http_status != 0) facts.push_back("http " + std::to_string(d->http_status));
    if (!d->service_code.empty()) facts.push_back("Graph " + d->service_code);
    // Once: Graph errors already name it in their message.
    if (!d->request_id.empty() &&
        item.status.message().find(d->request_id) == std::string_view::npos) {
      facts.push_back("request-id " + d->request_id);
    }
  }
  out << " [";
  for (size_t i = 0; i < facts.size(); ++i) out << (i ? ", " : "") << facts[i];
  out << "]";
  if (item.attempts > 1) out << " after " << item.attempts << " attempts";
  return out.str();
}

std::string RenderSummary(const deploy::Plan& plan, const deploy::ExecutionReport& report,
                          Duration elapsed) {
  std::ostringstream out;
  out << (report.interrupted() ? "Apply interrupted: "
           : report.ok()        ? "Apply complete: "
                                : "Apply finished with failures: ")
      << report.succeeded()
      << " succeeded";
  if (report.reconciled() > 0) {
    out << " (" << report.reconciled()
        << " confirmed by reading after a lost response or a conflict)";
  }
  out << ", " << report.failed() << " failed";
  if (report.interrupted()) out << ", " << report.not_run() << " not started";
  out << ", in " << FormatDuration(Seconds(elapsed)) << ".\n";
  if (report.failed() > 0) {
    out << "Failed items:\n";
    for (const deploy::ItemResult& item : report.items) {
      if (!item.ok && !item.not_run) out << "  ! " << DescribeFailure(item) << "\n";
    }
  }
  int rows = 0;
  for (const deploy::Action& a : plan.actions) {
    if (a.kind != deploy::ActionKind::kInvalid) continue;
    if (a.line > 0) {
      ++rows;
    } else {
      out << "Not done: " << a.description << "\n";
    }
  }
  if (rows > 0) {
    out << rows << " manifest row" << (rows == 1 ? " was" : "s were")
        << " invalid and skipped (marked ! in the plan).\n";
  }
  return out.str();
}

nlohmann::json ReportJson(const deploy::Plan& plan, const deploy::ExecutionReport& report,
                          std::optional<Duration> elapsed) {
  nlohmann::json items = nlohmann::json::array();
  for (const deploy::ItemResult& item : report.items) {
    nlohmann::json j = {{"kind", deploy::ActionKindName(item.kind)},
                        {"key", item.key},
                        {"ok", item.ok},
                        {"reconciled", item.reconciled},
                        {"attempts", item.attempts},
                        {"objectId", item.object_id}};
    if (item.not_run) j["notStarted"] = true;
    if (!item.ok) {
      nlohmann::json error = {{"code", StatusCodeName(item.status.code())},
                              {"message", std::string(item.status.message())}};
      if (const StatusDetails* d = item.status.details()) {
        error["httpStatus"] = d->http_status;
        error["graphCode"] = d->service_code;
        error["requestId"] = d->request_id;
      }
      j["error"] = std::move(error);
    }
    items.push_back(std::move(j));
  }
  nlohmann::json invalid = nlohmann::json::array();
  for (const deploy::Action& a : plan.actions) {
    if (a.kind == deploy::ActionKind::kInvalid) {
      invalid.push_back({{"key", a.key},
                         {"line", a.line},
                         {"userPrincipalName", a.upn},
                         {"description", a.description}});
    }
  }
  nlohmann::json summary = {{"succeeded", report.succeeded()},
                            {"failed", report.failed()},
                            {"reconciled", report.reconciled()},
                            {"notStarted", report.not_run()},
                            {"invalid", plan.Summary().invalid}};
  if (elapsed) summary["elapsedSeconds"] = std::chrono::duration<double>(*elapsed).count();
  return {{"summary", std::move(summary)},
          {"items", std::move(items)},
          {"invalidRows", std::move(invalid)}};
}

}  // namespace certdeploy::cli
