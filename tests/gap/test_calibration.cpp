// The measurement parsers on real output samples (tools/measurements/raw), calibration
// recovering planted efficiencies, the capacity check, and the runtime model's paths.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <sstream>

#include "gap/calibrate.h"
#include "gap/measurements.h"
#include "gap/runtime.h"
#include "gap/validate.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

std::string raw(const std::string& name) {
  return read_text_file(std::string(XK_SOURCE_DIR) + "/tools/measurements/raw/" + name);
}

// The runtime model's kernel `name` for one run, uncalibrated; launches and bytes -1 when the
// run has no such kernel.
KernelTime runtime_kernel(const Database& db, const char* device, const ModelDesc& m, const char* backend,
                          const char* date, const char* test, const std::string& name = "elementwise") {
  RunConfig run;
  run.backend = backend;
  run.build = parse_build("", date);
  run.test = test;
  for (const auto& k : predict(db.device(device), m, run, Calibration{}).kernels)
    if (k.name == name) return k;
  KernelTime none;
  none.launches = none.bytes = -1;
  return none;
}

TEST(GapParsers, TestBackendOpsPerfTextGivesOpParamsRateAndBackend) {
  KernelRow ctx;
  ctx.device = "strix-halo";
  ctx.backend = "hip";
  const auto rows = parse_backend_ops_perf(raw("test-backend-ops-perf-hip-strix.txt"), ctx);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].op, "MUL_MAT");
  EXPECT_EQ(rows[0].params, "type_a=f16,type_b=f32,m=16416,n=1,k=128,bs=[8,1],nr=[4,1],per=[0,2,1,3],v=0");
  EXPECT_EQ(rows[0].p.at("bs"), "[8,1]");  // brackets keep their commas
  EXPECT_EQ(rows[0].num("m"), 16416);
  EXPECT_DOUBLE_EQ(rows[0].value, 13.54);
  EXPECT_EQ(rows[0].unit, "GFLOPS");
  EXPECT_NE(rows[0].notes.find("ROCm0"), std::string::npos);
  EXPECT_EQ(rows[0].device, "strix-halo");
}

TEST(GapParsers, PerfTextWithFlashAttentionNr23Parses) {
  const auto rows = parse_backend_ops_perf(raw("test-backend-ops-perf-vulkan-fa-5090.txt"), KernelRow{});
  ASSERT_GE(rows.size(), 5u);
  for (const auto& r : rows) {
    EXPECT_EQ(r.op, "FLASH_ATTN_EXT");
    EXPECT_EQ(r.p.at("nr23"), "[8,1]");
    EXPECT_EQ(r.num("kv"), 7680);
  }
  EXPECT_DOUBLE_EQ(rows[0].value, 747.72);
  EXPECT_EQ(rows[0].unit, "GFLOPS");
}

TEST(GapParsers, LlamaBenchMarkdownGivesModelQuantTestUbatchAndBuild) {
  E2eRow ctx;
  ctx.device = "dgx-spark";
  const auto rows = parse_llama_bench_markdown(raw("llama-bench-md-spark.txt"), ctx);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].model, "gpt-oss-120b");
  EXPECT_EQ(rows[0].quant, "MXFP4");
  EXPECT_EQ(rows[0].test, "pp2048");
  EXPECT_EQ(rows[0].ubatch, 2048);
  EXPECT_DOUBLE_EQ(rows[0].tok_s, 1937.54);
  EXPECT_EQ(rows[0].build, "llama.cpp b6918");
  EXPECT_EQ(rows[0].backend, "cuda");
  EXPECT_EQ(rows[0].flags, "fa=1");
  EXPECT_EQ(rows[2].test, "pp2048 @ d4096");  // depth runs are kept, and refused by the model
  const auto radv = parse_llama_bench_markdown(raw("llama-bench-md-strix-radv.txt"), E2eRow{});
  ASSERT_EQ(radv.size(), 2u);
  EXPECT_EQ(radv[0].backend, "vulkan");
  EXPECT_EQ(radv[0].build, "llama.cpp b9187");
  EXPECT_DOUBLE_EQ(radv[0].tok_s, 719.91);
  const auto rocm = parse_llama_bench_markdown(raw("llama-bench-md-strix-rocm.txt"), E2eRow{});
  ASSERT_EQ(rocm.size(), 2u);
  EXPECT_EQ(rocm[0].backend, "hip");  // llama-bench prints ROCm
  EXPECT_EQ(rocm[1].test, "tg128");
}

TEST(GapParsers, LlamaBenchJsonlTakesTheModelFromTheFileNameWhenTheSizeIsMissing) {
  const auto rows = parse_llama_bench_json(raw("llama-bench-jsonl-strix.txt"), E2eRow{});
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[0].model, "gpt-oss-120b");  // model_type is "gpt-oss ?B F16"
  EXPECT_EQ(rows[0].quant, "F16");
  EXPECT_EQ(rows[0].backend, "hip");
  EXPECT_EQ(rows[0].build, "llama.cpp b6097");
  EXPECT_EQ(rows[0].test, "pp512");
  EXPECT_EQ(rows[0].date, "2025-08-06");
  EXPECT_NEAR(rows[0].tok_s, 349.57653, 1e-6);
  EXPECT_EQ(rows[0].flags, "fa=0");
  EXPECT_THROW(parse_llama_bench_json("{not json", E2eRow{}), Error);
}

TEST(GapParsers, TheProjectsCsvFilesParseAndBadCellsNameTheirLine) {
  const std::string dir = std::string(XK_SOURCE_DIR) + "/tools/measurements/";
  EXPECT_GE(read_kernel_csv(dir + "kernels.csv").size(), 40u);
  EXPECT_GE(read_e2e_csv(dir + "e2e.csv").size(), 30u);
  const CsvTable t =
      parse_csv("device,backend,build,model,quant,test,tok_s\nx,cuda,\"b1, b2\",m,Q4_0,pp512,fast\n");
  EXPECT_EQ(t.get(0, "build"), "b1, b2");
  try {
    e2e_rows_from_csv(t, "t.csv");
    FAIL() << "a non-number tok_s must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv line 2"), std::string::npos) << e.what();
  }
}

// A NaN, a negative or zero figure, a ubatch below one token and an impossible date are
// refused where they are read, naming the column, not carried into a prediction (a NaN
// printed "+nan%", a negative ubatch became 512, "2025-13-45" compared as a date).
TEST(GapParsers, BrokenFiguresAndDatesAreErrorsNamingTheColumn) {
  auto arg_of = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.arg();
    }
    return "(no error)";
  };
  const std::string md_head =
      "| model | size | params | backend | ngl | n_ubatch | test | t/s |\n| --- | --: | --: | --- | --: | "
      "--: | --: | --: |\n";
  auto md = [&](const std::string& ub, const std::string& ts) {
    return parse_llama_bench_markdown(
        md_head + "| llama 8B Q4_0 | 4 GiB | 8 B | ROCm | 99 | " + ub + " | pp512 | " + ts + " |\n",
        E2eRow{});
  };
  const auto good = md("512", "1000.50 \u00b1 1.00");
  ASSERT_EQ(good.size(), 1u);
  EXPECT_DOUBLE_EQ(good[0].tok_s, 1000.5);
  EXPECT_EQ(good[0].ubatch, 512);
  EXPECT_EQ(arg_of([&] { md("abc", "1000.00 \u00b1 1.00"); }), "n_ubatch");
  EXPECT_EQ(arg_of([&] { md("-4", "1000.00 \u00b1 1.00"); }), "n_ubatch");
  EXPECT_EQ(arg_of([&] { md("512", "nan"); }), "t/s");
  EXPECT_EQ(arg_of([&] { md("512", "fast \u00b1 1.00"); }), "t/s");

  auto e2e = [](const std::string& ub, const std::string& tok_s, const std::string& date) {
    return e2e_rows_from_csv(
        parse_csv("device,backend,build,model,quant,test,ubatch,tok_s,date\nx,cuda,b1,m,Q4_0,pp512," + ub +
                  "," + tok_s + "," + date + "\n"),
        "t.csv");
  };
  EXPECT_EQ(e2e("unknown", "10", "unknown").at(0).ubatch, 512);
  EXPECT_EQ(e2e("unknown", "10", "unknown").at(0).date, "");
  EXPECT_EQ(arg_of([&] { e2e("0", "10", "2025-01-01"); }), "ubatch");
  EXPECT_EQ(arg_of([&] { e2e("1.5", "10", "2025-01-01"); }), "ubatch");
  EXPECT_EQ(arg_of([&] { e2e("512", "-3", "2025-01-01"); }), "tok_s");
  EXPECT_EQ(arg_of([&] { e2e("512", "inf", "2025-01-01"); }), "tok_s");
  EXPECT_EQ(arg_of([&] { e2e("512", "10", "2025-13-01"); }), "date");
  EXPECT_EQ(arg_of([&] { e2e("512", "10", "2025-02-29"); }), "date");
  EXPECT_EQ(e2e("512", "10", "2024-02-29").at(0).date, "2024-02-29");
  EXPECT_EQ(arg_of([] {
              kernel_rows_from_csv(parse_csv("device,backend,build,date,op,params,value,unit\n"
                                             "x,cuda,b1,2025-01-01,MUL_MAT,m=1,nan,TFLOPS\n"),
                                   "k.csv");
            }),
            "value");

  auto json = [](const std::string& fields) {
    return parse_llama_bench_json(
        "[{\"model_type\": \"llama 8B Q4_0\", \"n_prompt\": 512, \"n_gen\": 0" + fields + "}]", E2eRow{});
  };
  EXPECT_DOUBLE_EQ(json(", \"n_ubatch\": 256, \"avg_ts\": 99.5").at(0).tok_s, 99.5);
  EXPECT_EQ(arg_of([&] { json(", \"n_ubatch\": \"many\", \"avg_ts\": 99.5"); }), "json");
  EXPECT_EQ(arg_of([&] { json(", \"n_ubatch\": 0, \"avg_ts\": 99.5"); }), "n_ubatch");
  EXPECT_EQ(arg_of([&] { json(", \"n_ubatch\": 512"); }), "avg_ts");
  EXPECT_EQ(arg_of([&] { json(", \"avg_ts\": 9, \"test_time\": \"2025-00-10T10:00:00Z\""); }), "test_time");

  EXPECT_EQ(arg_of([] { parse_build("b6000", "2025-13-45"); }), "date");
  EXPECT_EQ(parse_build("b6000", "unknown").number, 6000);
  RunConfig run;
  run.backend = "cuda";
  run.test = "pp512";
  run.ubatch = 0;
  const Database db = load_database(database_path());
  const Prediction p =
      predict(db.device("rtx-4090"), model_from_preset("llama-3-8b", "Q4_0"), run, Calibration{});
  EXPECT_FALSE(p.ok);
  EXPECT_NE(p.refused.find("ubatch 0"), std::string::npos) << p.refused;
}

