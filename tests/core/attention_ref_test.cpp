// The oracle's attention (kernels/ref/attention.cpp) checked against a naive two-pass softmax
// in long double, and against cases whose answer is exact (uniform scores average V; one KV
// head per constant value pins the GQA mapping).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <tuple>
#include <vector>

#include "kernels/ref/ref.h"
#include "tests/common/test_util.h"
#include "xk/formats.h"

namespace {

using xk::DType;

struct Shape {
  int64_t B, Hq, Hkv, S, T, D;
  bool causal;
  int64_t q_offset;
  DType q_dtype, kv_dtype;
  std::string str() const {
    std::ostringstream s;
    s << "device cpu-ref, variant ref::attention, B=" << B << " Hq=" << Hq << " Hkv=" << Hkv << " S=" << S
      << " T=" << T << " D=" << D << (causal ? " causal q_offset=" + std::to_string(q_offset) : " non-causal")
      << " Q " << xk::name(q_dtype) << " KV " << xk::name(kv_dtype);
    return s.str();
  }
};

using xk::test::store;
using xk::test::Stored;

std::vector<float> run(const Shape& sh, const Stored& Q, const Stored& K, const Stored& V, float scale) {
  std::vector<float> O(static_cast<size_t>(sh.B * sh.Hq * sh.S * sh.D), NAN);
  xk::ref::attention({sh.q_dtype, Q.bytes.data(), sh.kv_dtype, K.bytes.data(), V.bytes.data(), O.data(), sh.B,
                      sh.Hq, sh.Hkv, sh.S, sh.T, sh.D, scale, sh.causal, sh.q_offset});
  return O;
}

// Two passes per query row: scores and their max, then exp / sum / weighted V.
std::vector<long double> naive(const Shape& sh, const Stored& Q, const Stored& K, const Stored& V,
                               float scale) {
  std::vector<long double> O(static_cast<size_t>(sh.B * sh.Hq * sh.S * sh.D));
  for (int64_t b = 0; b < sh.B; ++b)
    for (int64_t h = 0; h < sh.Hq; ++h) {
      const int64_t g = h * sh.Hkv / sh.Hq;  // KV head of query head h
      for (int64_t i = 0; i < sh.S; ++i) {
        const int64_t n = sh.causal ? sh.q_offset + i + 1 : sh.T;
        std::vector<long double> s(static_cast<size_t>(n));
        long double mx = -INFINITY;
        for (int64_t j = 0; j < n; ++j) {
          long double dot = 0;
          for (int64_t d = 0; d < sh.D; ++d)
            dot += static_cast<long double>(Q.values[((b * sh.Hq + h) * sh.S + i) * sh.D + d]) *
                   K.values[((b * sh.Hkv + g) * sh.T + j) * sh.D + d];
          s[j] = dot * scale;
          mx = std::max(mx, s[j]);
        }
        long double sum = 0;
        for (auto& v : s) sum += (v = std::exp(v - mx));
        for (int64_t d = 0; d < sh.D; ++d) {
          long double o = 0;
          for (int64_t j = 0; j < n; ++j) o += s[j] * V.values[((b * sh.Hkv + g) * sh.T + j) * sh.D + d];
          O[((b * sh.Hq + h) * sh.S + i) * sh.D + d] = o / sum;
        }
      }
    }
  return O;
}

TEST(RefAttention, MatchesNaiveTwoPassSoftmaxInLongDouble) {
  const Shape shapes[] = {
      {1, 1, 1, 1, 1, 64, false, 0, DType::F32, DType::F32},     // one key
      {2, 4, 2, 5, 9, 8, true, 3, DType::F32, DType::F16},       // GQA 2:1, causal with offset
      {1, 8, 2, 1, 37, 128, true, 36, DType::F16, DType::F16},   // decode S=1, GQA 4:1
      {1, 8, 1, 1, 50, 64, false, 0, DType::F32, DType::F16},    // decode, MQA
      {1, 4, 4, 16, 16, 64, true, 0, DType::F16, DType::F32},    // square causal prefill
      {2, 6, 3, 7, 7, 64, false, 0, DType::F32, DType::F32},     // non-causal prefill
      {1, 2, 1, 3, 40, 256, true, 20, DType::F32, DType::F16},   // D=256, offset mid-sequence
      {1, 3, 3, 33, 70, 128, true, 37, DType::F16, DType::F16},  // ragged S, T
  };
  uint32_t seed = 1;
  for (const Shape& sh : shapes) {
    std::mt19937 rng(seed++);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> q(static_cast<size_t>(sh.B * sh.Hq * sh.S * sh.D)),
        k(static_cast<size_t>(sh.B * sh.Hkv * sh.T * sh.D)), v(k.size());
    for (auto& x : q) x = g(rng);
    for (auto& x : k) x = g(rng);
    for (auto& x : v) x = g(rng);
    const auto Q = store(sh.q_dtype, q), K = store(sh.kv_dtype, k), V = store(sh.kv_dtype, v);
    for (float scale : {1.0f / std::sqrt(static_cast<float>(sh.D)), 3.0f}) {  // 3.0: peaked, large logits
      const auto O = run(sh, Q, K, V, scale);
      const auto E = naive(sh, Q, K, V, scale);
      double worst = 0;
      size_t wi = 0;
      for (size_t i = 0; i < O.size(); ++i) {
        const double err = static_cast<double>(std::fabs(E[i] - O[i]));
        if (!(err <= worst)) {
          worst = err;
          wi = i;
        }
      }
      // |O| <= max|V| ~ 4; FP32 rounding of O is 2^-24 relative, FP64 math adds nothing visible.
      EXPECT_LE(worst, 1e-6) << sh.str() << " scale " << scale << ": worst element " << wi << " expected "
                             << static_cast<double>(E[wi]) << " actual " << O[wi];
    }
  }
}

// With K = 0 every visible key scores the same, so O is the plain mean of the visible V rows:
// with V[j] = j that is (visible - 1) / 2 exactly, which pins the causal boundary per query.
TEST(RefAttention, CausalMaskWithOffsetSeesExactlyKeysUpToItsPosition) {
  for (const auto& [S, T, off, causal] : {std::tuple{4, 10, 6, true}, std::tuple{1, 12, 11, true},
                                          std::tuple{5, 5, 0, true}, std::tuple{3, 8, 0, false}}) {
    const Shape sh{1, 2, 1, S, T, 64, causal, off, DType::F32, DType::F16};
    std::vector<float> q(static_cast<size_t>(2 * S * 64), 1.0f), k(static_cast<size_t>(T * 64), 0.0f),
        v(k.size());
    for (int64_t j = 0; j < T; ++j)
      for (int d = 0; d < 64; ++d) v[j * 64 + d] = static_cast<float>(j);
    const auto O = run(sh, store(DType::F32, q), store(DType::F16, k), store(DType::F16, v), 0.125f);
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < S; ++i) {
        const int64_t visible = causal ? off + i + 1 : T;
        for (int d = 0; d < 64; ++d)
          ASSERT_EQ(O[(h * S + i) * 64 + d], (visible - 1) / 2.0f)
              << sh.str() << ": query " << i << " head " << h;
      }
  }
}

