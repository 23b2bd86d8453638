// Helpers the test programs share: reproducible inputs, bit views of floats, the NMSE check
// with the worst element named, activations stored in their dtype, one forced-variant matmul
// through the public API, an expected-xk::Error check and a scoped environment variable.
// Header-only; every test target reaches it through libxk's include path (the project root).
#pragma once
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
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

// splitmix64 + Box-Muller: a generator with its own state, the same numbers on every platform
// and standard library (std::normal_distribution is not), for tests that draw many kinds of value.
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

inline uint64_t seed_of(const std::string& key) {  // FNV-1a: a seed per case name
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : key) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h;
}

// y against ref: sum (y - ref)^2 / sum ref^2 (the plain squared error when ref is all zero),
// infinite when y holds a non-finite value, so a NaN never passes; and the largest |y - ref|.
struct Comparison {
  double nmse = 0;
  size_t worst = 0;  // flat index of the largest |y - ref|; a NaN counts as largest
  double worst_err = -1;
  size_t non_finite = 0;
};
inline Comparison compare(const std::vector<float>& y, const std::vector<float>& ref) {
  Comparison c;
  double err2 = 0, ref2 = 0;
  for (size_t i = 0; i < y.size() && i < ref.size(); ++i) {
    const double d = static_cast<double>(y[i]) - ref[i];
    if (!std::isfinite(y[i])) ++c.non_finite;
    err2 += d * d;
    ref2 += static_cast<double>(ref[i]) * ref[i];
    if (!(std::fabs(d) <= c.worst_err)) {
      c.worst_err = std::isfinite(d) ? std::fabs(d) : std::numeric_limits<double>::infinity();
      c.worst = i;
    }
  }
  c.nmse = c.non_finite ? std::numeric_limits<double>::infinity() : ref2 > 0 ? err2 / ref2 : err2;
  return c;
}
inline double nmse(const std::vector<float>& y, const std::vector<float>& ref) {
  return compare(y, ref).nmse;
}

// "[b, h, s, d]" of a flat row-major index into `shape`.
inline std::string index_str(size_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = static_cast<int64_t>(flat % static_cast<size_t>(shape[d]));
    flat /= static_cast<size_t>(shape[d]);
  }
  std::string s = "[";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
  return s + "]";
}

// EXPECT nmse(y, ref) <= max_nmse; a failure names the device, what ran, and the worst element
// (as an index into `shape` when one is given).
inline void expect_close(const std::string& device, const std::string& what, const std::vector<float>& y,
                         const std::vector<float>& ref, double max_nmse,
                         const std::vector<int64_t>& shape = {}) {
  ASSERT_EQ(y.size(), ref.size()) << device << ", " << what;
  const Comparison c = compare(y, ref);
  EXPECT_LE(c.nmse, max_nmse) << "device " << device << ", " << what << ": NMSE " << c.nmse
                              << ", worst element "
                              << (shape.empty() ? std::to_string(c.worst) : index_str(c.worst, shape))
                              << " expected " << (ref.empty() ? 0.0f : ref[c.worst]) << " actual "
                              << (y.empty() ? 0.0f : y[c.worst]) << "; " << c.non_finite
                              << " non-finite outputs";
}

// Runs `body` expecting an xk::Error whose message contains every string of `needles`.
template <class F>
void expect_error_containing(F&& body, const std::vector<std::string>& needles) {
  try {
    body();
    ADD_FAILURE() << "expected an xk::Error containing '" << needles.front() << "', nothing was thrown";
  } catch (const Error& e) {
    for (const auto& n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << "message: " << e.what();
  }
}

// Sets one environment variable for a scope, then unsets it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

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
// [N, K] is quantized to `w` (NVFP4 with its own tensor scale), X uploaded as `x` (F32, F16 or
// BF16; `x_stored` holds what the device read, for the oracle).
struct MatmulRun {
  std::vector<uint8_t> w_bytes;  // W as uploaded (GGUF bytes)
  float tensor_scale = 1.0f;
  Stored x_stored;
  std::vector<float> y;
};
inline MatmulRun run_matmul(Device& dev, const std::string& variant, DType w, ActPrecision act,
                            const std::vector<float>& wf, const std::vector<float>& xf, int64_t M, int64_t N,
                            int64_t K, DType x = DType::F32) {
  MatmulRun r;
  r.w_bytes = quantize(w, wf.data(), N, K, &r.tensor_scale);
  if (w != DType::NVFP4) r.tensor_scale = 1.0f;
  r.x_stored = store(x, xf);
  Tensor W = upload_weights(dev, w, N, K, r.w_bytes.data(), r.tensor_scale);
  Tensor X = upload(dev, x, {M, K}, r.x_stored.bytes.data());
  MatmulOptions opt;
  opt.variant = variant;
  opt.act = act;
  r.y = download_f32(matmul(dev, W, X, opt));
  return r;
}

}  // namespace xk::test
