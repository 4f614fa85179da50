#pragma once
// Opaque, signed pagination cursors: base64url(payload) "." base64url(HMAC-SHA256(key, payload)).
// A tampered or foreign cursor fails to open with kValidation.

#include <string>
#include <string_view>

#include "core/result.h"

namespace causeloop::auth {

class CursorSigner {
 public:
  // `key` is secret server-side material (derived from the master key).
  explicit CursorSigner(std::string key) : key_(std::move(key)) {}
  [[nodiscard]] std::string Seal(std::string_view payload) const;
  [[nodiscard]] Result<std::string> Open(std::string_view cursor) const;

 private:
  std::string key_;
};

}  // namespace causeloop::auth
