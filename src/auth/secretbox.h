#pragma once
// Sealing of secrets at rest (connector credentials, webhook signing secrets) with
// AES-256-GCM.
//
// Sealed form: "v1:" + base64(nonce[12] ‖ ciphertext ‖ tag[16]), standard alphabet, padded.
// The nonce is 96 random bits per Seal, drawn from the Random passed in (production passes
// SecureRandom); with random nonces one key must not seal more than ~2^32 values (NIST SP
// 800-38D §8.3), far beyond what a workspace stores. No associated data: a sealed value is
// bound to its key only, so callers that must not let a ciphertext be moved between rows or
// purposes use a separate key per purpose (DeriveKey).
//
// Pure apart from the Random; every function is thread-safe.

#include <string>
#include <string_view>

#include "core/random.h"
#include "core/result.h"

namespace causeloop::auth {

// AES-256 key length in bytes.
inline constexpr size_t kSecretBoxKeySize = 32;

// Encrypts and authenticates `plaintext` under `key32`.
// REQUIRES: key32.size() == kSecretBoxKeySize (DeriveKey's output). A key of any other length
// is a programming error; Seal then returns an empty string, which Open refuses.
std::string Seal(std::string_view key32, std::string_view plaintext, Random& random);

// Decrypts what Seal produced under the same key. kValidation when the key is not 32 bytes, the
// text is not "v1:" + base64 of at least nonce + tag, or authentication fails (tampered,
// truncated, or sealed under another key); the message never contains key or plaintext bytes.
Result<std::string> Open(std::string_view key32, std::string_view sealed);

// A 32-byte key for one purpose from a master secret: HMAC-SHA256(master, purpose), so keys for
// different purposes ("connector-credentials", "webhook-secrets", …) are independent.
std::string DeriveKey(std::string_view master, std::string_view purpose);

}  // namespace causeloop::auth
