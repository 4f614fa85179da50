#include "outbound/https_sink.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <chrono>
#include <optional>
#include <utility>

namespace causeloop::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// Deliveries are small JSON events; anything larger is not ours.
constexpr std::uint64_t kBodyLimit = 1 << 20;
// libcurl keeps idle connections in its cache; close ours only well after it would.
constexpr std::chrono::seconds kIdleTimeout{120};
constexpr std::chrono::seconds kHandshakeTimeout{30};

// The string value after the first `"key":` in `json`, "" when absent or not a string. The
// event's own fields ("timestamp", "sequence") come before its "data" object, so the first
// occurrence is the top-level one.
std::string_view StringField(std::string_view json, std::string_view key) {
  std::string needle;
  needle.reserve(key.size() + 3);
  needle.append("\"").append(key).append("\":");
  const std::size_t at = json.find(needle);
  if (at == std::string_view::npos) return {};
  std::size_t pos = at + needle.size();
  if (pos >= json.size() || json[pos] != '"') return {};
  const std::size_t end = json.find('"', pos + 1);
  if (end == std::string_view::npos) return {};
  return json.substr(pos + 1, end - pos - 1);
}

long long IntField(std::string_view json, std::string_view key) {
  std::string needle;
  needle.reserve(key.size() + 3);
  needle.append("\"").append(key).append("\":");
  const std::size_t at = json.find(needle);
  if (at == std::string_view::npos) return -1;
  long long value = -1;
  const char* begin = json.data() + at + needle.size();
  if (std::from_chars(begin, json.data() + json.size(), value).ec != std::errc()) return -1;
  return value;
}

int EndpointOf(std::string_view target) {
  constexpr std::string_view kPrefix = "/hook/";
  if (target.substr(0, kPrefix.size()) != kPrefix) return -1;
  int n = -1;
  const std::string_view rest = target.substr(kPrefix.size());
  if (std::from_chars(rest.data(), rest.data() + rest.size(), n).ec != std::errc()) return -1;
  return n;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ssl::context& context, HttpsSink& sink)
      : stream_(std::move(socket), context), sink_(sink) {}

  void Run() {
    beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (!ec) self->Read();
                            });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return;  // closed, timed out or malformed: drop the connection
    const auto now = std::chrono::system_clock::now();
    const http::request<http::string_body>& req = parser_->get();
    Receipt receipt;
    receipt.received_us =
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    receipt.endpoint = EndpointOf(req.target());
    receipt.webhook_id = std::string(req["webhook-id"]);
    const std::string_view body = req.body();
    receipt.timestamp = std::string(StringField(body, "timestamp"));
    receipt.sequence = IntField(body, "sequence");
    receipt.pattern_id = std::string(StringField(body, "pattern_id"));
    sink_.Record(std::move(receipt));

    response_ = {};
    response_.result(http::status::ok);
    response_.version(req.version());
    response_.keep_alive(req.keep_alive());
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                        if (write_ec) return;
                        if (self->response_.keep_alive()) {
                          self->Read();
                        } else {
                          self->stream_.async_shutdown([self](beast::error_code) {});
                        }
                      });
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  HttpsSink& sink_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> response_;
};

}  // namespace

struct HttpsSink::Impl {
  asio::io_context io;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  void Accept(HttpsSink& sink) {
    acceptor.async_accept(asio::make_strand(io),
                          [this, &sink](beast::error_code ec, tcp::socket socket) {
                            if (ec == asio::error::operation_aborted) return;
                            if (!ec) {
                              sink.CountConnection();
                              socket.set_option(tcp::no_delay(true), ec);
                              std::make_shared<Session>(std::move(socket), tls, sink)->Run();
                            }
                            Accept(sink);
                          });
  }
};

HttpsSink::HttpsSink(SinkOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

HttpsSink::~HttpsSink() {
  impl_->io.stop();
  threads_.clear();  // joins before the io_context (and the sessions in it) go away
}

bool HttpsSink::Start(std::string& error) {
  beast::error_code ec;
  impl_->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3);
  impl_->tls.use_certificate_chain_file(options_.cert_file.string(), ec);
  if (!ec) impl_->tls.use_private_key_file(options_.key_file.string(), ssl::context::pem, ec);
  if (ec) {
    error = "sink certificate: " + ec.message();
    return false;
  }
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "sink listen: " + ec.message();
    return false;
  }
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->work.emplace(impl_->io.get_executor());
  impl_->Accept(*this);
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] { impl_->io.run(); });
  }
  return true;
}

std::vector<Receipt> HttpsSink::TakeReceipts() {
  std::vector<Receipt> out;
  const std::lock_guard lock(mu_);
  out.swap(receipts_);
  return out;
}

void HttpsSink::Record(Receipt receipt) {
  received_.fetch_add(1);
  const std::lock_guard lock(mu_);
  receipts_.push_back(std::move(receipt));
}

}  // namespace causeloop::bench
