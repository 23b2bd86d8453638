// The oracle's matmul (kernels/ref/matmul.cpp) checked against an independent long-double
// computation built from xk::dequantize(), for every weight format x every activation
// precision on ragged shapes, and against exact integer results where quantization is exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <vector>

#include "kernels/ref/ref.h"
#include "tests/common/test_util.h"
#include "xk/error.h"
#include "xk/formats.h"

namespace {

using xk::ActPrecision;
using xk::DType;

const ActPrecision kActs[] = {ActPrecision::F32, ActPrecision::F16, ActPrecision::Q8, ActPrecision::FP4,
                              ActPrecision::FP8};

bool act_allowed(DType w, ActPrecision a, int64_t K) {
  if (a == ActPrecision::FP4) return w == DType::MXFP4 || w == DType::NVFP4;
  if (a == ActPrecision::Q8 || a == ActPrecision::FP8) return K % 32 == 0;
  return true;
}

// X stored in its activation dtype, and the FP32 values that storage holds.
using Acts = xk::test::Stored;
inline Acts make_acts(DType dt, const std::vector<float>& x) { return xk::test::store(dt, x); }

// The activation values each precision feeds the product, computed without kernels/ref:
// the public quantize/dequantize round trip, std::ilogb/std::ldexp for the FP8 scales.
std::vector<long double> act_values(ActPrecision act, DType w, const std::vector<float>& xrow) {
  const int64_t K = static_cast<int64_t>(xrow.size());
  std::vector<long double> v(xrow.begin(), xrow.end());
  switch (act) {
    case ActPrecision::F32:
      break;
    case ActPrecision::F16:
      for (int64_t k = 0; k < K; ++k) v[k] = xk::f16_to_f32(xk::f32_to_f16(xrow[k]));
      break;
    case ActPrecision::Q8: {
      const auto q = xk::quantize(DType::Q8_0, xrow.data(), 1, K);
      const auto d = xk::dequantize(DType::Q8_0, q.data(), 1, K);
      v.assign(d.begin(), d.end());
      break;
    }
    case ActPrecision::FP4: {
      float amax = 0;
      for (float x : xrow) amax = std::max(amax, std::fabs(x));
      const float s = (w == DType::NVFP4 && amax > 0) ? amax / 2688.0f : 1.0f;
      std::vector<float> scaled(xrow.size());
      for (int64_t k = 0; k < K; ++k) scaled[k] = xrow[k] / s;
      std::vector<uint8_t> q(xk::row_bytes(w, K));
      xk::quantize_row(w, scaled.data(), q.data(), K);
      std::vector<float> d(static_cast<size_t>(K));
      xk::dequantize_row(w, q.data(), d.data(), K);
      for (int64_t k = 0; k < K; ++k) v[k] = static_cast<long double>(d[k]) * s;
      break;
    }
    case ActPrecision::FP8:
      for (int64_t b = 0; b < K / 32; ++b) {
        float amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xrow[b * 32 + j]));
        const int e = amax > 0 ? std::clamp(std::ilogb(amax) - 8 + 127, 0, 254) : 0;
        for (int j = 0; j < 32; ++j) {
          const uint8_t code = xk::f32_to_e4m3(std::ldexp(xrow[b * 32 + j], 127 - e));
          v[b * 32 + j] = static_cast<long double>(xk::e4m3_to_f32(code)) * std::ldexp(1.0L, e - 127);
        }
      }
      break;
    case ActPrecision::Auto:
      ADD_FAILURE() << "auto is not a reference precision";
  }
  return v;
}

struct Problem {
  DType w;
  ActPrecision act;
  DType x;
  int64_t M, N, K;
  std::string str() const {
    std::ostringstream s;
    s << "device cpu-ref, variant ref::matmul, W " << xk::name(w) << " act " << xk::name(act) << " X "
      << xk::name(x) << " M=" << M << " N=" << N << " K=" << K;
    return s.str();
  }
};