// One kernel row as kernels.csv would give it, dated 2026-01-01.
KernelRow kernel_row(const std::string& device, const std::string& backend, const std::string& build,
                     const std::string& op, const std::string& params, double value, const std::string& unit,
                     int line) {
  KernelRow r;
  r.device = device;
  r.backend = backend;
  r.build = build;
  r.date = "2026-01-01";
  r.op = op;
  r.params = params;
  r.p = parse_params(params);
  r.value = value;
  r.unit = unit;
  r.line = line;
  return r;
}

// Synthetic MUL_MAT rows on strix-halo / hip at a build with WMMA MMQ, whose achieved rate is
// planted = eff(n) x peak x wave factor of the shape (what a real kernel at that efficiency
// would print), with +-3% noise around it.
std::vector<KernelRow> planted_rows(const DeviceSpec& dev, double (*eff)(double)) {
  std::vector<KernelRow> rows;
  int line = 2;
  for (double n : {64.0, 128.0, 256.0, 512.0})
    for (double noise : {0.97, 1.0, 1.03}) {
      KernelRow r;
      r.device = "strix-halo";
      r.backend = "hip";
      r.build = "llama.cpp b7500";
      r.date = "2026-01-01";
      r.op = "MUL_MAT";
      r.params = "type_a=q4_0,type_b=f32,m=4096,n=" + std::to_string(static_cast<int>(n)) +
                 ",k=4096,bs=[1,1],nr=[1,1]";
      r.p = parse_params(r.params);
      const double wave = wave_factor(n, 4096, 128, 128, tile_units(dev, "hip"));
      r.value = eff(n) * noise * dev.peak_ops("int8_mma") * wave / 1e12;
      r.unit = "TFLOPS";
      r.line = line++;
      rows.push_back(r);
    }
  return rows;
}

double planted(double n) { return 0.1 + 0.3 * std::log2(n / 32) / 4; }  // 0.175 at 64 .. 0.4 at 512

TEST(GapCalibration, RecoversPlantedEfficienciesAndInterpolatesBetweenThem) {
  const Database db = load_database(database_path());
  const DeviceSpec& strix = db.device("strix-halo");
  const Calibration cal = calibrate(db, planted_rows(strix, planted));
  ASSERT_EQ(cal.groups.size(), 1u);
  const CalGroup& g = cal.groups.begin()->second;
  EXPECT_EQ(g.path, "hip_mmq_wmma");
  EXPECT_EQ(g.points.size(), 12u);
  const InstrPath path = instruction_path(strix, "hip", parse_build("b7500", "2026-01-01"), "mm", "quant");
  for (double n : {64.0, 128.0, 256.0, 512.0, 90.0, 300.0}) {
    const CalLookup l = cal.lookup(strix, "hip", path, "mm", n, "2026-01-01");
    EXPECT_TRUE(l.calibrated);
    EXPECT_NEAR(l.eff, planted(n), 0.01 * planted(n) + 1e-3) << "n=" << n;
  }
  // Outside the measured range the curve is clamped, not extrapolated.
  EXPECT_NEAR(cal.lookup(strix, "hip", path, "mm", 4096, "2026-01-01").eff, planted(512), 0.005);
  std::ostringstream out;
  print_calibration(out, cal);
  EXPECT_NE(out.str().find("hip_mmq_wmma"), std::string::npos);
}

TEST(GapCalibration, FallsBackToTheNearestBuildEraThenToTheRooflineDefaultAndSaysSo) {
  const Database db = load_database(database_path());
  const DeviceSpec& strix = db.device("strix-halo");
  const Calibration cal = calibrate(db, planted_rows(strix, planted));
  // A build before WMMA MMQ runs hip_mmq_dp4a below 64 tokens: no rows of its own, so the
  // WMMA rows stand in (clamped at their smallest n, 64), rescaled to the dp4a peak.
  const InstrPath old = instruction_path(strix, "hip", parse_build("b6000", "2025-08-01"), "mm", "quant", 32);
  EXPECT_EQ(old.name, "hip_mmq_dp4a");
  const CalLookup l = cal.lookup(strix, "hip", old, "mm", 32, "2025-08-01");
  EXPECT_FALSE(l.calibrated);
  EXPECT_NE(l.how.find("nearest build era"), std::string::npos) << l.how;
  EXPECT_NEAR(l.eff, planted(64) * strix.peak_ops("int8_mma") / strix.peak_ops("int8_dot"),
              0.01 * planted(64));
  // From 64 tokens that build dequantized to f16 for hipBLAS instead.
  EXPECT_EQ(instruction_path(strix, "hip", parse_build("b6000", "2025-08-01"), "mm", "quant", 512).name,
            "hip_blas_f16");
  // Vulkan on the same box has no rows at all: the database's default, labelled.
  const InstrPath vk = instruction_path(strix, "vulkan", parse_build("", "2026-01-01"), "mm", "quant");
  const CalLookup d = cal.lookup(strix, "vulkan", vk, "mm", 512, "2026-01-01");
  EXPECT_TRUE(d.fallback_default);
  EXPECT_NE(d.how.find("roofline default"), std::string::npos);
}

TEST(GapCalibration, ACurveStandsOnlyForItsOwnRegime) {
  const Database db = load_database(database_path());
  const DeviceSpec& strix = db.device("strix-halo");
  const Calibration cal = calibrate(db, planted_rows(strix, planted));  // n = 64 .. 512 only
  const InstrPath path = instruction_path(strix, "hip", parse_build("b7500", "2026-01-01"), "mm", "quant");
  EXPECT_TRUE(cal.lookup(strix, "hip", path, "mm", 16, "2026-01-01").calibrated);
  // A single token runs ggml's vector kernel: the tiled kernel's rows do not stand for it.
  const CalLookup one = cal.lookup(strix, "hip", path, "mm", 1, "2026-01-01");
  EXPECT_FALSE(one.calibrated);
  EXPECT_TRUE(one.fallback_default) << one.how;
  // And the reverse: rows of 2 tokens do not stand for a 512-token prompt.
  auto small = planted_rows(strix, planted);
  for (auto& r : small) {
    r.params = "type_a=q4_0,type_b=f32,m=4096,n=2,k=4096,bs=[1,1],nr=[1,1]";
    r.p = parse_params(r.params);
  }
  const Calibration gemv = calibrate(db, small);
  EXPECT_TRUE(gemv.lookup(strix, "hip", path, "mm", 2, "2026-01-01").calibrated);
  EXPECT_FALSE(gemv.lookup(strix, "hip", path, "mm", 512, "2026-01-01").calibrated);
}

TEST(GapCalibration, ALookupOutsideTheMeasuredTokensSaysTheEfficiencyIsHeld) {
  // The curve holds its end points beyond the measured token counts; the lookup's text says
  // so, since nothing was measured there (a 16-token expert tile read off rows of 64..512).
  const Database db = load_database(database_path());
  const DeviceSpec& strix = db.device("strix-halo");
  const Calibration cal = calibrate(db, planted_rows(strix, planted));  // n = 64 .. 512 only
  const InstrPath path = instruction_path(strix, "hip", parse_build("b7500", "2026-01-01"), "mm", "quant");
  const CalLookup below = cal.lookup(strix, "hip", path, "mm", 16, "2026-01-01");
  const CalLookup inside = cal.lookup(strix, "hip", path, "mm", 96, "2026-01-01");
  const CalLookup above = cal.lookup(strix, "hip", path, "mm", 2048, "2026-01-01");
  EXPECT_NE(below.how.find("held from x=64: none measured below it"), std::string::npos) << below.how;
  EXPECT_EQ(inside.how.find("held from"), std::string::npos) << inside.how;
  EXPECT_NE(above.how.find("held from x=512: none measured above it"), std::string::npos) << above.how;
  EXPECT_DOUBLE_EQ(below.eff, cal.lookup(strix, "hip", path, "mm", 64, "2026-01-01").eff);
}

TEST(GapCalibration, AnotherBackendOfTheSameMachineStandsInThroughATimeRatio) {
  const Database db = load_database(database_path());
  const DeviceSpec& strix = db.device("strix-halo");
  auto rows = planted_rows(strix, planted);
  auto geomean = [&](const std::string& backend, const std::string& build, double us) {
    KernelRow r;
    r.device = "strix-halo";
    r.backend = backend;
    r.build = build;
    r.date = "2026-01-01";
    r.op = "MUL_MAT";
    r.params = "geomean(MUL_MAT perf cases,type_a=q4_0)";
    r.value = us;
    r.unit = "us (geomean)";
    r.source = "https://example.org/pull/2 (description)";
    r.line = 90 + static_cast<int>(rows.size());
    rows.push_back(r);
  };
  geomean("hip", "llama.cpp master", 100);
  geomean("vulkan", "llama.cpp master", 200);    // vulkan takes twice as long: half the rate
  geomean("vulkan", "llama.cpp PR branch", 50);  // a branch is not what a published run used
  const Calibration cal = calibrate(db, rows);
  ASSERT_EQ(cal.ratios.size(), 2u);  // hip -> vulkan and vulkan -> hip
  const InstrPath vk = instruction_path(strix, "vulkan", parse_build("", "2026-01-01"), "mm", "quant");
  const CalLookup l = cal.lookup(strix, "vulkan", vk, "mm", 512, "2026-01-01");
  EXPECT_FALSE(l.fallback_default);
  EXPECT_NE(l.how.find("time ratio"), std::string::npos) << l.how;
  EXPECT_NEAR(l.eff, planted(512) * strix.peak_ops("int8_mma") / strix.peak_ops(vk.cls) * 0.5, 1e-3);
  bool branch_skipped = false;
  for (const auto& s : cal.skipped)
    branch_skipped = branch_skipped || s.why.find("branch build") != std::string::npos;
  EXPECT_TRUE(branch_skipped);
}

