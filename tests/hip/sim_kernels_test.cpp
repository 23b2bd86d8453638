// HIP kernel pieces on hip-sim that the generic harness does not see on its own:
//  - the mmq on-the-fly Q8 quantizer must write exactly the bytes of ref::quantize_act_q8
//    (the NMSE of a GEMM would hide a 1-ulp scale or a round-half-even slip);
//  - every HIP variant on tile-boundary shapes (one row/column past a 64/128/16 tile, K not a
//    multiple of the 32-deep K step) and K = 0, against the oracle;
//  - the variant table is complete (every kernel family, every format).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/hip/table.h"
#include "backends/sim/launcher.h"
#include "kernels/ref/ref.h"
#include "tests/common/test_util.h"
#include "xk/xk.h"

namespace {

std::unique_ptr<xk::Device> open_hip_sim() { return xk::open_device("hip-sim"); }

TEST(HipSimMmqActQ8, WritesTheOracleQ8BytesExactly) {
  auto dev = open_hip_sim();
  auto& sim_dev = dynamic_cast<xk::sim::SimDevice&>(*dev);
  xk::sim::Launcher launcher(sim_dev);
  const int64_t M = 3, K = 160;  // 5 blocks per row, more than one 8-block workgroup column
  std::vector<float> x = xk::test::randn(static_cast<size_t>(M * K), 7);
  for (int j = 0; j < 32; ++j) x[static_cast<size_t>(32 + j)] = 0.0f;            // all-zero block: d = 0
  for (int j = 0; j < 32; ++j) x[static_cast<size_t>(K + j)] = 0.5f * (j - 16);  // exact halves: ties
  xk::Tensor X = xk::upload(*dev, xk::DType::F32, {M, K}, x.data());
  xk::Buffer xq = launcher.scratch(static_cast<size_t>(M * K));
  xk::Buffer xd = launcher.scratch(static_cast<size_t>(M * K / 32) * sizeof(float));
  const auto plan = xk::hipk::quantize_q8_plan(M, K);
  xk::LaunchRecord rec;
  launcher.launch("mmq_actq8_xf32_gfx11", mmq_actq8_xf32_gfx11, dim3(plan.grid_x, plan.grid_y),
                  dim3(plan.threads), 0, rec, static_cast<const void*>(launcher.ptr(X.buf)),
                  static_cast<int8_t*>(launcher.ptr(xq)), static_cast<float*>(launcher.ptr(xd)), M, K);
  std::vector<int8_t> q(static_cast<size_t>(M * K));
  std::vector<float> d(static_cast<size_t>(M * K / 32));
  dev->read(xq, 0, q.data(), q.size());
  dev->read(xd, 0, d.data(), d.size() * sizeof(float));

  for (int64_t m = 0; m < M; ++m) {
    std::vector<xk::ref::block_q8_0> blocks(static_cast<size_t>(K / 32));
    xk::ref::quantize_act_q8(x.data() + m * K, K, blocks.data());
    for (int64_t b = 0; b < K / 32; ++b) {
      const auto& blk = blocks[static_cast<size_t>(b)];
      EXPECT_EQ(d[static_cast<size_t>(m * (K / 32) + b)], xk::f16_to_f32(blk.d))
          << "row " << m << " block " << b;
      for (int j = 0; j < 32; ++j)
        ASSERT_EQ(q[static_cast<size_t>(m * K + b * 32 + j)], blk.qs[j])
            << "row " << m << " element " << b * 32 + j
            << " x=" << x[static_cast<size_t>(m * K + b * 32 + j)];
    }
  }
}

// The oracle's answer for one matmul, computed on host copies.
std::vector<float> oracle(xk::DType w, const std::vector<uint8_t>& wb, float ts, xk::DType xt, const void* xb,
                          int64_t M, int64_t N, int64_t K, xk::ActPrecision act) {
  std::vector<float> y(static_cast<size_t>(M * N));
  xk::ref::matmul({w, wb.data(), ts, xt, xb, y.data(), M, N, K, act});
  return y;
}

struct Shape {
  int64_t M, N, K;
};

TEST(HipSimVariants, EveryMatmulVariantIsRightOnTileBoundariesAndZeroK) {
  auto dev = open_hip_sim();
  int ran = 0;
  for (const xk::Variant& v : dev->variants()) {
    if (v.op != xk::Op::Matmul) continue;
    const xk::DType w = v.formats.at(0);
    const xk::ActPrecision act = v.acts.at(0);
    const int64_t kb = xk::traits(w).block_elems == 64 ? 64 : 32;
    const bool gemv = v.name.rfind("mmvq", 0) == 0;
    std::vector<Shape> shapes;
    if (gemv)
      shapes = {{1, 17, 2 * kb}, {8, 33, 20 * kb}, {3, 16, 0}};  // 20*kb > one 512-wide K chunk
    else
      shapes = {{65, 129, 3 * kb}, {16, 128, kb}, {5, 7, 0}};
    if (xk::traits(w).block_elems == 1 && act != xk::ActPrecision::Q8)
      shapes.push_back({gemv ? 2 : 17, 19, 37});  // K tail
    for (const Shape& s : shapes) {
      SCOPED_TRACE(v.name + " M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) +
                   " K=" + std::to_string(s.K));
      std::vector<float> wf = xk::test::randn(static_cast<size_t>(s.N * s.K), 11);
      std::vector<float> xf = xk::test::randn(static_cast<size_t>(s.M * s.K), 12);
      const auto run = xk::test::run_matmul(*dev, v.name, w, act, wf, xf, s.M, s.N, s.K);
      const auto& y = run.y;
      const auto ref =
          oracle(w, run.w_bytes, run.tensor_scale, xk::DType::F32, xf.data(), s.M, s.N, s.K, act);
      if (s.K == 0) {
        for (float e : y) ASSERT_EQ(e, 0.0f) << "K = 0 must give zeros";
      } else {
        EXPECT_LT(xk::test::nmse(y, ref), 1e-6) << "device hip-sim variant " << v.name;
      }
      ++ran;
    }
  }
  EXPECT_GE(ran, 3 * (4 + 7 + 7));
}

TEST(HipSimVariants, TableHasEveryFamilyAndFormat) {
  auto dev = open_hip_sim();
  std::vector<std::string> names;
  for (const xk::Variant& v : dev->variants()) names.push_back(v.name);
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  for (const char* f : {"q4_0", "q8_0", "mxfp4", "nvfp4"})
    EXPECT_TRUE(has(std::string("mmq_") + f + "_q8_64x128_wmmai8_gfx11")) << f;
  for (const char* f : {"f32", "f16", "bf16", "q4_0", "q8_0", "mxfp4", "nvfp4"}) {
    EXPECT_TRUE(has(std::string("mm_") + f + "_f16_64x128_wmmaf16_gfx11")) << f;
    EXPECT_TRUE(has(std::string("mmvq_") + f + "_f32_8x32_valu_gfx11")) << f;
  }
  EXPECT_TRUE(has("attn_all_f16_64x32_fa2_wmmaf16_gfx11"));
  EXPECT_TRUE(has("attn_all_f32_1x256_splitk_valu_gfx11"));
}

// Attention shapes the harness's small list does not reach: decode over several 256-key chunks
// (the combine kernel merges them), prefill over several 64-row query tiles and 32-key steps
// with a causal offset, both with GQA.
struct AttnShape {
  int64_t Hq, Hkv, S, T, D;
  bool causal;
  int64_t q_offset;
  const char* variant;
};

TEST(HipSimAttention, SplitKDecodeAndMultiTilePrefillMatchTheOracle) {
  auto dev = open_hip_sim();
  const AttnShape shapes[] = {
      {4, 2, 1, 600, 128, true, 599, "attn_all_f32_1x256_splitk_valu_gfx11"},
      {4, 1, 1, 700, 64, false, 0, "attn_all_f32_1x256_splitk_valu_gfx11"},
      {4, 1, 1, 700, 64, true, 300, "attn_all_f32_1x256_splitk_valu_gfx11"},  // keys past 300 masked
      {4, 2, 70, 100, 64, true, 30, "attn_all_f16_64x32_fa2_wmmaf16_gfx11"},
      {2, 1, 130, 97, 128, false, 0, "attn_all_f16_64x32_fa2_wmmaf16_gfx11"},
  };
  for (const AttnShape& a : shapes) {
    SCOPED_TRACE(std::string(a.variant) + " Hq=" + std::to_string(a.Hq) + " Hkv=" + std::to_string(a.Hkv) +
                 " S=" + std::to_string(a.S) + " T=" + std::to_string(a.T) + " D=" + std::to_string(a.D) +
                 (a.causal ? " causal off=" + std::to_string(a.q_offset) : ""));
    const int64_t B = 1;
    std::vector<float> q = xk::test::randn(static_cast<size_t>(B * a.Hq * a.S * a.D), 41);
    std::vector<float> k = xk::test::randn(static_cast<size_t>(B * a.Hkv * a.T * a.D), 42);
    std::vector<float> v = xk::test::randn(static_cast<size_t>(B * a.Hkv * a.T * a.D), 43);
    std::vector<uint16_t> kh(k.size()), vh(v.size());
    for (size_t i = 0; i < k.size(); ++i) kh[i] = xk::f32_to_f16(k[i]), vh[i] = xk::f32_to_f16(v[i]);
    xk::Tensor Q = xk::upload(*dev, xk::DType::F32, {B, a.Hq, a.S, a.D}, q.data());
    xk::Tensor K = xk::upload(*dev, xk::DType::F16, {B, a.Hkv, a.T, a.D}, kh.data());
    xk::Tensor V = xk::upload(*dev, xk::DType::F16, {B, a.Hkv, a.T, a.D}, vh.data());
    xk::AttentionOptions opt;
    opt.causal = a.causal;
    opt.q_offset = a.q_offset;
    opt.variant = a.variant;
    const auto o = xk::download_f32(xk::attention(*dev, Q, K, V, opt));
    std::vector<float> ref(o.size());
    xk::ref::attention({xk::DType::F32, q.data(), xk::DType::F16, kh.data(), vh.data(), ref.data(), B, a.Hq,
                        a.Hkv, a.S, a.T, a.D, 1.0f / std::sqrt(static_cast<float>(a.D)), a.causal,
                        a.q_offset});
    EXPECT_EQ(dev->last_launch().variant, a.variant);
    // FP16 Q/P rounding against the FP64 oracle: the harness's attention bound.
    EXPECT_LT(xk::test::nmse(o, ref), 1e-5);
  }
}

// The simulator's counters back the intensity figures in backends/hip/README.md: the WMMA
// count must be what the tiling says (8 waves x 2 x 2 tiles x 2 K halves per 64 x 128 x 32
// step), and the bytes are printed for the README. Shapes are Llama-3-70B's at pp512 with N
// and K cut by 8 (the counts scale with N*K; the simulator would need minutes for the full ones).
struct CounterRun {
  xk::LaunchRecord rec;
};
CounterRun run_matmul_counted(xk::Device& dev, const std::string& variant, xk::DType w, xk::ActPrecision act,
                              int64_t M, int64_t N, int64_t K) {
  const std::vector<float> wf = xk::test::randn(static_cast<size_t>(N * K), 21, 0.05f);
  const std::vector<float> xf = xk::test::randn(static_cast<size_t>(M * K), 22);
  xk::test::run_matmul(dev, variant, w, act, wf, xf, M, N, K);
  return {dev.last_launch()};
}

void print_counters(const char* what, const xk::LaunchRecord& r, double flops) {
  uint64_t mma = 0;
  for (const auto& [k, v] : r.mma_by_kind) mma += v;
  std::printf(
      "[counters] %-44s wmma %10llu  global read %12llu B  written %10llu B  barriers %8llu  "
      "FLOP/B(read+written) %.1f\n",
      what, static_cast<unsigned long long>(mma), static_cast<unsigned long long>(r.global_bytes_read),
      static_cast<unsigned long long>(r.global_bytes_written), static_cast<unsigned long long>(r.barriers),
      flops / static_cast<double>(r.global_bytes_read + r.global_bytes_written));
}

TEST(HipSimCounters, GemmWmmaCountsMatchTheTilingAtScaledPp512Shapes) {
  auto dev = open_hip_sim();
  const int64_t M = 512, N = 1024, K = 1024;
  const uint64_t steps = (M / 64) * (N / 128) * (K / 32);  // workgroup K steps
  const double flops = 2.0 * M * N * K;
  const auto q = run_matmul_counted(*dev, "mmq_q4_0_q8_64x128_wmmai8_gfx11", xk::DType::Q4_0,
                                    xk::ActPrecision::Q8, M, N, K);
  ASSERT_TRUE(q.rec.has_counters);
  EXPECT_EQ(q.rec.mma_by_kind.at("wmma.i32.16x16x16.iu8"), steps * 64);
  EXPECT_EQ(q.rec.mma_by_kind.count("wmma.f32.16x16x16.f16"), 0u);
  // Y written once, plus the quantizer's int8 X and its scales.
  EXPECT_EQ(q.rec.global_bytes_written, static_cast<uint64_t>(M * N * 4 + M * K + M * K / 32 * 4));
  print_counters("mmq_q4_0 M512 N1024 K1024", q.rec, flops);

  const auto f = run_matmul_counted(*dev, "mm_q4_0_f16_64x128_wmmaf16_gfx11", xk::DType::Q4_0,
                                    xk::ActPrecision::F16, M, N, K);
  EXPECT_EQ(f.rec.mma_by_kind.at("wmma.f32.16x16x16.f16"), steps * 64);
  EXPECT_EQ(f.rec.global_bytes_written, static_cast<uint64_t>(M * N * 4));
  print_counters("mm_q4_0_f16 M512 N1024 K1024", f.rec, flops);

  const auto v = run_matmul_counted(*dev, "mmvq_q4_0_f32_8x32_valu_gfx11", xk::DType::Q4_0,
                                    xk::ActPrecision::F32, 1, N, 8 * K);
  EXPECT_EQ(v.rec.mma_by_kind.size(), 0u);
  EXPECT_EQ(v.rec.global_bytes_written, static_cast<uint64_t>(N * 4));
  print_counters("mmvq_q4_0 M1 N1024 K8192", v.rec, 2.0 * N * 8 * K);
}

TEST(HipSimCounters, AttentionWmmaCountsMatchTheTiling) {
  auto dev = open_hip_sim();
  // One KV group of Llama-3-70B (Hq/Hkv = 8) at pp512, causal, D = 128.
  const int64_t B = 1, Hq = 8, Hkv = 1, S = 512, T = 512, D = 128;
  std::vector<float> q = xk::test::randn(static_cast<size_t>(B * Hq * S * D), 31);
  std::vector<float> k = xk::test::randn(static_cast<size_t>(B * Hkv * T * D), 32);
  std::vector<float> vv = xk::test::randn(static_cast<size_t>(B * Hkv * T * D), 33);
  std::vector<uint16_t> kh(k.size()), vh(vv.size());
  for (size_t i = 0; i < k.size(); ++i) kh[i] = xk::f32_to_f16(k[i]), vh[i] = xk::f32_to_f16(vv[i]);
  xk::Tensor Q = xk::upload(*dev, xk::DType::F32, {B, Hq, S, D}, q.data());
  xk::Tensor K = xk::upload(*dev, xk::DType::F16, {B, Hkv, T, D}, kh.data());
  xk::Tensor V = xk::upload(*dev, xk::DType::F16, {B, Hkv, T, D}, vh.data());
  xk::AttentionOptions opt;
  opt.causal = true;
  opt.variant = "attn_all_f16_64x32_fa2_wmmaf16_gfx11";
  xk::Tensor O = xk::attention(*dev, Q, K, V, opt);
  const auto& rec = dev->last_launch();
  // Query tile i (64 rows) visits keys [0, 64(i+1)): 2(i+1) steps of 32 keys, each step
  // 4 waves x 2 key tiles x D/16 for S and the same for P V.
  uint64_t steps = 0;
  for (int64_t i = 0; i < S / 64; ++i) steps += static_cast<uint64_t>(2 * (i + 1));
  EXPECT_EQ(rec.mma_by_kind.at("wmma.f32.16x16x16.f16"), Hq * steps * 4 * 2 * (D / 16) * 2);
  print_counters("attn_fa2 Hq8 Hkv1 S512 T512 D128 causal", rec, 4.0 * Hq * D * (S * (S + 1) / 2));
}

}  // namespace
