#include "pgparity/conn/receive_window.h"

#include <linux/tcp.h>  // struct tcp_info with tcpi_min_rtt (glibc's lacks it)
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace pgparity::conn {

std::optional<int> ReceiveBufferFor(std::optional<uint32_t> rtt_micros) {
  if (!rtt_micros || *rtt_micros > kNearbyRttMicros) return std::nullopt;
  return kSmallReceiveBuffer;
}

namespace {

// The shortest round trip the kernel measured on a TCP socket; nullopt for
// any other socket, or none measured. Not the smoothed RTT: it counts the
// server's time to answer (0.2-13 ms seen over loopback), the minimum only
// the path (5-14 us there).
std::optional<uint32_t> TcpMinRttMicros(int fd) {
  sockaddr_storage addr{};
  socklen_t addr_len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) return std::nullopt;
  if (addr.ss_family != AF_INET && addr.ss_family != AF_INET6) return std::nullopt;
  tcp_info info{};
  socklen_t info_len = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &info_len) != 0) return std::nullopt;
  // An older kernel's shorter struct, or no sample yet (~0).
  if (info_len < offsetof(tcp_info, tcpi_min_rtt) + sizeof info.tcpi_min_rtt) return std::nullopt;
  if (info.tcpi_min_rtt == ~uint32_t{0}) return std::nullopt;
  return info.tcpi_min_rtt;
}

}  // namespace

bool LimitReceiveWindow(int fd) {
  const std::optional<int> size = ReceiveBufferFor(TcpMinRttMicros(fd));
  if (!size) return false;
  return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &*size, sizeof *size) == 0;
}

}  // namespace pgparity::conn
