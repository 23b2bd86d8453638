// Static proof of the instruction mix: reads the device assembly clang wrote for each
// offload arch (build tree: backends/hip/hip_kernels_<arch>.s, from
// `clang -x hip --cuda-device-only -S`) and checks, per kernel, that the WMMA instruction
// the kernel is built around sits inside a loop (the GEMM / attention main loop), that
// the int8 GEMM has no f16 WMMA fallback and the f16 GEMM no int8 one, and that no kernel
// spills to scratch (the resource file written beside the assembly).
//
// A loop is recognised the way the assembler lays it out: a label `.LBBx_y:` followed later
// in the same function by a branch back to it (s_branch / s_cbranch_* .LBBx_y); the
// instructions in between are the loop body.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Function {
  std::string name;                // mangled symbol
  std::vector<std::string> lines;  // body, one instruction or label per line
};

std::vector<std::string> archs() {
  std::vector<std::string> out;
  std::stringstream in(XK_HIP_ARCHS);
  for (std::string a; std::getline(in, a, ',');)
    if (!a.empty()) out.push_back(a);
  return out;
}

// Every function of the assembly file: from `name:` (after `.type name,@function`) to `.Lfunc_end`.
std::map<std::string, Function> read_functions(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::map<std::string, Function> out;
  std::string line, pending;
  Function* cur = nullptr;
  const std::regex type_re(R"(^\s*\.type\s+([^,]+),@function)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, type_re)) {
      pending = m[1];
      continue;
    }
    if (!pending.empty() && line.rfind(pending + ":", 0) == 0) {  // "name: ; @name"
      cur = &out[pending];
      cur->name = pending;
      pending.clear();
      continue;
    }
    if (cur && line.rfind(".Lfunc_end", 0) == 0) {
      cur = nullptr;
      continue;
    }
    if (cur) cur->lines.push_back(line);
  }
  return out;
}

// True when `insn` appears between a label and a later backward branch to it.
bool in_loop(const Function& f, const std::string& insn) {
  const std::regex label_re(R"(^(\.LBB[0-9_]+):)");
  const std::regex branch_re(R"(^\s*s_(c?branch\w*)\s+(\.LBB[0-9_]+))");
  std::map<std::string, size_t> label_at;
  std::smatch m;
  for (size_t i = 0; i < f.lines.size(); ++i) {
    if (std::regex_search(f.lines[i], m, label_re)) label_at[m[1]] = i;
    if (std::regex_search(f.lines[i], m, branch_re)) {
      auto it = label_at.find(m[2]);
      if (it == label_at.end()) continue;  // forward branch
      for (size_t j = it->second; j < i; ++j)
        if (f.lines[j].find(insn) != std::string::npos) return true;
    }
  }
  return false;
}

size_t count(const Function& f, const std::string& insn) {
  size_t n = 0;
  for (const auto& l : f.lines)
    if (l.find(insn) != std::string::npos) ++n;
  return n;
}

std::vector<const Function*> matching(const std::map<std::string, Function>& fns, const std::string& part) {
  std::vector<const Function*> out;
  for (const auto& [name, f] : fns)
    if (name.find(part) != std::string::npos) out.push_back(&f);
  return out;
}

std::string asm_path(const std::string& arch) {
  return std::string(XK_HIP_ASM_DIR) + "/hip_kernels_" + arch + ".s";
}

constexpr const char* kIu8 = "v_wmma_i32_16x16x16_iu8";
constexpr const char* kF16 = "v_wmma_f32_16x16x16_f16";

TEST(HipIsa, Int8GemmMainLoopIssuesWmmaIu8AndNoF16Fallback) {
  for (const auto& arch : archs()) {
    const auto fns = read_functions(asm_path(arch));
    const auto ks = matching(fns, "_wmmai8_gfx11");
    ASSERT_EQ(ks.size(), 4u) << arch << ": expected the Q4_0, Q8_0, MXFP4 and NVFP4 mmq kernels";
    for (const Function* f : ks) {
      EXPECT_TRUE(in_loop(*f, kIu8)) << arch << " " << f->name << ": no " << kIu8 << " inside a loop";
      EXPECT_EQ(count(*f, kF16), 0u) << arch << " " << f->name << ": f16 WMMA in the int8 GEMM";
      EXPECT_EQ(count(*f, "v_dot"), 0u) << arch << " " << f->name << ": packed-dot fallback in the int8 GEMM";
    }
  }
}

