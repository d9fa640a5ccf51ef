#include "pgparity/applier/metrics/metrics_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <thread>

namespace pgparity::applier {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// One connection: read a request, answer it, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const MetricsServer::Handler& handler)
      : stream_(std::move(socket)), handler_(handler) {}

  void Start() {
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec) self->Answer();
                     });
  }

 private:
  void Answer() {
    HttpResponse r;
    if (request_.method() != http::verb::get) {
      r = {405, "text/plain; charset=utf-8", "only GET\n"};
    } else {
      std::string_view target(request_.target().data(), request_.target().size());
      target = target.substr(0, target.find('?'));
      try {
        r = handler_(target);
      } catch (const std::exception& e) {
        r = {500, "text/plain; charset=utf-8", std::string("error: ") + e.what() + "\n"};
      }
    }
    response_.result(static_cast<http::status>(r.status));
    response_.version(request_.version());
    response_.set(http::field::content_type, r.content_type);
    response_.set(http::field::server, "pgparity");
    for (const auto& [name, value] : r.headers) response_.set(name, value);
    response_.keep_alive(false);
    response_.body() = std::move(r.body);
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  const MetricsServer::Handler& handler_;
};

}  // namespace

struct MetricsServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  Handler handler;
  std::thread thread;

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) Accept();
        return;
      }
      std::make_shared<Session>(std::move(socket), handler)->Start();
      Accept();
    });
  }
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t MetricsServer::port() const { return impl_->acceptor.local_endpoint().port(); }

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(std::string_view listen,
                                                            Handler handler,
                                                            std::string_view paths) {
  const Status bad =
      Status::InvalidArgument("--metrics-listen " + std::string(listen) +
                              ": expected HOST:PORT, e.g. 127.0.0.1:9187 or [::1]:9187");
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == listen.size()) return bad;
  std::string host(listen.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535) return bad;

  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  beast::error_code err;
  tcp::resolver resolver(impl->io);
  auto results = resolver.resolve(host, std::to_string(port), err);
  if (err || results.empty()) {
    return Status::InvalidArgument("--metrics-listen " + std::string(listen) + ": cannot resolve " +
                                   host + ": " + err.message());
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  impl->acceptor.open(endpoint.protocol(), err);
  if (!err) impl->acceptor.set_option(asio::socket_base::reuse_address(true), err);
  if (!err) impl->acceptor.bind(endpoint, err);
  if (!err) impl->acceptor.listen(asio::socket_base::max_listen_connections, err);
  if (err) {
    return Status::FailedPrecondition("--metrics-listen " + std::string(listen) +
                                      ": cannot listen: " + err.message() +
                                      "; choose another address or port");
  }
  Impl* raw = impl.get();
  raw->Accept();
  raw->thread = std::thread([raw] { raw->io.run(); });
  spdlog::info("serving {2} on http://{0}:{1}/; live page at http://{0}:{1}/", host,
               raw->acceptor.local_endpoint().port(), paths);
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

}  // namespace pgparity::applier
