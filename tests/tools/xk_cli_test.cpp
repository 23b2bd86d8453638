// The xk binary, run as a user would: `xk devices --json`, `xk bench --json`, `xk profile`.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

struct Output {
  int status = -1;
  std::string text;
};

// Runs a shell command; `text` is its stdout (stderr too when merge is set).
Output run(const std::string& cmd, bool merge = false) {
  Output o;
  FILE* p = popen((cmd + (merge ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (!p) return o;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.text.append(buf, n);
  const int st = pclose(p);
  o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return o;
}

const std::string kXk = XK_TOOL_EXE;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(XkDevices, JsonListsCpuRefWithInfoAndVariants) {
  const Output o = run(kXk + " devices --json");
  ASSERT_EQ(o.status, 0) << o.text;
  const auto j = nlohmann::json::parse(o.text);
  bool found = false;
  for (const auto& d : j.at("devices")) {
    EXPECT_TRUE(d.contains("name") && d.contains("api") && d.contains("available") && d.contains("reason"));
    if (!d.at("available").get<bool>()) {
      EXPECT_FALSE(d.at("reason").get<std::string>().empty()) << d.dump();
    }
    if (d.at("name") != "cpu-ref") continue;
    found = true;
    EXPECT_TRUE(d.at("available").get<bool>());
    EXPECT_EQ(d.at("info").at("name"), "cpu-ref");
    ASSERT_FALSE(d.at("variants").empty());
    EXPECT_TRUE(d.at("variants")[0].contains("min_arch"));
  }
  EXPECT_TRUE(found) << o.text;
}

TEST(XkDevices, TextTablePrintsVariantTable) {
  const Output o = run(kXk + " devices");
  ASSERT_EQ(o.status, 0);
  EXPECT_TRUE(contains(o.text, "kernel variants:")) << o.text;
  EXPECT_TRUE(contains(o.text, "mm_all_all_1x1_scalar_ref_cpu")) << o.text;
}

TEST(XkBench, JsonIsGoogleBenchmarkFormatWithRateCounters) {
  const auto file =
      std::filesystem::temp_directory_path() / ("xk_bench_test_" + std::to_string(getpid()) + ".json");
  const Output o = run(
      kXk + " bench --device cpu-ref --set small --filter 'M1_N1024_K1024/q8_0/q8/' --min-time 0.01 --json " +
      file.string());
  ASSERT_EQ(o.status, 0) << o.text;
  EXPECT_TRUE(contains(o.text, "FLOP/s")) << "the table is printed";
  std::ifstream in(file);
  ASSERT_TRUE(in) << "no JSON written to " << file;
  const auto j = nlohmann::json::parse(in);
  std::filesystem::remove(file);
  ASSERT_TRUE(j.contains("context"));
  ASSERT_EQ(j.at("benchmarks").size(), 1u);
  const auto& b = j.at("benchmarks")[0];
  EXPECT_EQ(b.at("name"), "matmul/small/M1_N1024_K1024/q8_0/q8/cpu-ref/manual_time");
  EXPECT_EQ(b.at("run_type"), "iteration");
  EXPECT_DOUBLE_EQ(b.at("flops").get<double>(), 2.0 * 1 * 1024 * 1024);
  // Q8_0 W 1024 rows * 32 blocks * 34 B + X 1024 * 4 B + Y 1024 * 4 B.
  EXPECT_DOUBLE_EQ(b.at("bytes").get<double>(), 1024.0 * 32 * 34 + 4096 + 4096);
  for (const char* k : {"FLOP/s", "bytes/s", "tok/s", "real_time", "iterations"})
    EXPECT_TRUE(b.contains(k)) << k;
  // A rate is the per-iteration amount over the per-iteration time (time_unit us).
  const double secs = b.at("real_time").get<double>() * 1e-6;
  EXPECT_NEAR(b.at("FLOP/s").get<double>(), b.at("flops").get<double>() / secs,
              1e-6 * b.at("FLOP/s").get<double>());
  EXPECT_TRUE(contains(b.at("label").get<std::string>(), "variant=mm_all_all_1x1_scalar_ref_cpu"));
}

TEST(XkBench, UnknownDeviceFailsWithTheRegistryReason) {
  const Output o = run(kXk + " bench --device nosuch:3", true);
  EXPECT_NE(o.status, 0);
  EXPECT_TRUE(contains(o.text, "open_device")) << o.text;
}

// A NaN --min-time used to reach Google Benchmark and never end; now it is refused up front.
TEST(XkBench, ANonPositiveOrNanRunLengthIsRefusedBeforeAnythingRuns) {
  for (const char* bad :
       {"--min-time nan", "--min-time -1", "--iterations 0", "--shape 0,64,64 --op matmul"}) {
    const Output o =
        run("timeout 60 " + kXk + " bench --device cpu-ref -q " + bad, true);  // a hang fails too
    EXPECT_NE(o.status, 0) << bad;
    EXPECT_TRUE(contains(o.text, "argument '")) << bad << ": " << o.text;
  }
}

TEST(XkBench, FilterMatchingNothingIsAnError) {
  const Output o = run(kXk + " bench --device cpu-ref --filter no-such-benchmark", true);
  EXPECT_NE(o.status, 0);
  EXPECT_TRUE(contains(o.text, "no benchmark matches")) << o.text;
}

// The kernel to profile on `device`: where the device opens here (a GPU box, or lavapipe for
// vulkan:0) the name must come from its table, so take its first matmul variant; otherwise
// any name is accepted and the made-up one below stands in.
struct Kernel {
  std::string name, format, act;
  bool device_here = false;
};
Kernel kernel_for(const std::string& device, Kernel fallback) {
  const Output o = run(kXk + " devices --json");
  if (o.status != 0) return fallback;
  for (const auto& d : nlohmann::json::parse(o.text).at("devices")) {
    if (d.at("name") != device || !d.contains("variants")) continue;
    for (const auto& v : d.at("variants"))
      if (v.at("op") == "matmul" && !v.at("formats").empty() && !v.at("acts").empty())
        return {v.at("name"), v.at("formats")[0], v.at("acts")[0], true};
  }
  return fallback;
}

std::string profile_cmd(const std::string& device, const Kernel& k, const std::string& shape) {
  return kXk + " profile --device " + device + " --kernel " + k.name + " --shape " + shape + " --format " +
         k.format + " --act " + k.act;
}

TEST(XkProfile, CudaPrintsNcuAndNsysForTheKernelEvenWithoutTheDevice) {
  const Kernel k = kernel_for("cuda:0", {"mmq_nvfp4_fp4_128x128_mma_sm120a", "nvfp4", "fp4"});
  const Output o = run(profile_cmd("cuda:0", k, "512,4096,4096"));
  ASSERT_EQ(o.status, 0) << o.text;
  // The filter names the __global__ function the variant launches (a template), not the variant.
  if (k.name == "mmq_nvfp4_fp4_128x128_mma_sm120a") {
    EXPECT_TRUE(contains(
        o.text, "ncu --kernel-name-base function --kernel-name regex:'(^|::)(mmq_fp4_128x128_mma_sm120a)$'"))
        << o.text;
  }
  EXPECT_FALSE(contains(o.text, "regex:'(^|::)(" + k.name + ")$'")) << o.text;
  EXPECT_TRUE(contains(o.text, "--launch-count 1"));
  for (const char* s :
       {"--section SpeedOfLight", "--section MemoryWorkloadAnalysis", "--section ComputeWorkloadAnalysis"})
    EXPECT_TRUE(contains(o.text, s)) << s;
  EXPECT_TRUE(contains(o.text, "nsys profile --trace=cuda,nvtx"));
  EXPECT_TRUE(
      contains(o.text, "xk_bench_matmul --device cuda:0 --set custom --shape 512,4096,4096 --format " +
                           k.format + " --act " + k.act));
  EXPECT_TRUE(contains(o.text, "--benchmark_filter='^matmul/custom/M512_N4096_K4096/" + k.format + "/" +
                                   k.act + "/variant=" + k.name + "/cuda:0(/|$)'"))
      << o.text;
  EXPECT_EQ(contains(o.text, "unavailable here"), !k.device_here) << o.text;
}

TEST(XkProfile, HipPrintsRocprofv3WithWmmaCounter) {
  const Kernel k = kernel_for("hip:0", {"mmq_q4_0_q8_64x128_wmmai8_gfx11", "q4_0", "q8"});
  const Output o = run(profile_cmd("hip:0", k, "512,8192,8192"));
  ASSERT_EQ(o.status, 0) << o.text;
  if (k.name == "mmq_q4_0_q8_64x128_wmmai8_gfx11") {
    EXPECT_TRUE(contains(
        o.text,
        "rocprofv3 --kernel-include-regex '^(mmq_q4_0_q8_64x128x32_wmmai8_gfx11|mmq_actq8_xf32_gfx11|"
        "mmq_actq8_xf16_gfx11|mmq_actq8_xbf16_gfx11)(\\(|$)' --kernel-trace"))
        << o.text;
  }
  EXPECT_TRUE(contains(o.text, "--pmc SQ_WAVES SQ_INSTS_WMMA")) << o.text;
  EXPECT_TRUE(contains(o.text, "xk_bench_matmul --device hip:0"));
}

TEST(XkProfile, VulkanPointsAtDebugLabelsAndRenderDoc) {
  const Kernel k = kernel_for("vulkan:0", {"mm_q4_0_q8_64x64_i8_vk", "q4_0", "q8"});
  const Output o = run(profile_cmd("vulkan:0", k, "64,1024,1024"));
  ASSERT_EQ(o.status, 0) << o.text;
  EXPECT_TRUE(contains(o.text, "VK_EXT_debug_utils label named " + k.name + ":<pipeline>")) << o.text;
  EXPECT_TRUE(contains(o.text, "RenderDoc"));
  EXPECT_TRUE(contains(o.text, "VK_LAYER_KHRONOS_validation"));
}

TEST(XkProfile, OpenableDeviceRejectsAKernelNotInItsTable) {
  const Output o = run(kXk + " profile --device cpu-ref --kernel no_such_kernel --shape 1,32,32", true);
  EXPECT_NE(o.status, 0);
  EXPECT_TRUE(contains(o.text, "is not a kernel variant of cpu-ref")) << o.text;
  EXPECT_TRUE(contains(o.text, "mm_all_all_1x1_scalar_ref_cpu")) << "the message lists the real variants";
}

// The printed program line is runnable and its --benchmark_filter selects exactly the
// forced-variant benchmark the program registers (so ncu's filter sees the right launch).
void expect_printed_command_runs(const std::string& profile_args, const std::string& expect_prefix) {
  const Output o = run(kXk + " profile --device cpu-ref " + profile_args);
  ASSERT_EQ(o.status, 0) << o.text;
  std::istringstream lines(o.text);
  std::string line, cmd;
  while (std::getline(lines, line))
    if (!line.empty() && line[0] != '#' && contains(line, "--device cpu-ref")) cmd = line;
  ASSERT_FALSE(cmd.empty()) << o.text;
  const Output b = run(cmd);
  ASSERT_EQ(b.status, 0) << cmd;
  const auto j = nlohmann::json::parse(b.text);
  ASSERT_EQ(j.at("benchmarks").size(), 1u) << cmd;
  const auto& r = j.at("benchmarks")[0];
  EXPECT_EQ(r.at("name").get<std::string>().rfind(expect_prefix, 0), 0u) << r.at("name");
  EXPECT_FALSE(r.contains("error_occurred") && r.at("error_occurred").get<bool>()) << r.dump();
}

TEST(XkProfile, PrintedMatmulCommandRunsTheForcedVariant) {
  expect_printed_command_runs(
      "--kernel mm_all_all_1x1_scalar_ref_cpu --shape 3,64,64 --format mxfp4 --act fp4",
      "matmul/custom/M3_N64_K64/mxfp4/fp4/variant=mm_all_all_1x1_scalar_ref_cpu/cpu-ref");
}

TEST(XkProfile, PrintedAttentionCommandRunsTheForcedVariant) {
  expect_printed_command_runs("--kernel attn_all_all_1x1_scalar_ref_cpu --shape 1,4,2,8,8,64",
                              "attention/custom/prefill_B1_Hq4_Hkv2_S8_T8_D64_causal/f16/"
                              "variant=attn_all_all_1x1_scalar_ref_cpu/cpu-ref");
}

}  // namespace
