// xk_policy: the contracts of the README's "Contracts" section, tested on one device
// against cpu-ref, over every registered matmul variant (not only the one selection picks).
//
//   xk_policy --device vulkan:0        (or XK_DEVICE=vulkan:0 xk_policy)
//
//  - NaN policy: an activation block holding a NaN or an inf makes every output that reads
//    it non-finite (NaN on the quantized paths); the other rows keep the oracle's values.
//  - Magnitudes from the smallest subnormal (1e-45) to 3e38, including blocks whose Q8 scale
//    is an FP16 subnormal or rounds to zero, give the oracle's result on every variant.
//  - alloc(SIZE_MAX) is an xk::Error, not a buffer whose size wrapped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "xk/formats.h"
#include "badinput_common.h"
#include "xk/xk.h"

namespace xk {
namespace {

using badinput::g_device_name;
std::unique_ptr<Device> g_oracle;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// One (variant, weight format, activation precision) combination to run.
struct Combo {
  std::string variant;
  DType format;
  ActPrecision act;
  int64_t rows_per_call = 8;  // tokens one call may carry: 8, or fewer for a variant whose M tile is smaller
  std::string str() const {
    return variant + " (" + name(format) + " weights, " + name(act) + " activations)";
  }
};

// Every matmul variant of `dev` with every weight format and activation precision it lists
// that cpu-ref also implements (the oracle decides what is right).
std::vector<Combo> matmul_combos(const Device& dev) {
  std::vector<Combo> out;
  for (const Variant& v : dev.variants()) {
    if (v.op != Op::Matmul) continue;
    for (DType f : v.formats)
      for (ActPrecision a : v.acts)
        out.push_back({v.name, f, a, std::min<int64_t>(8, std::max(1, v.tile.m))});
  }
  return out;
}

// Deterministic weights in [-1, 1) / 1024, so rows of 3e38 stay below FLT_MAX after the sum.
std::vector<float> weights(int64_t N, int64_t K) {
  std::vector<float> w(static_cast<size_t>(N * K));
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = (static_cast<float>((i * 37 + 11) % 64) / 32.0f - 1.0f) / 1024.0f;
  return w;
}

// Runs Y = X W^T on `dev` with uploaded weights W [N, K], c.rows_per_call rows per call: a
// GEMV variant takes at most its M tile (8, or 1 for the single-token ones), every GEMM
// variant takes any M. Errors propagate.
std::vector<float> run_on(Device& dev, const Combo& c, const Tensor& W, const std::vector<float>& x,
                          int64_t M, bool force_variant) {
  const int64_t K = W.shape[1];
  MatmulOptions opt;
  opt.act = c.act;
  if (force_variant) opt.variant = c.variant;
  std::vector<float> y;
  for (int64_t m0 = 0; m0 < M; m0 += c.rows_per_call) {
    const int64_t rows = std::min(c.rows_per_call, M - m0);
    Tensor X = upload(dev, DType::F32, {rows, K}, x.data() + m0 * K);
    const std::vector<float> part = download_f32(matmul(dev, W, X, opt));
    y.insert(y.end(), part.begin(), part.end());
  }
  return y;
}

// GGUF bytes of the weights w [N, K] in c.format, and their NVFP4 tensor scale.
std::vector<uint8_t> quantized_weights(const Combo& c, const std::vector<float>& w, int64_t N, int64_t K,
                                       float* tensor_scale) {
  *tensor_scale = 1.0f;
  return quantize(c.format, w.data(), N, K, tensor_scale);
}

// run_on with the deterministic weights() uploaded for this call.
std::vector<float> run(Device& dev, const Combo& c, const std::vector<float>& x, int64_t M, int64_t N,
                       int64_t K, bool force_variant) {
  float tensor_scale = 1.0f;
  const std::vector<uint8_t> wq = quantized_weights(c, weights(N, K), N, K, &tensor_scale);
  Tensor W = upload_weights(dev, c.format, N, K, wq.data(), tensor_scale);
  return run_on(dev, c, W, x, M, force_variant);
}

// A forced variant refused for hardware the device lacks ("device lacks VK_KHR_cooperative_matrix"
// on lavapipe) has nothing to check here, as in the harness; any other error is a failure.
bool lacks_hardware(const Error& e) {
  return std::string(e.what()).find("device lacks") != std::string::npos;
}

// cpu-ref implements every (format, precision) pair a GPU variant offers, except the ones it
// refuses as arguments (fp4 activations on f32 weights): those are not compared.
bool oracle_runs(const Combo& c, int64_t N, int64_t K) {
  try {
    run(*g_oracle, c, std::vector<float>(static_cast<size_t>(8 * K), 0.0f), 8, N, K, false);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// Both non-finite of the same kind (NaN, +inf, -inf), or both finite within tol.
bool same_result(float expected, float actual, float tol) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);
  if (std::isinf(expected) || std::isinf(actual)) return expected == actual;
  return std::fabs(expected - actual) <= tol;
}

class Policy : public badinput::DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (!IsSkipped() && !g_oracle) GTEST_SKIP() << "cpu-ref is not available as the oracle";
  }
};

