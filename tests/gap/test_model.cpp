// The gap model's arithmetic, pinned by hand-computed cases, and the device database's
// schema.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "gap/decompose.h"
#include "gap/devices.h"
#include "gap/model.h"
#include "gap/model_desc.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

nlohmann::json raw_database() {
  std::ifstream in(database_path());
  EXPECT_TRUE(in.good()) << "cannot open " << database_path();
  nlohmann::json j;
  in >> j;
  return j;
}

TEST(GapRoofline, ComputeBoundGemmMatchesHandComputedTime) {
  // M = N = K = 4096, Q4_0 weights (4.5 bit), int8 activations (34/32 B), 128x128 tiles,
  // 48 blocks in flight, 24 MiB LLC.
  //   FLOPs = 2 * 4096^3                               = 137,438,953,472
  //   W     = 4096*4096*4.5/8 * ceil(32/48)=1          =   9,437,184 B
  //   X     = 4096*4096*4 + 2 * 4096*4096*34/32        = 67,108,864 + 35,651,584 B
  //           (quantized X = 17.8 MB fits in half the LLC? no: 17.8 MB > 12 MiB, so it is
  //            re-read ceil(ceil(4096/128)/48) = 1 time: the same figure)
  //   Y     = 4096*4096*4                              =  67,108,864 B
  //   bytes = 179,306,496
  // Device: 100 TFLOP/s at 50% = 50e12; 1000 GB/s at 80% = 800e9.
  //   t_compute = 137,438,953,472 / 50e12 = 2.74877907e-3 s
  //   t_memory  = 179,306,496 / 800e9     = 2.2413312e-4 s   -> compute-bound
  GemmGeometry g{4096, 4096, 4096, 4.5, 34.0 / 32.0, 128, 128, 48, 24.0 * 1024 * 1024};
  const Traffic t = gemm_traffic(g);
  EXPECT_DOUBLE_EQ(t.flops, 137438953472.0);
  EXPECT_DOUBLE_EQ(t.bytes, 179306496.0);
  const Roofline r = roofline(t.flops, t.bytes, 100e12, 0.5, 1000e9, 0.8);
  EXPECT_FALSE(r.memory_bound);
  EXPECT_NEAR(r.t_compute, 2.74877906944e-3, 1e-15);
  EXPECT_NEAR(r.t_memory, 2.2413312e-4, 1e-15);
  EXPECT_DOUBLE_EQ(r.time, r.t_compute);
}

TEST(GapRoofline, BandwidthBoundGemvMatchesHandComputedTime) {
  // M = 1, N = K = 8192, Q4_0, int8 activations, one launch of 5 us.
  //   FLOPs = 2 * 8192 * 8192                       = 134,217,728
  //   W     = 8192*8192*4.5/8                       =  37,748,736 B
  //   X     = 8192*4 + 2 * 8192*34/32               =      32,768 + 17,408 B
  //   Y     = 8192*4                                =      32,768 B
  //   bytes = 37,831,680
  // Device: 273 GB/s at 82.8% = 226.044e9 B/s; 237.9 TOP/s at 79%.
  //   t_memory  = 37,831,680 / 226.044e9 = 1.6736423e-4 s  -> bandwidth-bound
  //   t_compute = 134,217,728 / 187.941e12 = 7.1415e-7 s
  //   time      = 1.6736423e-4 + 5e-6 = 1.7236423e-4 s
  GemmGeometry g{1, 8192, 8192, 4.5, 34.0 / 32.0, 1, 1, 48, 24.0 * 1024 * 1024};
  const Traffic t = gemm_traffic(g);
  EXPECT_DOUBLE_EQ(t.flops, 134217728.0);
  EXPECT_DOUBLE_EQ(t.bytes, 37831680.0);
  const Roofline r = roofline(t.flops, t.bytes, 237.9e12, 0.79, 273e9, 0.828, 1, 5e-6);
  EXPECT_TRUE(r.memory_bound);
  EXPECT_NEAR(r.t_memory, 37831680.0 / (273e9 * 0.828), 1e-15);
  EXPECT_NEAR(r.t_memory, 1.6736423e-4, 1e-10);
  EXPECT_NEAR(r.time, 1.7236423e-4, 1e-10);
}

TEST(GapRoofline, CausalAttentionCountsHalfTheSquarePlusDiagonal) {
  EXPECT_EQ(attention_pairs(512, 512, true, 0), 512 * 513 / 2);
  EXPECT_EQ(attention_pairs(512, 512, false, 0), 512 * 512);
  EXPECT_EQ(attention_pairs(1, 128, true, 127), 128);  // decode sees the whole cache
}

