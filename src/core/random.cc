#include "core/random.h"

#include <openssl/rand.h>

#include <cstdlib>

namespace causeloop {

void SecureRandom::Fill(std::span<unsigned char> out) {
  // RAND_bytes only fails when the OS entropy source is broken; continuing would hand out
  // predictable tokens, so this is the one place we stop the process.
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

namespace {
inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

FastRandom::FastRandom() {
  SecureRandom seed;
  do {
    seed.Fill({reinterpret_cast<unsigned char*>(s_), sizeof s_});
  } while ((s_[0] | s_[1] | s_[2] | s_[3]) == 0);
}

void FastRandom::Fill(std::span<unsigned char> out) {
  std::lock_guard lock(mu_);
  size_t i = 0;
  while (i < out.size()) {
    uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    for (int b = 0; b < 8 && i < out.size(); ++b, ++i) {
      out[i] = static_cast<unsigned char>(result >> (8 * b));
    }
  }
}

}  // namespace causeloop
