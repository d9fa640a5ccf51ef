// Test-only: one real PostgreSQL server per major version for the whole
// conn_test process, started on first use (pure tests start none) and
// removed at exit. Tests that change server-wide settings reset them, or use
// a PgServer of their own.
#ifndef PGPARITY_CONN_TESTING_SERVERS_H_
#define PGPARITY_CONN_TESTING_SERVERS_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "support/pg_server.h"

namespace pgparity::conn::testing {

inline constexpr const char* kDatabase = "sourcedb";

inline pgparity::testing::PgServer& SharedServer(int major) {
  static std::map<int, std::unique_ptr<pgparity::testing::PgServer>> servers;
  auto& server = servers[major];
  if (server == nullptr) server = std::make_unique<pgparity::testing::PgServer>(major, kDatabase);
  return *server;
}

// Polls `done` every 50 ms until it holds or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

}  // namespace pgparity::conn::testing

#endif  // PGPARITY_CONN_TESTING_SERVERS_H_
