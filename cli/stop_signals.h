// StopSignals: SIGINT and SIGTERM become a call to `on_stop` on a thread of
// its own (sigwait), so a long-running command checkpoints and exits 0
// instead of dying mid-write. Construct it before starting other threads:
// it blocks the two signals in the calling thread, and threads inherit that.
#ifndef PGPARITY_CLI_STOP_SIGNALS_H_
#define PGPARITY_CLI_STOP_SIGNALS_H_

#include <csignal>
#include <functional>
#include <thread>

namespace pgparity::cli {

class StopSignals {
 public:
  explicit StopSignals(std::function<void()> on_stop);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  sigset_t set_;
  std::thread waiter_;
};

}  // namespace pgparity::cli

#endif  // PGPARITY_CLI_STOP_SIGNALS_H_
