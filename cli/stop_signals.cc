#include "stop_signals.h"

#include <pthread.h>

namespace pgparity::cli {

StopSignals::StopSignals(std::function<void()> on_stop) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGUSR1);  // our own wake-up, to end the waiter
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  waiter_ = std::thread([this, on_stop = std::move(on_stop)] {
    int sig = 0;
    if (sigwait(&set_, &sig) == 0 && sig != SIGUSR1) on_stop();
  });
}

StopSignals::~StopSignals() {
  pthread_kill(waiter_.native_handle(), SIGUSR1);
  waiter_.join();
}

}  // namespace pgparity::cli
