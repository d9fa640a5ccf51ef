// receive_window.h: which connections get the small receive buffer, and
// that a loopback TCP connection does while a Unix socket pair does not.
#include "pgparity/conn/receive_window.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pgparity::conn {
namespace {

TEST(ReceiveWindowTest, OnlyANearbyTcpSourceGetsTheSmallBuffer) {
  EXPECT_EQ(ReceiveBufferFor(30), kSmallReceiveBuffer);                // loopback
  EXPECT_EQ(ReceiveBufferFor(kNearbyRttMicros), kSmallReceiveBuffer);  // the bound
  EXPECT_EQ(ReceiveBufferFor(kNearbyRttMicros + 1), std::nullopt);     // farther
  EXPECT_EQ(ReceiveBufferFor(20'000), std::nullopt);                   // another region
  EXPECT_EQ(ReceiveBufferFor(std::nullopt), std::nullopt);             // not TCP
}

int ReceiveBuffer(int fd) {
  int size = 0;
  socklen_t len = sizeof size;
  EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len), 0);
  return size;
}

TEST(ReceiveWindowTest, SetOnALoopbackConnectionNotOnAUnixSocket) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), len), 0);
  const int server = accept(listener, nullptr, nullptr);
  ASSERT_GE(server, 0);
  // A few round trips, so that the minimum RTT is a loopback's even on a
  // loaded machine (the handshake alone gives one sample).
  for (int i = 0; i < 20; ++i) {
    char byte = 'x';
    ASSERT_EQ(write(client, &byte, 1), 1);
    ASSERT_EQ(read(server, &byte, 1), 1);
    ASSERT_EQ(write(server, &byte, 1), 1);
    ASSERT_EQ(read(client, &byte, 1), 1);
  }
  EXPECT_TRUE(LimitReceiveWindow(client));
  // Linux doubles what is asked (for its bookkeeping).
  EXPECT_EQ(ReceiveBuffer(client), 2 * kSmallReceiveBuffer);
  close(server);
  close(client);
  close(listener);

  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  const int before = ReceiveBuffer(pair[0]);
  EXPECT_FALSE(LimitReceiveWindow(pair[0]));
  EXPECT_EQ(ReceiveBuffer(pair[0]), before);
  close(pair[0]);
  close(pair[1]);
}

}  // namespace
}  // namespace pgparity::conn
