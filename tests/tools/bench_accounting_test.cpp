// FLOP, byte and token accounting of the benchmark harness, on shapes small enough to
// compute by hand (the figures in each comment are the derivation).
#include <gtest/gtest.h>

#include "bench/bench.h"
#include "bench/summary.h"

namespace xk::bench {
namespace {

TEST(BenchAccounting, MatmulQ4_0CountsTwoFlopsPerMacAndEveryOperandOnce) {
  // M=2, N=3, K=64: 2*2*3*64 = 768 FLOPs. W: 3 rows of 2 blocks * 18 B = 108 B;
  // X: 2*64 F32 = 512 B; Y: 2*3 F32 = 24 B. Total 644 B. Tokens = M = 2.
  const Work w = matmul_work(2, 3, 64, DType::Q4_0, DType::F32);
  EXPECT_DOUBLE_EQ(w.flops, 768.0);
  EXPECT_DOUBLE_EQ(w.bytes, 644.0);
  EXPECT_DOUBLE_EQ(w.tokens, 2.0);
}

TEST(BenchAccounting, MatmulNvfp4UsesItsBlockOf64And36Bytes) {
  // M=1, N=1, K=128 with F16 X: W 2 blocks * 36 B = 72 B; X 128*2 = 256 B; Y 4 B = 332 B.
  const Work w = matmul_work(1, 1, 128, DType::NVFP4, DType::F16);
  EXPECT_DOUBLE_EQ(w.flops, 256.0);
  EXPECT_DOUBLE_EQ(w.bytes, 332.0);
}

TEST(BenchAccounting, MatmulMxfp4AndQ8_0BytesFollowGgufBlockSizes) {
  // N=4, K=32, M=1: MXFP4 4*17 = 68 B, Q8_0 4*34 = 136 B; X 128 B; Y 16 B.
  EXPECT_DOUBLE_EQ(matmul_work(1, 4, 32, DType::MXFP4, DType::F32).bytes, 68.0 + 128.0 + 16.0);
  EXPECT_DOUBLE_EQ(matmul_work(1, 4, 32, DType::Q8_0, DType::F32).bytes, 136.0 + 128.0 + 16.0);
}

TEST(BenchAccounting, AttentionPairsNonCausalIsSTimesT) {
  EXPECT_EQ(attention_pairs({1, 1, 1, 3, 5, 64, false, 0}), 15);
}

TEST(BenchAccounting, AttentionPairsCausalSquareIsTriangle) {
  // Queries 0..3 see 1, 2, 3, 4 keys: 10 pairs (about half of 16).
  EXPECT_EQ(attention_pairs({1, 1, 1, 4, 4, 64, true, 0}), 10);
}

TEST(BenchAccounting, AttentionPairsCausalWithOffsetCountsAbsolutePositions) {
  // S=2 queries at positions 3 and 4 of T=5 keys see 4 and 5 keys: 9 pairs.
  EXPECT_EQ(attention_pairs({1, 1, 1, 2, 5, 64, true, 3}), 9);
  // Decode: one query at position 127 sees all 128 keys.
  EXPECT_EQ(attention_pairs({1, 1, 1, 1, 128, 64, true, 127}), 128);
}

TEST(BenchAccounting, AttentionWorkCountsQkAndPvPerHead) {
  // B=1, Hq=2, Hkv=1, S=T=4, D=8, causal: 10 pairs; FLOPs 4*2*8*10 = 640.
  // Bytes: Q F32 2*4*8*4 = 256; K and V F16 1*4*8*2 = 64 each; O F32 256. Total 640.
  const Work w = attention_work({1, 2, 1, 4, 4, 8, true, 0}, DType::F32, DType::F16);
  EXPECT_DOUBLE_EQ(w.flops, 640.0);
  EXPECT_DOUBLE_EQ(w.bytes, 640.0);
  EXPECT_DOUBLE_EQ(w.tokens, 4.0);
}

TEST(BenchSummary, LayerIsSumOfGemmsTimesCountPlusAttention) {
  // Llama-3 70B pp512: qkv 1 ms, o 2 ms, gate_up 3 ms, down 4 ms, attention 10 ms =>
  // layer 20 ms; 80 layers => 1.6 s for 512 tokens = 320 tok/s.
  std::vector<Result> r = {
      {"matmul/llama3-70b/qkv/pp512/q4_0/q8/dev", 1e-3, true},
      {"matmul/llama3-70b/o/pp512/q4_0/q8/dev", 2e-3, true},
      {"matmul/llama3-70b/gate_up/pp512/q4_0/q8/dev", 3e-3, true},
      {"matmul/llama3-70b/down/pp512/q4_0/q8/dev", 4e-3, true},
      {"attention/llama3-70b/pp512/f16/dev", 10e-3, true},
  };
  const auto e = model_estimates(r);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].device, "dev");
  EXPECT_EQ(e[0].format, "q4_0");
  EXPECT_EQ(e[0].act, "q8");
  EXPECT_DOUBLE_EQ(e[0].gemm_seconds, 10e-3);
  EXPECT_NEAR(e[0].tokens_per_second, 320.0, 1e-9);
}

TEST(BenchSummary, MoeExpertsCountPerLayerAndDecodeIsOneToken) {
  // gpt-oss-120b tg128: gate_up and down run for 4 active experts. 1+1+4*1+4*1 = 10 ms of
  // GEMMs + 2 ms attention = 12 ms; 36 layers => 0.432 s per token.
  std::vector<Result> r = {
      {"matmul/gpt-oss-120b/qkv/tg128/mxfp4/q8/d", 1e-3, true},
      {"matmul/gpt-oss-120b/o/tg128/mxfp4/q8/d", 1e-3, true},
      {"matmul/gpt-oss-120b/gate_up/tg128/mxfp4/q8/d", 1e-3, true},
      {"matmul/gpt-oss-120b/down/tg128/mxfp4/q8/d", 1e-3, true},
      {"attention/gpt-oss-120b/tg128/f16/d", 2e-3, true},
  };
  const auto e = model_estimates(r);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NEAR(e[0].tokens_per_second, 1.0 / (36 * 12e-3), 1e-9);
}

TEST(BenchSummary, IncompleteOrSkippedLayersGiveNoEstimate) {
  std::vector<Result> r = {
      {"matmul/llama3-70b/qkv/pp512/q4_0/q8/dev", 1e-3, true},
      {"matmul/llama3-70b/o/pp512/q4_0/q8/dev", 2e-3, true},
      {"matmul/llama3-70b/gate_up/pp512/q4_0/q8/dev", 3e-3, true},
      {"matmul/llama3-70b/down/pp512/q4_0/q8/dev", 4e-3, false},  // skipped
      {"attention/llama3-70b/pp512/f16/dev", 10e-3, true},
  };
  EXPECT_TRUE(model_estimates(r).empty());
}

}  // namespace
}  // namespace xk::bench
