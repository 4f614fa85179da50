// A stand-in for the two `causeloop` subcommands bench_ingest uses, speaking the documented
// ingest contract without storing anything. It exists only to check the load generator itself
// (partial reads, Connection: close, 429 + Retry-After, verification); its throughput says
// nothing about Causeloop.
//
//   bench_ingest_standin admin bootstrap --data-dir DIR
//   bench_ingest_standin serve --data-dir DIR --listen 127.0.0.1:0 --port-file FILE
//       [--standin-429-every N]    every Nth ingest request gets 429 with Retry-After: 1
//       [--standin-close-every N]  every Nth response carries Connection: close
//       [--standin-short-every N]  every Nth ingest response reports one record too few
//       [--standin-delay-us N]     busy work per request, to look like a slower server
//       [--standin-hang-every N]   every Nth request never gets an answer (client timeouts)

#include <sys/stat.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Settings {
  std::string token;
  long every_429 = 0;
  long close_every = 0;
  long short_every = 0;
  long delay_us = 0;
  long hang_every = 0;
};

struct State {
  Settings settings;
  std::unordered_set<std::string> keys;
  std::uint64_t ingest_requests = 0;
  std::uint64_t responses = 0;
  std::uint64_t ids = 0;
  std::uint64_t requests = 0;
  std::vector<std::shared_ptr<void>> hung;  // sessions left without an answer, kept open
};

std::string NextId(State& state, const char* prefix) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%020llu", prefix, static_cast<unsigned long long>(++state.ids));
  return buf;
}

// Every record's (source, external_id), in order, found by scanning for the two fields.
std::vector<std::string> RecordKeys(std::string_view body) {
  std::vector<std::string> keys;
  std::size_t pos = 0;
  const std::string_view src_key = "\"source\":\"";
  const std::string_view id_key = "\"external_id\":\"";
  while ((pos = body.find(src_key, pos)) != std::string_view::npos) {
    pos += src_key.size();
    const std::size_t src_end = body.find('"', pos);
    const std::size_t id = body.find(id_key, src_end);
    if (src_end == std::string_view::npos || id == std::string_view::npos) break;
    const std::size_t id_start = id + id_key.size();
    const std::size_t id_end = body.find('"', id_start);
    if (id_end == std::string_view::npos) break;
    keys.push_back(std::string(body.substr(pos, src_end - pos)) + "/" +
                   std::string(body.substr(id_start, id_end - id_start)));
    pos = id_end;
  }
  return keys;
}

http::response<http::string_body> Handle(State& state,
                                         const http::request<http::string_body>& req) {
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/json");
  auto error = [&](http::status status, const char* code) {
    res.result(status);
    res.body() = std::string("{\"error\":{\"code\":\"") + code + "\",\"message\":\"stand-in\"}}";
  };
  const std::string target(req.target());
  if (req.method() == http::verb::get && (target == "/ready" || target == "/health")) {
    res.body() = "{\"status\":\"ok\"}";
  } else if (req.method() == http::verb::post &&
             (target == "/v1/ingest/events" || target == "/v1/ingest/batch")) {
    if (req[http::field::authorization] != "Bearer " + state.settings.token) {
      error(http::status::unauthorized, "unauthorized");
    } else if (++state.ingest_requests,
               state.settings.every_429 > 0 &&
                   state.ingest_requests % static_cast<std::uint64_t>(state.settings.every_429) ==
                       0) {
      error(http::status::too_many_requests, "rate_limited");
      res.set(http::field::retry_after, "1");
    } else {
      if (state.settings.delay_us > 0) {
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::microseconds(state.settings.delay_us);
        while (std::chrono::steady_clock::now() < until) {
        }
      }
      const std::vector<std::string> keys = RecordKeys(req.body());
      const bool batch = target == "/v1/ingest/batch";
      if (keys.empty() || (!batch && keys.size() != 1) || keys.size() > 500) {
        error(http::status::bad_request, "validation_error");
      } else {
        std::size_t accepted = keys.size();
        if (state.settings.short_every > 0 &&
            state.ingest_requests % static_cast<std::uint64_t>(state.settings.short_every) == 0) {
          --accepted;
        }
        std::string results;
        bool last_dedup = false;
        for (std::size_t i = 0; i < accepted; ++i) {
          last_dedup = !state.keys.insert(keys[i]).second;
          if (batch) {
            results += (i ? "," : "");
            results +=
                "{\"index\":" + std::to_string(i) + ",\"issue_id\":\"" + NextId(state, "iss_") +
                "\",\"pattern_id\":null,\"deduplicated\":" + (last_dedup ? "true" : "false") + "}";
          }
        }
        res.result(http::status::accepted);
        if (batch) {
          res.body() = "{\"accepted\":" + std::to_string(accepted) +
                       ",\"rejected\":[],\"results\":[" + results + "],\"job_id\":\"" +
                       NextId(state, "ing_job_") + "\"}";
        } else {
          res.body() =
              "{\"accepted\":" + std::to_string(accepted) + ",\"rejected\":[],\"issue_id\":\"" +
              NextId(state, "iss_") +
              "\",\"pattern_id\":null,\"deduplicated\":" + (last_dedup ? "true" : "false") +
              ",\"job_id\":\"" + NextId(state, "ing_job_") + "\"}";
        }
      }
    }
  } else {
    error(http::status::not_found, "not_found");
  }
  ++state.responses;
  bool keep_alive = req.keep_alive();
  if (state.settings.close_every > 0 &&
      state.responses % static_cast<std::uint64_t>(state.settings.close_every) == 0) {
    keep_alive = false;
  }
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, State& state) : stream_(std::move(socket)), state_(state) {}
  void Start() { Read(); }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(8u << 20);
    http::async_read(
        stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) return self->stream_.close();
          State& st = self->state_;
          if (st.settings.hang_every > 0 &&
              ++st.requests % static_cast<std::uint64_t>(st.settings.hang_every) == 0) {
            st.hung.push_back(self);
            return;
          }
          self->res_ = Handle(self->state_, self->parser_->get());
          http::async_write(self->stream_, self->res_, [self](beast::error_code ec2, std::size_t) {
            if (ec2 || !self->res_.keep_alive()) {
              beast::error_code ignored;
              self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
              return self->stream_.close();
            }
            self->Read();
          });
        });
  }

  beast::tcp_stream stream_;
  State& state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
};

