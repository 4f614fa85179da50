#pragma once
// Request headers as the inbound webhook code sees them: a lookup by lower-case name. The HTTP
// layer adapts its own header container to HeaderLookup; HeaderMap is a small owning one for
// tests, golden files and callers that have the headers as a list.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace causeloop::webhooks::inbound {

// Returns the value of the header whose name, compared case-insensitively, is `lowercase_name`
// (always passed in lower case), or nullopt when the request has no such header. When a header
// repeats, the implementation returns the first one. The returned view must stay valid for the
// duration of the call it was handed to.
using HeaderLookup =
    std::function<std::optional<std::string_view>(std::string_view lowercase_name)>;

// Owning, case-insensitive header set. Not thread-safe for writes.
class HeaderMap {
 public:
  HeaderMap() = default;
  HeaderMap(std::initializer_list<std::pair<std::string_view, std::string_view>> headers);

  // Adds a header; a repeated name keeps the first value (as HeaderLookup promises).
  void Add(std::string_view name, std::string_view value);

  [[nodiscard]] std::optional<std::string_view> Get(std::string_view name) const;

  // A lookup over this map. REQUIRES: the map outlives every use of the returned function.
  [[nodiscard]] HeaderLookup Lookup() const;

 private:
  std::map<std::string, std::string, std::less<>> headers_;  // lower-case name -> value
};

}  // namespace causeloop::webhooks::inbound
