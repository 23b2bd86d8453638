// `xk predict`: each kit entry's roofline against a hand computation, the table over a kit
// JSON with the names kit_shapes.py produces, and malformed files.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

#include "gap/kernel_predict.h"
#include "gap/render.h"
#include "run_xk.h"
#include "xk/error.h"

namespace xk::gap {
namespace {
namespace fs = std::filesystem;

// H200 figures of tools/devices/devices.json, entry "h200", written out by hand so that a
// change in the code path (class choice, byte formula, efficiency) shows as a mismatch.
constexpr double kInt8Mma = 1978.9e12, kInt8Dot = 267.6e12, kF16Mma = 989.4e12;
constexpr double kBandwidth = 4800e9;
constexpr double kEffMma = 0.7, kEffDot = 0.5, kEffAttention = 0.5, kEffMemory = 0.85;

const DeviceSpec& h200() {
  static const Database db = load_database(database_path());
  return db.device("h200");
}

KernelPrediction predicted(const std::string& name) {
  KernelPrediction r;
  EXPECT_TRUE(parse_kernel_name(name, "", r)) << name;
  predict_row(h200(), r);
  EXPECT_EQ(r.not_predicted, "") << name;
  return r;
}

TEST(KernelPredict, XkernInt8MmaGemmIsTheHandComputedRoofline) {
  const KernelPrediction r =
      predicted("matmul/custom/M512_N6144_K4096/q4_0/q8/variant=mmq_q4_0_q8_64x64_mma_sm80/cuda:0");
  const double flops = 2.0 * 512 * 6144 * 4096;
  // Q4_0 weights 18 B per 32, F32 activations in (quantized to Q8 inside the op), F32 out.
  const double bytes = 6144.0 * 4096 * 18 / 32 + 512.0 * 4096 * 4 + 512.0 * 6144 * 4;
  EXPECT_EQ(r.cls, "int8_mma");
  EXPECT_DOUBLE_EQ(r.flops, flops);
  EXPECT_DOUBLE_EQ(r.bytes, bytes);
  const double t_compute = flops / (kInt8Mma * kEffMma), t_memory = bytes / (kBandwidth * kEffMemory);
  EXPECT_GT(t_compute, t_memory);
  EXPECT_NEAR(r.predicted.time, t_compute, 1e-12 * t_compute);
  EXPECT_FALSE(r.predicted.memory_bound);
}

TEST(KernelPredict, Dp4aGemvIsMemoryBoundOnTheHandComputedBytes) {
  const KernelPrediction r =
      predicted("matmul/custom/M1_N4096_K14336/q4_0/q8/variant=mmvq_8x64_dp4a_sm61/cuda:0");
  const double bytes = 4096.0 * 14336 * 18 / 32 + 14336.0 * 4 + 4096.0 * 4;
  EXPECT_EQ(r.cls, "int8_dot");
  EXPECT_DOUBLE_EQ(r.bytes, bytes);
  const double t_memory = bytes / (kBandwidth * kEffMemory);
  EXPECT_GT(t_memory, 2.0 * 4096 * 14336 / (kInt8Dot * kEffDot));
  EXPECT_NEAR(r.predicted.time, t_memory, 1e-12 * t_memory);
  EXPECT_TRUE(r.predicted.memory_bound);
}

TEST(KernelPredict, PeerInt8AndFlashAttentionAreTheHandComputedRooflines) {
  const KernelPrediction mm =
      predicted("matmul/custom/M512_N4096_K4096/i8/i8/variant=torch_int_mm_cublaslt/torch:cuda:0");
  EXPECT_EQ(mm.cls, "int8_mma");
  EXPECT_DOUBLE_EQ(mm.bytes, 4096.0 * 4096 + 512.0 * 4096 + 512.0 * 4096 * 4);  // int8 in, int32 out
  EXPECT_NEAR(mm.predicted.time, 2.0 * 512 * 4096 * 4096 / (kInt8Mma * kEffMma), 1e-18);

  const KernelPrediction fa = predicted(
      "attention/custom/prefill_B1_Hq32_Hkv8_S512_T512_D128_causal/f16/variant=sdpa_flash/torch:cuda:0");
  const double pairs = 512.0 * 513 / 2;  // causal, q_offset 0: query i sees i + 1 keys
  const double flops = 4.0 * 32 * 128 * pairs;
  const double bytes = 32.0 * 512 * 128 * 2 * 2 + 2.0 * 8 * 512 * 128 * 2;  // f16 Q, O, K, V
  EXPECT_EQ(fa.cls, "f16_mma_f32acc");
  EXPECT_EQ(fa.eff_key, "attention");
  EXPECT_DOUBLE_EQ(fa.flops, flops);
  EXPECT_DOUBLE_EQ(fa.bytes, bytes);
  EXPECT_NEAR(fa.predicted.time,
              std::max(flops / (kF16Mma * kEffAttention), bytes / (kBandwidth * kEffMemory)), 1e-18);
}

TEST(KernelPredict, OutputPrecisionFollowsTheSideThatRan) {
  // Same shape and activation: xkern reads and writes F32 (bench/accounting.cpp), torch f16.
  const KernelPrediction xk = predicted("matmul/custom/M64_N2880_K2880/f16/f16/cuda:0");
  const KernelPrediction torch =
      predicted("matmul/custom/M64_N2880_K2880/f16/f16/variant=torch_matmul_f16_cublas/torch:cuda:0");
  const double w = 2880.0 * 2880 * 2;
  EXPECT_DOUBLE_EQ(xk.bytes, w + 64.0 * 2880 * 4 + 64.0 * 2880 * 4);
  EXPECT_DOUBLE_EQ(torch.bytes, w + 64.0 * 2880 * 2 + 64.0 * 2880 * 2);
  // The counter xk bench wrote for M1_N256_K256 Q4_0 on cpu-ref (same accounting): 38912 B.
  EXPECT_DOUBLE_EQ(predicted("matmul/custom/M1_N256_K256/q4_0/q8/cpu-ref").bytes, 38912.0);
  EXPECT_EQ(xk.cls, "f16_mma_f32acc");
}

TEST(KernelPredict, ModelPresetNamesCarryNoShape) {
  KernelPrediction r;
  EXPECT_FALSE(parse_kernel_name("matmul/llama3-70b/qkv/pp512/q4_0/q8/cuda:0", "", r));
  EXPECT_FALSE(parse_kernel_name("attention/llama3-70b/pp512/f16/cuda:0", "", r));
}

using test_driver::run_xk;

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("xk_predict_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// The peers' dry-run JSON (every kit shape and peer, by kit_shapes.py) with a timing filled
// into each entry, plus xkern entries on two of the same shapes.
TEST(KernelPredict, TableHasOneRowPerKitEntryWithBothFigures) {
  const fs::path dir = temp_dir(), peers = dir / "peers.json", xk = dir / "xk.json";
  const std::string cmd = "python3 " XK_SOURCE_DIR "/bench/peers/torch_peers.py --dry-run --out " +
                          peers.string() + " >/dev/null";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "python3 could not run torch_peers.py --dry-run";
  nlohmann::json j;
  std::ifstream(peers) >> j;
  ASSERT_GT(j["benchmarks"].size(), 20u);
  for (auto& b : j["benchmarks"]) {
    b["error_occurred"] = false;
    b.erase("error_message");
    b["real_time"] = 0.125;
  }
  write(peers, j.dump());
  write(xk, R"({"benchmarks": [
    {"name": "matmul/custom/M512_N6144_K4096/q4_0/q8/cuda:0/manual_time", "real_time": 40.5, "time_unit": "us",
     "label": "variant=mmq_q4_0_q8_64x64_mma_sm80 act=q8 timer=cuda-event"},
    {"name": "attention/custom/decode_B1_Hq32_Hkv8_S1_T4096_D128_causal/f16/cuda:0/manual_time", "real_time": 0.02, "time_unit": "ms",
     "label": "variant=flash_attn_f16 timer=cuda-event"}]})");
  const size_t entries = j["benchmarks"].size() + 2;

