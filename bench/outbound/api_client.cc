#include "outbound/api_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace causeloop::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

struct ApiClient::Impl {
  int port = 0;
  std::string token;
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

ApiClient::ApiClient(int port, std::string token) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->token = std::move(token);
}

ApiClient::~ApiClient() = default;

int ApiClient::Call(std::string_view method, std::string_view target, std::string_view body,
                    std::string& response, std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(s.port));
  req.set(http::field::authorization, "Bearer " + s.token);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
  }
  req.keep_alive(true);
  req.prepare_payload();

  // A kept connection the server closed fails on first use; one fresh retry covers that
  // without ever sending a request twice over a connection that answered.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !s.stream.has_value();
    if (fresh) {
      s.stream.emplace(s.io);
      s.buffer.clear();
    }
    beast::error_code result;
    http::response<http::string_body> res;
    s.stream->expires_after(timeout);
    auto read = [&] {
      http::async_read(*s.stream, s.buffer, res,
                       [&](beast::error_code ec, std::size_t) { result = ec; });
    };
    auto write = [&] {
      http::async_write(*s.stream, req, [&](beast::error_code ec, std::size_t) {
        result = ec;
        if (!ec) read();
      });
    };
    if (fresh) {
      const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                                   static_cast<unsigned short>(s.port));
      s.stream->async_connect(endpoint, [&](beast::error_code ec) {
        result = ec;
        if (!ec) write();
      });
    } else {
      write();
    }
    s.io.restart();
    s.io.run();
    if (!result) {
      response = std::move(res.body());
      if (!res.keep_alive()) s.stream.reset();
      return static_cast<int>(res.result_int());
    }
    s.stream.reset();
    response = result.message();
    if (fresh || result == beast::error::timeout) break;
  }
  return -1;
}

}  // namespace causeloop::bench
