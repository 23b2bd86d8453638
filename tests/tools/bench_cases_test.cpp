// The shape sets: what the small and models sets register on cpu-ref, and bad set options.
#include <gtest/gtest.h>

#include <set>

#include "bench/bench.h"
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

}  // namespace
}  // namespace xk::bench
