#include "core/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <array>

namespace causeloop {

void NameThisThread(std::string_view name) {
  std::array<char, 16> buffer{};  // 15 bytes and the terminating NUL
  const size_t n = std::min(name.size(), buffer.size() - 1);
  std::copy_n(name.data(), n, buffer.data());
  (void)pthread_setname_np(pthread_self(), buffer.data());
}

}  // namespace causeloop
