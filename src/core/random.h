#pragma once
// Randomness comes in through this seam. SecureRandom is backed by OpenSSL's CSPRNG
// and is what production uses for ids, tokens and secrets; tests may use SeededRandom.

#include <cstdint>
#include <mutex>
#include <random>
#include <span>

namespace causeloop {

class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` with random bytes. Thread-safe.
  virtual void Fill(std::span<unsigned char> out) = 0;
  uint64_t NextU64() {
    unsigned char b[8];
    Fill(b);
    uint64_t v = 0;
    for (unsigned char c : b) v = (v << 8) | c;
    return v;
  }
  // Uniform double in [0, 1).
  double NextDouble() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }
};

class SecureRandom final : public Random {
 public:
  void Fill(std::span<unsigned char> out) override;
};

// A fast generator (xoshiro256**) seeded from SecureRandom: for ids, jitter and sampling,
// where values must be unique and unpredictable enough but not secret. Never for tokens or
// secrets. Thread-safe.
class FastRandom final : public Random {
 public:
  FastRandom();
  void Fill(std::span<unsigned char> out) override;

 private:
  std::mutex mu_;
  uint64_t s_[4];  // guarded by mu_
};

// Deterministic, for tests only.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  void Fill(std::span<unsigned char> out) override {
    std::lock_guard lock(mu_);
    for (auto& c : out) c = static_cast<unsigned char>(engine_());
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

}  // namespace causeloop
