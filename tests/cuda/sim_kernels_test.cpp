// The CUDA kernels (kernels/cuda) on cuda-sim, at shapes chosen to cross what the generic
// harness's small shapes do not: several M and N tiles with ragged tails, more K blocks than
// pipeline stages (shared-memory slots reused), K padding of the FP4 tile, GQA row blocks,
// causal key tiles, split-K decode with several key tiles per split. Each result is compared
// with the oracle (kernels/ref) by NMSE; the launch record's MMA counts are checked against
// the tiling stated in each kernel's header (they back the documented arithmetic intensity).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/ref/ref.h"
#include "tests/common/test_util.h"
#include "xk/xk.h"

namespace {

using namespace xk;
using test::randn;

std::unique_ptr<Device> g_dev;

Device& dev() {
  if (!g_dev) g_dev = open_device("cuda-sim");
  return *g_dev;
}

void expect_close(const std::string& what, const std::vector<float>& y, const std::vector<float>& ref,
                  double max_nmse) {
  test::expect_close("cuda-sim", what, y, ref, max_nmse);
}

uint64_t mma_count(const LaunchRecord& r) {
  uint64_t n = 0;
  for (const auto& [kind, c] : r.mma_by_kind) n += c;
  return n;
}

struct MatmulCase {
  const char* variant;
  DType w;
  ActPrecision act;
  int64_t M, N, K;
  uint64_t expected_mmas;  // from the kernel's tiling (0: not an MMA kernel)
};

class CudaSimMatmul : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(CudaSimMatmul, MatchesOracleAndTiling) {
  const MatmulCase c = GetParam();
  const auto x = randn(static_cast<size_t>(c.M * c.K), 11 + c.M, 1.0f);
  const auto wf = randn(static_cast<size_t>(c.N * c.K), 7 + c.N, 0.05f);
  float tscale = 1.0f;
  const std::vector<uint8_t> wq = quantize(c.w, wf.data(), c.N, c.K, c.w == DType::NVFP4 ? &tscale : nullptr);
  Tensor W = upload_weights(dev(), c.w, c.N, c.K, wq.data(), tscale);
  Tensor X = upload(dev(), DType::F32, {c.M, c.K}, x.data());
  MatmulOptions opt;
  opt.act = c.act;
  opt.variant = c.variant;
  // Y starts as NaN so an output the kernel forgets to write cannot pass as a zero.
  const std::vector<float> nan(static_cast<size_t>(c.M * c.N), std::nanf(""));
  Tensor Y = upload(dev(), DType::F32, {c.M, c.N}, nan.data());
  matmul(dev(), W, X, Y, opt);
  std::vector<float> ref(static_cast<size_t>(c.M * c.N));
  ref::matmul({c.w, wq.data(), tscale, DType::F32, x.data(), ref.data(), c.M, c.N, c.K, c.act});
  const std::string what = std::string(c.variant) + " M" + std::to_string(c.M) + " N" + std::to_string(c.N) +
                           " K" + std::to_string(c.K);
  expect_close(what, download_f32(Y), ref, 1e-8);
  const LaunchRecord& rec = dev().last_launch();
  ASSERT_TRUE(rec.has_counters) << what;
  if (c.expected_mmas) {
    EXPECT_EQ(mma_count(rec), c.expected_mmas) << what << ": MMA instructions vs the tiling";
  }
  if (c.K > 0) {
    EXPECT_GT(rec.global_bytes_read, 0u) << what;
  }
  EXPECT_GE(rec.global_bytes_written, static_cast<uint64_t>(c.M * c.N) * sizeof(float))
      << what << ": Y written";
}

constexpr int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
// mmq_i8: (M/64) x (N/64) blocks x K/32 blocks x 4 warps x 8 MMAs (x2 for NVFP4's 16-blocks).
constexpr uint64_t i8_mmas(int64_t M, int64_t N, int64_t K, int per) {
  return cdiv(M, 64) * cdiv(N, 64) * (K / 32) * 4 * 8 * per;
}
// mmq_fp4: (M/128) x (N/128) blocks x K/128 tiles x 8 warps x 2 k64 steps x 16 MMAs.
constexpr uint64_t fp4_mmas(int64_t M, int64_t N, int64_t K) {
  return cdiv(M, 128) * cdiv(N, 128) * cdiv(K, 128) * 8 * 2 * 16;
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CudaSimMatmul,
    ::testing::Values(
        MatmulCase{"mmq_q4_0_q8_64x64_mma_sm80", DType::Q4_0, ActPrecision::Q8, 130, 200, 640,
                   i8_mmas(130, 200, 640, 1)},
        MatmulCase{"mmq_q8_0_q8_64x64_mma_sm80", DType::Q8_0, ActPrecision::Q8, 130, 200, 640,
                   i8_mmas(130, 200, 640, 1)},
        MatmulCase{"mmq_mxfp4_q8_64x64_mma_sm80", DType::MXFP4, ActPrecision::Q8, 70, 130, 352,
                   i8_mmas(70, 130, 352, 1)},
        MatmulCase{"mmq_nvfp4_q8_64x64_mma_sm80", DType::NVFP4, ActPrecision::Q8, 130, 70, 640,
                   i8_mmas(130, 70, 640, 2)},
        MatmulCase{"mmq_nvfp4_fp4_128x128_mma_sm120a", DType::NVFP4, ActPrecision::FP4, 260, 300, 640,
                   fp4_mmas(260, 300, 640)},
        MatmulCase{"mmq_mxfp4_fp4_128x128_mma_sm120a", DType::MXFP4, ActPrecision::FP4, 200, 150, 672,
                   fp4_mmas(200, 150, 672)},
        MatmulCase{"mmvq_q4_0_q8_8x64_dp4a_sm61", DType::Q4_0, ActPrecision::Q8, 1, 130, 1024, 0},
        MatmulCase{"mmvq_q4_0_q8_8x64_dp4a_sm61", DType::Q4_0, ActPrecision::Q8, 3, 200, 992, 0},
        MatmulCase{"mmvq_q8_0_q8_8x64_dp4a_sm61", DType::Q8_0, ActPrecision::Q8, 8, 130, 1024, 0},
        MatmulCase{"mmvq_mxfp4_q8_8x64_dp4a_sm61", DType::MXFP4, ActPrecision::Q8, 5, 67, 1056, 0},
        MatmulCase{"mmvq_nvfp4_q8_8x64_dp4a_sm61", DType::NVFP4, ActPrecision::Q8, 8, 129, 1024, 0},
        // K = 0: no K block at all, Y must still be written (zeros).
        MatmulCase{"mmq_q4_0_q8_64x64_mma_sm80", DType::Q4_0, ActPrecision::Q8, 65, 70, 0, 0},
        MatmulCase{"mmq_mxfp4_fp4_128x128_mma_sm120a", DType::MXFP4, ActPrecision::FP4, 9, 130, 0, 0},
        MatmulCase{"mmvq_q8_0_q8_8x64_dp4a_sm61", DType::Q8_0, ActPrecision::Q8, 2, 65, 0, 0}),
    [](const ::testing::TestParamInfo<MatmulCase>& i) {
      return std::string(i.param.variant) + "_M" + std::to_string(i.param.M) + "_N" +
             std::to_string(i.param.N) + "_K" + std::to_string(i.param.K);
    });

// BF16 activations (the third ActType of load_act) through both quantizers.
TEST(CudaSimMatmulBf16, QuantizersReadBf16Activations) {
  const int64_t M = 70, N = 96, K = 256;
  const auto xf = randn(static_cast<size_t>(M * K), 21, 1.0f),
             wf = randn(static_cast<size_t>(N * K), 22, 0.05f);
  std::vector<uint16_t> x16(xf.size());
  for (size_t i = 0; i < xf.size(); ++i) x16[i] = f32_to_bf16(xf[i]);
  Tensor X = upload(dev(), DType::BF16, {M, K}, x16.data());
  for (DType w : {DType::Q4_0, DType::NVFP4}) {
    float ts = 1.0f;
    const auto wq = quantize(w, wf.data(), N, K, w == DType::NVFP4 ? &ts : nullptr);
    Tensor W = upload_weights(dev(), w, N, K, wq.data(), ts);
    const ActPrecision act = w == DType::NVFP4 ? ActPrecision::FP4 : ActPrecision::Q8;
    MatmulOptions opt;
    opt.act = act;
    opt.variant = w == DType::NVFP4 ? "mmq_nvfp4_fp4_128x128_mma_sm120a" : "mmq_q4_0_q8_64x64_mma_sm80";
    Tensor Y = matmul(dev(), W, X, opt);
    std::vector<float> ref(static_cast<size_t>(M * N));
    ref::matmul({w, wq.data(), ts, DType::BF16, x16.data(), ref.data(), M, N, K, act});
    expect_close(opt.variant + " bf16 X", download_f32(Y), ref, 1e-8);
  }
}

struct AttnCase {
  const char* variant;
  int64_t B, Hq, Hkv, S, T, D;
  bool causal;
  int64_t q_offset;
};

class CudaSimAttention : public ::testing::TestWithParam<AttnCase> {};

TEST_P(CudaSimAttention, MatchesOracle) {
  const AttnCase c = GetParam();
  const auto q = randn(static_cast<size_t>(c.B * c.Hq * c.S * c.D), 3 + c.S, 1.0f);
  const auto kf = randn(static_cast<size_t>(c.B * c.Hkv * c.T * c.D), 5 + c.T, 1.0f);
  const auto vf = randn(static_cast<size_t>(c.B * c.Hkv * c.T * c.D), 9 + c.T, 1.0f);
  std::vector<uint16_t> k16(kf.size()), v16(vf.size());
  for (size_t i = 0; i < kf.size(); ++i) k16[i] = f32_to_f16(kf[i]), v16[i] = f32_to_f16(vf[i]);
  Tensor Q = upload(dev(), DType::F32, {c.B, c.Hq, c.S, c.D}, q.data());
  Tensor K = upload(dev(), DType::F16, {c.B, c.Hkv, c.T, c.D}, k16.data());
  Tensor V = upload(dev(), DType::F16, {c.B, c.Hkv, c.T, c.D}, v16.data());
  AttentionOptions opt;
  opt.causal = c.causal;
  opt.q_offset = c.q_offset;
  opt.variant = c.variant;
  Tensor O = attention(dev(), Q, K, V, opt);
  std::vector<float> ref(q.size());
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.D));
  ref::attention({DType::F32, q.data(), DType::F16, k16.data(), v16.data(), ref.data(), c.B, c.Hq, c.Hkv, c.S,
                  c.T, c.D, scale, c.causal, c.q_offset});
  // Q and P enter the MMA rounded to FP16 (2^-11 relative): NMSE ~ 1e-7; the harness's 2e-5.
  expect_close(std::string(c.variant) + " S" + std::to_string(c.S) + " T" + std::to_string(c.T),
               download_f32(O), ref, 2e-5);
  EXPECT_GT(mma_count(dev().last_launch()), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CudaSimAttention,
    ::testing::Values(
        // GQA 4:1, 4 row blocks of 64 over 400 rows, causal with offset: rows see 131..230 keys.
        AttnCase{"attn_f16_f16_64x64_mma_sm80", 2, 8, 2, 100, 230, 64, true, 130},
        AttnCase{"attn_f16_f16_64x64_mma_sm80", 1, 4, 4, 70, 70, 128, true, 0},
        AttnCase{"attn_f16_f16_64x64_mma_sm80", 1, 6, 2, 50, 150, 128, false, 0},
        // Decode: one KV head so cuda-sim (1 compute unit) still splits the keys in two,
        // each split several key tiles long; the combine kernel merges them.
        AttnCase{"attn_f16_f16_64x64_splitk_mma_sm80", 1, 8, 1, 1, 1000, 128, true, 999},
        AttnCase{"attn_f16_f16_64x64_splitk_mma_sm80", 1, 4, 1, 1, 333, 64, false, 0},
        AttnCase{"attn_f16_f16_64x64_mma_sm80", 2, 8, 2, 1, 300, 64, true, 299}),
    [](const ::testing::TestParamInfo<AttnCase>& i) {
      return std::string(i.param.variant) + "_B" + std::to_string(i.param.B) + "_Hq" +
             std::to_string(i.param.Hq) + "_S" + std::to_string(i.param.S) + "_T" +
             std::to_string(i.param.T) + "_D" + std::to_string(i.param.D) + (i.param.causal ? "_causal" : "");
    });

}  // namespace
