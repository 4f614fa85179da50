#pragma once
// Maps (method, path) to a handler. Patterns are "/"-separated segments; a segment
// "{name}" matches any one non-empty segment and binds it as a path parameter. Literal
// segments win over parameters ("/v1/issues/bulk" beats "/v1/issues/{id}"), with
// backtracking, so "/v1/issues/bulk/x" still reaches "/v1/issues/{id}/x" when no literal
// route continues.
//
// Not thread-safe while routes are added; Match() and Routes() are safe to call
// concurrently once setup is done. The server REQUIRES that every route is added before
// Server::Create and none afterwards.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/types.h"

namespace causeloop::http {

// The wire name of a method ("GET", …); "OTHER" for kOther.
std::string_view MethodName(Method method);
// Parses a method name (case-sensitive, as HTTP requires); kOther when unknown.
Method ParseMethod(std::string_view name);

struct Route {
  Method method = Method::kGet;
  std::string pattern;  // as given to Add, e.g. "/v1/issues/{id}"
  RouteOptions options;
  Handler handler;
  size_t index = 0;  // dense, 0..Routes().size()-1, stable; used to cache per-route state
  std::vector<std::string> param_names;  // in path order
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;  // set when kFound
  // Percent-decoded parameter values by name, in path order (kFound only).
  std::vector<std::pair<std::string, std::string>> params;
  // The methods the path does support, e.g. "GET, PATCH" (kMethodNotAllowed only).
  std::string allow;
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers a route. A second Add for the same method and pattern shape replaces the
  // handler (and logs a warning). `pattern` must start with '/'.
  void Add(Method method, std::string pattern, RouteOptions options, Handler handler);

  // `path` is the raw (still percent-encoded) path without the query string.
  // 404 semantics: kNotFound when no pattern matches the path at all; 405 semantics:
  // kMethodNotAllowed when a pattern matches but not for this method.
  [[nodiscard]] RouteMatch Match(Method method, std::string_view path) const;

  // Every route as (method name, pattern), in registration order.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> Routes() const;

  [[nodiscard]] size_t size() const { return routes_.size(); }
  [[nodiscard]] const Route& route(size_t index) const { return *routes_[index]; }

 private:
  struct Node;
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
};

// Percent-decodes `in` ("%2F" -> "/"; '+' is kept as is). Malformed escapes are kept
// literally.
std::string PercentDecode(std::string_view in);

}  // namespace causeloop::http