TEST(GapCalibration, AnExpertGemmPricedThroughAnotherBackendTakesTheSameShadersIdRatio) {
  const Database db = load_database(database_path());
  const DeviceSpec& strix = db.device("strix-halo");
  auto rows = planted_rows(strix, planted);  // hip MUL_MAT only
  auto add = [&](const std::string& device, const std::string& backend, const std::string& op,
                 const std::string& params, double value, const std::string& unit) {
    KernelRow r = kernel_row(device, backend, "llama.cpp master", op, params, value, unit,
                             300 + static_cast<int>(rows.size()));
    r.notes = "matrix cores: KHR_coopmat";
    r.source = "https://example.org/pull/3 (description)";
    rows.push_back(r);
  };
  const std::string geo = "geomean(MUL_MAT perf cases,type_a=q4_0)";
  add("strix-halo", "hip", "MUL_MAT", geo, 100, "us (geomean)");
  add("strix-halo", "vulkan", "MUL_MAT", geo, 200, "us (geomean)");
  // The same coopmat1 mul_mm shader on an RTX 3090: dense at two token counts, and its
  // expert GEMM at a third of the dense rate once padding is charged.
  add("rtx-3090", "vulkan", "MUL_MAT", "type_a=q4_0,type_b=f32,m=4096,n=128,k=4096", 30, "TFLOPS");
  add("rtx-3090", "vulkan", "MUL_MAT", "type_a=q4_0,type_b=f32,m=4096,n=512,k=4096", 40, "TFLOPS");
  const BuildRef b = parse_build("", "2026-01-01");
  const InstrPath vk = instruction_path(strix, "vulkan", b, "mm_id", "quant", 16, 512);
  const double x = expert_gemm(512, 4, 128, 2880, vk, 1).x;
  const CalLookup before = calibrate(db, rows).lookup(strix, "vulkan", vk, "mm_id", x, "2026-01-01");
  EXPECT_NE(before.how.find("time ratio"), std::string::npos) << before.how;
  EXPECT_EQ(before.how.find("MUL_MAT_ID /"), std::string::npos) << before.how;
  add("rtx-3090", "vulkan", "MUL_MAT_ID",
      "type_a=q4_0,type_b=f32,n_mats=128,n_used=4,b=0,m=2880,n=512,k=2880", 3, "TFLOPS");
  const Calibration cal = calibrate(db, rows);
  const CalGroup& ids = cal.groups.at("rtx-3090|vulkan|" + vk.name + "|mm_id");
  const CalGroup& mm = cal.groups.at("rtx-3090|vulkan|" + vk.name + "|mm");
  std::string ignored;
  const double ratio = ids.eval(x, "2026-01-01", "", ignored) / mm.eval(x, "2026-01-01", "", ignored);
  ASSERT_LT(ratio, 0.9);
  const CalLookup after = cal.lookup(strix, "vulkan", vk, "mm_id", x, "2026-01-01");
  EXPECT_NEAR(after.eff, before.eff * ratio, 1e-9);
  EXPECT_NE(after.how.find("rtx-3090's MUL_MAT_ID / MUL_MAT"), std::string::npos) << after.how;
}

TEST(GapCalibration, CurvesFollowTheWeightTypeAndLeaveBranchBuildsOut) {
  const Database db = load_database(database_path());
  const DeviceSpec& strix = db.device("strix-halo");
  auto rows = planted_rows(strix, planted);  // q4_0, upstream
  const size_t n = rows.size();
  for (size_t i = 0; i < n; ++i) {
    KernelRow q6 = rows[i];  // q6_K at half the rate, upstream
    q6.params.replace(q6.params.find("q4_0"), 4, "q6_K");
    q6.p = parse_params(q6.params);
    q6.value /= 2;
    q6.line += 100;
    rows.push_back(q6);
    KernelRow branch = rows[i];  // an unmerged branch, twice as fast
    branch.build = "llama.cpp PR #999 branch";
    branch.value *= 2;
    branch.line += 200;
    rows.push_back(branch);
  }
  const Calibration cal = calibrate(db, rows);
  const InstrPath path = instruction_path(strix, "hip", parse_build("b7500", "2026-01-01"), "mm", "quant");
  const CalLookup q4 = cal.lookup(strix, "hip", path, "mm", 512, "2026-01-01", "q4_0");
  EXPECT_NEAR(q4.eff, planted(512), 0.01 * planted(512)) << q4.how;
  EXPECT_NE(q4.how.find("q4_0 rows"), std::string::npos) << q4.how;
  const CalLookup q6 = cal.lookup(strix, "hip", path, "mm", 512, "2026-01-01", "Q6_K");
  EXPECT_NEAR(q6.eff, planted(512) / 2, 0.01 * planted(512)) << q6.how;
  // A type without rows takes all types' rows, and says so.
  const CalLookup q8 = cal.lookup(strix, "hip", path, "mm", 512, "2026-01-01", "q8_0");
  EXPECT_NE(q8.how.find("none of q8_0"), std::string::npos) << q8.how;
  EXPECT_GT(q8.eff, planted(512) / 2 * 0.97);
  EXPECT_LT(q8.eff, planted(512) * 1.03);
  EXPECT_TRUE(is_branch_build("llama.cpp PR #999 branch"));
  EXPECT_FALSE(is_branch_build("llama.cpp master before PR #999"));
}

TEST(GapValidate, ExcludesRowsFromADocumentThatGaveKernelRowsAndEndsWithOneSummaryLine) {
  const Database db = load_database(database_path());
  auto rows = planted_rows(db.device("strix-halo"), planted);
  for (auto& r : rows) r.source = "https://example.org/pull/1 (table in the description)";
  const Calibration cal = calibrate(db, rows);
  const CsvTable t = parse_csv(
      "device,backend,build,model,quant,test,ubatch,tok_s,source,date\n"
      "strix-halo,hip,b7500,llama-3-8b,Q4_0,pp512,512,1000,https://example.org/pull/1 "
      "(llama-bench),2026-01-01\n"
      "strix-halo,hip,b7500,llama-3-8b,Q4_0,pp512,512,1000,https://example.org/other,2026-01-01\n"
      "strix-halo,hip,b7500,no-such-model,Q4_0,pp512,512,1000,https://example.org/other,2026-01-01\n");
  std::ostringstream out;
  const ValidateResult v = run_validate(db, cal, e2e_rows_from_csv(t, "t.csv"), out);
  EXPECT_EQ(v.calibrated_excluded, 1);
  EXPECT_EQ(v.not_expressible, 1);
  EXPECT_EQ(v.predicted, 1);
  const std::string text = out.str();
  const std::string last = text.substr(text.rfind("validated:"));
  EXPECT_EQ(last,
            "validated: " + std::to_string(v.within) +
                " of 1 rows within 20% (1 rows used in calibration excluded, 1 rows not expressible)\n");
  EXPECT_NE(text.find("unknown model 'no-such-model'"), std::string::npos) << text;
}

TEST(GapCalibration, SkipsRowsItCannotPlaceWithAReason) {
  const Database db = load_database(database_path());
  KernelRow r;
  r.device = "no-such-gpu";
  r.backend = "cuda";
  r.op = "MUL_MAT";
  r.params = "type_a=q4_0,m=1,n=1,k=1";
  r.p = parse_params(r.params);
  r.value = 1;
  r.unit = "TFLOPS";
  r.line = 7;
  const Calibration c = calibrate(db, {r});
  ASSERT_EQ(c.skipped.size(), 1u);
  EXPECT_EQ(c.skipped[0].line, 7);
  EXPECT_NE(c.skipped[0].why.find("no-such-gpu"), std::string::npos);
}

TEST(GapCalibration, BrokenShapeParamsSkipTheRowNamingTheParameter) {
  // Hand-edited or truncated test-backend-ops lines: a size with trailing junk, a list entry
  // that is not a number, an expert count of zero. Each skips its row and names the
  // parameter; before, they were read as 4096, as nr23 = 1 and as one expert, and fitted.
  const Database db = load_database(database_path());
  auto row = [](const char* op, const char* params, int line) {
    KernelRow r;
    r.device = "strix-halo";
    r.backend = "hip";
    r.build = "llama.cpp b7000";
    r.date = "2025-11-01";
    r.op = op;
    r.params = params;
    r.p = parse_params(r.params);
    r.value = 4.5;
    r.unit = "TFLOPS";
    r.line = line;
    return r;
  };
  const Calibration c =
      calibrate(db, {row("MUL_MAT", "type_a=q4_0,type_b=f32,m=4096x,n=512,k=14336", 1),
                     row("FLASH_ATTN_EXT", "hsk=128,hsv=128,nh=32,nr23=[abc,1],kv=512,nb=512", 2),
                     row("MUL_MAT_ID", "type_a=q4_0,type_b=f32,n_mats=0,n_used=8,b=0,m=768,n=512,k=2048", 3),
                     row("MUL_MAT", "type_a=q4_0,type_b=f32,m=99999999999999999999,n=512,k=14336", 4),
                     row("MUL_MAT", "type_a=q4_0,type_b=f32,m=4096,n=512,k=14336", 5)});
  EXPECT_EQ(c.rows_used, 1u);
  ASSERT_EQ(c.skipped.size(), 4u);
  const char* named[] = {"'m': '4096x'", "'nr23': '[abc,1]'", "'n_used'", "out of range"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(c.skipped[i].line, static_cast<int>(i + 1));
    EXPECT_NE(c.skipped[i].why.find(named[i]), std::string::npos) << c.skipped[i].why;
  }
}

TEST(GapCapacity, RefusesAModelThatDoesNotFitAndSaysWhy) {
  Database db = load_database(database_path());
  const ModelDesc m = model_from_preset("gpt-oss-120b", "MXFP4");
  EXPECT_NEAR(m.weight_bytes() / 1e9, 63.4, 2.0);  // llama-bench prints 59.02 GiB = 63.4 GB
  RunConfig run;
  run.backend = "cuda";
  run.test = "pp512";
  const Calibration none;
  const Prediction p = predict(db.device("rtx-5090"), m, run, none);
  EXPECT_FALSE(p.ok);
  EXPECT_NE(p.refused.find("does not fit"), std::string::npos) << p.refused;
  EXPECT_NE(p.refused.find("32 GB"), std::string::npos) << p.refused;
  EXPECT_TRUE(predict(db.device("dgx-spark"), m, run, none).ok);
  // The refusal comes from the capacity figure: give the 5090 more memory and it predicts.
  DeviceSpec big = db.device("rtx-5090");
  big.memory["capacity"].value = 200;
  EXPECT_TRUE(predict(big, m, run, none).ok);
}