TEST(RefAttention, GroupedQueryHeadsReadTheirOwnKvHead) {
  const Shape sh{2, 8, 2, 3, 6, 64, false, 0, DType::F32, DType::F32};
  std::vector<float> q(static_cast<size_t>(2 * 8 * 3 * 64)), k(static_cast<size_t>(2 * 2 * 6 * 64)),
      v(k.size());
  std::mt19937 rng(9);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (auto& x : q) x = g(rng);
  for (auto& x : k) x = g(rng);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t kv = 0; kv < 2; ++kv)
      for (int64_t i = 0; i < 6 * 64; ++i) v[(b * 2 + kv) * 6 * 64 + i] = static_cast<float>(10 * b + kv + 1);
  const auto O = run(sh, store(DType::F32, q), store(DType::F32, k), store(DType::F32, v), 0.125f);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 8; ++h)  // heads 0-3 -> KV head 0, heads 4-7 -> KV head 1
      for (int64_t i = 0; i < 3 * 64; ++i)
        ASSERT_NEAR(O[(b * 8 + h) * 3 * 64 + i], 10 * b + h / 4 + 1, 1e-6)
            << sh.str() << ": batch " << b << " head " << h;
}

TEST(RefAttention, EmptyQueriesWriteNothing) {
  const Shape sh{1, 2, 1, 0, 4, 64, true, 4, DType::F32, DType::F32};
  std::vector<float> kv(4 * 64, 1.0f);
  std::vector<float> O(4, 7.0f);
  xk::ref::attention(
      {DType::F32, nullptr, DType::F32, kv.data(), kv.data(), O.data(), 1, 2, 1, 0, 4, 64, 1.0f, true, 4});
  EXPECT_EQ(O, std::vector<float>(4, 7.0f)) << sh.str();
}

}  // namespace
