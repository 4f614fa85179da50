#include "webhooks/inbound/headers.h"

#include "normalize/text.h"

namespace causeloop::webhooks::inbound {

HeaderMap::HeaderMap(std::initializer_list<std::pair<std::string_view, std::string_view>> headers) {
  for (const auto& [name, value] : headers) Add(name, value);
}

void HeaderMap::Add(std::string_view name, std::string_view value) {
  headers_.try_emplace(normalize::LowerAscii(name), value);
}

std::optional<std::string_view> HeaderMap::Get(std::string_view name) const {
  auto it = headers_.find(normalize::LowerAscii(name));
  if (it == headers_.end()) return std::nullopt;
  return std::string_view(it->second);
}

HeaderLookup HeaderMap::Lookup() const {
  return [this](std::string_view name) { return Get(name); };
}

}  // namespace causeloop::webhooks::inbound
