#include "auth/secretbox.h"

#include <openssl/evp.h>

#include <array>
#include <memory>

#include "auth/crypto.h"

namespace causeloop::auth {
namespace {

constexpr std::string_view kPrefix = "v1:";
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

std::string Seal(std::string_view key32, std::string_view plaintext, Random& random) {
  if (key32.size() != kSecretBoxKeySize) return {};
  std::array<unsigned char, kNonceSize> nonce{};
  random.Fill(nonce);

  // nonce ‖ ciphertext ‖ tag, built in place; GCM ciphertext is as long as the plaintext.
  std::string raw(kNonceSize + plaintext.size() + kTagSize, '\0');
  std::copy(nonce.begin(), nonce.end(), raw.begin());
  unsigned char* out = Bytes(raw) + kNonceSize;

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int total = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key32), nonce.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1) {
    return {};
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), out + total, &len) != 1) return {};
  total += len;
  if (static_cast<size_t>(total) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                          out + total) != 1) {
    return {};
  }
  return std::string(kPrefix) + Base64Encode(raw);
}

Result<std::string> Open(std::string_view key32, std::string_view sealed) {
  if (key32.size() != kSecretBoxKeySize) {
    return Fail(ErrorCode::kValidation, "secretbox: key must be 32 bytes");
  }
  if (!sealed.starts_with(kPrefix)) {
    return Fail(ErrorCode::kValidation, "secretbox: not a v1 sealed value");
  }
  Result<std::string> raw = Base64Decode(sealed.substr(kPrefix.size()));
  if (!raw) return Fail(ErrorCode::kValidation, "secretbox: sealed value is not base64");
  if (raw->size() < kNonceSize + kTagSize) {
    return Fail(ErrorCode::kValidation, "secretbox: sealed value is truncated");
  }
  std::string_view all(*raw);
  std::string_view nonce = all.substr(0, kNonceSize);
  std::string_view ciphertext = all.substr(kNonceSize, all.size() - kNonceSize - kTagSize);
  std::string tag(all.substr(all.size() - kTagSize));

  std::string plaintext(ciphertext.size(), '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key32), Bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), Bytes(plaintext), &len, Bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                          Bytes(tag)) != 1) {
    return Fail(ErrorCode::kValidation, "secretbox: cannot decrypt");
  }
  int final_len = 0;
  // The tag is checked here; on mismatch nothing decrypted may be returned.
  if (EVP_DecryptFinal_ex(ctx.get(), Bytes(plaintext) + len, &final_len) != 1) {
    return Fail(ErrorCode::kValidation, "secretbox: authentication failed");
  }
  plaintext.resize(static_cast<size_t>(len) + static_cast<size_t>(final_len));
  return plaintext;
}

std::string DeriveKey(std::string_view master, std::string_view purpose) {
  return std::string(AsChars(HmacSha256(master, purpose)));
}

}  // namespace causeloop::auth