TEST(GapRuntime, ElementwiseFusionFollowsBackendAndBuildDate) {
  auto passes = [](const char* backend, const char* date, bool moe) {
    return elementwise_fusion(backend, parse_build("", date), moe).passes_per_layer;
  };
  auto launches = [](const char* backend, const char* date, bool moe) {
    return elementwise_fusion(backend, parse_build("", date), moe).launches_per_layer;
  };
  // The FFN's GLU runs at the FFN's width (glu_elementwise, expert_elementwise), not here.
  EXPECT_EQ(passes("cuda", "2025-06-01", false), 10);
  EXPECT_EQ(passes("cuda", "2025-10-01", false), 7);  // rms_norm+mul twice, add chains
  EXPECT_EQ(passes("cuda", "2025-06-01", true), 10);
  EXPECT_EQ(passes("cuda", "2025-10-01", true), 7);
  EXPECT_EQ(passes("hip", "2025-10-01", true), passes("cuda", "2025-10-01", true));  // same ggml-cuda sources
  EXPECT_EQ(passes("vulkan", "2025-06-01", false), 10);
  EXPECT_EQ(passes("vulkan", "2025-08-01", false), 8);  // rms_norm+mul, twice per layer
  EXPECT_EQ(passes("vulkan", "2025-09-01", false), 7);  // add chains
  EXPECT_EQ(passes("vulkan", "2025-09-01", true), 7);
  // The router (softmax, argsort, get_rows, normalisation) adds launches, not passes; the
  // top-k MoE kernel folds them into one.
  // A MoE layer: the 10 hidden-width nodes and the router's 4, less the fused ones.
  EXPECT_EQ(launches("cuda", "2025-09-01", true), 10 + 4 - 3);
  EXPECT_EQ(launches("cuda", "2025-10-01", true), 10 + 1 - 3);
  EXPECT_EQ(launches("vulkan", "2025-10-01", true), 10 + 4 - 3);
  EXPECT_EQ(launches("vulkan", "2025-11-01", true), launches("cuda", "2025-10-01", true) - 1);
  // K's rope stored straight into the KV cache: ggml-vulkan from 2025-10-29, ggml-cuda/HIP
  // from 2025-11-13.
  EXPECT_EQ(passes("vulkan", "2025-10-28", false) - passes("vulkan", "2025-10-30", false), 1);
  EXPECT_EQ(passes("cuda", "2025-11-12", false) - passes("cuda", "2025-11-14", false), 1);
  EXPECT_EQ(launches("hip", "2025-11-12", true) - launches("hip", "2025-11-14", true), 1);
}

// build_moe_ffn's expert-width elementwise nodes per token (paths.h, expert_elementwise):
// F = used x n_ff floats per GLU operand, D = used x n_embd per expert output.
TEST(GapRuntime, MoeElementwiseRunsAtExpertWidthAsBuildMoeFfnLaysItOut) {
  auto ew = [](const char* backend, const char* date, double n_embd, double n_ff, double used, bool bias,
               bool gemv = false) {
    return expert_elementwise(backend, parse_build("", date), n_embd, n_ff, used, bias, gemv);
  };
  // Qwen3-30B-A3B: GLU 3F, weights mul 2D, one fused sum pass (used + 1) x n_embd.
  const double F = 8 * 768, D = 8 * 2048;
  EXPECT_DOUBLE_EQ(ew("cuda", "2025-10-01", 2048, 768, 8, false).floats, 3 * F + 2 * D + 9 * 2048);
  EXPECT_DOUBLE_EQ(ew("cuda", "2025-10-01", 2048, 768, 8, false).launches, 3);
  // Before ggml's GLU op: silu, then mul (5F, two kernels).
  EXPECT_DOUBLE_EQ(ew("cuda", "2025-06-01", 2048, 768, 8, false).floats -
                       ew("cuda", "2025-07-01", 2048, 768, 8, false).floats,
                   2 * F);
  // Before the add fusion: used - 1 adds of [n_embd] each reading two and writing one.
  // ggml-vulkan fused them two weeks before ggml-cuda.
  EXPECT_DOUBLE_EQ(ew("cuda", "2025-08-20", 2048, 768, 8, false).floats, 3 * F + 2 * D + 3 * 7 * 2048);
  EXPECT_DOUBLE_EQ(ew("cuda", "2025-08-20", 2048, 768, 8, false).launches, 1 + 1 + 7);
  EXPECT_DOUBLE_EQ(ew("vulkan", "2025-08-20", 2048, 768, 8, false).floats, 3 * F + 2 * D + 9 * 2048);
  // gpt-oss: three add_id bias nodes (2F + 2F + 2D) on a prompt ...
  const double G = 4 * 2880;
  EXPECT_DOUBLE_EQ(ew("cuda", "2025-10-01", 2880, 2880, 4, true).floats,
                   3 * G + 4 * G + 2 * G + 2 * G + 5 * 2880);
  EXPECT_DOUBLE_EQ(ew("cuda", "2025-10-01", 2880, 2880, 4, true).launches, 6);
  EXPECT_DOUBLE_EQ(ew("cuda", "2026-03-01", 2880, 2880, 4, true).floats,
                   ew("cuda", "2025-10-01", 2880, 2880, 4, true).floats);  // prompts: never fused
  // ... which the mat-vec shaders fold in for decode from their fusion PRs on: ggml-cuda's
  // GEMV fusion takes the biases and the GLU, ggml-vulkan the biases, then the weights mul.
  EXPECT_DOUBLE_EQ(ew("cuda", "2025-10-20", 2880, 2880, 4, true, true).launches, 6);
  EXPECT_DOUBLE_EQ(ew("cuda", "2025-10-30", 2880, 2880, 4, true, true).launches, 2);
  EXPECT_DOUBLE_EQ(ew("cuda", "2025-10-30", 2880, 2880, 4, true, true).floats, 2 * G + 5 * 2880);
  EXPECT_DOUBLE_EQ(ew("vulkan", "2025-10-30", 2880, 2880, 4, true, true).launches, 6);
  EXPECT_DOUBLE_EQ(ew("vulkan", "2025-11-05", 2880, 2880, 4, true, true).launches, 3);
  EXPECT_DOUBLE_EQ(ew("vulkan", "2025-11-10", 2880, 2880, 4, true, true).launches, 2);
  EXPECT_DOUBLE_EQ(ew("vulkan", "2025-11-10", 2880, 2880, 4, true, true).floats, 3 * G + 5 * 2880);

  // Wired into the runtime model from the preset: gpt-oss's expert biases and the expert
  // width read from its tensors, times the layers that hold experts.
  const Database db = load_database(database_path());
  auto elementwise_bytes = [&](const ModelDesc& m) {
    return runtime_kernel(db, "dgx-spark", m, "cuda", "2025-10-01", "pp512").bytes;
  };
  ModelDesc oss = model_from_preset("gpt-oss-20b", "MXFP4");
  ASSERT_TRUE(oss.expert_bias);
  const double with_bias = elementwise_bytes(oss);
  oss.expert_bias = false;
  EXPECT_NEAR(with_bias - elementwise_bytes(oss), (4 * G + 2 * G) * 4 * 512 * 24, 1e-6 * with_bias);
  EXPECT_FALSE(model_from_preset("qwen3-30b-a3b", "Q4_K_M").expert_bias);
}

// Qwen3's and Gemma 3's per-head q/k RMS norms: two norms and two multiplies per layer on
// the q- and k-wide tensors, one kernel per norm once rms_norm+mul is fused, none once the
// norm runs inside the rope (ggml-vulkan PR 16977, ggml-cuda PR 26767).
TEST(GapRuntime, QkNormsAreLaunchesUntilTheRopeTakesThemIn) {
  auto qk = [](const char* backend, const char* date) {
    return qk_norm_elementwise(backend, parse_build("", date), 4096, 512);
  };
  EXPECT_DOUBLE_EQ(qk("vulkan", "2025-06-01").launches, 4);
  EXPECT_DOUBLE_EQ(qk("vulkan", "2025-06-01").floats, 4 * (4096 + 512.0));
  EXPECT_DOUBLE_EQ(qk("vulkan", "2025-08-10").launches, 2);
  EXPECT_DOUBLE_EQ(qk("vulkan", "2025-08-10").floats, 2 * (4096 + 512.0));
  EXPECT_DOUBLE_EQ(qk("vulkan", "2025-11-10").launches, 0);
  EXPECT_DOUBLE_EQ(qk("vulkan", "2025-11-10").floats, 0);
  EXPECT_DOUBLE_EQ(qk("hip", "2025-07-20").launches, 4);
  EXPECT_DOUBLE_EQ(qk("hip", "2025-12-21").launches, 2);
  EXPECT_DOUBLE_EQ(qk("cuda", "2026-07-01").launches, 2);
  EXPECT_DOUBLE_EQ(qk("cuda", "2026-08-10").launches, 0);
  EXPECT_DOUBLE_EQ(qk_norm_elementwise("vulkan", parse_build("llama.cpp b6975", ""), 4096, 512).launches, 2);
  EXPECT_DOUBLE_EQ(qk_norm_elementwise("vulkan", parse_build("llama.cpp b6985", ""), 4096, 512).launches, 0);

  // The presets that carry the norms, and the runtime's elementwise launches per token.
  EXPECT_TRUE(model_from_preset("qwen3-30b-a3b", "Q4_K_M").qk_norm);
  EXPECT_TRUE(model_from_preset("gemma3-27b", "Q4_0").qk_norm);
  EXPECT_FALSE(model_from_preset("llama-3-8b", "Q4_0").qk_norm);
  EXPECT_FALSE(model_from_preset("gpt-oss-120b", "MXFP4").qk_norm);
  const Database db = load_database(database_path());
  const ModelDesc m = model_from_preset("qwen3-30b-a3b", "Q6_K");
  auto elementwise_launches = [&](const ModelDesc& desc, const char* date) {
    return runtime_kernel(db, "strix-halo", desc, "vulkan", date, "tg128").launches;
  };
  ModelDesc plain = m;
  plain.qk_norm = false;
  EXPECT_DOUBLE_EQ(elementwise_launches(m, "2025-08-10") - elementwise_launches(plain, "2025-08-10"),
                   2.0 * 48 * 128);
  EXPECT_DOUBLE_EQ(elementwise_launches(m, "2025-12-21"), elementwise_launches(plain, "2025-12-21"));
}

