#include "http/router.h"

#include <array>
#include <map>

#include "core/log.h"

namespace causeloop::http {

namespace {
constexpr size_t kRoutableMethods = 5;  // kGet..kDelete

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

Method ParseMethod(std::string_view name) {
  if (name == "GET") return Method::kGet;
  if (name == "POST") return Method::kPost;
  if (name == "PUT") return Method::kPut;
  if (name == "PATCH") return Method::kPatch;
  if (name == "DELETE") return Method::kDelete;
  return Method::kOther;
}

std::string PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;
  std::array<const Route*, kRoutableMethods> routes{};

  [[nodiscard]] bool HasAnyRoute() const {
    for (const Route* r : routes) {
      if (r != nullptr) return true;
    }
    return false;
  }
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

void Router::Add(Method method, std::string pattern, RouteOptions options, Handler handler) {
  if (method == Method::kOther) {
    log::Error("router: kOther cannot be routed", {{"pattern", pattern}});
    return;
  }
  auto route = std::make_unique<Route>();
  route->method = method;
  route->options = std::move(options);
  route->handler = std::move(handler);
  Node* node = root_.get();
  for (std::string_view segment : SplitPath(pattern)) {
    if (segment.size() >= 2 && segment.front() == '{' && segment.back() == '}') {
      route->param_names.emplace_back(segment.substr(1, segment.size() - 2));
      if (!node->param) node->param = std::make_unique<Node>();
      node = node->param.get();
    } else {
      auto it = node->literals.find(segment);
      if (it == node->literals.end()) {
        it = node->literals.emplace(std::string(segment), std::make_unique<Node>()).first;
      }
      node = it->second.get();
    }
  }
  route->pattern = std::move(pattern);
  const Route*& slot = node->routes[static_cast<size_t>(method)];
  if (slot != nullptr) {
    log::Warn("router: route replaced", {{"pattern", route->pattern}});
    // Keep the index dense and stable: overwrite the old entry in place.
    const size_t index = slot->index;
    route->index = index;
    routes_[index] = std::move(route);
    slot = routes_[index].get();
    return;
  }
  route->index = routes_.size();
  slot = route.get();
  routes_.push_back(std::move(route));
}

namespace {
constexpr size_t kAnyMethod = kRoutableMethods;

// Depth-first, literals before the parameter, backtracking. Returns the first node (in
// precedence order) holding a route for `method` (any method for kAnyMethod), with the
// raw parameter segments in `bound`. Records in *other the first node that matches the
// path but only with other methods (the 405 answer).
template <typename NodeT>
const NodeT* Walk(const NodeT* node, const std::vector<std::string_view>& segments, size_t i,
                  size_t method, std::vector<std::string_view>& bound, const NodeT** other) {
  if (i == segments.size()) {
    if (method == kAnyMethod ? node->HasAnyRoute() : node->routes[method] != nullptr) {
      return node;
    }
    if (*other == nullptr && node->HasAnyRoute()) *other = node;
    return nullptr;
  }
  std::string_view segment = segments[i];
  // Literals compare against the decoded segment; the common case needs no decoding.
  std::string decoded;
  std::string_view key = segment;
  if (segment.find('%') != std::string_view::npos) {
    decoded = PercentDecode(segment);
    key = decoded;
  }
  auto it = node->literals.find(key);
  if (it != node->literals.end()) {
    if (const NodeT* found = Walk(it->second.get(), segments, i + 1, method, bound, other)) {
      return found;
    }
  }
  if (node->param && !segment.empty()) {
    bound.push_back(segment);
    if (const NodeT* found = Walk(node->param.get(), segments, i + 1, method, bound, other)) {
      return found;
    }
    bound.pop_back();
  }
  return nullptr;
}
}  // namespace

RouteMatch Router::Match(Method method, std::string_view path) const {
  RouteMatch out;
  std::vector<std::string_view> segments = SplitPath(path);
  std::vector<std::string_view> bound;
  const Node* other = nullptr;
  const size_t m = method == Method::kOther ? kAnyMethod : static_cast<size_t>(method);
  const Node* found = Walk(root_.get(), segments, 0, m, bound, &other);
  if (found != nullptr && m != kAnyMethod) {
    const Route* route = found->routes[m];
    out.kind = RouteMatch::Kind::kFound;
    out.route = route;
    out.params.reserve(bound.size());
    for (size_t k = 0; k < bound.size() && k < route->param_names.size(); ++k) {
      out.params.emplace_back(route->param_names[k], PercentDecode(bound[k]));
    }
    return out;
  }
  if (found == nullptr) found = other;
  if (found == nullptr) {
    out.kind = RouteMatch::Kind::kNotFound;
    return out;
  }
  out.kind = RouteMatch::Kind::kMethodNotAllowed;
  for (size_t k = 0; k < kRoutableMethods; ++k) {
    if (found->routes[k] == nullptr) continue;
    if (!out.allow.empty()) out.allow += ", ";
    out.allow += MethodName(static_cast<Method>(k));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.emplace_back(MethodName(r->method), r->pattern);
  return out;
}

}  // namespace causeloop::http
