#include "auth/cursor.h"

#include "auth/crypto.h"

namespace causeloop::auth {

std::string CursorSigner::Seal(std::string_view payload) const {
  return Base64UrlEncode(payload) + "." + Base64UrlEncode(AsChars(HmacSha256(key_, payload)));
}

Result<std::string> CursorSigner::Open(std::string_view cursor) const {
  auto bad = [] { return FailField("cursor", "invalid or tampered cursor"); };
  auto dot = cursor.find('.');
  if (dot == std::string_view::npos) return bad();
  auto payload = Base64UrlDecode(cursor.substr(0, dot));
  auto mac = Base64UrlDecode(cursor.substr(dot + 1));
  if (!payload || !mac) return bad();
  if (!ConstantTimeEquals(*mac, AsChars(HmacSha256(key_, *payload)))) return bad();
  return *payload;
}

}  // namespace causeloop::auth