// A dense FFN's GLU reads gate and up and writes their product at the FFN's width, not the
// hidden width; ggml-cuda/HIP apply it inside the decode GEMV from PR 16715.
TEST(GapRuntime, DenseGluRunsAtTheFfnWidth) {
  auto glu = [](const char* backend, const char* date, bool gemv) {
    return glu_elementwise(backend, parse_build("", date), 14336, gemv);
  };
  EXPECT_DOUBLE_EQ(glu("cuda", "2025-07-01", false).floats, 3 * 14336.0);
  EXPECT_DOUBLE_EQ(glu("cuda", "2025-06-01", false).floats, 5 * 14336.0);
  EXPECT_DOUBLE_EQ(glu("cuda", "2025-06-01", false).launches, 2);
  EXPECT_DOUBLE_EQ(glu("cuda", "2025-10-30", true).floats, 0);
  EXPECT_DOUBLE_EQ(glu("hip", "2025-10-30", true).launches, 0);
  EXPECT_DOUBLE_EQ(glu("cuda", "2025-10-30", false).floats, 3 * 14336.0);  // a prompt: unfused
  EXPECT_DOUBLE_EQ(glu("vulkan", "2026-03-01", true).launches, 1);

  const Database db = load_database(database_path());
  const ModelDesc m = model_from_preset("llama-3-8b", "Q4_0");
  auto elementwise_bytes = [&](const char* date) {
    return runtime_kernel(db, "rtx-4090", m, "cuda", date, "pp512").bytes;
  };
  // In decode the fused GEMV runs gate and up as one kernel: the gate launches nothing.
  auto gate_launches = [&](const char* date, const char* test) {
    return runtime_kernel(db, "strix-halo", m, "hip", date, test, "ffn_gate").launches;
  };
  EXPECT_DOUBLE_EQ(gate_launches("2025-10-01", "tg128"), 128.0 * 32);
  EXPECT_DOUBLE_EQ(gate_launches("2025-11-01", "tg128"), 0);
  EXPECT_DOUBLE_EQ(gate_launches("2025-11-01", "pp512"), 32);
  // Only the GLU op landed between these two dates: two fewer reads/writes of [14336] per
  // token and layer.
  EXPECT_NEAR(elementwise_bytes("2025-06-28") - elementwise_bytes("2025-06-30"), 2 * 14336.0 * 4 * 512 * 32,
              1e-6 * elementwise_bytes("2025-06-30"));
}

TEST(GapRuntime, InstructionPathFollowsBackendArchAndBuildDate) {
  const Database db = load_database(database_path());
  const DeviceSpec& spark = db.device("dgx-spark");
  auto path = [&](const DeviceSpec& d, const char* backend, const char* date, const char* family) {
    return instruction_path(d, backend, parse_build("", date), "mm", family).name;
  };
  EXPECT_EQ(path(spark, "cuda", "2025-10-15", "fp4"), "cuda_mmq_int8");  // MXFP4 before PR 17906
  EXPECT_EQ(path(spark, "cuda", "2026-01-15", "fp4"), "cuda_mmq_mxfp4_mma");
  EXPECT_EQ(path(spark, "cuda", "2026-01-15", "quant"), "cuda_mmq_int8");
  // PR 17906's own review table: its master column ran int8 MMQ on the date its branch ran FP4.
  auto spark_run = [&](const char* build) {
    return instruction_path(spark, "cuda", parse_build(build, "2025-12-19"), "mm", "fp4").name;
  };
  EXPECT_EQ(spark_run("llama.cpp c6f6e4f96 (master before #17906)"), "cuda_mmq_int8");
  EXPECT_EQ(spark_run("llama.cpp PR #17906 branch mxfp4 (native MXFP4 MMA)"), "cuda_mmq_mxfp4_mma");
  EXPECT_EQ(spark_run("llama.cpp b7486 (74e05131e)"), "cuda_mmq_mxfp4_mma");
  EXPECT_EQ(path(db.device("h100-sxm"), "cuda", "2026-01-15", "fp4"),
            "cuda_mmq_int8");  // no FP4 MMA on sm_90
  EXPECT_EQ(
      instruction_path(db.device("rtx-4090"), "cuda", parse_build("", "2024-05-01"), "mm", "quant", 32).name,
      "cuda_mmq_dp4a");
  EXPECT_EQ(path(db.device("rtx-4090"), "cuda", "2024-05-01", "quant"),
            "cuda_blas_f16");  // 512 tokens: cuBLAS
  EXPECT_EQ(path(db.device("strix-halo"), "vulkan", "2025-08-01", "quant"), "vulkan_mul_mm_coopmat");
  EXPECT_THROW(path(db.device("strix-halo"), "cuda", "2025-08-01", "quant"), Error);
  EXPECT_EQ(parse_build("llama.cpp b6918 (2f68ce7cf)", "").number, 6918);
  EXPECT_EQ(parse_build("llama.cpp PR #7676 branch", "").number, -1);  // a PR number is not a build
}

// ggml-cuda hands cuBLAS F16 operands with CUBLAS_COMPUTE_16F on NVIDIA (BF16: 32F), so a
// GeForce part runs those GEMMs at its F16-accumulate rate, twice the F32-accumulate one.
TEST(GapRuntime, CublasGemmsOfF16OperandsTakeTheF16AccumulateRateOnNvidia) {
  const Database db = load_database(database_path());
  const BuildRef may24 = parse_build("", "2024-05-01");
  auto cls = [&](const char* dev, const char* backend, const char* family, const char* type) {
    return instruction_path(db.device(dev), backend, may24, "mm", family, 512, 0, type).cls;
  };
  EXPECT_EQ(cls("rtx-4090", "cuda", "quant", "q4_0"), "f16_mma_f16acc");  // dequantized to f16
  EXPECT_EQ(cls("rtx-4090", "cuda", "float", "f16"), "f16_mma_f16acc");
  EXPECT_EQ(cls("rtx-4090", "cuda", "float", "bf16"), "f16_mma_f32acc");
  EXPECT_EQ(cls("strix-halo", "hip", "float", "f16"), "f16_mma_f32acc");
  EXPECT_EQ(cls("strix-halo", "vulkan", "float", "f16"), "f16_mma_f32acc");
  // Every NVIDIA GPU in the database has the rate; a GeForce part's is twice its F32-accumulate
  // one, a data-centre part's the same.
  for (const auto& [key, d] : db.devices) {
    if (d.api == "cuda") {
      EXPECT_GT(d.peak_ops("f16_mma_f16acc"), 0) << key;
    }
  }
  EXPECT_NEAR(
      db.device("rtx-4090").peak_ops("f16_mma_f16acc") / db.device("rtx-4090").peak_ops("f16_mma_f32acc"),
      2.0, 1e-3);  // the whitepaper rounds: 330.3 and 165.2
  EXPECT_DOUBLE_EQ(db.device("h100-pcie").peak_ops("f16_mma_f16acc"),
                   db.device("h100-pcie").peak_ops("f16_mma_f32acc"));

  // A pp512 of F16 Llama-3-8B on the RTX 4090 is priced at the F16-accumulate rate: its GEMM
  // time halves against the same run on the F32-accumulate class.
  RunConfig run;
  run.backend = "cuda";
  run.build = may24;
  run.test = "pp512";
  const Calibration none;
  const ModelDesc m = model_from_preset("llama-3-8b", "F16");
  const Prediction p = predict(db.device("rtx-4090"), m, run, none);
  double gemm_s = 0, gemm_flops = 0;
  for (const auto& k : p.kernels)
    if (k.cls == "f16_mma_f16acc") gemm_s += k.t_compute, gemm_flops += k.flops;
  ASSERT_GT(gemm_s, 0);
  EXPECT_GT(gemm_flops / gemm_s, db.device("rtx-4090").peak_ops("f16_mma_f32acc"));
}

// Without flash attention every KQ score crosses memory several times (paths.h): ggml-cuda
// 20 bytes, ggml-vulkan 16, plus the F32 mask once per (token, KV cell).
TEST(GapRuntime, UnfusedAttentionMovesEachScoreThroughMemoryAsTheBackendDoes) {
  const Database db = load_database(database_path());
  const Calibration none;
  const ModelDesc m = model_from_preset("llama-3-8b", "Q4_0");
  auto attention_bytes = [&](const char* dev, const char* backend, bool fa) {
    RunConfig run;
    run.backend = backend;
    run.build = parse_build("", "2025-06-01");
    run.test = "pp512";
    run.flash_attn = fa;
    const Prediction p = predict(db.device(dev), m, run, none);
    for (const auto& k : p.kernels)
      if (k.group == "attention") return k.bytes;
    return 0.0;
  };
  const double scores = 512.0 * 512 * static_cast<double>(m.heads) * static_cast<double>(m.layers),
               cells = 512.0 * 512 * static_cast<double>(m.layers);
  EXPECT_DOUBLE_EQ(score_bytes_unfused("cuda"), 20);
  EXPECT_DOUBLE_EQ(score_bytes_unfused("vulkan"), 16);
  EXPECT_NEAR(attention_bytes("rtx-4090", "cuda", false) - attention_bytes("rtx-4090", "cuda", true),
              20 * scores + 4 * cells, 1e-6 * scores);
  EXPECT_NEAR(attention_bytes("strix-halo", "vulkan", false) - attention_bytes("strix-halo", "vulkan", true),
              16 * scores + 4 * cells, 1e-6 * scores);
}

// The KV cells an attention kernel computes (paths.h, KvCells): all the ubatch sees without
// flash attention and before each backend's skip landed; up to each query's own position with
// ggml-cuda's KV_max (a sliding-window layer still computes its masked start); only the
// unmasked blocks with ggml-vulkan's block skip.
TEST(GapRuntime, AttentionComputesTheKvCellsItsKernelDoesNotSkip) {
  auto cells = [](const char* backend, const char* date, bool fa) {
    return attention_kv_cells(backend, parse_build("", date), fa);
  };
  EXPECT_EQ(cells("cuda", "2026-06-01", false), KvCells::all);
  EXPECT_EQ(cells("cuda", "2025-07-29", true), KvCells::all);
  EXPECT_EQ(cells("cuda", "2025-07-30", true), KvCells::tail);
  EXPECT_EQ(cells("hip", "2026-06-01", true), KvCells::tail);
  EXPECT_EQ(cells("vulkan", "2025-11-14", true), KvCells::all);
  EXPECT_EQ(cells("vulkan", "2025-11-15", true), KvCells::blocks);

  const Database db = load_database(database_path());
  const Calibration none;
  auto attention_flops = [&](const char* model, const char* dev, const char* backend, const char* date,
                             bool fa, const char* test, int64_t ubatch) {
    RunConfig run;
    run.backend = backend;
    run.build = parse_build("", date);
    run.test = test;
    run.ubatch = ubatch;
    run.flash_attn = fa;
    const ModelDesc m = model_from_preset(model, model[0] == 'g' ? "MXFP4" : "Q4_0");
    for (const auto& k : predict(db.device(dev), m, run, none).kernels)
      if (k.group == "attention") return k.flops;
    return 0.0;
  };
  // Llama-3-8B, one ubatch of 512: all 512 x 512 cells, or the causal half.
  const double causal = 512.0 * 513 / 2, square = 512.0 * 512;
  const double tail = attention_flops("llama-3-8b", "rtx-4090", "cuda", "2025-08-01", true, "pp512", 512);
  EXPECT_NEAR(attention_flops("llama-3-8b", "rtx-4090", "cuda", "2025-07-01", true, "pp512", 512) / tail,
              square / causal, 1e-9);
  EXPECT_NEAR(attention_flops("llama-3-8b", "rtx-4090", "cuda", "2025-08-01", false, "pp512", 512) / tail,
              square / causal, 1e-9);
  // gpt-oss-20b, 12 sliding-window (128) and 12 full layers, one ubatch of 2048: the window's
  // start is skipped only by ggml-vulkan's block skip.
  const double P = 2048.0 * 2049 / 2, windowed = 128.0 * 129 / 2 + (2048.0 - 128) * 128;
  EXPECT_NEAR(attention_flops("gpt-oss-20b", "rtx-4090", "cuda", "2025-08-01", true, "pp2048", 2048) /
                  attention_flops("gpt-oss-20b", "strix-halo", "vulkan", "2025-12-01", true, "pp2048", 2048),
              (12 * P + 12 * P) / (12 * P + 12 * windowed), 1e-9);
  // Two ubatches without flash attention: the second sees its 2048 cells plus 2048 earlier
  // ones in a full layer, plus only the 128 a sliding-window layer's cache keeps.
  const double u = 2048;
  EXPECT_NEAR(attention_flops("gpt-oss-20b", "rtx-4090", "cuda", "2025-08-01", false, "pp4096", 2048) /
                  attention_flops("gpt-oss-20b", "rtx-4090", "cuda", "2025-08-01", false, "pp2048", 2048),
              (12 * (u * u + u * 2 * u) + 12 * (u * u + u * (128 + u))) / (24 * u * u), 1e-9);
}

