// GGUF headers written by the `gguf` PyPI package (tests/gap/write_gguf.py) read back as
// models whose kernel lists are the expected ones, dense and MoE.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "gap/gguf.h"
#include "gap/model_desc.h"
#include "gap/runtime.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

namespace fs = std::filesystem;

// Writes the header with python; returns "" after GTEST_SKIP when the package is missing.
std::string write_header(const std::string& kind) {
  const fs::path out =
      fs::temp_directory_path() / ("xk_gap_test_" + kind + "_" + std::to_string(::getpid()) + ".gguf");
  const char* env = std::getenv("PYTHONPATH");
  const std::string pythonpath = std::string(XK_PYTOOLS_DIR) + (env && *env ? ":" + std::string(env) : "");
  const std::string cmd = "PYTHONPATH='" + pythonpath + "' python3 '" + std::string(XK_SOURCE_DIR) +
                          "/tests/gap/write_gguf.py' '" + out.string() + "' " + kind + " 2>&1";
  const int rc = std::system(cmd.c_str());
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) return "";
  EXPECT_EQ(rc, 0) << cmd;
  return out.string();
}

constexpr const char* kNoGgufPackage =
    "the gguf PyPI package is not installed (tools/bootstrap installs it into build/pytools)";

// The model of a header write_gguf.py writes (the file is removed); none without the package.
std::optional<ModelDesc> model_of_header(const std::string& kind) {
  const std::string path = write_header(kind);
  if (path.empty()) return std::nullopt;
  ModelDesc m = model_from_gguf(read_gguf(path));
  fs::remove(path);
  return m;
}

const WeightTensor& tensor(const ModelDesc& m, const std::string& role) {
  for (const auto& t : m.tensors)
    if (t.role == role) return t;
  throw Error("test", "role", "no tensor " + role);
}

std::vector<std::string> kernels_of(const Prediction& p, const std::string& group) {
  std::vector<std::string> out;
  for (const auto& k : p.kernels)
    if (k.group == group) out.push_back(k.name + ":" + k.path);
  return out;
}

TEST(GapGguf, DenseHeaderFromTheGgufPackageGivesTheLayerGemmsWithTheirTypes) {
  const std::optional<ModelDesc> header = model_of_header("dense");
  if (!header) GTEST_SKIP() << kNoGgufPackage;
  const ModelDesc& m = *header;
  EXPECT_EQ(m.arch, "llama");
  EXPECT_EQ(m.layers, 2);
  EXPECT_EQ(m.heads, 8);
  EXPECT_EQ(m.kv_heads, 2);
  EXPECT_EQ(m.head_dim, 32);
  EXPECT_EQ(m.vocab, 1024);
  EXPECT_FALSE(m.moe());
  EXPECT_FALSE(m.qk_norm);
  EXPECT_EQ(tensor(m, "attn_q").type, "q4_k");
  EXPECT_EQ(tensor(m, "attn_q").n, 256);
  EXPECT_EQ(tensor(m, "attn_q").layers, 2);
  EXPECT_EQ(tensor(m, "attn_k").n, 64);
  EXPECT_EQ(tensor(m, "attn_v").type, "q6_k");
  EXPECT_EQ(tensor(m, "ffn_down").type, "q6_k");
  EXPECT_EQ(tensor(m, "ffn_down").n, 256);
  EXPECT_EQ(tensor(m, "ffn_down").k, 512);
  EXPECT_EQ(tensor(m, "output").n, 1024);
  const Database db = load_database(database_path());
  RunConfig run;
  run.backend = "cuda";
  run.test = "pp512";
  const Prediction p = predict(db.device("dgx-spark"), m, run, Calibration{});
  ASSERT_TRUE(p.ok) << p.refused;
  const std::vector<std::string> want = {
      "attn_k:cuda_mmq_int8",   "attn_output:cuda_mmq_int8", "attn_q:cuda_mmq_int8", "attn_v:cuda_mmq_int8",
      "ffn_down:cuda_mmq_int8", "ffn_gate:cuda_mmq_int8",    "ffn_up:cuda_mmq_int8", "output:cuda_mmq_int8"};
  EXPECT_EQ(kernels_of(p, "gemm"), want);
  EXPECT_TRUE(kernels_of(p, "moe").empty());
  EXPECT_EQ(kernels_of(p, "attention").size(), 1u);
}

