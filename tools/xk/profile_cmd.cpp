// `xk profile`: prints the exact profiler command lines for one kernel variant at one shape,
// driving the benchmark program (xk_bench_matmul / xk_bench_attention) with that variant
// forced, one warm-up launch and a fixed number of timed launches. The point is to copy
// them to the GPU box, so a device that cannot be opened here still gets its commands.
#include <filesystem>
#include <iostream>
#include <memory>

#include "bench/bench.h"
#include "bench/program.h"
#include "tools/xk/commands.h"
#include "tools/xk/kernel_filters.h"
#include "tools/xk/text.h"
#include "xk/error.h"
#include "xk/registry.h"

namespace xk::tool {

namespace {

struct ProfileArgs {
  std::string device, kernel, shape, format, act;
  bool no_causal = false;
};

struct Plan {
  std::string device, api, kernel;
  Op op = Op::Matmul;
  std::vector<int64_t> shape;
  std::string format, act;  // act "" = let the program run each act the variant offers
  bool causal = true;
  std::string program;
  std::string unavailable;                    // why the device could not be opened here ("" = it was)
  std::string table_from;                     // the device whose table named the kernels ("" = none)
  std::vector<std::string> kernels, helpers;  // device functions the variant launches
};

std::string quote(const std::string& s) {
  if (s.find_first_of(" '\"\\$`!*?[](){}<>|&;#~^") == std::string::npos) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The benchmark programs sit in <build>/bench, beside <build>/tools where xk lives.
std::string program_path(Op op) {
  const std::string name = op == Op::Matmul ? "xk_bench_matmul" : "xk_bench_attention";
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto p = self.parent_path().parent_path() / "bench" / name;
    if (std::filesystem::exists(p, ec)) return p.string();
  }
  return (std::filesystem::path(XK_BENCH_DIR) / name).string();
}

std::string api_of(const std::string& device) {
  const size_t colon = device.find(':');
  return colon == std::string::npos ? "" : device.substr(0, colon);
}

Plan make_plan(const ProfileArgs& a) {
  Plan p;
  p.device = a.device;
  p.api = api_of(a.device);
  p.kernel = a.kernel;
  p.shape = bench::parse_shape(a.shape);
  p.causal = !a.no_causal;
  p.act = a.act;
  std::unique_ptr<Device> dev;
  try {
    dev = open_device(a.device);
  } catch (const Error& e) {
    p.unavailable = e.reason();
  }
  // Without the GPU here, its simulator twin holds the same table (the same rows over
  // another launcher), so the kernel names are still the compiled ones.
  std::unique_ptr<Device> twin;
  const std::string twin_name = p.api == "cuda" ? "cuda-sim" : p.api == "hip" ? "hip-sim" : "";
  if (!dev && !twin_name.empty()) {
    try {
      twin = open_device(twin_name);
    } catch (const Error&) {
    }
  }
  if (Device* table = dev ? dev.get() : twin.get()) {
    const Variant* v = nullptr;
    std::vector<std::string> names;
    for (const Variant& x : table->variants()) {
      names.push_back(x.name);
      if (x.name == a.kernel) v = &x;
    }
    if (!v)
      throw Error("profile", "kernel",
                  "'" + a.kernel + "' is not a kernel variant of " + table->info().name +
                      " (variants: " + (names.empty() ? "none" : join(names, ", ")) + ")");
    p.op = v->op;
    p.table_from = table->info().name;
    p.kernels = v->kernels;
    p.helpers = v->helpers;
  } else {
    // Without the device's table the op comes from the stable name: attention variants
    // carry "attn" (variant.h naming rule <op>_...).
    p.op = a.kernel.find("attn") != std::string::npos ? Op::Attention : Op::Matmul;
  }
  if (p.op == Op::Matmul) {
    if (p.shape.size() != 3) throw Error("profile", "shape", "a matmul kernel needs --shape M,N,K");
    p.format = a.format.empty() ? "q4_0" : a.format;
    const DType fmt = parse_dtype(p.format);
    if (dev) {
      const Variant* v = nullptr;
      for (const Variant& x : dev->variants())
        if (x.name == a.kernel) v = &x;
      if (!v->handles(fmt))
        throw Error("profile", "format", "variant " + a.kernel + " does not handle " + p.format);
      // One launch to look at: the variant's preferred activation precision for the format.
      if (p.act.empty()) {
        const auto acts = bench::offered_acts(*dev, fmt, a.kernel);
        if (!acts.empty()) p.act = name(acts.front());
      }
    }
  } else {
    if (p.shape.size() != 6)
      throw Error("profile", "shape", "an attention kernel needs --shape B,Hq,Hkv,S,T,D");
    if (!a.format.empty() && a.format != "f16")
      throw Error("profile", "format", "attention benchmarks use f16 K/V, got '" + a.format + "'");
    p.format = "f16";
  }
  p.program = program_path(p.op);
  return p;
}

// Google Benchmark matches the filter against the full run name, which goes on past the
// registered name ("/iterations:2/manual_time"), hence the (/|$) ending.
std::string benchmark_regex(const Plan& p) {
  const std::string tail = "/variant=" + regex_escape(p.kernel) + "/" + regex_escape(p.device) + "(/|$)";
  if (p.op == Op::Matmul)
    return "^matmul/custom/" + bench::matmul_shape_tag(p.shape[0], p.shape[1], p.shape[2]) + "/" + p.format +
           "/" + (p.act.empty() ? "[^/]+" : p.act) + tail;
  bench::AttentionShape s{p.shape[0], p.shape[1], p.shape[2], p.shape[3],
                          p.shape[4], p.shape[5], p.causal,   0};
  return "^attention/custom/" + bench::attention_shape_tag(s) + "/f16" + tail;
}

std::string shape_list(const Plan& p) {
  std::vector<std::string> v;
  for (int64_t d : p.shape) v.push_back(std::to_string(d));
  return join(v, ",");
}

// The benchmark program's command line for `iterations` timed launches after the warm-up.
std::string program_cmd(const Plan& p, int iterations) {
  std::string c =
      quote(p.program) + " --device " + quote(p.device) + " --set custom --shape " + shape_list(p);
  if (p.op == Op::Matmul)
    c += " --format " + p.format + (p.act.empty() ? "" : " --act " + p.act);
  else if (!p.causal)
    c += " --no-causal";
  c += " --variant " + quote(p.kernel) + " --iterations " + std::to_string(iterations);
  return c + " --benchmark_filter=" + quote(benchmark_regex(p));
}

void print_plan(std::ostream& os, const Plan& p) {
  const std::string tag = "xk_" + p.kernel + "_" + [&] {
    std::string s = shape_list(p);
    for (char& c : s)
      if (c == ',') c = 'x';
    return s;
  }();
  os << "# xk profile: kernel " << p.kernel << " on " << p.device << ", " << name(p.op) << " shape "
     << shape_list(p)
     << (p.op == Op::Matmul
             ? " (M,N,K), weights " + p.format + ", activations " + (p.act.empty() ? "each offered" : p.act)
             : std::string(" (B,Hq,Hkv,S,T,D), K/V f16") + (p.causal ? ", causal" : ""))
     << "\n";
  if (!p.unavailable.empty())
    os << "# NOTE: " << p.device << " is unavailable here (" << p.unavailable << ").\n"
       << (p.table_from.empty() ? "#       The kernel name was not checked against its variant table; run "
                                  "these on the machine with the device.\n"
                                : "#       Kernel names from the same variant table on " + p.table_from +
                                      "; run these on the machine with the device.\n");
  // Without a table (a backend not built here) the variant name is the best guess at a filter.
  const std::vector<std::string> kernels = p.kernels.empty() ? std::vector<std::string>{p.kernel} : p.kernels;
  if (!p.kernels.empty()) {
    os << "# Device functions of " << p.kernel << ": " << join(p.kernels, ", ");
    if (!p.helpers.empty()) os << " (around them: " << join(p.helpers, ", ") << ")";
    os << "\n";
  }
  os << "# The program makes one untimed warm-up launch, then the timed launches (--iterations).\n\n";

  if (p.api == "cuda") {
    os << "# Nsight Compute: the first timed launch of the kernel (the warm-up is skipped)\n"
       << "ncu --kernel-name-base function --kernel-name regex:" << quote(ncu_kernel_regex(kernels))
       << " --launch-skip 1 --launch-count 1 \\\n"
       << "    --section SpeedOfLight --section SpeedOfLight_RooflineChart --section MemoryWorkloadAnalysis "
          "\\\n"
       << "    --section ComputeWorkloadAnalysis --section InstructionStats --section LaunchStats --section "
          "Occupancy \\\n"
       << "    --section WarpStateStats --export " << tag << " --force-overwrite \\\n"
       << "    -- " << program_cmd(p, 2) << "\n\n"
       << "# Nsight Systems: 50 launches on the timeline, each inside the NVTX range named after the "
          "variant\n"
       << "nsys profile --trace=cuda,nvtx --output " << tag << " --force-overwrite true \\\n"
       << "    -- " << program_cmd(p, 50) << "\n"
       << "nsys stats --report cuda_gpu_kern_sum --report nvtx_sum " << tag << ".nsys-rep\n";
  } else if (p.api == "hip") {
    std::vector<std::string> all = kernels;
    all.insert(all.end(), p.helpers.begin(), p.helpers.end());
    os << "# rocprofv3 kernel trace + statistics of 50 launches (roctx ranges named after the variant)\n"
       << "rocprofv3 --kernel-include-regex " << quote(rocprof_kernel_regex(all))
       << " --kernel-trace --marker-trace --stats \\\n"
       << "    --output-format csv -d " << tag << " -o trace \\\n"
       << "    -- " << program_cmd(p, 50) << "\n\n"
       << "# rocprofv3 hardware counters: WMMA issue, VALU/LDS work, memory traffic (one pass per --pmc "
          "group)\n"
       << "rocprofv3 --kernel-include-regex " << quote(rocprof_kernel_regex(kernels))
       << " --pmc SQ_WAVES SQ_INSTS_WMMA SQ_INSTS_VALU SQ_INSTS_LDS --kernel-trace \\\n"
       << "    --output-format csv -d " << tag << " -o pmc_instructions \\\n"
       << "    -- " << program_cmd(p, 2) << "\n"
       << "rocprofv3 --kernel-include-regex " << quote(rocprof_kernel_regex(kernels))
       << " --pmc FETCH_SIZE WRITE_SIZE --kernel-trace \\\n"
       << "    --output-format csv -d " << tag << " -o pmc_memory \\\n"
       << "    -- " << program_cmd(p, 2) << "\n"
       << "# Counter names differ between ROCm releases: list this GPU's with `rocprofv3-avail list --pmc`\n"
       << "# (older: `rocprofv3 --list-avail`). On RDNA3/3.5 set the GPU performance level to STABLE_STD "
          "first,\n"
       << "# or some blocks' counters read zero (rocprofv3 docs, \"Setting GPU performance level for PMC "
          "profiling\").\n";
  } else if (p.api == "vulkan") {
    os << "# Vulkan: the benchmark's own timestamp queries give the GPU time of each dispatch:\n"
       << program_cmd(p, 50) << " --benchmark_format=json\n\n"
       << "# Every dispatch carries a VK_EXT_debug_utils label named " << p.kernel
       << ":<pipeline>, so external\n"
       << "# tools show it; the labels of this variant's dispatches match "
       << quote(vulkan_label_regex(p.kernel, kernels)) << "\n"
       << "#  NVIDIA (Nsight Systems, Vulkan GPU workload trace):\n"
       << "nsys profile --trace=vulkan,nvtx --vulkan-gpu-workload=individual --output " << tag
       << " --force-overwrite true \\\n"
       << "    -- " << program_cmd(p, 50) << "\n"
       << "#  AMD on RADV (Radeon GPU Profiler; per-submit capture for compute-only programs, Mesa >= "
          "24.1):\n"
       << "MESA_VK_TRACE=rgp MESA_VK_TRACE_PER_SUBMIT=1 " << program_cmd(p, 2) << "\n"
       << "#  RenderDoc: frames end at vkQueuePresentKHR, which a compute-only program never calls, so "
          "launch it\n"
       << "#  under `renderdoccmd capture` only to inspect the pipeline's SPIR-V and disassembly; use the "
          "tools above\n"
       << "#  for timing. Validation of the same launches: VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation "
       << quote(p.program) << " ...\n";
  } else {
    os << "# " << p.device
       << " has no external profiler: it runs on this CPU. For the simulator devices the\n"
       << "# counts that matter (mma, mma:<kind>, global_bytes_read/written, shared_bytes, barriers) are\n"
       << "# counters in the benchmark's JSON:\n"
       << program_cmd(p, 1) << " --benchmark_format=json\n"
       << "# Profilers apply to cuda:N (ncu/nsys), hip:N (rocprofv3) and vulkan:N.\n";
  }
}

}  // namespace

void add_profile_command(CLI::App& app) {
  auto a = std::make_shared<ProfileArgs>();
  auto* cmd =
      app.add_subcommand("profile", "Print the ncu / nsys / rocprofv3 command lines for one kernel launch");
  cmd->add_option("--device", a->device, "cuda:0, hip:0, vulkan:0 (or any device name)")->required();
  cmd->add_option("--kernel", a->kernel, "Kernel variant's stable name (see `xk devices`)")->required();
  cmd->add_option("--shape", a->shape, "M,N,K for a matmul kernel; B,Hq,Hkv,S,T,D for an attention kernel")
      ->required();
  cmd->add_option("--format", a->format, "Matmul weight format (default q4_0)");
  cmd->add_option("--act", a->act, "Matmul activation precision (default: the variant's preferred one)");
  cmd->add_flag("--no-causal", a->no_causal, "Attention without the causal mask");
  cmd->callback([a] { print_plan(std::cout, make_plan(*a)); });
}

}  // namespace xk::tool