// A row that names no -fa setting ran with its tools' default: off before llama.cpp PR 15434
// (2025-08-19), on after; an undated row takes today's.
TEST(GapValidate, ARowWithoutAFlashAttentionFlagTakesItsToolsDefault) {
  E2eRow row;
  row.backend = "cuda";
  row.build = "llama.cpp b2824";
  row.date = "2024-05-10";
  EXPECT_FALSE(run_config_of(row).flash_attn);
  row.flags = "fa=1";
  EXPECT_TRUE(run_config_of(row).flash_attn);
  row.flags = "";
  row.date = "2026-03-30";
  EXPECT_TRUE(run_config_of(row).flash_attn);
  row.flags = "fa=0";
  EXPECT_FALSE(run_config_of(row).flash_attn);
  row.flags = "", row.date = "unknown", row.build = "llama.cpp PR #7676 branch";
  EXPECT_TRUE(run_config_of(row).flash_attn);
}

// ggml_cuda_should_use_mmq on RDNA3 from January 2026 (PRs 18537, 18666): Q6_K and Q2_K dense
// GEMMs above a token count go to hipBLAS; expert GEMMs and other types stay on MMQ.
TEST(GapRuntime, RdnaSendsTheTypesWhoseMmqPeaksLowToHipblasAboveATokenCount) {
  const Database db = load_database(database_path());
  auto path = [&](const char* dev, const char* date, const char* kind, const char* type, double tokens) {
    return instruction_path(db.device(dev), "hip", parse_build("", date), kind, "quant", tokens, 512, type)
        .name;
  };
  EXPECT_EQ(path("strix-halo", "2026-03-30", "mm", "q6_K", 512), "hip_blas_f16");
  EXPECT_EQ(path("strix-halo", "2026-03-30", "mm", "q6_K", 256), "hip_mmq_wmma");   // RDNA3.5: up to 256
  EXPECT_EQ(path("rx-7900-xtx", "2026-03-30", "mm", "q6_K", 256), "hip_blas_f16");  // RDNA3.0: up to 128
  EXPECT_EQ(path("strix-halo", "2026-01-07", "mm", "q6_K", 256), "hip_blas_f16");   // before PR 18666
  EXPECT_EQ(path("strix-halo", "2026-03-30", "mm", "q2_K", 256), "hip_blas_f16");
  EXPECT_EQ(path("strix-halo", "2026-03-30", "mm", "iq2_xs", 512), "hip_mmq_wmma");
  EXPECT_EQ(path("rx-7900-xtx", "2026-03-30", "mm", "iq2_xs", 512), "hip_blas_f16");
  EXPECT_EQ(path("strix-halo", "2026-03-30", "mm", "q4_K", 512), "hip_mmq_wmma");
  EXPECT_EQ(path("strix-halo", "2026-03-30", "mm_id", "q6_K", 512), "hip_mmq_wmma");
  EXPECT_EQ(path("strix-halo", "2025-12-21", "mm", "q6_K", 512), "hip_mmq_wmma");  // before PR 18537
}

TEST(GapRuntime, QuantizedWeightsForBlasAreExpandedToF16InAPassOfTheirOwn) {
  const Database db = load_database(database_path());
  RunConfig run;
  run.backend = "cuda";
  run.build = parse_build("", "2023-12-20");  // cuBLAS for 64+ tokens
  run.test = "pp512";
  const Calibration none;
  auto pass_bytes = [&](const char* quant) {
    const ModelDesc m = model_from_preset("llama-2-7b", quant);
    const Prediction p = predict(db.device("rtx-4090"), m, run, none);
    EXPECT_TRUE(p.ok) << p.refused;
    double b = -1;
    for (const auto& k : p.kernels)
      if (k.name == "to_f16 (BLAS)") b = k.bytes;
    return std::pair{b, m};
  };
  // Q4_0: each weight read as 18-byte blocks of 32 and written as 2 bytes, once per layer
  // GEMM; f16 weights go to cuBLAS as they are.
  const auto [q4, m] = pass_bytes("Q4_0");
  double elems = 0;
  for (const auto& t : m.tensors)
    if (t.role != "output") elems += static_cast<double>(t.n * t.k * t.layers);
  EXPECT_NEAR(q4 / (elems * (18.0 / 32 + 2)), 1.0, 1e-9);
  EXPECT_EQ(pass_bytes("F16").first, -1);
  // From tensor-core MMQ on (June 2024) the same GEMMs read the blocks directly.
  run.build = parse_build("", "2025-10-01");
  EXPECT_EQ(pass_bytes("Q4_0").first, -1);
}

TEST(GapRuntime, VulkanExpertGemmsTakeTheLargeTileOnlyWhereItFitsTheDriversSharedMemory) {
  EXPECT_EQ(vulkan_shared_memory_of("device line \"Radeon 8060S Graphics (AMD open-source driver) | uma: 1 | "
                                    "fp16: 1 | warp size: 64 | shared memory: 32768 | int dot: 1\""),
            32768);
  EXPECT_EQ(vulkan_shared_memory_of("(RADV GFX1151) (radv) | uma: 1 | shared memory: 65536 |"), 65536);
  EXPECT_EQ(vulkan_shared_memory_of("fa=0 ngl=99 amdvlk rpc-build"), 32768);
  EXPECT_EQ(vulkan_shared_memory_of("fa=1 radv ngl=99"), 0);

  // The shared-memory rule decides where the vendor leaves the large tile on (NVIDIA's
  // KHR_coopmat shader here).
  const Database db = load_database(database_path());
  const DeviceSpec& ampere = db.device("rtx-3090");
  auto tile = [&](const char* date, int shared, const char* kind, double batch) {
    BuildRef b = parse_build("", date);
    b.vk_shared_bytes = shared;
    b.vk_shader = "coopmat1";
    return instruction_path(ampere, "vulkan", b, kind, "quant", batch / 32, batch).tile_m;
  };
  // Before the row ids left shared memory, 32 KB held only the medium tile.
  EXPECT_EQ(tile("2025-08-17", 32768, "mm_id", 512), 64);
  EXPECT_EQ(tile("2025-08-17", 65536, "mm_id", 512), 128);
  EXPECT_EQ(tile("2025-09-17", 32768, "mm_id", 512), 128);
  EXPECT_EQ(tile("2025-08-17", 32768, "mm", 512), 128);  // dense tiles fit 32 KB
  // The padding follows the tile: 16 tokens per expert fill a quarter of a 64-token tile.
  BuildRef small = parse_build("", "2025-08-17");
  small.vk_shared_bytes = 32768;
  small.vk_shader = "coopmat1";
  const InstrPath p = instruction_path(ampere, "vulkan", small, "mm_id", "quant", 16, 512);
  EXPECT_NEAR(expert_tiles(512, 4, 128, p.tile_m).pad, 0.25, 0.01);
}

TEST(GapRuntime, VulkanOnAmdKeepsTheLargeTileOffAsGgmlsVendorSwitchDoes) {
  const Database db = load_database(database_path());
  const DeviceSpec& strix = db.device("strix-halo");
  auto tile = [&](const char* build, const char* date, int shared, const char* kind,
                  const char* family = "quant") {
    BuildRef b = parse_build(build, date);
    b.vk_shared_bytes = shared;
    return instruction_path(strix, "vulkan", b, kind, family, 512 / 32.0, 512).tile_m;
  };
  // MUL_MAT_ID: the medium tile on every driver and build, whatever its shared memory.
  for (const char* date : {"2025-08-17", "2025-09-17", "2026-05-18"})
    for (int shared : {32768, 65536}) {
      EXPECT_EQ(tile("", date, shared, "mm_id"), 64) << date << " " << shared;
      EXPECT_EQ(tile("", date, shared, "mm_id", "float"), 64) << date << " " << shared;
    }
  // MUL_MAT: the medium tile until PR 18749 turned the large one on for coopmat drivers.
  EXPECT_EQ(tile("", "2025-08-17", 65536, "mm"), 64);
  EXPECT_EQ(tile("", "2025-08-17", 65536, "mm", "float"), 64);
  EXPECT_EQ(tile("", "2026-01-20", 65536, "mm"), 128);
  EXPECT_EQ(tile("llama.cpp b7600", "", 0, "mm"), 64);
  EXPECT_EQ(tile("llama.cpp b7800", "", 0, "mm"), 128);
  // The PR's own table: its "before" column and its branch share a date.
  EXPECT_EQ(tile("llama.cpp master before PR #18749 (commit not shown)", "2026-01-11", 65536, "mm"), 64);
  EXPECT_EQ(tile("llama.cpp PR #18749 branch (AMD coopmat matmul parameters)", "2026-01-11", 65536, "mm"),
            128);
  EXPECT_EQ(tile("llama.cpp PR #18749 branch", "", 0, "mm"), 128);
  EXPECT_EQ(tile("llama.cpp PR #18749 branch", "2026-01-05", 65536, "mm"), 128);  // before the merge
  EXPECT_EQ(tile("llama.cpp PR #187490 branch", "2026-01-05", 65536, "mm"), 64);  // another PR
  EXPECT_NO_THROW(parse_build("llama.cpp PR #123456789012345 branch", ""));       // not a number to read
  // NVIDIA keeps its large dense tile at every build; coopmat2 is not this shader.
  const DeviceSpec& ampere = db.device("rtx-3090");
  BuildRef old = parse_build("", "2025-08-17");
  EXPECT_EQ(instruction_path(ampere, "vulkan", old, "mm", "quant", 512, 512).tile_m, 128);
  // 16 tokens per gpt-oss-120b expert fill a quarter of AMD's 64-token expert tile.
  EXPECT_NEAR(expert_tiles(512, 4, 128, tile("", "2026-05-18", 65536, "mm_id")).pad, 0.25, 0.01);
}