// ---- magnitudes --------------------------------------------------------------------------

// Row scales: float subnormals (1e-45 is the smallest), a Q8 scale d = amax/127 below FLT_MIN
// (1e-38: 1/d overflows to inf), an FP16-subnormal Q8 scale (1e-5), ordinary rows, a Q8 scale
// past FP16's 65504 (1e7), and rows near FLT_MAX.
constexpr float kRowScales[] = {1e-45f, 1e-41f, 1e-39f, 1e-38f, 1e-30f, 1e-5f, 1.0f,   1e7f,
                                1e30f,  3e38f,  1e-44f, 2e-40f, 3e-38f, 5e-6f, 100.0f, 2e38f};

TEST_F(Policy, MatmulMagnitudesFromSubnormalToNearFltMaxGiveTheOracleResultOnEveryVariant) {
  constexpr int64_t M = 16, N = 16, K = 128;
  std::vector<float> x(static_cast<size_t>(M * K));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k)
      x[static_cast<size_t>(m * K + k)] =
          kRowScales[m] * (static_cast<float>((k * 13 + m * 7) % 33) / 16.0f - 1.0f);
  for (const Combo& c : matmul_combos(dev())) {
    SCOPED_TRACE(g_device_name + " " + c.str());
    if (!oracle_runs(c, N, K)) continue;
    std::vector<float> want, got;
    ASSERT_NO_THROW(want = run(*g_oracle, c, x, M, N, K, false));
    try {
      got = run(dev(), c, x, M, N, K, true);
    } catch (const Error& e) {
      if (lacks_hardware(e)) continue;
      FAIL() << e.what();
    }
    for (int64_t m = 0; m < M; ++m) {
      float row_max = 0.0f;
      for (int64_t n = 0; n < N; ++n)
        if (std::isfinite(want[static_cast<size_t>(m * N + n)]))
          row_max = std::max(row_max, std::fabs(want[static_cast<size_t>(m * N + n)]));
      // FP32 accumulation orders differ by variant: 1e-4 of the row, plus K roundings of
      // products that are float subnormals (each off by at most half of 2^-149).
      const float tol = 1e-4f * row_max + static_cast<float>(K) * std::numeric_limits<float>::denorm_min();
      for (int64_t n = 0; n < N; ++n) {
        const size_t i = static_cast<size_t>(m * N + n);
        EXPECT_TRUE(same_result(want[i], got[i], tol))
            << "row scale " << kRowScales[m] << ", Y[" << m << "," << n << "]: expected " << want[i]
            << ", got " << got[i] << " (tolerance " << tol << ")";
      }
    }
  }
}

// ---- NaN policy --------------------------------------------------------------------------