void Accept(tcp::acceptor& acceptor, State& state) {
  acceptor.async_accept([&acceptor, &state](beast::error_code ec, tcp::socket socket) {
    if (ec) return;
    socket.set_option(tcp::no_delay(true));
    std::make_shared<Session>(std::move(socket), state)->Start();
    Accept(acceptor, state);
  });
}

std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

int Bootstrap(const std::filesystem::path& data_dir) {
  std::filesystem::create_directories(data_dir);
  std::random_device rd;
  const std::string token = "clp_standin" + std::to_string(rd()) + std::to_string(rd());
  std::ofstream(data_dir / "token") << token;
  std::cout << "{\"organization_id\":\"org_standin\",\"workspace_id\":\"ws_standin\",\"token\":\""
            << token << "\"}" << std::endl;
  return 0;
}

int Serve(int argc, char** argv) {
  const std::filesystem::path data_dir = Flag(argc, argv, "--data-dir", "");
  const std::string port_file = Flag(argc, argv, "--port-file", "");
  State state;
  std::ifstream(data_dir / "token") >> state.settings.token;
  if (state.settings.token.empty() || port_file.empty()) {
    std::cerr << "standin: need --data-dir (bootstrapped) and --port-file\n";
    return 2;
  }
  state.settings.every_429 = std::stol(Flag(argc, argv, "--standin-429-every", "0"));
  state.settings.close_every = std::stol(Flag(argc, argv, "--standin-close-every", "0"));
  state.settings.short_every = std::stol(Flag(argc, argv, "--standin-short-every", "0"));
  state.settings.delay_us = std::stol(Flag(argc, argv, "--standin-delay-us", "0"));
  state.settings.hang_every = std::stol(Flag(argc, argv, "--standin-hang-every", "0"));

  asio::io_context io;
  // Sessions hold sockets on `io`: drop the hung ones before `io` goes away.
  struct DropHung {
    State& state;
    ~DropHung() { state.hung.clear(); }
  } drop_hung{state};
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << acceptor.local_endpoint().port() << "\n";
    std::filesystem::rename(tmp, port_file);
  }
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](beast::error_code, int) {
    acceptor.close();
    io.stop();
  });
  Accept(acceptor, state);
  io.run();
  std::cerr << "standin: " << state.ingest_requests << " ingest requests, " << state.keys.size()
            << " distinct keys\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "admin" && std::string(argv[2]) == "bootstrap") {
    return Bootstrap(Flag(argc, argv, "--data-dir", "./causeloop-data"));
  }
  if (argc >= 2 && std::string(argv[1]) == "serve") return Serve(argc, argv);
  std::cerr << "usage: bench_ingest_standin admin bootstrap --data-dir DIR | serve ...\n";
  return 2;
}
