// Deterministic harness inputs: the same numbers on every platform and standard library.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "tests/common/test_util.h"

namespace xk::harness {

using test::Rng;
using test::seed_of;

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
