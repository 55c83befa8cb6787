#include "cli/internal/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <cstring>

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

// QuitOnInterrupt's note, set before its handler is installed.
const char* g_quit_note = "";
size_t g_quit_note_size = 0;

void QuitOnSignal(int) {
  ssize_t ignored = write(STDERR_FILENO, g_quit_note, g_quit_note_size);
  (void)ignored;
  _exit(kExitInterrupted);
}

void Install(void (*handler)(int)) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

void Restore() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

}  // namespace

QuitOnInterrupt::QuitOnInterrupt(const char* note) {
  g_quit_note = note;
  g_quit_note_size = std::strlen(note);
  Install(QuitOnSignal);
}

QuitOnInterrupt::~QuitOnInterrupt() { Restore(); }

InterruptGuard::InterruptGuard() {
  g_stop.store(false);
  Install(OnSignal);
}

InterruptGuard::~InterruptGuard() { Restore(); }

const std::atomic<bool>& InterruptGuard::token() const { return g_stop; }

}  // namespace certdeploy::cli
