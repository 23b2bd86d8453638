// Static proof of what the CUDA kernels compile to, read from the build tree:
//   - ptxas -v resource usage (backends/cuda/tee_ptxas.sh keeps it): no kernel spills;
//   - the sm_121a SASS (cuobjdump -sass): the FP4 GEMM issues the block-scaled FP4 MMA
//     (OMMA.SF.16864...) and nothing of an FP16/FP32/int8 fallback, the int8 GEMM issues IMMA,
//     flash attention issues HMMA.
// Environment (set by tests/cuda/CMakeLists.txt): XK_PTXAS_LOG, XK_CUDA_OBJECT,
// XK_CUOBJDUMP_BIN (empty when not found), XK_CUDA_FP4_BUILT.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

struct KernelResources {
  int stack = -1, spill_stores = -1, spill_loads = -1, registers = -1;
};

// ptxas -v: "Compiling entry function '<mangled>' for 'sm_121a'", then "Function properties
// for <mangled>" / "N bytes stack frame, S bytes spill stores, L bytes spill loads" and
// "Used R registers, ...".
std::map<std::string, KernelResources> parse_ptxas(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, KernelResources> out;
  const std::regex entry(R"(Compiling entry function '([^']+)')");
  const std::regex spill(R"((\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads)");
  const std::regex regs(R"(Used (\d+) registers)");
  std::string line, current;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, entry)) {
      current = m[1];
      out[current];
    } else if (!current.empty() && std::regex_search(line, m, spill)) {
      out[current].stack = std::stoi(m[1]);
      out[current].spill_stores = std::stoi(m[2]);
      out[current].spill_loads = std::stoi(m[3]);
    } else if (!current.empty() && std::regex_search(line, m, regs)) {
      out[current].registers = std::stoi(m[1]);
    }
  }
  return out;
}

// The hot kernels of kernels/cuda (every GEMM/GEMV/attention main kernel).
constexpr std::array<const char*, 4> kHotKernels = {"mmq_i8_64x64_mma_sm80", "mmq_fp4_128x128_mma_sm120a",
                                                    "mmvq_8x64_dp4a_sm61", "flash_attn_64xD_mma_sm80"};

TEST(PtxasResources, NoKernelSpillsRegisters) {
  const std::string log = env("XK_PTXAS_LOG");
  ASSERT_FALSE(log.empty()) << "XK_PTXAS_LOG not set";
  const auto kernels = parse_ptxas(log);
  ASSERT_FALSE(kernels.empty()) << "no 'Compiling entry function' in " << log
                                << " (was the CUDA backend built?)";
  int hot_seen = 0;
  for (const auto& [name, r] : kernels) {
    ASSERT_GE(r.spill_stores, 0) << "no spill line for " << name << " in " << log;
    bool hot = false;
    for (const char* h : kHotKernels) hot = hot || name.find(h) != std::string::npos;
    hot_seen += hot;
    std::printf("  %-4s %3d regs %4d B stack %3d B spill st %3d B spill ld  %s\n", hot ? "hot" : "",
                r.registers, r.stack, r.spill_stores, r.spill_loads, name.c_str());
    EXPECT_EQ(r.spill_stores + r.spill_loads, 0)
        << (hot ? "hot " : "") << "kernel " << name << " spills: " << r.spill_stores << " B stores, "
        << r.spill_loads << " B loads";
  }
  EXPECT_GE(hot_seen, 3) << "the hot kernels were not found in " << log;
}

// cuobjdump -sass of the sm_121a cubin, split by function.
std::map<std::string, std::string> sass_by_function(std::string* why_skip) {
  const std::string tool = env("XK_CUOBJDUMP_BIN"), object = env("XK_CUDA_OBJECT");
  if (tool.empty()) {
    *why_skip = "cuobjdump not found at configure time (CUDA toolkit bin/ or PyPI nvidia-cuda-cuobjdump)";
    return {};
  }
  const std::string cmd = "'" + tool + "' -sass -arch sm_121a '" + object + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    *why_skip = "cannot run " + cmd;
    return {};
  }
  std::map<std::string, std::string> out;
  std::string current;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    const auto f = line.find("Function : ");
    if (f != std::string::npos) {
      current = line.substr(f + 11);
      while (!current.empty() && (current.back() == '\n' || current.back() == ' ')) current.pop_back();
      continue;
    }
    if (!current.empty()) out[current] += line;
  }
  const int rc = pclose(p);
  if (rc != 0 && out.empty()) *why_skip = "'" + cmd + "' failed (exit " + std::to_string(rc) + ")";
  return out;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class Sass : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    sass_ = sass_by_function(&why);
    if (sass_.empty()) GTEST_SKIP() << (why.empty() ? "no sm_121a SASS in " + env("XK_CUDA_OBJECT") : why);
  }
  // Every function whose name contains `kernel`.
  std::map<std::string, const std::string*> functions(const std::string& kernel) const {
    std::map<std::string, const std::string*> out;
    for (const auto& [name, text] : sass_)
      if (name.find(kernel) != std::string::npos) out[name] = &text;
    return out;
  }
  std::map<std::string, std::string> sass_;
};

TEST_F(Sass, Fp4GemmIssuesBlockScaledOmmaAndNoFallback) {
  if (env("XK_CUDA_FP4_BUILT") != "1") GTEST_SKIP() << "XK_CUDA_ARCHS has neither 120a nor 121a";
  const auto fns = functions("mmq_fp4_128x128_mma_sm120a");
  ASSERT_EQ(fns.size(), 2u) << "expected the NVFP4 and the MXFP4 instance";
  for (const auto& [name, text] : fns) {
    // PTX mma ... .block_scale on sm_121a assembles to OMMA.SF.16864 (block-scaled 16x8x64).
    EXPECT_GE(count(*text, "OMMA.SF.16864.F32.E2M1.E2M1"), 32)
        << name << ": 4 x 4 MMAs x 2 k-steps per stage";
    const bool nv = name.find("ILb1E") != std::string::npos;  // template argument kNvfp4 = true
    // Scale type as ptxas prints it: ".UE4M3.4X" (NVFP4, ue4m3 per 16), ".E8" (kind::mxf4, ue8m0 per 32).
    EXPECT_GT(count(*text, nv ? "E2M1.E2M1.UE4M3.4X" : "E2M1.E2M1.E8"), 0)
        << name << ": scale type of the block-scaled MMA";
    for (const char* fallback : {"HMMA", "IMMA", "FFMA", "DFMA", "HFMA2"})
      EXPECT_EQ(count(*text, fallback), 0)
          << name << " contains " << fallback << ": an FP16/FP32/int8 fallback";
  }
}

TEST_F(Sass, Int8GemmIssuesImma) {
  const auto fns = functions("mmq_i8_64x64_mma_sm80");
  ASSERT_EQ(fns.size(), 4u) << "expected Q4_0, Q8_0, MXFP4 and NVFP4 instances";
  for (const auto& [name, text] : fns) {
    EXPECT_GE(count(*text, "IMMA.16832.S8.S8"), 8) << name << ": 2 x 4 int8 MMAs per K block";
    EXPECT_EQ(count(*text, "HMMA") + count(*text, "OMMA"), 0) << name;
  }
}

TEST_F(Sass, FlashAttentionIssuesHmma) {
  const auto fns = functions("flash_attn_64xD_mma_sm80");
  ASSERT_EQ(fns.size(), 2u) << "expected D=64 and D=128 instances";
  for (const auto& [name, text] : fns) EXPECT_GE(count(*text, "HMMA.16816.F32"), 64) << name;
}

}  // namespace