TEST(GapGguf, MoeHeaderGivesExpertGemmsOnTheMxfp4PathOfTheBuild) {
  const std::optional<ModelDesc> header = model_of_header("moe");
  if (!header) GTEST_SKIP() << kNoGgufPackage;
  const ModelDesc& m = *header;
  EXPECT_EQ(m.arch, "qwen3moe");
  EXPECT_TRUE(m.moe());
  EXPECT_EQ(m.experts, 8);
  EXPECT_EQ(m.experts_used, 2);
  EXPECT_EQ(tensor(m, "ffn_gate_exps").experts, 8);
  EXPECT_EQ(tensor(m, "ffn_gate_exps").type, "mxfp4");
  EXPECT_EQ(tensor(m, "ffn_down_exps").k, 256);
  EXPECT_EQ(tensor(m, "ffn_gate_inp").type, "f32");
  EXPECT_FALSE(m.expert_bias);
  EXPECT_TRUE(m.qk_norm);  // blk.N.attn_q_norm / attn_k_norm: vectors, no GEMM of their own
  EXPECT_EQ(m.tensors.size(), 9u);
  const Database db = load_database(database_path());
  RunConfig run;
  run.backend = "cuda";
  run.test = "pp512";
  run.build = parse_build("", "2026-01-15");
  const Prediction p = predict(db.device("dgx-spark"), m, run, Calibration{});
  ASSERT_TRUE(p.ok) << p.refused;
  const std::vector<std::string> moe = {"ffn_down_exps:cuda_mmq_mxfp4_mma",
                                        "ffn_gate_exps:cuda_mmq_mxfp4_mma", "ffn_up_exps:cuda_mmq_mxfp4_mma"};
  EXPECT_EQ(kernels_of(p, "moe"), moe);
  const auto gemm = kernels_of(p, "gemm");
  EXPECT_NE(std::find(gemm.begin(), gemm.end(), "ffn_gate_inp:cuda_blas_f16"), gemm.end());  // the router
  run.build = parse_build("", "2025-10-15");  // before native MXFP4: int8 MMQ
  EXPECT_EQ(kernels_of(predict(db.device("dgx-spark"), m, run, Calibration{}), "moe")[0],
            "ffn_down_exps:cuda_mmq_int8");
}

// Biases on the expert GEMMs (gpt-oss's blk.N.ffn_*_exps.bias) are vectors per expert, not
// GEMMs: they add the three add_id passes of build_moe_ffn, and nothing to the kernel list.
TEST(GapGguf, ExpertBiasTensorsMarkTheModelsExpertBiases) {
  const std::optional<ModelDesc> header = model_of_header("moe-bias");
  if (!header) GTEST_SKIP() << kNoGgufPackage;
  const ModelDesc& m = *header;
  EXPECT_TRUE(m.expert_bias);
  EXPECT_EQ(m.tensors.size(), model_of_header("moe")->tensors.size());
}

TEST(GapGguf, ATruncatedOrForeignFileIsAClearError) {
  const std::string path = write_header("dense");
  if (path.empty()) GTEST_SKIP() << "the gguf PyPI package is not installed";
  const auto size = fs::file_size(path);
  fs::resize_file(path, size / 2);
  try {
    read_gguf(path);
    FAIL() << "a truncated header must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ends inside"), std::string::npos) << e.what();
  }
  std::ofstream(path, std::ios::trunc) << "not a gguf file";
  EXPECT_THROW(read_gguf(path), Error);
  fs::remove(path);
}

}  // namespace
}  // namespace xk::gap