std::vector<float> run_ref(const Problem& pr, const std::vector<uint8_t>& W, float ts, const Acts& X) {
  std::vector<float> Y(static_cast<size_t>(pr.M * pr.N), NAN);
  xk::ref::matmul({pr.w, W.data(), ts, X.dtype, X.bytes.data(), Y.data(), pr.M, pr.N, pr.K, pr.act});
  return Y;
}

void check_against_naive(const Problem& pr, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(pr.N * pr.K)), x(static_cast<size_t>(pr.M * pr.K));
  for (auto& v : w) v = g(rng);
  for (auto& v : x) v = g(rng) * 3.0f;
  float ts = 1.0f;
  const auto W = xk::quantize(pr.w, w.data(), pr.N, pr.K, &ts);
  const Acts X = make_acts(pr.x, x);
  const auto Y = run_ref(pr, W, ts, X);

  auto Wd = xk::dequantize(pr.w, W.data(), pr.N, pr.K, pr.w == DType::NVFP4 ? ts : 1.0f);
  if (pr.act == ActPrecision::F16)
    for (auto& v : Wd) v = xk::f16_to_f32(xk::f32_to_f16(v));
  double worst = 0;
  int64_t wm = -1, wn = -1;
  long double wexp = 0;
  for (int64_t m = 0; m < pr.M; ++m) {
    const std::vector<float> xrow(X.values.begin() + m * pr.K, X.values.begin() + (m + 1) * pr.K);
    const auto xv = act_values(pr.act, pr.w, xrow);
    for (int64_t n = 0; n < pr.N; ++n) {
      long double exp = 0, mag = 0;
      for (int64_t k = 0; k < pr.K; ++k) {
        exp += static_cast<long double>(Wd[n * pr.K + k]) * xv[k];
        mag += std::fabs(static_cast<long double>(Wd[n * pr.K + k]) * xv[k]);
      }
      // FP32 output rounding plus NVFP4's one rounding per dequantized weight: 2^-22 of the
      // sum of |products|. A layout or scale bug is off by O(1) of that sum.
      const double err =
          static_cast<double>(std::fabs(exp - Y[m * pr.N + n]) / (mag * std::ldexp(1.0L, -22) + 1e-30L));
      if (!(err <= worst)) {
        worst = err;
        wm = m;
        wn = n;
        wexp = exp;
      }
    }
  }
  EXPECT_LE(worst, 1.0) << pr.str() << ": worst element Y[" << wm << "," << wn << "] expected "
                        << static_cast<double>(wexp) << " actual " << (wm >= 0 ? Y[wm * pr.N + wn] : 0.0f);
}

TEST(RefMatmul, EveryFormatAndActPrecisionMatchesNaiveFp64OnRaggedShapes) {
  int cases = 0;
  for (DType w : xk::kAllDTypes) {
    const int blk = xk::traits(w).block_elems;
    std::vector<int64_t> Ks = {int64_t(blk), int64_t(3 * blk),
                               int64_t(5 * blk)};  // 96, 160: not multiples of 256
    if (blk == 1) Ks = {1, 7, 33, 64, 96};
    if (blk == 64) Ks = {64, 192, 320};
    for (ActPrecision act : kActs)
      for (int64_t K : Ks) {
        if (!act_allowed(w, act, K)) continue;
        for (int64_t M : {1, 7, 33})
          for (int64_t N : {1, 5}) {
            const DType xd = xk::kAllDTypes[cases % 3];  // F32, F16, BF16 in turn
            check_against_naive({w, act, xd, M, N, K}, static_cast<uint32_t>(1000 + cases));
            ++cases;
          }
      }
  }
  EXPECT_GT(cases, 400);
}

