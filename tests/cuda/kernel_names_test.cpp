// The names a profiler sees are true: every CUDA variant's ncu filter, built by `xk profile`
// from the row's kernel names, matches a kernel of the compiled sm_121a cubin (its symbol
// demangled to ncu's function base name), and every kernel of the cubin is named by a row.
// The rows come from cuda-sim, which instantiates the same table (backends/cuda/table.h).
// Environment (tests/cuda/CMakeLists.txt): XK_CUDA_OBJECT, XK_CUOBJDUMP_BIN (empty when absent).
#include <cxxabi.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tools/xk/kernel_filters.h"
#include "xk/registry.h"

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string demangle(const std::string& mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status),
                                           std::free);
  return status == 0 && d ? std::string(d.get()) : mangled;
}

// ncu function base names of the sm_121a cubin's kernels ("Function : <mangled>" in cuobjdump -sass).
std::set<std::string> cubin_kernels(std::string* why_skip) {
  const std::string tool = env("XK_CUOBJDUMP_BIN"), object = env("XK_CUDA_OBJECT");
  if (tool.empty()) {
    *why_skip =
        "cuobjdump not found at configure time (CUDA toolkit bin/ or PyPI nvidia-cuda-cuobjdump in "
        "build/pytools)";
    return {};
  }
  const std::string cmd = "'" + tool + "' -sass -arch sm_121a '" + object + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::set<std::string> out;
  char buf[4096];
  while (p && std::fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    const auto f = line.find("Function : ");
    if (f == std::string::npos) continue;
    std::string sym = line.substr(f + 11);
    while (!sym.empty() && (sym.back() == '\n' || sym.back() == ' ')) sym.pop_back();
    out.insert(xk::tool::function_base_name(demangle(sym)));
  }
  if (p) pclose(p);
  if (out.empty()) *why_skip = "no functions from '" + cmd + "'";
  return out;
}

bool any_match(const std::string& regex, const std::set<std::string>& names) {
  const std::regex re(regex);
  for (const auto& n : names)
    if (std::regex_search(n, re)) return true;
  return false;
}

TEST(CudaKernelNames, FunctionBaseNameStripsReturnTypeNamespacesTemplatesAndParameters) {
  EXPECT_EQ(
      xk::tool::function_base_name(
          "void xk::cuda_kernels::(anonymous namespace)::mmq_i8_64x64_mma_sm80<(xk::cuda_kernels::(anonymous "
          "namespace)::I8Weights)3>(signed char const*, float*, int)"),
      "mmq_i8_64x64_mma_sm80");
  EXPECT_EQ(xk::tool::function_base_name(
                "xk::cuda_kernels::(anonymous namespace)::flash_attn_combine(float const*, long)"),
            "flash_attn_combine");
}

TEST(CudaKernelNames, EveryVariantsNcuFilterMatchesItsKernelInTheCubin) {
  std::string why;
  const auto cubin = cubin_kernels(&why);
  if (cubin.empty()) GTEST_SKIP() << why;
  auto dev = xk::open_device("cuda-sim");
  ASSERT_FALSE(dev->variants().empty());
  for (const xk::Variant& v : dev->variants()) {
    if (v.min_arch == "sm_120a" && env("XK_CUDA_FP4_BUILT") != "1") continue;  // no sm_120a/121a cubin
    EXPECT_TRUE(any_match(xk::tool::ncu_kernel_regex(v.kernels), cubin))
        << v.name << ": ncu filter " << xk::tool::ncu_kernel_regex(v.kernels)
        << " matches no kernel of the cubin";
    for (const auto& k : v.kernels)
      EXPECT_TRUE(cubin.count(k)) << v.name << " names kernel " << k << ", not in the cubin";
    for (const auto& k : v.helpers)
      EXPECT_TRUE(cubin.count(k)) << v.name << " names helper " << k << ", not in the cubin";
  }
}

TEST(CudaKernelNames, EveryKernelOfTheCubinIsNamedByARow) {
  std::string why;
  const auto cubin = cubin_kernels(&why);
  if (cubin.empty()) GTEST_SKIP() << why;
  auto dev = xk::open_device("cuda-sim");
  std::set<std::string> named;
  for (const xk::Variant& v : dev->variants()) {
    named.insert(v.kernels.begin(), v.kernels.end());
    named.insert(v.helpers.begin(), v.helpers.end());
  }
  for (const auto& k : cubin)
    EXPECT_TRUE(named.count(k)) << "kernel " << k << " is launched by no row's kernel list";
}

// The check above would catch the old mistake: a variant's stable name is not a kernel name.
TEST(CudaKernelNames, AVariantNameAsFilterMatchesNothing) {
  std::string why;
  const auto cubin = cubin_kernels(&why);
  if (cubin.empty()) GTEST_SKIP() << why;
  EXPECT_FALSE(any_match(xk::tool::ncu_kernel_regex({"mmq_nvfp4_fp4_128x128_mma_sm120a"}), cubin));
  EXPECT_FALSE(any_match(xk::tool::ncu_kernel_regex({"mmq_q4_0_q8_64x64_mma_sm80"}), cubin));
}

}  // namespace
