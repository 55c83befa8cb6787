#include "base/clock.h"

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

}  // namespace certdeploy