TEST(RefMatmul, ZeroSizedProblemsWriteNothingOrZeros) {
  for (DType w : xk::kAllDTypes) {
    const int64_t K = xk::traits(w).block_elems * 2;
    const std::vector<float> x(static_cast<size_t>(3 * K), 1.0f), wv(static_cast<size_t>(2 * K), 1.0f);
    const auto W = xk::quantize(w, wv.data(), 2, K);
    const Acts X = make_acts(DType::F32, x);
    std::vector<float> Y(8, 7.0f);
    xk::ref::matmul({w, W.data(), 1.0f, DType::F32, X.bytes.data(), Y.data(), 0, 2, K, ActPrecision::F32});
    xk::ref::matmul({w, W.data(), 1.0f, DType::F32, X.bytes.data(), Y.data(), 3, 0, K, ActPrecision::F32});
    EXPECT_EQ(Y, std::vector<float>(8, 7.0f)) << xk::name(w) << ": M=0 / N=0 must not write";
    for (ActPrecision act : kActs) {
      if (!act_allowed(w, act, 0)) continue;
      std::vector<float> Z(6, 7.0f);
      xk::ref::matmul({w, W.data(), 1.0f, DType::F32, X.bytes.data(), Z.data(), 3, 2, 0, act});
      EXPECT_EQ(Z, std::vector<float>(6, 0.0f))
          << xk::name(w) << " " << xk::name(act) << ": K=0 sums nothing";
    }
  }
}

// ---------------------------------------------------------------------- exact integer cases
// Weights and activations on grids each precision represents exactly (block maxima placed so
// every scale is a power of two or 1), so Y must equal the integer product bit for bit.
std::vector<float> exact_weights(DType w, int64_t N, int64_t K, std::mt19937& rng) {
  std::vector<float> v(static_cast<size_t>(N * K));
  const float grid[] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (int64_t i = 0; i < N * K; ++i) {
    const float sign = (rng() & 1) ? -1.0f : 1.0f;
    switch (w) {
      case DType::Q4_0:
        v[i] = static_cast<float>(static_cast<int>(rng() % 16) - 8);
        if (i % 32 == 0) v[i] = -8;
        break;
      case DType::Q8_0:
        v[i] = static_cast<float>(static_cast<int>(rng() % 255) - 127);
        if (i % 32 == 0) v[i] = 127;
        break;
      case DType::MXFP4:
        v[i] = sign * grid[rng() % 8];
        if (i % 32 == 0) v[i] = -6;
        break;
      case DType::NVFP4:
        v[i] = sign * grid[rng() % 8];
        if (i % 16 == 0) v[i] = 6;
        break;
      default:
        v[i] = static_cast<float>(static_cast<int>(rng() % 31) - 15);
        break;
    }
  }
  return v;
}
std::vector<float> exact_acts(ActPrecision act, DType w, int64_t M, int64_t K, std::mt19937& rng) {
  std::vector<float> v(static_cast<size_t>(M * K));
  const float grid[] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (int64_t i = 0; i < M * K; ++i) {
    const float sign = (rng() & 1) ? -1.0f : 1.0f;
    switch (act) {
      case ActPrecision::Q8:
        v[i] = static_cast<float>(static_cast<int>(rng() % 255) - 127);
        if (i % 32 == 0) v[i] = -127;
        break;
      case ActPrecision::FP8:
        v[i] = static_cast<float>(static_cast<int>(rng() % 15) - 7);
        break;
      case ActPrecision::FP4:  // NVFP4: row max 6 * 448 so the row scale s is exactly 1
        v[i] = sign * grid[rng() % 8] * (w == DType::NVFP4 ? 448.0f : 1.0f);
        if (i % 16 == 0) v[i] = (w == DType::NVFP4 ? 2688.0f : 6.0f);
        break;
      default:
        v[i] = static_cast<float>(static_cast<int>(rng() % 31) - 15);
        break;
    }
  }
  return v;
}

