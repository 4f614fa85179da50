#include "core/random.h"

#include <openssl/rand.h>

#include <cstdlib>

namespace causeloop {

void SecureRandom::Fill(std::span<unsigned char> out) {
  // RAND_bytes only fails when the OS entropy source is broken; continuing would hand out
  // predictable tokens, so this is the one place we stop the process.
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

}  // namespace causeloop
