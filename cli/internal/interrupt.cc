#include "cli/internal/interrupt.h"

#include <signal.h>
#include <unistd.h>

namespace certdeploy::cli {
namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

struct sigaction g_previous_int;
struct sigaction g_previous_term;

void OnSignal(int) {
  if (g_stop.exchange(true)) _exit(kExitInterrupted);
  static constexpr char kNote[] =
      "\ninterrupt: no new writes are started; finishing the ones in flight (press Ctrl-C again "
      "to quit at once)\n";
  ssize_t ignored = write(STDERR_FILENO, kNote, sizeof(kNote) - 1);
  (void)ignored;
}

}  // namespace

InterruptGuard::InterruptGuard() {
  g_stop.store(false);
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

const std::atomic<bool>& InterruptGuard::token() const { return g_stop; }

}  // namespace certdeploy::cli