TEST(GapDatabase, EveryFigureHasValueUnitKindAndSource) {
  const auto problems = validate(raw_database());
  for (const auto& p : problems) ADD_FAILURE() << p;
  EXPECT_TRUE(problems.empty());
}

TEST(GapDatabase, SchemaCheckCatchesAMissingSourceAndAnUnexplainedDerivation) {
  auto db = raw_database();
  db["devices"]["strix-halo"]["peak"]["int8_mma"].erase("source");
  db["devices"]["dgx-spark"]["peak"]["fp4_mma"].erase("derivation");
  db["devices"]["rtx-3090"]["memory"]["bandwidth_theoretical"]["kind"] = "guessed";
  const auto problems = validate(db);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_NE(problems[0].find("dgx-spark.peak.fp4_mma"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("rtx-3090.memory.bandwidth_theoretical"), std::string::npos) << problems[1];
  EXPECT_NE(problems[2].find("strix-halo.peak.int8_mma"), std::string::npos) << problems[2];
}

TEST(GapDatabase, HoldsTheIssueDevicesAndARuntimeCpuWithValidFigures) {
  const Database db = load_database(database_path());
  for (const char* key :
       {"dgx-spark", "strix-halo", "rtx-3090", "rtx-5090", "h100-sxm", "m4-max", "this-cpu"})
    EXPECT_TRUE(db.devices.count(key)) << key;
  const DeviceSpec& cpu = db.device("this-cpu");
  for (const auto& p : validate(cpu)) ADD_FAILURE() << p;
  EXPECT_GT(cpu.peak_ops("f32_fma"), 1e9);
  EXPECT_GT(cpu.bandwidth_bytes(), 1e8);
  // The starting facts of DESIGN.md ("Explaining the gap"), as the database states them.
  EXPECT_NEAR(db.device("dgx-spark").peak_ops("fp4_mma"), 48 * 4096 * 2.42e9, 0.1e12);
  EXPECT_NEAR(db.device("strix-halo").peak_ops("int8_mma"), 40 * 512 * 2.9e9, 0.1e12);
  EXPECT_NEAR(db.device("strix-halo").peak_ops("int4_mma"), 40 * 1024 * 2.9e9, 0.1e12);
  EXPECT_THROW(db.device("strix-halo").peak_ops("fp4_mma"), Error);  // RDNA 3.5 has no FP4
}

TEST(GapDecomposition, FactorsMultiplyBackToTheRatioForEveryPairModelAndWorkload) {
  const Database db = load_database(database_path());
  const char* keys[] = {"dgx-spark", "strix-halo", "rtx-3090", "rtx-5090", "h100-sxm", "m4-max", "this-cpu"};
  int checked = 0;
  for (const auto& m : models::kModels)
    for (const char* w : {"pp512", "pp2048", "tg128"})
      for (const char* f : {"q4_0", "q8_0", "mxfp4", "nvfp4"})
        for (const char* a : keys)
          for (const char* b : keys) {
            const Estimate ea = estimate(db.device(a), std::string(m.key), f, w);
            const Estimate eb = estimate(db.device(b), std::string(m.key), f, w);
            const Decomposition d = decompose(ea, eb);
            ASSERT_EQ(d.factors.size(), 4u);
            EXPECT_NEAR(d.product() / d.ratio, 1.0, 1e-9)
                << a << " vs " << b << " " << m.key << " " << w << " " << f;
            EXPECT_NEAR(d.ratio, ea.tok_per_s() / eb.tok_per_s(), 1e-9 * d.ratio);
            ++checked;
          }
  EXPECT_EQ(checked, 4 * 3 * 4 * 7 * 7);
}

TEST(GapDecomposition, PeakAndEfficiencyFactorsAreTheDatabaseRatiosWhenOneClassRunsAllGemms) {
  const Database db = load_database(database_path());
  const Estimate a = estimate(db.device("dgx-spark"), "llama3-70b", "q4_0", "pp512");
  const Estimate b = estimate(db.device("strix-halo"), "llama3-70b", "q4_0", "pp512");
  const Decomposition d = decompose(a, b);
  EXPECT_NEAR(d.factors[0].value, 237.9 / 59.4, 1e-9);   // int8 MMA vs iu8 WMMA
  EXPECT_NEAR(d.factors[1].value, 0.790 / 0.621, 1e-9);  // 188/237.9 vs 36.9/59.4
}

TEST(GapScenarios, Int4WmmaOnStrixNarrowsTheGapAndWhatIfKernelsAreNeverTheBaseline) {
  const Database db = load_database(database_path());
  const DeviceSpec& spark = db.device("dgx-spark");
  const DeviceSpec& strix = db.device("strix-halo");
  EXPECT_EQ(spark.default_path("q4_0").kernel, "mmq_i8");
  EXPECT_EQ(strix.default_path("q4_0").kernel, "mmq_wmma_i8");
  EXPECT_EQ(db.device("h100-sxm").default_path("nvfp4").kernel, "mmq_i8");  // no FP4 on Hopper
  const Estimate a = estimate(spark, "llama3-70b", "q4_0", "pp512");
  const Estimate b = estimate(strix, "llama3-70b", "q4_0", "pp512");
  bool saw_iu4 = false;
  for (const Scenario& s : default_scenarios(spark, strix, "q4_0")) {
    if (!s.change.kernel || *s.change.kernel != "mmq_wmma_iu4") continue;
    saw_iu4 = true;
    const Estimate b4 = estimate(strix, "llama3-70b", "q4_0", "pp512", s.change);
    // iu4 doubles the WMMA rate; the GEMMs stay compute-bound, so time falls by well over 1.5x.
    EXPECT_LT(b4.total, b.total / 1.5);
    EXPECT_NE(s.label.find("what-if"), std::string::npos) << s.label;
  }
  EXPECT_TRUE(saw_iu4);
  EXPECT_GT(b.total / a.total, 1.0);
}

TEST(GapDatabase, SchemaCheckRejectsAFormatWithOnlyWhatIfKernels) {
  auto db = raw_database();
  for (auto& p : db["devices"]["strix-halo"]["paths"]["q8_0"]) p["what_if"] = true;
  const auto problems = validate(db);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("strix-halo.paths.q8_0"), std::string::npos) << problems[0];
}