TEST(GapRuntime, RdnaMoeTilesFollowOneExpertsShareFromPrs28552And28935) {
  // ggml_cuda_mul_mat_q picks a MUL_MAT_ID's token tile for ceil(ne12 * n_used / ne02) tokens
  // instead of the batch: RDNA3.0 from PR 28552 (2026-09-07), RDNA3.5 from PR 28935.
  const Database db = load_database(database_path());
  auto width_tile = [&](const char* device, const char* backend, const char* build, const char* date) {
    const DeviceSpec& dev = db.device(device);
    return instruction_path(dev, backend, parse_build(build, date), "mm_id", "quant", 16, 512)
        .expert_width_tile;
  };
  EXPECT_FALSE(width_tile("strix-halo", "hip", "", "2026-09-01"));
  EXPECT_TRUE(width_tile("strix-halo", "hip", "", "2026-09-16"));
  EXPECT_TRUE(width_tile("strix-halo", "hip", "llama.cpp with PR #28935", "2026-09-01"));
  EXPECT_FALSE(width_tile("strix-halo", "hip", "llama.cpp b10000", ""));
  EXPECT_FALSE(width_tile("rx-7900-xtx", "hip", "", "2026-09-06"));
  EXPECT_TRUE(width_tile("rx-7900-xtx", "hip", "", "2026-09-08"));
  EXPECT_FALSE(width_tile("strix-halo", "vulkan", "", "2026-10-01"));  // ggml-vulkan's own rule
  EXPECT_FALSE(width_tile("dgx-spark", "cuda", "", "2026-10-01"));     // RDNA only
  // gpt-oss-120b at ubatch 512: 16 tokens per expert on average, a 16-token tile instead of
  // 128, so the padding drops from 1/8 to the binomial spread around 16.
  const DeviceSpec& strix = db.device("strix-halo");
  const InstrPath before = instruction_path(strix, "hip", parse_build("", "2026-09-01"), "mm_id", "quant", 16,
                                            512),
                  after = instruction_path(strix, "hip", parse_build("", "2026-09-16"), "mm_id", "quant", 16,
                                           512);
  const ExpertGemm old_tiles = expert_gemm(512, 4, 128, 2880, before, 40),
                   new_tiles = expert_gemm(512, 4, 128, 2880, after, 40);
  EXPECT_EQ(old_tiles.x, 128);
  EXPECT_EQ(new_tiles.x, 16);
  EXPECT_GT(new_tiles.wave, 4 * old_tiles.wave);
}

TEST(GapRuntime, AVulkanRunHeldToOneShaderIsPricedOnThatShader) {
  EXPECT_EQ(vulkan_shader_of("ngl=99 fp16"), "scalar");
  EXPECT_EQ(vulkan_shader_of("ngl=99 int-dot"), "int-dot");
  EXPECT_EQ(vulkan_shader_of("ngl=99 fa=1 coopmat2"), "coopmat2");
  EXPECT_EQ(vulkan_shader_of("ngl=99 fa=0 coopmat1"), "coopmat1");
  EXPECT_EQ(vulkan_shader_of("heading 'RTX 3090 (without coopmat or integer dot)': scalar mul_mm shader"),
            "scalar");
  EXPECT_EQ(vulkan_shader_of("coopmat2 shader path, \"before\" block"), "coopmat2");
  // A device line says what the GPU offers, not what the run was held to.
  EXPECT_EQ(
      vulkan_shader_of("ggml_vulkan: NVIDIA GeForce RTX 3090 (NVIDIA) | uma: 0 | fp16: 1 | int dot: 1 | "
                       "matrix cores: KHR_coopmat"),
      "");
  EXPECT_EQ(vulkan_shader_of("fa=1 radv ngl=99 mmap=0"), "");

  const Database db = load_database(database_path());
  const DeviceSpec& ampere = db.device("rtx-3090");
  auto path = [&](const char* shader) {
    BuildRef b = parse_build("", "2025-03-30");
    b.vk_shader = shader;
    return instruction_path(ampere, "vulkan", b, "mm", "quant");
  };
  EXPECT_EQ(path("").name, "vulkan_mul_mm_coopmat");
  EXPECT_EQ(path("coopmat1").name, "vulkan_mul_mm_coopmat");
  EXPECT_EQ(path("coopmat2").name, "vulkan_mul_mm_coopmat2");
  EXPECT_EQ(path("coopmat2").cls, "f16_mma_f16acc");  // ggml-vulkan's f16acc pipelines
  EXPECT_EQ(path("").cls, "f16_mma_f32acc");
  EXPECT_EQ(path("scalar").cls, "f32_fma");
  EXPECT_EQ(path("int-dot").cls, "int8_dot");
  // Different shaders are different kernels: none is another's build era.
  EXPECT_NE(path("scalar").family, path("").family);
  EXPECT_NE(path("coopmat2").family, path("").family);

  // A kernel row noted as the scalar shader calibrates the scalar path, not the coopmat one.
  KernelRow r;
  r.line = 2;
  r.device = "rtx-3090";
  r.backend = "vulkan";
  r.build = "llama.cpp master";
  r.date = "2025-10-20";
  r.op = "MUL_MAT";
  r.p = {{"type_a", "q4_0"}, {"m", "4096"}, {"n", "512"}, {"k", "14336"}};
  r.value = 20;
  r.unit = "TFLOPS";
  r.notes = "scalar mul_mm shader";
  const Calibration cal = calibrate(db, {r});
  ASSERT_EQ(cal.groups.size(), 1u);
  EXPECT_EQ(cal.groups.begin()->second.path, "vulkan_mul_mm_scalar");
}

// No kernel row of the project runs above the peak of the class it is priced at, once the
// class and the units its tiles spread over are the ones the code and hardware use: the RTX
// 3090's coopmat2 rows (KN6, near 70 TFLOPS) ran ggml-vulkan's f16acc pipelines (GA102: 142,
// not the F32-accumulate 71), and a lone MMQ tile on gfx1151 (KS rows, 8 tiles of m=1024)
// used a whole WGP under HIP's WGP mode, not one CU.
TEST(GapCalibration, NoKernelRowOfTheProjectRunsAboveItsClassPeak) {
  const Database db = load_database(database_path());
  const Calibration cal =
      calibrate(db, read_kernel_csv(std::string(XK_SOURCE_DIR) + "/tools/measurements/kernels.csv"));
  int coopmat2 = 0;
  for (const auto& [key, g] : cal.groups) {
    EXPECT_LE(g.hi(), 1.0) << key;
    if (g.device == "rtx-3090" && g.path == "vulkan_mul_mm_coopmat2") {
      ++coopmat2;
      EXPECT_EQ(g.cls, "f16_mma_f16acc") << key;
    }
  }
  EXPECT_EQ(coopmat2, 1);
  EXPECT_DOUBLE_EQ(tile_units(db.device("strix-halo"), "hip"), 20);     // 40 CUs, 20 WGPs
  EXPECT_DOUBLE_EQ(tile_units(db.device("strix-halo"), "vulkan"), 20);  // RADV: WGP mode too
  EXPECT_DOUBLE_EQ(tile_units(db.device("rtx-4090"), "cuda"), 128);
}

TEST(GapCalibration, AnotherDevicesMulMatIdToMulMatRatioCarriesOverForTheSameKernel) {
  const Database db = load_database(database_path());
  auto row = [](const char* device, const char* op, const std::string& params, double tflops, int line) {
    return kernel_row(device, "cuda", "llama.cpp b7500", op, params, tflops, "TFLOPS", line);
  };
  const std::string dense = "type_a=q4_0,type_b=f32,m=4096,k=4096,n=";
  std::vector<KernelRow> rows = {
      row("rtx-3090", "MUL_MAT", dense + "128", 60, 2),
      row("rtx-3090", "MUL_MAT", dense + "512", 80, 3),
      row("rtx-4090", "MUL_MAT", dense + "128", 150, 4),
      row("rtx-4090", "MUL_MAT", dense + "512", 200, 5),
  };
  const Database& d = db;
  const InstrPath path = instruction_path(d.device("rtx-4090"), "cuda", parse_build("b7500", "2026-01-01"),
                                          "mm_id", "quant", 16, 512);
  const double x = expert_gemm(512, 4, 128, 2880, path, 1).x;  // the batch's token tile, 128
  ASSERT_EQ(x, 128);
  const CalLookup before =
      calibrate(d, rows).lookup(d.device("rtx-4090"), "cuda", path, "mm_id", x, "2026-01-01");
  EXPECT_EQ(before.how.find("MUL_MAT_ID /"), std::string::npos) << before.how;
  // The 3090 also measured the expert GEMM of that build: its rate over its dense rate at
  // the same tile scales the 4090's dense curve.
  rows.push_back(row("rtx-3090", "MUL_MAT_ID",
                     "type_a=q4_0,type_b=f32,n_mats=128,n_used=4,b=0,m=2880,n=512,k=2880", 9, 6));
  const Calibration cal = calibrate(d, rows);
  const CalLookup after = cal.lookup(d.device("rtx-4090"), "cuda", path, "mm_id", x, "2026-01-01");
  const CalGroup& ids = cal.groups.at("rtx-3090|cuda|" + path.name + "|mm_id");
  const CalGroup& mm = cal.groups.at("rtx-3090|cuda|" + path.name + "|mm");
  std::string ignored;
  const double ratio = ids.eval(x, "2026-01-01", "", ignored) / mm.eval(x, "2026-01-01", "", ignored);
  EXPECT_NEAR(after.eff, before.eff * ratio, 1e-9);
  EXPECT_NE(after.how.find("rtx-3090's MUL_MAT_ID / MUL_MAT"), std::string::npos) << after.how;
  EXPECT_FALSE(after.calibrated);
}

