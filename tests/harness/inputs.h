// Deterministic harness inputs: the same numbers on every platform and standard library.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace xk::harness {

// splitmix64 + Box-Muller: the same numbers on every platform and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }  // (0, 1)
  float normal() {
    const double r = std::sqrt(-2.0 * std::log(uniform())), phi = 6.283185307179586 * uniform();
    return static_cast<float>(r * std::cos(phi));
  }

 private:
  uint64_t state_;
};

inline uint64_t seed_of(const std::string& key) {  // FNV-1a
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : key) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h;
}

// LLM-like magnitudes: weights ~ N(0, 0.02) with a per-row gain and rare 6x outliers;
// activations ~ N(0, 1) with every 29th channel 8x larger (outlier channels are what
// make per-block activation scales matter).
inline std::vector<float> weights(Rng& rng, int64_t n, int64_t k) {
  std::vector<float> w(static_cast<size_t>(n * k));
  for (int64_t r = 0; r < n; ++r) {
    const float gain = 0.02f * (1.0f + 0.5f * std::sin(static_cast<float>(r)));
    for (int64_t c = 0; c < k; ++c)
      w[static_cast<size_t>(r * k + c)] = gain * rng.normal() * (rng.next() % 97 == 0 ? 6.0f : 1.0f);
  }
  return w;
}
inline std::vector<float> activations(Rng& rng, int64_t rows, int64_t k) {
  std::vector<float> x(static_cast<size_t>(rows * k));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < k; ++c)
      x[static_cast<size_t>(r * k + c)] = rng.normal() * (c % 29 == 3 ? 8.0f : 1.0f);
  return x;
}
}  // namespace xk::harness