TEST(RefMatmul, SmallIntegerInputsGiveExactResultsForEveryFormatAndPrecision) {
  const int64_t M = 7, N = 5, K = 128;
  int cases = 0;
  for (DType w : xk::kAllDTypes)
    for (ActPrecision act : kActs) {
      if (!act_allowed(w, act, K)) continue;
      std::mt19937 rng(static_cast<uint32_t>(cases + 17));
      const auto wv = exact_weights(w, N, K, rng);
      const auto xv = exact_acts(act, w, M, K, rng);
      std::vector<uint8_t> W(xk::row_bytes(w, K) * N);
      for (int64_t n = 0; n < N; ++n)
        xk::quantize_row(w, wv.data() + n * K, W.data() + xk::row_bytes(w, K) * n, K);
      for (float ts : {1.0f, 0.5f}) {
        if (ts != 1.0f && w != DType::NVFP4) continue;
        const Problem pr{w, act, DType::F32, M, N, K};
        const auto Y = run_ref(pr, W, ts, make_acts(DType::F32, xv));
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            double exp = 0;
            for (int64_t k = 0; k < K; ++k) exp += static_cast<double>(wv[n * K + k]) * xv[m * K + k];
            ASSERT_EQ(Y[m * N + n], static_cast<float>(exp * ts))
                << pr.str() << " tensor_scale " << ts << ": element Y[" << m << "," << n << "]";
          }
      }
      ++cases;
    }
  EXPECT_EQ(cases, 7 * 4 + 2);  // F32/F16/Q8/FP8 for all seven formats, FP4 for mxfp4 and nvfp4
}

TEST(RefMatmul, ActivationQuantizersExposeTheirBlocks) {
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[i] = static_cast<float>(i - 32) * 0.25f;
  std::vector<uint8_t> nv(36);
  const float s = xk::ref::quantize_act_fp4(DType::NVFP4, x.data(), 64, nv.data());
  EXPECT_EQ(s, 8.0f / 2688.0f);
  std::vector<uint8_t> mx(34);
  EXPECT_EQ(xk::ref::quantize_act_fp4(DType::MXFP4, x.data(), 64, mx.data()), 1.0f);
  EXPECT_EQ(mx[0], 3 - 2 + 127);  // amax 8 in the first block: floor(log2 8) - 2 + 127
  uint8_t scales[2], codes[64];
  xk::ref::quantize_act_fp8(x.data(), 64, scales, codes);
  EXPECT_EQ(scales[0], 3 - 8 + 127);  // amax 8
  EXPECT_EQ(xk::e4m3_to_f32(codes[0]) * xk::e8m0_to_f32(scales[0]), -8.0f);
  EXPECT_THROW(xk::ref::quantize_act_fp4(DType::Q4_0, x.data(), 64, nv.data()), xk::Error);
  EXPECT_THROW(xk::ref::quantize_act_q8(x.data(), 48, mx.data()), xk::Error);
}

TEST(RefMatmul, RejectsAutoAndMisalignedK) {
  std::vector<uint8_t> W(18 * 4);
  std::vector<float> X(64), Y(4);
  EXPECT_THROW(xk::ref::matmul({DType::Q4_0, W.data(), 1.0f, DType::F32, X.data(), Y.data(), 1, 1, 32,
                                ActPrecision::Auto}),
               xk::Error);
  EXPECT_THROW(xk::ref::matmul({DType::Q4_0, W.data(), 1.0f, DType::F32, X.data(), Y.data(), 1, 1, 48,
                                ActPrecision::F32}),
               xk::Error);
  EXPECT_THROW(xk::ref::matmul(
                   {DType::F32, W.data(), 1.0f, DType::F32, X.data(), Y.data(), 1, 1, 40, ActPrecision::Q8}),
               xk::Error);
  EXPECT_THROW(xk::ref::matmul({DType::Q8_0, W.data(), 1.0f, DType::F32, X.data(), Y.data(), 1, 1, 32,
                                ActPrecision::FP4}),
               xk::Error);
}

}  // namespace
