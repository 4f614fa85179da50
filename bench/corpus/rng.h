// A portable pseudo-random generator for the corpus: xoshiro256** seeded through splitmix64,
// with its own integer-to-range mapping. std::uniform_*_distribution is implementation-defined,
// so a corpus built with it would differ between standard libraries; this one does not.
#ifndef CAUSELOOP_BENCH_CORPUS_RNG_H_
#define CAUSELOOP_BENCH_CORPUS_RNG_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace causeloop::corpus {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : state_) word = SplitMix64(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n). REQUIRES: n > 0. Rejection sampling keeps it exactly uniform.
  uint64_t Below(uint64_t n) {
    const uint64_t max = std::numeric_limits<uint64_t>::max();
    const uint64_t limit = max - (max % n + 1) % n;  // largest multiple of n, minus one
    uint64_t x = Next();
    while (x > limit) x = Next();
    return x % n;
  }

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  long long Range(long long lo, long long hi) {
    return lo + static_cast<long long>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }

  // True with probability percent / 100.
  bool Percent(int percent) { return static_cast<int>(Below(100)) < percent; }

  template <typename Container>
  const auto& Pick(const Container& items) {
    return items[static_cast<std::size_t>(Below(items.size()))];
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];
};

// FNV-1a: a stable hash for values that must not change between records (line numbers of a
// frame, the replica-set hash of a deployment).
inline uint64_t StableHash(std::string_view a, std::string_view b = {}) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : a) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  h = (h ^ 0xffU) * 0x100000001b3ULL;
  for (char c : b) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

}  // namespace causeloop::corpus

#endif  // CAUSELOOP_BENCH_CORPUS_RNG_H_
