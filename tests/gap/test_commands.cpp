// explain / compare / report driven the way `xk` drives them: add_commands on a CLI11 app,
// then argv. Output is captured from std::cout.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "gap/commands.h"
#include "gap/model.h"
#include "run_xk.h"
#include "xk/error.h"

namespace xk::gap {
namespace {
namespace fs = std::filesystem;

using test_driver::run_xk;

fs::path temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("xk_gap_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// A bench JSON in the shape `xk bench --json` writes (bench/bench.h names and counters).
nlohmann::json bench_json(const std::string& device, double qkv_ms) {
  const double flops = 2.0 * 512 * 10240 * 8192;
  nlohmann::json j;
  j["context"] = {{"executable", "xk"}};
  j["benchmarks"] = nlohmann::json::array();
  j["benchmarks"].push_back({{"name", "matmul/llama3-70b/qkv/pp512/q4_0/q8/" + device + "/manual_time"},
                             {"run_type", "iteration"},
                             {"iterations", 3},
                             {"real_time", qkv_ms},
                             {"time_unit", "ms"},
                             {"flops", flops},
                             {"bytes", 6.0e7},
                             {"tokens", 512},
                             {"FLOP/s", flops / (qkv_ms * 1e-3)},
                             {"label", "variant=x act=q8 timer=device"}});
  j["benchmarks"].push_back({{"name", "matmul/small/M64_N1024_K1024/q4_0/f32/" + device + "/manual_time"},
                             {"run_type", "iteration"},
                             {"iterations", 10},
                             {"real_time", 2.0},
                             {"time_unit", "ms"},
                             {"FLOP/s", 2.0 * 64 * 1024 * 1024 / 2e-3},
                             {"bytes/s", 1.0e6 / 2e-3}});
  j["benchmarks"].push_back({{"name", "matmul/llama3-70b/o/pp512/q4_0/q8/" + device},
                             {"error_occurred", true},
                             {"error_message", "skipped"}});
  return j;
}

TEST(GapExplain, PrintsEveryFactorAndTheGapClosersInUnderASecond) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string out =
      run_xk({"explain", "--devices", "dgx-spark,strix-halo", "--model", "llama3-70b", "--format", "q4_0"});
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(secs, 1.0);
  for (const char* needle :
       {"peak-rate ratio", "achieved efficiency ratio", "memory-bound share", "attention share", "product",
        "What would close the gap", "mmq_wmma_iu4", "mmq_fp4", "qkv", "gate_up", "attention", "tok/s"})
    EXPECT_NE(out.find(needle), std::string::npos) << "missing '" << needle << "' in:\n" << out;
}

TEST(GapExplain, WritesJsonWhoseFactorsMultiplyBack) {
  const fs::path dir = temp_dir("explain");
  run_xk({"explain", "--workload", "pp2048", "--json", (dir / "e.json").string()});
  std::ifstream in(dir / "e.json");
  nlohmann::json j;
  in >> j;
  ASSERT_EQ(j["decompositions"].size(), 1u);
  double product = 1;
  for (const auto& f : j["decompositions"][0]["factors"]) product *= f["value"].get<double>();
  EXPECT_NEAR(product / j["decompositions"][0]["ratio"].get<double>(), 1.0, 1e-9);
  EXPECT_GE(j["scenarios"].size(), 4u);
  fs::remove_all(dir);
}

TEST(GapExplain, BadArgumentsAreErrorsNotCrashes) {
  EXPECT_THROW(run_xk({"explain", "--devices", "dgx-spark"}), Error);
  EXPECT_THROW(run_xk({"explain", "--devices", "dgx-spark,nonesuch"}), Error);
  EXPECT_THROW(run_xk({"explain", "--model", "nonesuch"}), Error);
  EXPECT_THROW(run_xk({"compare", "/nonexistent/a.json", "/nonexistent/b.json"}), Error);
}

TEST(GapExplain, PerDeviceListsNeedOneValuePerDevice) {
  // --backends / --dates / --builds pair with --devices by position; a list of another length
  // used to apply to the first devices only, or drop its extra values, silently.
  auto refused = [](std::vector<std::string> args, const std::string& option) {
    args.insert(args.begin(), {"explain", "--model", "gpt-oss-120b", "--devices", "dgx-spark,strix-halo"});
    try {
      run_xk(args);
    } catch (const Error& e) {
      const std::string what = e.what();
      return what.find("'" + option + "'") != std::string::npos &&
             what.find("2 device(s)") != std::string::npos;
    }
    return false;
  };
  EXPECT_TRUE(refused({"--backends", "cuda"}, "backends"));
  EXPECT_TRUE(refused({"--dates", "2025-10-15"}, "dates"));
  EXPECT_TRUE(refused({"--builds", "b1,b2,b3"}, "builds"));
  EXPECT_NO_THROW(
      run_xk({"explain", "--model", "gpt-oss-120b", "--devices", "dgx-spark,strix-halo", "--backends",
              "cuda,vulkan", "--dates", "2025-10-15,2025-10-15", "--builds", "b6763,b6763"}));
}

TEST(GapBenchJson, ParsesNamesCountersAndRatesAndSkipsErrors) {
  const BenchFile f = parse_bench_json(bench_json("cpu-ref", 4.0), "mem");
  ASSERT_EQ(f.entries.size(), 2u);
  const BenchEntry& e = f.entries[0];
  EXPECT_EQ(e.op, "matmul");
  EXPECT_EQ(e.model, "llama3-70b");
  EXPECT_EQ(e.gemm, "qkv");
  EXPECT_EQ(e.workload, "pp512");
  EXPECT_EQ(e.format, "q4_0");
  EXPECT_EQ(e.act, "q8");
  EXPECT_EQ(e.device, "cpu-ref");
  EXPECT_DOUBLE_EQ(e.seconds, 4e-3);
  EXPECT_DOUBLE_EQ(e.flops, 2.0 * 512 * 10240 * 8192);
  // Rates only: per-iteration amounts are rate * time.
  EXPECT_NEAR(f.entries[1].flops, 2.0 * 64 * 1024 * 1024, 1.0);
  EXPECT_NEAR(f.entries[1].bytes, 1.0e6, 1e-6);
  EXPECT_THROW(parse_bench_json(nlohmann::json::object(), "x.json"), Error);
}

TEST(GapBenchJson, SimulatorCountersCheckTheTilingFormulaButNeverCountAsTimes) {
  // One launch of a 64x64-tiled Q4_0 x q8 GEMM at M=64, N=K=1024 on cuda-sim.
  //   formula = W 1024*1024*18/32 * ceil(64/64) + X_q 64*1024*34/32 * ceil(1024/64) + Y 64*1024*4
  //           = 589,824 + 1,114,112 + 262,144 = 1,966,080 B
  nlohmann::json j;
  j["benchmarks"] = nlohmann::json::array();
  j["benchmarks"].push_back({{"name", "matmul/small/M64_N1024_K1024/q4_0/q8/cuda-sim/manual_time"},
                             {"real_time", 900.0},
                             {"time_unit", "ms"},
                             {"flops", 2.0 * 64 * 1024 * 1024},
                             {"global_bytes_read", 1.7e6},
                             {"global_bytes_written", 262144.0},
                             {"mma", 4096.0},
                             {"label", "variant=mmq_q4_0_q8_64x64_mma_sm80 act=q8 timer=wall"}});
  j["benchmarks"].push_back({{"name", "matmul/llama3-70b/qkv/pp512/q4_0/q8/cuda-sim/manual_time"},
                             {"real_time", 1.0},
                             {"time_unit", "s"},
                             {"flops", 1.0},
                             {"global_bytes_read", 1.0}});
  const BenchFile f = parse_bench_json(j, "sim");
  ASSERT_EQ(f.entries.size(), 2u);
  EXPECT_TRUE(f.entries[0].simulated());
  EXPECT_EQ(f.entries[0].variant, "mmq_q4_0_q8_64x64_mma_sm80");
  const auto checks = traffic_checks(f);
  ASSERT_EQ(checks.size(), 1u);  // the second entry's variant names no tile
  EXPECT_EQ(checks[0].tile_m, 64);
  EXPECT_EQ(checks[0].tile_n, 64);
  EXPECT_DOUBLE_EQ(checks[0].formula_bytes, 1966080.0);
  EXPECT_DOUBLE_EQ(checks[0].simulator_bytes, 1.7e6 + 262144.0);
  // A simulated time (CPU seconds) must never replace a prediction.
  const Database db = load_database(database_path());
  const Estimate e = estimate(db.device("dgx-spark"), "llama3-70b", "q4_0", "pp512", {}, &f, "cuda-sim");
  for (const auto& k : e.kernels) EXPECT_FALSE(k.measured) << k.name;
}

TEST(GapCompare, MixesMeasuredAndPredictedKernelsAndSaysWhich) {
  const fs::path dir = temp_dir("compare");
  std::ofstream(dir / "a.json") << bench_json("cuda:0", 0.9).dump();
  std::ofstream(dir / "b.json") << bench_json("hip:0", 3.5).dump();
  const std::string out = run_xk(
      {"compare", (dir / "a.json").string(), (dir / "b.json").string(), "--devices", "dgx-spark,strix-halo"});
  EXPECT_NE(out.find("2 of 12 kernel times are measured"), std::string::npos) << out;
  EXPECT_NE(out.find("measured: matmul/llama3-70b/qkv/pp512/q4_0/q8/cuda:0"), std::string::npos) << out;
  EXPECT_NE(out.find("achieved efficiency ratio"), std::string::npos) << out;
  // A GPU bench device cannot be mapped to the database without --devices.
  EXPECT_THROW(run_xk({"compare", (dir / "a.json").string(), (dir / "b.json").string()}), Error);
  fs::remove_all(dir);
}

TEST(GapCompare, MeasuredTimeReplacesThePrediction) {
  const Database db = load_database(database_path());
  const BenchFile f = parse_bench_json(bench_json("cuda:0", 0.9), "a");
  const Estimate pred = estimate(db.device("dgx-spark"), "llama3-70b", "q4_0", "pp512");
  const Estimate meas = estimate(db.device("dgx-spark"), "llama3-70b", "q4_0", "pp512", {}, &f, "cuda:0");
  ASSERT_TRUE(meas.kernels[0].measured);
  EXPECT_FALSE(pred.kernels[0].measured);
  // 0.9 ms per layer x 80 layers + 80 launches x 5 us.
  EXPECT_NEAR(meas.kernels[0].time, 0.9e-3 * 80 + 80 * 5e-6, 1e-12);
  EXPECT_DOUBLE_EQ(meas.kernels[1].time, pred.kernels[1].time);
}

TEST(GapReport, WritesMarkdownAndDataWithoutPlots) {
  const fs::path dir = temp_dir("report_md");
  std::ofstream(dir / "this.json") << bench_json("cpu-ref", 400.0).dump();
  ReportArgs args;
  args.bench = (dir / "this.json").string();
  args.out_dir = (dir / "out").string();
  args.plots = false;
  std::ostringstream out;
  run_report(args, out);
  std::ifstream md(dir / "out" / "report.md");
  std::stringstream text;
  text << md.rdbuf();
  EXPECT_NE(text.str().find("Decomposition of the gap"), std::string::npos);
  EXPECT_NE(text.str().find("roofline_this-cpu.png"), std::string::npos);
  EXPECT_NE(text.str().find("roofline_dgx-spark.png"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "out" / "report_data.json"));
  fs::remove_all(dir);
}

TEST(GapReport, DrawsTheRooflinesAndTimeBarsWithMatplotlib) {
  if (python_for_plots().empty())
    GTEST_SKIP() << "no python3 with matplotlib (Debian package python3-matplotlib)";
  const fs::path dir = temp_dir("report_png");
  std::ofstream(dir / "this.json") << bench_json("cpu-ref", 400.0).dump();
  run_xk({"report", "--bench", (dir / "this.json").string(), "--devices", "dgx-spark,strix-halo", "--out",
          (dir / "out").string()});
  for (const char* png :
       {"roofline_this-cpu.png", "roofline_dgx-spark.png", "roofline_strix-halo.png", "pp_time.png"}) {
    EXPECT_TRUE(fs::exists(dir / "out" / png)) << png;
    if (fs::exists(dir / "out" / png)) {
      EXPECT_GT(fs::file_size(dir / "out" / png), 10000u) << png;
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace xk::gap
