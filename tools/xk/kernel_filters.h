// Profiler filters built from the device functions a variant row launches (Variant::kernels),
// so that what `xk profile` prints selects the launched kernel and nothing else.
// tests/cuda/kernel_names_test and tests/hip/kernel_names_test hold them against the symbols
// of the compiled code.
#pragma once
#include <string>
#include <vector>

namespace xk::tool {

inline std::string regex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string(".[]()*+?{}|^$\\").find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

inline std::string alternatives(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) {
    if (!s.empty()) s += '|';
    s += regex_escape(n);
  }
  // Appended piece by piece: g++ 12's -Wrestrict misfires on "literal" + std::string&&.
  std::string group = "(";
  group += s;
  group += ')';
  return group;
}

// For `ncu --kernel-name-base function --kernel-name regex:<this>`. The function base name is
// the name without return type, parameters or template arguments (Nsight Compute CLI docs,
// "--kernel-name-base"); a qualifying namespace, should a version keep it, is allowed.
inline std::string ncu_kernel_regex(const std::vector<std::string>& kernels) {
  std::string re = "(^|::)";
  re += alternatives(kernels);
  re += '$';
  return re;
}

// For `rocprofv3 --kernel-include-regex <this>`: rocprofv3 matches the demangled kernel name,
// which goes on with the parameter list unless --truncate-kernels is given.
inline std::string rocprof_kernel_regex(const std::vector<std::string>& kernels) {
  std::string re = "^";
  re += alternatives(kernels);
  re += "(\\(|$)";
  return re;
}

// The VK_EXT_debug_utils labels of a Vulkan variant's dispatches: "<variant>:<pipeline>"
// (each batch is labelled with the variant, each dispatch inside it with variant:shader).
inline std::string vulkan_label_regex(const std::string& variant, const std::vector<std::string>& pipelines) {
  return "^" + regex_escape(variant) + ":" + alternatives(pipelines) + "$";
}

// What ncu shows as the function base name of a demangled symbol such as
// "void xk::cuda_kernels::(anonymous namespace)::mmq_i8_64x64_mma_sm80<(I8Weights)0>(signed char const*,
// ...)": the function's own identifier, "mmq_i8_64x64_mma_sm80".
inline std::string function_base_name(const std::string& demangled) {
  std::string flat;  // template arguments removed
  int depth = 0;
  for (char c : demangled) {
    if (c == '<')
      ++depth;
    else if (c == '>')
      --depth;
    else if (depth == 0)
      flat += c;
  }
  for (std::string anon = "(anonymous namespace)::"; flat.find(anon) != std::string::npos;)
    flat.erase(flat.find(anon), anon.size());
  flat = flat.substr(0, flat.find('('));
  const size_t colon = flat.rfind("::");
  if (colon != std::string::npos) flat = flat.substr(colon + 2);
  const size_t space = flat.rfind(' ');
  if (space != std::string::npos) flat = flat.substr(space + 1);
  return flat;
}

}  // namespace xk::tool