TEST(GapModel, Llama70bQ40Pp512IsInAPlausibleBandOnBothDevices) {
  // Broad bands: Spark int8 MMA at ~188 TOP/s needs 137 GFLOP per token -> at most ~1,400
  // tok/s; Strix's iu8 WMMA at ~37 TOP/s -> at most ~270. Anything outside these bands
  // means a unit or formula slipped by an order of magnitude.
  const Database db = load_database(database_path());
  const Estimate spark = estimate(db.device("dgx-spark"), "llama3-70b", "q4_0", "pp512");
  const Estimate strix = estimate(db.device("strix-halo"), "llama3-70b", "q4_0", "pp512");
  EXPECT_GT(spark.tok_per_s(), 400);
  EXPECT_LT(spark.tok_per_s(), 2000);
  EXPECT_GT(strix.tok_per_s(), 80);
  EXPECT_LT(strix.tok_per_s(), 400);
  EXPECT_GT(spark.tok_per_s() / strix.tok_per_s(), 2.5);
  EXPECT_LT(spark.tok_per_s() / strix.tok_per_s(), 8.0);
  // Token generation is bandwidth-bound: every GEMV streams its weights.
  const Estimate tg = estimate(db.device("dgx-spark"), "llama3-70b", "q4_0", "tg128");
  for (const auto& k : tg.kernels) {
    if (k.group == "gemm") {
      EXPECT_TRUE(k.rl.memory_bound) << k.name;
    }
  }
  EXPECT_GT(tg.tok_per_s(), 3);
  EXPECT_LT(tg.tok_per_s(), 273e9 / 38e9);  // 70B x 4.5 bit = ~38.5 GB per token
}

// An empty --model names no preset: it is refused like an unknown one, not matched to an
// unnamed entry (which predicted 0 tok/s in 0/0 seconds).
TEST(GapModel, AnEmptyModelNameIsRefusedNotMatched) {
  for (const char* key : {"", "llama-2-70b"}) {
    try {
      const ModelDesc m = model_from_preset(key, "Q4_0");
      EXPECT_STRNE(key, "") << "no error for an empty name";
      EXPECT_EQ(m.layers, 80);  // the named preset next to it resolves
    } catch (const Error& e) {
      EXPECT_STREQ(key, "") << e.what();
      EXPECT_EQ(e.arg(), "model");
    }
  }
  EXPECT_EQ(models::find_model(""), nullptr);
}

TEST(GapModel, UnknownNamesAreErrorsNamingTheArgument) {
  const Database db = load_database(database_path());
  const DeviceSpec& spark = db.device("dgx-spark");
  try {
    estimate(spark, "llama9", "q4_0", "pp512");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.arg(), "model");
  }
  try {
    estimate(spark, "llama3-70b", "q5_k", "pp512");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.arg(), "format");
  }
  try {
    estimate(spark, "llama3-70b", "q4_0", "pp4096");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.arg(), "workload");
  }
  EXPECT_THROW(db.device("tpu-v5"), Error);
}

}  // namespace
}  // namespace xk::gap