TEST_F(Policy, MatmulNonFiniteActivationMakesExactlyItsRowNonFiniteOnEveryVariant) {
  constexpr int64_t M = 16, N = 16, K = 128;
  std::vector<float> x(static_cast<size_t>(M * K));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 29 + 3) % 41) / 20.0f - 1.0f;
  // (row, k, value): first, middle and last block; NaN and both infinities.
  const struct {
    int64_t m, k;
    float v;
  } poison[] = {{1, 0, kNaN}, {4, 70, kInf}, {6, 127, -kInf}, {9, 33, kNaN}, {14, 64, kInf}};
  std::vector<bool> poisoned(static_cast<size_t>(M), false);
  for (const auto& p : poison) {
    x[static_cast<size_t>(p.m * K + p.k)] = p.v;
    poisoned[static_cast<size_t>(p.m)] = true;
  }
  for (const Combo& c : matmul_combos(dev())) {
    SCOPED_TRACE(g_device_name + " " + c.str());
    if (!oracle_runs(c, N, K)) continue;
    std::vector<float> want, got;
    ASSERT_NO_THROW(want = run(*g_oracle, c, x, M, N, K, false)) << "cpu-ref refuses non-finite activations";
    try {
      got = run(dev(), c, x, M, N, K, true);
    } catch (const Error& e) {
      if (lacks_hardware(e)) continue;
      FAIL() << e.what();
    }
    // Quantizers never turn a non-finite value into a finite code: their rows are all NaN.
    // Float paths follow IEEE arithmetic: NaN, or +-inf where an inf meets same-signed weights.
    const bool quantized =
        c.act == ActPrecision::Q8 || c.act == ActPrecision::FP4 || c.act == ActPrecision::FP8;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        const size_t i = static_cast<size_t>(m * N + n);
        if (poisoned[static_cast<size_t>(m)]) {
          EXPECT_FALSE(std::isfinite(got[i]))
              << "Y[" << m << "," << n << "] = " << got[i] << " reads a non-finite X";
          if (quantized) {
            EXPECT_TRUE(std::isnan(got[i])) << "Y[" << m << "," << n << "] = " << got[i];
          }
        } else {
          EXPECT_TRUE(std::isfinite(got[i]) &&
                      std::fabs(got[i] - want[i]) <= 1e-3f * (1.0f + std::fabs(want[i])))
              << "Y[" << m << "," << n << "]: expected " << want[i] << ", got " << got[i];
        }
      }
  }
}

