#include "core/signals.h"

#include <pthread.h>
#include <signal.h>

#include "core/log.h"

namespace tandem {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);  // private: wakes the waiter for shutdown
  return set;
}

}  // namespace

StopOnSignals::StopOnSignals(std::function<void()> on_signal) {
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  waiter_ = std::thread([set, on_signal = std::move(on_signal)] {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGUSR2) return;
    LogInfo(sig == SIGTERM ? "SIGTERM: stopping" : "SIGINT: stopping");
    on_signal();
  });
}

StopOnSignals::~StopOnSignals() {
  pthread_kill(waiter_.native_handle(), SIGUSR2);
  waiter_.join();
}

}  // namespace tandem
