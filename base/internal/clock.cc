#include "base/clock.h"

#include <ctime>
#include <thread>

namespace certdeploy {
namespace {

class SystemClock final : public Clock {
 public:
  SystemTime Now() override { return std::chrono::system_clock::now(); }
  SteadyTime SteadyNow() override { return std::chrono::steady_clock::now(); }
  void SleepFor(Duration d) override {
    if (d > Duration::zero()) std::this_thread::sleep_for(d);
  }
};

}  // namespace

Clock& RealClock() {
  static Clock* clock = new SystemClock();
  return *clock;
}

std::string FormatRfc3339Utc(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(
      std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace certdeploy
