// Helpers the test programs share: reproducible inputs, bit views of floats, the NMSE check
// with the worst element named, activations stored in their dtype, and one forced-variant
// matmul through the public API. Header-only; every test target reaches it through libxk's
// include path (the project root).
#pragma once
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "xk/xk.h"

namespace xk::test {

// Bell-shaped values (sum of 4 uniforms, times scale) from a 64-bit LCG: the same numbers
// with every compiler and standard library, so a failure reproduces anywhere.
inline std::vector<float> randn(size_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& x : v) {
    float acc = 0;
    for (int i = 0; i < 4; ++i) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;  // Knuth's MMIX constants
      acc += static_cast<float>((s >> 40) & 0xFFFFFF) / 16777216.0f - 0.5f;
    }
    x = acc * scale;
  }
  return v;
}

inline uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
inline float from_bits(uint32_t u) { return std::bit_cast<float>(u); }

// sum (y - ref)^2 / sum ref^2 (the plain squared error when ref is all zero); infinite when
// y holds a non-finite value, so a NaN never passes.
inline double nmse(const std::vector<float>& y, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < y.size() && i < ref.size(); ++i) {
    if (!std::isfinite(y[i])) return INFINITY;
    const double d = static_cast<double>(y[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return den > 0 ? num / den : num;
}

// EXPECT nmse(y, ref) <= max_nmse; a failure names the device, what ran, and the worst element.
inline void expect_close(const std::string& device, const std::string& what, const std::vector<float>& y,
                         const std::vector<float>& ref, double max_nmse) {
  ASSERT_EQ(y.size(), ref.size()) << device << ", " << what;
  double worst = -1;
  size_t at = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double d = std::fabs(static_cast<double>(y[i]) - ref[i]);
    if (!(d <= worst)) worst = d, at = i;
  }
  const double e = nmse(y, ref);
  EXPECT_LE(e, max_nmse) << "device " << device << ", " << what << ": NMSE " << e << ", worst element " << at
                         << " expected " << (ref.empty() ? 0.0f : ref[at]) << " actual "
                         << (y.empty() ? 0.0f : y[at]);
}

// Values stored in an F32/F16/BF16 tensor: the bytes, and the FP32 values those bytes hold.
struct Stored {
  DType dtype = DType::F32;
  std::vector<uint8_t> bytes;
  std::vector<float> values;
};
inline Stored store(DType t, const std::vector<float>& v) {
  Stored s{t, {}, v};
  if (t == DType::F32) {
    s.bytes.resize(v.size() * 4);
    if (!v.empty()) std::memcpy(s.bytes.data(), v.data(), v.size() * 4);
    return s;
  }
  s.bytes.resize(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t h = t == DType::F16 ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
    std::memcpy(s.bytes.data() + 2 * i, &h, 2);
    s.values[i] = t == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
  }
  return s;
}

// Y = X W^T on `dev` through the public API with the variant forced: W given as FP32 values
// [N, K] is quantized to `w` (NVFP4 with its own tensor scale), X uploaded as F32.
struct MatmulRun {
  std::vector<uint8_t> w_bytes;  // W as uploaded (GGUF bytes)
  float tensor_scale = 1.0f;
  std::vector<float> y;
};
inline MatmulRun run_matmul(Device& dev, const std::string& variant, DType w, ActPrecision act,
                            const std::vector<float>& wf, const std::vector<float>& xf, int64_t M, int64_t N,
                            int64_t K) {
  MatmulRun r;
  r.w_bytes = quantize(w, wf.data(), N, K, &r.tensor_scale);
  if (w != DType::NVFP4) r.tensor_scale = 1.0f;
  Tensor W = upload_weights(dev, w, N, K, r.w_bytes.data(), r.tensor_scale);
  Tensor X = upload(dev, DType::F32, {M, K}, xf.data());
  MatmulOptions opt;
  opt.variant = variant;
  opt.act = act;
  r.y = download_f32(matmul(dev, W, X, opt));
  return r;
}

}  // namespace xk::test
