// The replication socket's receive buffer, kept small on a nearby source
// so that the walsender's TCP window closes between pgparity's reads.
//
// Why: a reader that keeps the window open has the walsender send every
// pgoutput message as its own TCP segment, and over loopback also run the
// reader's receive path, all on the walsender's CPU — the one the stream
// waits for. On a 1 M-row streamed INSERT over loopback the walsender then
// spent 5.2 CPU seconds against 3.9 for `pg_recvlogical | cat`, whose pipe
// slows it enough for the window to close (bench/README.md, "The bulk
// transaction's stream"). With a 64 kB buffer and a read every few
// milliseconds (replication_connection.cc's coalescing), the window
// closes, the walsender's sends only queue, and the data goes out in big
// segments when the reader opens it again, on the reader's CPU.
//
// Only where the window cannot limit the rate: a buffer of kSmallReceiveBuffer
// carries at least kSmallReceiveBuffer / 2 per round trip (Linux counts half
// of it as overhead), 256 MB/s at kNearbyRttMicros — beyond what one
// walsender decodes. A farther source (or a Unix socket, which has no
// window) keeps the kernel's autotuned buffer.
#ifndef PGPARITY_CONN_RECEIVE_WINDOW_H_
#define PGPARITY_CONN_RECEIVE_WINDOW_H_

#include <cstdint>
#include <optional>

namespace pgparity::conn {

inline constexpr int kSmallReceiveBuffer = 64 * 1024;
inline constexpr uint32_t kNearbyRttMicros = 125;

// The SO_RCVBUF to set on a TCP connection whose shortest round trip the
// kernel measured as `rtt_micros` (TCP_INFO's tcpi_min_rtt), or nullopt
// to leave it.
std::optional<int> ReceiveBufferFor(std::optional<uint32_t> rtt_micros);

// Sets it on `fd` when that is a TCP socket to a nearby server; true when
// it did. Errors leave the socket as it was (it is an optimization).
bool LimitReceiveWindow(int fd);

}  // namespace pgparity::conn

#endif  // PGPARITY_CONN_RECEIVE_WINDOW_H_