// A NaN in query row i makes exactly output row i NaN; a NaN in key j makes every query
// that sees j NaN (its score enters the softmax denominator); the others keep the oracle's
// values. On every attention variant, both K/V formats it lists.
TEST_F(Policy, AttentionNonFiniteInputsMakeExactlyTheQueriesThatReadThemNaN) {
  constexpr int64_t S = 16, T = 24, D = 64, kNanQuery = 3, kNanKey = 20;
  std::vector<float> q(static_cast<size_t>(S * D)), k(static_cast<size_t>(T * D)), v(k.size());
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<float>((i * 7 + 1) % 19) / 19.0f - 0.5f;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<float>((i * 11 + 2) % 23) / 23.0f - 0.5f;
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 5 + 3) % 17) / 17.0f - 0.5f;
  q[static_cast<size_t>(kNanQuery * D + 5)] = kNaN;
  k[static_cast<size_t>(kNanKey * D + 9)] = kNaN;
  // Causal with q_offset 8: query i sees keys 0 .. 8 + i, so queries 12.. see the NaN key.
  AttentionOptions opt;
  opt.causal = true;
  opt.q_offset = 8;
  auto run_attention = [&](Device& d, DType kv, const std::string& variant) {
    std::vector<uint16_t> k16(k.size()), v16(v.size());
    for (size_t i = 0; i < k.size(); ++i) k16[i] = f32_to_f16(k[i]), v16[i] = f32_to_f16(v[i]);
    const void* kp = kv == DType::F16 ? static_cast<const void*>(k16.data()) : k.data();
    const void* vp = kv == DType::F16 ? static_cast<const void*>(v16.data()) : v.data();
    Tensor K = upload(d, kv, {1, 1, T, D}, kp), V = upload(d, kv, {1, 1, T, D}, vp);
    AttentionOptions o = opt;
    o.variant = variant;
    try {
      return download_f32(attention(d, upload(d, DType::F32, {1, 1, S, D}, q.data()), K, V, o));
    } catch (const Error& e) {
      if (e.arg() != "variant") throw;
    }
    // A decode variant (S = 1 only): one query per call, at its own position.
    std::vector<float> out;
    for (int64_t i = 0; i < S; ++i) {
      o.q_offset = opt.q_offset + i;
      const std::vector<float> row =
          download_f32(attention(d, upload(d, DType::F32, {1, 1, 1, D}, q.data() + i * D), K, V, o));
      out.insert(out.end(), row.begin(), row.end());
    }
    return out;
  };
  for (const Variant& var : dev().variants()) {
    if (var.op != Op::Attention) continue;
    for (DType kv : var.formats) {
      SCOPED_TRACE(g_device_name + " " + var.name + " (" + name(kv) + " K/V)");
      std::vector<float> want, got;
      ASSERT_NO_THROW(want = run_attention(*g_oracle, kv, ""));
      try {
        got = run_attention(dev(), kv, var.name);
      } catch (const Error& e) {
        if (lacks_hardware(e)) continue;
        FAIL() << e.what();
      }
      for (int64_t i = 0; i < S; ++i) {
        const bool reads_nan = i == kNanQuery || opt.q_offset + i >= kNanKey;
        for (int64_t e = 0; e < D; ++e) {
          const size_t at = static_cast<size_t>(i * D + e);
          if (reads_nan)
            EXPECT_TRUE(std::isnan(got[at])) << "O[" << i << "," << e << "] = " << got[at];
          else
            EXPECT_NEAR(got[at], want[at], 1e-2f) << "O[" << i << "," << e << "]";
        }
      }
    }
  }
}

// ---- weights after upload ----------------------------------------------------------------

// README "Weights after upload": a weight tensor is immutable, and changed weights are a new
// upload. So, on every variant: (1) upload_weights copies, so rewriting the caller's bytes
// afterwards changes nothing; (2) a new tensor of other weights gives the oracle's result for
// those weights while the first one, already run (and repacked where the backend repacks),
// still exists; (3) the first tensor still gives its own result; (4) after both are destroyed,
// a fresh upload (its memory possibly reused) gives the first result again.
TEST_F(Policy, WeightsAreCopiedAtUploadAndChangedWeightsAreANewTensorOnEveryVariant) {
  constexpr int64_t M = 8, N = 16, K = 128;
  std::vector<float> x(static_cast<size_t>(M * K));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 19 + 7) % 37) / 18.0f - 1.0f;
  const std::vector<float> w_a = weights(N, K);
  std::vector<float> w_b(w_a.size());
  for (size_t i = 0; i < w_b.size(); ++i) w_b[i] = 0.5f * w_a[(i * 7 + 3) % w_a.size()] - w_a[i];
  for (const Combo& c : matmul_combos(dev())) {
    SCOPED_TRACE(g_device_name + " " + c.str());
    if (!oracle_runs(c, N, K)) continue;
    float scale_a = 1.0f, scale_b = 1.0f;
    const std::vector<uint8_t> q_a = quantized_weights(c, w_a, N, K, &scale_a),
                               q_b = quantized_weights(c, w_b, N, K, &scale_b);
    ASSERT_EQ(q_a.size(), q_b.size());
    ASSERT_NE(q_a, q_b);
    std::vector<float> want_b;
    {
      Tensor W = upload_weights(*g_oracle, c.format, N, K, q_b.data(), scale_b);
      ASSERT_NO_THROW(want_b = run_on(*g_oracle, c, W, x, M, false));
    }
    std::vector<float> y_a;
    {
      std::vector<uint8_t> host = q_a;
      Tensor W_a = upload_weights(dev(), c.format, N, K, host.data(), scale_a);
      try {
        y_a = run_on(dev(), c, W_a, x, M, true);
      } catch (const Error& e) {
        if (lacks_hardware(e)) continue;
        FAIL() << e.what();
      }
      host = q_b;
      EXPECT_EQ(run_on(dev(), c, W_a, x, M, true), y_a) << "a write into the uploaded host bytes reached W";
      Tensor W_b = upload_weights(dev(), c.format, N, K, q_b.data(), scale_b);
      const std::vector<float> y_b = run_on(dev(), c, W_b, x, M, true);
      EXPECT_NE(y_b, y_a) << "the new tensor gave the old tensor's result";
      for (size_t i = 0; i < want_b.size(); ++i)
        EXPECT_NEAR(y_b[i], want_b[i], 1e-3f * (1.0f + std::fabs(want_b[i])))
            << "new tensor, Y element " << i;
      EXPECT_EQ(run_on(dev(), c, W_a, x, M, true), y_a) << "the first tensor changed after the second upload";
    }
    Tensor W_again = upload_weights(dev(), c.format, N, K, q_a.data(), scale_a);
    EXPECT_EQ(run_on(dev(), c, W_again, x, M, true), y_a) << "a fresh upload of the first weights";
  }
}

