#include "support/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace pgparity::testing {

Subprocess::Subprocess(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  if (argv.empty()) throw std::runtime_error("Subprocess: empty argv");
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // Signals blocked in the test (none usually) must not stay blocked in
  // the child.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  const int rc = posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
}

Subprocess::~Subprocess() {
  if (!done_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    Reap(true);
  }
}

bool Subprocess::Reap(bool block) {
  if (done_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  done_ = true;
  if (WIFSIGNALED(status)) {
    signaled_ = true;
    term_signal_ = WTERMSIG(status);
    status_ = 128 + term_signal_;
  } else {
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return true;
}

bool Subprocess::Running() { return !Reap(false); }

void Subprocess::Signal(int signal) {
  if (!done_ && pid_ > 0) ::kill(pid_, signal);
}

std::optional<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (Reap(false)) return status_;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<int> Subprocess::WaitOrKill(std::chrono::milliseconds timeout) {
  if (auto st = Wait(timeout)) return st;
  Signal(SIGKILL);
  Reap(true);
  return std::nullopt;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace pgparity::testing