TEST(HipIsa, F16GemmMainLoopIssuesWmmaF16) {
  for (const auto& arch : archs()) {
    const auto fns = read_functions(asm_path(arch));
    const auto ks = matching(fns, "_wmmaf16_gfx11_x");
    ASSERT_EQ(ks.size(), 21u) << arch << ": expected 7 weight formats x 3 activation dtypes";
    for (const Function* f : ks) {
      EXPECT_TRUE(in_loop(*f, kF16)) << arch << " " << f->name << ": no " << kF16 << " inside a loop";
      EXPECT_EQ(count(*f, kIu8), 0u) << arch << " " << f->name;
    }
  }
}

TEST(HipIsa, FlashAttentionLoopIssuesWmmaF16ForQKAndPV) {
  for (const auto& arch : archs()) {
    const auto fns = read_functions(asm_path(arch));
    const auto ks = matching(fns, "attn_fa2_64x32_wmmaf16_gfx11_d");
    ASSERT_EQ(ks.size(), 8u) << arch << ": expected D 64/128 x Q f32/f16 x KV f16/f32";
    for (const Function* f : ks) {
      EXPECT_TRUE(in_loop(*f, kF16)) << arch << " " << f->name;
      // Per 32-key step: S = Q K^T takes 2 * D/16 WMMAs, O += P V another 2 * D/16.
      const size_t per_step = f->name.find("_d128_") != std::string::npos ? 32u : 16u;
      EXPECT_GE(count(*f, kF16), per_step) << arch << " " << f->name;
    }
  }
}

TEST(HipIsa, GemvAndDecodeKernelsExist) {
  for (const auto& arch : archs()) {
    const auto fns = read_functions(asm_path(arch));
    EXPECT_EQ(matching(fns, "_32rows_valu_gfx11_x").size(), 21u) << arch;
    EXPECT_EQ(matching(fns, "attn_decode_splitk256_valu_gfx11").size(), 10u) << arch;
    EXPECT_EQ(matching(fns, "mmq_actq8_x").size(), 3u) << arch;
  }
}

// The loop detector is not vacuous: the VALU-only kernels have loops but no WMMA in them,
// and the loads every kernel issues are found inside their loops.
TEST(HipIsa, LoopDetectorFindsLoadsButNoWmmaInValuKernels) {
  for (const auto& arch : archs()) {
    const auto fns = read_functions(asm_path(arch));
    const auto ks = matching(fns, "mmvq_q4_0_f32_32rows_valu_gfx11");
    ASSERT_EQ(ks.size(), 3u) << arch;
    for (const Function* f : ks) {
      EXPECT_TRUE(in_loop(*f, "global_load")) << arch << " " << f->name;
      EXPECT_FALSE(in_loop(*f, "v_wmma")) << arch << " " << f->name;
    }
  }
}

// Resource file columns: vgprs sgprs lds scratch vgpr_spills sgpr_spills waves kernel.
TEST(HipIsa, NoKernelSpillsOrUsesScratch) {
  for (const auto& arch : archs()) {
    std::ifstream in(std::string(XK_HIP_ASM_DIR) + "/hip_resource_usage_" + arch + ".txt");
    ASSERT_TRUE(in.good()) << arch << ": resource usage file missing";
    int kernels = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream row(line);
      std::string vgprs, sgprs, lds, scratch, vspill, sspill, waves;
      row >> vgprs >> sgprs >> lds >> scratch >> vspill >> sspill >> waves;
      ++kernels;
      EXPECT_EQ(scratch, "0") << arch << ": " << line;
      EXPECT_EQ(vspill, "0") << arch << ": " << line;
      EXPECT_EQ(sspill, "0") << arch << ": " << line;
      EXPECT_LE(std::stoi(lds), 64 * 1024) << arch << ": LDS over the 64 KB workgroup limit: " << line;
    }
    EXPECT_GE(kernels, 60) << arch;
  }
}

}  // namespace
