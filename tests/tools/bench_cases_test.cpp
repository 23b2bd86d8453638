// The shape sets: what the small and models sets register on cpu-ref, and bad set options.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <set>
#include <vector>

#include "bench/bench.h"
#include "bench/program.h"
#include "xk/error.h"
#include "xk/registry.h"

namespace xk::bench {
namespace {

TEST(BenchCases, SmallSetOnCpuRefCoversEveryFormatAndEachOfferedAct) {
  auto dev = open_device("cpu-ref");
  const auto mm = matmul_cases(*dev, {});
  // cpu-ref's one matmul variant offers f32, f16, q8, fp4, fp8; fp4 only fits mxfp4/nvfp4:
  // (4 + 4 + 5 + 5) acts x M in {1, 64} = 36 cases.
  EXPECT_EQ(mm.size(), 36u);
  std::set<std::string> names;
  for (const auto& c : mm) {
    names.insert(c.name);
    EXPECT_EQ(c.N, 1024);
    EXPECT_EQ(c.K, 1024);
    EXPECT_TRUE(c.M == 1 || c.M == 64) << c.name;
    EXPECT_FALSE(c.act == ActPrecision::FP4 && (c.format == DType::Q4_0 || c.format == DType::Q8_0))
        << c.name;
  }
  EXPECT_EQ(names.size(), mm.size()) << "benchmark names must be unique";
  EXPECT_TRUE(names.count("matmul/small/M64_N1024_K1024/q4_0/q8/cpu-ref"));
  EXPECT_TRUE(names.count("matmul/small/M1_N1024_K1024/nvfp4/fp4/cpu-ref"));

  const auto at = attention_cases(*dev, {});
  ASSERT_EQ(at.size(), 2u);
  EXPECT_EQ(at[0].name, "attention/small/prefill_B1_Hq8_Hkv2_S256_T256_D128_causal/f16/cpu-ref");
  EXPECT_EQ(at[1].shape.S, 1);
  EXPECT_EQ(at[1].shape.q_offset, at[1].shape.T - 1);
}

TEST(BenchCases, ModelsSetUsesLayerGemmsOfThePreset) {
  auto dev = open_device("cpu-ref");
  SetOptions opt;
  opt.set = "models";
  opt.model = "llama3-70b";
  opt.workload = "pp512";
  opt.format = "q4_0";
  opt.act = "q8";
  const auto mm = matmul_cases(*dev, opt);
  ASSERT_EQ(mm.size(), 4u);
  // gate_up of Llama-3 70B: N = 2 * 28672, K = 8192, M = 512 prompt tokens.
  EXPECT_EQ(mm[2].name, "matmul/llama3-70b/gate_up/pp512/q4_0/q8/cpu-ref");
  EXPECT_EQ(mm[2].M, 512);
  EXPECT_EQ(mm[2].N, 57344);
  EXPECT_EQ(mm[2].K, 8192);
  // qkv: 64 query heads + 2 * 8 KV heads, all of head dim 128.
  EXPECT_EQ(mm[0].N, (64 + 16) * 128);

  opt.workload = "tg128";
  const auto at = attention_cases(*dev, opt);
  ASSERT_EQ(at.size(), 1u);
  EXPECT_EQ(at[0].name, "attention/llama3-70b/tg128/f16/cpu-ref");
  EXPECT_EQ(at[0].shape.Hq, 64);
  EXPECT_EQ(at[0].shape.Hkv, 8);
  EXPECT_EQ(at[0].shape.S, 1);
  EXPECT_EQ(at[0].shape.T, 128);
  EXPECT_EQ(at[0].shape.q_offset, 127);
}

TEST(BenchCases, ForcedVariantAppearsInTheName) {
  auto dev = open_device("cpu-ref");
  SetOptions opt;
  opt.set = "custom";
  opt.shape = {3, 64, 64};
  opt.format = "q8_0";
  opt.all_variants = true;
  const auto mm = matmul_cases(*dev, opt);
  ASSERT_FALSE(mm.empty());
  EXPECT_EQ(mm[0].name, "matmul/custom/M3_N64_K64/q8_0/f32/variant=mm_all_all_1x1_scalar_ref_cpu/cpu-ref");
  EXPECT_EQ(mm[0].variant, "mm_all_all_1x1_scalar_ref_cpu");
}

TEST(BenchCases, BadSetOptionsNameTheArgument) {
  auto dev = open_device("cpu-ref");
  auto arg_of = [&](SetOptions o) {
    try {
      matmul_cases(*dev, o);
    } catch (const Error& e) {
      return e.arg();
    }
    return std::string("no error");
  };
  SetOptions o;
  o.set = "huge";
  EXPECT_EQ(arg_of(o), "set");
  o = {};
  o.set = "models";
  o.model = "llama9";
  EXPECT_EQ(arg_of(o), "model");
  o.model = "";
  o.workload = "pp7";
  EXPECT_EQ(arg_of(o), "workload");
  o = {};
  o.set = "custom";
  o.shape = {1, 2};
  EXPECT_EQ(arg_of(o), "shape");
  o = {};
  o.format = "q5_k";
  EXPECT_EQ(arg_of(o), "name");  // parse_dtype's error: "dtype: argument 'name': unknown format"
}

// A custom shape needs sizes of at least one, and sizes whose product stays under 2^56 (so
// element, byte and FLOP counts hold in int64): a zero size measured nothing and printed
// 122 TB/s, an overflowing one failed later as a bare std::bad_alloc. --min-time and
// --iterations take finite positive values (a NaN min-time never ended).
TEST(BenchCases, CustomShapesAndRunLengthsOutsideTheirRangeNameTheArgument) {
  auto dev = open_device("cpu-ref");
  auto arg_of = [&](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.arg();
    }
    return std::string("no error");
  };
  EXPECT_EQ(parse_shape("512,4096,4096"), (std::vector<int64_t>{512, 4096, 4096}));
  EXPECT_EQ(arg_of([] { parse_shape("0,4096,4096"); }), "shape");
  EXPECT_EQ(arg_of([] { parse_shape("-1,4096,4096"); }), "shape");
  SetOptions o;
  o.set = "custom";
  o.shape = {1, 4096, 0};
  EXPECT_EQ(arg_of([&] { matmul_cases(*dev, o); }), "shape");
  o.shape = {4000000000, 8, 4000000000};  // M*K alone overflows int64
  EXPECT_EQ(arg_of([&] { matmul_cases(*dev, o); }), "shape");
  o.shape = {int64_t{1} << 20, int64_t{1} << 18, int64_t{1} << 18};  // 2^56: the largest allowed
  EXPECT_EQ(arg_of([&] { matmul_cases(*dev, o); }), "no error");
  o.shape = {(int64_t{1} << 20) + 1, int64_t{1} << 18, int64_t{1} << 18};
  EXPECT_EQ(arg_of([&] { matmul_cases(*dev, o); }), "shape");
  o.shape = {1, 100000, 100000, 100000, 100000, 128};
  EXPECT_EQ(arg_of([&] { attention_cases(*dev, o); }), "shape");
  o.shape = {1, 8, 2, 256, 256, 128};
  EXPECT_EQ(arg_of([&] { attention_cases(*dev, o); }), "no error");

  EXPECT_DOUBLE_EQ(checked_min_time(0.5), 0.5);
  EXPECT_EQ(arg_of([] { checked_min_time(0); }), "min-time");
  EXPECT_EQ(arg_of([] { checked_min_time(-1); }), "min-time");
  EXPECT_EQ(arg_of([] { checked_min_time(std::nan("")); }), "min-time");
  EXPECT_EQ(arg_of([] { checked_min_time(HUGE_VAL); }), "min-time");
  EXPECT_EQ(checked_iterations(3), 3);
  EXPECT_EQ(arg_of([] { checked_iterations(0); }), "iterations");
  EXPECT_EQ(arg_of([] { checked_iterations(-3); }), "iterations");
  EXPECT_EQ(arg_of([] { checked_iterations(2.5); }), "iterations");
}

}  // namespace
}  // namespace xk::bench
