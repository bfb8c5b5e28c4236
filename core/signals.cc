#include "core/signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "core/log.h"

namespace tandem {
namespace {

int g_pipe[2] = {-1, -1};

void OnSignal(int sig) {
  const char byte = static_cast<char>(sig);
  ssize_t unused = write(g_pipe[1], &byte, 1);
  (void)unused;
}

void Install(void (*handler)(int), bool hangup) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (hangup) sigaction(SIGHUP, &sa, nullptr);
}

bool g_hangup = false;

}  // namespace

StopOnSignals::StopOnSignals(std::function<void()> on_signal,
                             std::function<void()> on_hangup) {
  if (pipe2(g_pipe, O_CLOEXEC) != 0) return;
  g_hangup = on_hangup != nullptr;
  Install(OnSignal, g_hangup);
  watcher_ = std::thread(
      [on_signal = std::move(on_signal), on_hangup = std::move(on_hangup)] {
        char byte = 0;
        for (;;) {
          while (read(g_pipe[0], &byte, 1) < 0) {
          }
          if (byte != SIGHUP) break;
          LogInfo("SIGHUP");
          on_hangup();
        }
        if (byte == 0) return;  // destructor: no signal
        LogInfo(byte == SIGTERM ? "SIGTERM: stopping" : "SIGINT: stopping");
        on_signal();
      });
}

StopOnSignals::~StopOnSignals() {
  Install(SIG_DFL, g_hangup);
  if (!watcher_.joinable()) return;
  const char zero = 0;
  ssize_t unused = write(g_pipe[1], &zero, 1);
  (void)unused;
  watcher_.join();
  close(g_pipe[0]);
  close(g_pipe[1]);
}

}  // namespace tandem