  const std::string out = run_xk({"predict", "--device", "h200", xk.string(), peers.string()});
  size_t rows = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("| matmul ", 0) != 0 && line.rfind("| attention ", 0) != 0) continue;
    ++rows;
    EXPECT_EQ(line.find("n/a"), std::string::npos) << line;  // predicted, measured and ratio all present
  }
  EXPECT_EQ(rows, entries);
  EXPECT_NE(out.find("Predicted: roofline on device-database entry 'h200'"), std::string::npos);
  EXPECT_NE(out.find("Measured: real_time of each entry in " + xk.string()), std::string::npos);
  EXPECT_NE(out.find("`mmq_q4_0_q8_64x64_mma_sm80` | cuda:0 | int8_mma"), std::string::npos) << out;
  EXPECT_NE(out.find("- peak int8_mma: 1978.9 TOP/s"), std::string::npos);
  EXPECT_NE(out.find("- bandwidth: 4800 GB/s"), std::string::npos);
  // 40.5 us measured over the hand-computed compute bound of that GEMM (first test).
  const double predicted_us = 2.0 * 512 * 6144 * 4096 / (kInt8Mma * kEffMma) * 1e6;
  EXPECT_NE(out.find("| " + strf("%.2f", 40.5 / predicted_us) + " |"), std::string::npos) << out;
  fs::remove_all(dir);
}