TEST(GapCalibration, TinyElementwiseTimesSetThePerKernelCostOfTheirBackendAndBuild) {
  const Database db = load_database(database_path());
  const DeviceSpec& strix = db.device("strix-halo");
  std::vector<KernelRow> rows;
  auto add = [&](const std::string& op, const std::string& params, double us, const std::string& date) {
    KernelRow r = kernel_row("strix-halo", "vulkan", "llama.cpp master", op, params, us, "us/run",
                             400 + static_cast<int>(rows.size()));
    r.date = date;
    r.source = "https://example.org/pull/4 (description)";
    rows.push_back(r);
  };
  add("ADD", "type=f32,ne=[4096,1,1,1],nr=[1,1,1,1]", 3.0, "2026-01-01");
  add("RMS_NORM", "type=f32,ne=[4096,1,1,1],v=0,eps=0.000001", 3.4, "2026-01-01");
  add("ADD", "type=f32,ne=[4096,1,1,1],nr=[1,1,1,1]", 6.0, "2025-06-01");
  // 2 M elements: an op whose bytes, not its dispatch, can take the time.
  add("ADD", "type=f32,ne=[4096,512,1,1],nr=[1,1,1,1]", 400, "2026-01-01");
  const Calibration cal = calibrate(db, rows);
  ASSERT_EQ(cal.skipped.size(), 1u);
  EXPECT_EQ(cal.skipped[0].line, 403);
  double us = 0;
  std::string how;
  // Each time less its 48 kB at the bandwidth.
  const double bytes_us = 4096 * kDispatchBytesPerElement / strix.bandwidth_bytes() * 1e6;
  ASSERT_TRUE(cal.dispatch_us("strix-halo", "vulkan", "2026-02-01", us, how));
  EXPECT_NEAR(us, 3.2 - bytes_us, 1e-9) << how;
  ASSERT_TRUE(cal.dispatch_us("strix-halo", "vulkan", "2025-05-01", us, how));
  EXPECT_NEAR(us, 6.0 - bytes_us, 1e-9) << how;
  EXPECT_FALSE(cal.dispatch_us("strix-halo", "hip", "2026-02-01", us, how));
  // The runtime model charges it to every kernel of a run on that backend, not on another.
  const ModelDesc m = model_from_preset("qwen3-30b-a3b", "Q4_K_M");
  RunConfig run;
  run.backend = "vulkan";
  run.build = parse_build("", "2026-02-01");
  run.test = "tg128";
  const Prediction p = predict(strix, m, run, cal);
  ASSERT_TRUE(p.ok) << p.refused;
  EXPECT_NEAR(p.launch_us, 3.2 - bytes_us, 1e-9);
  EXPECT_NE(p.launch_how.find("calibrated"), std::string::npos) << p.launch_how;
  for (const auto& k : p.kernels) EXPECT_NEAR(k.t_launch, k.launches * p.launch_us * 1e-6, 1e-12) << k.name;
  run.backend = "hip";
  const Prediction h = predict(strix, m, run, cal);
  ASSERT_TRUE(h.ok) << h.refused;
  EXPECT_DOUBLE_EQ(h.launch_us, strix.launch_overhead.value);
}

TEST(GapRuntime, MoeStreamsHitExpertsOncePerUbatch) {
  const Database db = load_database(database_path());
  const ModelDesc m = model_from_preset("gpt-oss-120b", "MXFP4");
  RunConfig run;
  run.backend = "cuda";
  run.build = parse_build("", "2025-10-15");
  run.test = "pp2048";
  const Calibration none;
  auto expert_bytes = [&](int64_t ubatch) {
    run.ubatch = ubatch;
    const Prediction p = predict(db.device("dgx-spark"), m, run, none);
    double b = 0;
    for (const auto& k : p.kernels)
      if (k.group == "moe") b += k.bytes;
    return b;
  };
  // 4 chunks of 512 tokens hit (nearly) all 128 experts each time, one chunk of 2048 once:
  // three more passes over every expert weight; the per-token gather traffic is the same.
  double expert_weights = 0;
  for (const auto& t : m.tensors)
    if (t.is_expert()) expert_weights += t.bytes();
  EXPECT_NEAR((expert_bytes(512) - expert_bytes(2048)) / expert_weights, 3.0, 1e-3);
}

TEST(GapRuntime, ExpertGemmsPadEveryExpertToTheBatchsTokenTile) {
  // gpt-oss-120b at ubatch 512: 128 experts, 4 per token, 16 tokens per expert on average;
  // ggml picks the token tile for all 512 tokens (128), so each hit expert runs one full
  // 128-wide tile: 2048 useful columns in about 128 x 128 occupied ones.
  const ExpertTiles moe = expert_tiles(512, 4, 128, 128);
  EXPECT_EQ(moe.tile, 128);
  EXPECT_NEAR(moe.col_tiles, 128.0, 0.01);
  EXPECT_NEAR(moe.pad, 2048.0 / (128 * 128), 1e-3);
  // One expert that every token uses is a dense GEMM: 200 tokens in 2 tiles of 104.
  const ExpertTiles dense = expert_tiles(200, 1, 1, 128);
  EXPECT_EQ(dense.tile, 104);
  EXPECT_NEAR(dense.col_tiles, 2.0, 1e-12);
  EXPECT_NEAR(dense.pad, 200.0 / 208, 1e-12);
  // At ubatch 2048 the 64 tokens per expert spread over ceil(c/128) tiles: the mean of
  // that over Binomial(2048, 1/32) is 1 plus the small chance of c > 128.
  const ExpertTiles big = expert_tiles(2048, 4, 128, 128);
  EXPECT_GT(big.pad, 0.49);
  EXPECT_LT(big.pad, 0.5);
  // With one wave on a stream-K path only the padding remains.
  EXPECT_NEAR(moe_wave_factor(512, 4, 128, 2880, 128, 128, 1), moe.pad * 2880 / (23 * 128), 1e-9);
}

TEST(GapRuntime, MulMatIdLoopsOverExpertsWhereTheBatchedMmqIsNotTaken) {
  const Database db = load_database(database_path());
  const DeviceSpec& strix = db.device("strix-halo");
  const DeviceSpec& ada = db.device("rtx-4090");
  auto loops = [](const DeviceSpec& d, const char* backend, const char* date, double batch) {
    return instruction_path(d, backend, parse_build("", date), "mm_id", "quant", 16, batch).per_expert;
  };
  // RDNA3 before WMMA MMQ: 64 tokens or more leave the batched MMQ (should_use_mmq on ne12).
  EXPECT_TRUE(loops(strix, "hip", "2025-09-17", 512));
  EXPECT_FALSE(loops(strix, "hip", "2025-09-17", 32));
  EXPECT_FALSE(loops(strix, "hip", "2026-02-01", 512));
  // CUDA looped over experts until the batched MoE MMQ (PR 13199, May 2025).
  EXPECT_TRUE(loops(ada, "cuda", "2025-01-15", 512));
  EXPECT_FALSE(loops(ada, "cuda", "2025-09-01", 512));
  // Dense GEMMs and vector-sized batches never loop.
  EXPECT_FALSE(
      instruction_path(strix, "hip", parse_build("", "2025-09-17"), "mm", "quant", 16, 512).per_expert);
  EXPECT_FALSE(loops(strix, "hip", "2025-09-17", 8));

  // One expert that takes all 200 tokens: its own GEMM, tiled for 200 (4 tiles of 56 out of
  // mmq_x 64), over 256 weight rows (2 row tiles of 128): 8 tiles fill one wave of 40 CUs.
  InstrPath dp4a{"hip_mmq_dp4a", "int8_dot", 64, 128, ""};
  dp4a.per_expert = true;
  const ExpertGemm one = expert_loop_gemm(200, 1, 1, 256, dp4a, 40, 0, 1e9);
  EXPECT_NEAR(one.x, 56, 1e-9);
  EXPECT_NEAR(one.wave, 200.0 * 256 / (40.0 * 56 * 128), 1e-9);
  EXPECT_NEAR(one.launches, 2, 1e-9);
  EXPECT_NEAR(one.share, 1, 1e-9);
  // gpt-oss-120b at 512 tokens: each of the 128 experts gets about 16 tokens and a tile
  // fitted to them, not the batch's tile; the expert GEMMs split at 64 tokens cover every
  // pair once; expert_gemm adds the loop's 4 fixed launches.
  const ExpertGemm lo = expert_loop_gemm(512, 4, 128, 2880, dp4a, 40, 0, 64),
                   hi = expert_loop_gemm(512, 4, 128, 2880, dp4a, 40, 64, 513);
  EXPECT_GT(lo.x, 16);
  EXPECT_LT(lo.x, 24);
  EXPECT_NEAR(lo.share + hi.share, 1.0, 1e-6);
  EXPECT_NEAR(lo.hit + hi.hit, 128.0, 1e-3);
  EXPECT_NEAR(expert_gemm(512, 4, 128, 2880, dp4a, 40).launches, 2 * 128 + 4, 1e-3);
  // The batched path pads each expert to the batch's tile instead: a lower fill.
  InstrPath batched = dp4a;
  batched.per_expert = false;
  EXPECT_LT(expert_gemm(512, 4, 128, 2880, batched, 40).wave, lo.wave);
}

TEST(GapCalibration, ForkBuildsAreNotUpstreamAndVectorRowsStandOnlyForTheirType) {
  EXPECT_TRUE(is_fork_build("unslothai/llama.cpp base (commit not stated)"));
  EXPECT_TRUE(is_fork_build("AMD-Ecosystem/llama.cpp gfx11 baseline (fork of llama.cpp)"));
  EXPECT_TRUE(is_fork_build("halo-box/strix-llama.cpp master (commit not stated)"));
  EXPECT_FALSE(is_fork_build("llama.cpp b6918 (2f68ce7cf)"));
  EXPECT_FALSE(is_fork_build("llama.cpp master at PR time (commit not stated)"));
  EXPECT_FALSE(is_fork_build("ggml-org/llama.cpp b7000"));
  EXPECT_TRUE(is_branch_build("unslothai/llama.cpp base (commit not stated)"));

  CalGroup g;
  g.points.push_back({1, 0.01, 2, "llama.cpp b7000", "s", "2026-01-01", false, "iq1_m"});
  g.points.push_back({512, 0.3, 3, "llama.cpp b7000", "s", "2026-01-01", false, "iq1_m"});
  g.curve = {{1, 0.01}, {512, 0.3}};
  EXPECT_TRUE(g.covers(1, "iq1_m"));
  EXPECT_FALSE(g.covers(1, "q4_0"));   // an ALU-bound iq1 vector kernel says nothing of q4_0's
  EXPECT_TRUE(g.covers(512, "q4_0"));  // tiled kernels: other types still stand in
  EXPECT_TRUE(g.covers(1, ""));
}

}  // namespace
}  // namespace xk::gap