// ---- threads -----------------------------------------------------------------------------

// The thread contract (include/xk/device.h) allows distinct Devices in parallel, two instances
// of one device name included. Run it under ThreadSanitizer to check for races, too.
TEST_F(Policy, DistinctDevicesOfOneNameRunInParallelFromTwoThreads) {
  constexpr int64_t M = 8, N = 16, K = 128;
  constexpr int kThreads = 2, kCallsPerThread = 3;
  std::vector<float> x(static_cast<size_t>(M * K));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 17 + 5) % 23) / 11.0f - 1.0f;
  const Combo c{"", DType::Q8_0, ActPrecision::Q8};
  const std::vector<float> want = run(*g_oracle, c, x, M, N, K, false);
  std::vector<std::vector<float>> got(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::string> variants(kThreads);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        try {
          std::unique_ptr<Device> own = open_device(g_device_name);
          for (int i = 0; i < kCallsPerThread; ++i) got[t] = run(*own, c, x, M, N, K, false);
          variants[t] = own->last_launch().variant;
        } catch (const std::exception& e) {
          errors[t] = e.what();
        }
      });
    for (std::thread& th : threads) th.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(errors[t], "") << "thread " << t;
    ASSERT_EQ(got[t].size(), want.size()) << "thread " << t;
    EXPECT_FALSE(variants[t].empty()) << "thread " << t << ": no launch record";
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[t][i], want[i], 1e-4f * (1.0f + std::fabs(want[i])))
          << "thread " << t << ", Y element " << i;
  }
}

// ---- sizes -------------------------------------------------------------------------------

TEST_F(Policy, AllocNearSizeMaxIsAnErrorNotAWrappedBuffer) {
  for (const size_t bytes : {std::numeric_limits<size_t>::max(), std::numeric_limits<size_t>::max() - 15}) {
    try {
      Buffer b = dev().alloc(bytes);
      ADD_FAILURE() << "alloc(" << bytes << ") returned a buffer of " << b.size() << " bytes";
    } catch (const Error& e) {
      EXPECT_EQ(e.op(), "alloc") << e.what();
      EXPECT_EQ(e.arg(), "bytes") << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "alloc(" << bytes << "): expected xk::Error, got " << e.what();
    }
  }
}

}  // namespace
}  // namespace xk

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  xk::g_oracle = xk::open_device("cpu-ref");
  if (const int rc = xk::badinput::open_device_under_test(argc, argv, "xk_policy")) return rc;
  const int rc = RUN_ALL_TESTS();
  xk::badinput::g_device.reset();
  xk::g_oracle.reset();
  return rc;
}
