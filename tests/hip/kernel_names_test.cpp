// The names a profiler sees are true: every HIP variant's rocprofv3 filter, built by
// `xk profile` from the row's kernel names, matches kernels of the compiled gfx1151 code
// object (the .amdhsa_kernel symbols of the device assembly clang wrote for it, demangled as
// rocprofv3 shows them), and every kernel of the code object is named by a row. The rows
// come from hip-sim, which instantiates the same table (backends/hip/table.h).
#include <cxxabi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <string>

#include "tools/xk/kernel_filters.h"
#include "xk/registry.h"

namespace {

std::string demangle(const std::string& mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status),
                                           std::free);
  return status == 0 && d ? std::string(d.get()) : mangled;
}

// Demangled names of the gfx1151 kernels (".amdhsa_kernel <symbol>" in the assembly).
std::set<std::string> code_object_kernels() {
  std::ifstream in(std::string(XK_HIP_ASM_DIR) + "/hip_kernels_gfx1151.s");
  EXPECT_TRUE(in.good()) << "no gfx1151 assembly in " << XK_HIP_ASM_DIR;
  std::set<std::string> out;
  const std::regex kernel_re(R"(^\s*\.amdhsa_kernel\s+(\S+))");
  std::smatch m;
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, m, kernel_re)) out.insert(demangle(m[1]));
  return out;
}

size_t matches(const std::string& regex, const std::set<std::string>& names) {
  const std::regex re(regex);
  size_t n = 0;
  for (const auto& k : names) n += std::regex_search(k, re);
  return n;
}

TEST(HipKernelNames, EveryVariantsRocprofFilterMatchesExactlyItsKernels) {
  const auto kernels = code_object_kernels();
  ASSERT_FALSE(kernels.empty());
  auto dev = xk::open_device("hip-sim");
  ASSERT_FALSE(dev->variants().empty());
  for (const xk::Variant& v : dev->variants()) {
    // One code-object kernel per listed name: the filter neither misses nor over-matches.
    EXPECT_EQ(matches(xk::tool::rocprof_kernel_regex(v.kernels), kernels), v.kernels.size())
        << v.name << ": " << xk::tool::rocprof_kernel_regex(v.kernels);
    if (!v.helpers.empty()) {
      EXPECT_EQ(matches(xk::tool::rocprof_kernel_regex(v.helpers), kernels), v.helpers.size()) << v.name;
    }
  }
}

TEST(HipKernelNames, EveryKernelOfTheCodeObjectIsNamedByARow) {
  const auto kernels = code_object_kernels();
  auto dev = xk::open_device("hip-sim");
  std::vector<std::string> named;
  for (const xk::Variant& v : dev->variants()) {
    named.insert(named.end(), v.kernels.begin(), v.kernels.end());
    named.insert(named.end(), v.helpers.begin(), v.helpers.end());
  }
  const std::regex any(xk::tool::rocprof_kernel_regex(named));
  for (const auto& k : kernels)
    EXPECT_TRUE(std::regex_search(k, any)) << "kernel " << k << " is named by no row";
}

// The check would catch a variant name offered as a kernel filter.
TEST(HipKernelNames, AVariantNameAsFilterMatchesNothing) {
  EXPECT_EQ(
      matches(xk::tool::rocprof_kernel_regex({"mmq_q4_0_q8_64x128_wmmai8_gfx11"}), code_object_kernels()),
      0u);
}

}  // namespace