TEST(KernelPredict, AnUntimedEntryShowsWhyItHasNoMeasurement) {
  const fs::path dir = temp_dir(), f = dir / "err.json";
  write(
      f,
      R"({"benchmarks": [{"name": "matmul/custom/M1_N4096_K4096/i8/i8/variant=torch_int_mm_cublaslt/torch:cuda:0",
    "error_occurred": true, "error_message": "torch._int_mm needs M > 16", "real_time": 0, "time_unit": "ms"}]})");
  const std::string out = run_xk({"predict", "--device", "h200", f.string()});
  EXPECT_NE(out.find("n/a (torch._int_mm needs M > 16)"), std::string::npos) << out;
  fs::remove_all(dir);
}

std::string error_of(const std::string& text) {
  const fs::path dir = temp_dir(), f = dir / "bad.json";
  write(f, text);
  try {
    predict_files(h200(), {f.string()});
  } catch (const Error& e) {
    fs::remove_all(dir);
    EXPECT_NE(std::string(e.what()).find(f.string()), std::string::npos) << e.what();
    return e.what();
  }
  fs::remove_all(dir);
  return "no error";
}

TEST(KernelPredict, BadJsonNamesTheFileAndTheField) {
  EXPECT_NE(error_of(R"({"benchmarks": [{"name": "matmul/custom/M1_N2_K32/q4_0/q8/cuda:0", "real_time": 1},
                                        {"name": "matmul/custom/M1_N2_K32/q4_0/q8/cuda:0", "real_time": "fast"}]})")
                .find("benchmarks[1].real_time"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"benchmarks": [{"real_time": 1}]})").find("benchmarks[0].name"), std::string::npos);
  EXPECT_NE(error_of(R"({"benchmarks": [{"name": "matmul/llama3-70b/qkv/pp512/q4_0/q8/cuda:0"}]})")
                .find("benchmarks[0].real_time"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"context": {}})").find("'benchmarks'"), std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"benchmarks": [{"name": "matmul/custom/M1_N2_K32/q4_0/q8/cuda:0", "real_time": 1, "time_unit": "h"}]})")
          .find("benchmarks[0].time_unit"),
      std::string::npos);
  EXPECT_NE(error_of("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_THROW(predict_files(h200(), {"/nonexistent/xk.json"}), Error);
}

}  // namespace
}  // namespace xk::gap
