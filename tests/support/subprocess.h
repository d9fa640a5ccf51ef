// A child process for tests that must signal it (kill -9, SIGTERM) or bound
// how long they wait for it: posix_spawnp, stdout and stderr appended to a
// log file. The destructor SIGKILLs and reaps a child still running, so a
// failing test leaves no process behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pgparity::testing {

class Subprocess {
 public:
  // Starts argv[0] (searched in PATH) with argv; throws std::runtime_error
  // when it cannot be spawned.
  Subprocess(const std::vector<std::string>& argv, const std::filesystem::path& log);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // Whether it still runs (reaps it when it ended).
  bool Running();
  // Sends `signal` (no-op once reaped).
  void Signal(int signal);
  // Waits at most `timeout`; the exit code (or 128 + signal when a signal
  // ended it) once it ended, nullopt while it still runs.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Waits at most `timeout`, then SIGKILLs it; the status as Wait gives it,
  // nullopt when it had to be killed.
  std::optional<int> WaitOrKill(std::chrono::milliseconds timeout);
  // Whether the status came from a signal, and which.
  bool signaled() const { return signaled_; }
  int term_signal() const { return term_signal_; }

 private:
  bool Reap(bool block);

  pid_t pid_ = -1;
  bool done_ = false;
  int status_ = -1;
  bool signaled_ = false;
  int term_signal_ = 0;
};

// The whole content of a file ("" when it cannot be read).
std::string ReadFile(const std::filesystem::path& path);

}  // namespace pgparity::testing
