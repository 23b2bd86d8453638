// `xk bench`: runs the benchmark set (bench/) in-process on the chosen devices, prints a
// progress line per benchmark and a table at the end, and with --json writes Google
// Benchmark JSON (the same file xk_bench_* --benchmark_out writes, usable by compare.py).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <regex>

#include "bench/bench.h"
#include "bench/program.h"
#include "tools/xk/bench_report.h"
#include "tools/xk/commands.h"
#include "xk/error.h"
#if XK_WITH_GAP
#include "tools/gap/gguf.h"
#include "tools/gap/model_desc.h"
#endif

namespace xk::tool {

namespace {

struct BenchArgs {
  std::vector<std::string> devices;
  std::string set = "small", model, workload, format, act, variant, json, filter, op = "all", shape, gguf;
  bool all_variants = false, quiet = false;
  double min_time = 0.2;
  int64_t iterations = 0;
};

#if XK_WITH_GAP
// --gguf: one custom matmul per weight matrix of the file's layers, at pp512 (M = 512 tokens;
// a MoE expert matrix at its expert batch 512 x used / experts), in the xkern format closest
// to its GGUF type (K-quants and other 4-5 bit types -> q4_0, 6-8 bit -> q8_0).
struct GgufCase {
  std::vector<int64_t> shape;
  std::string format;
};
std::vector<GgufCase> gguf_cases(const std::string& path) {
  const gap::ModelDesc m = gap::model_from_gguf(gap::read_gguf(path));
  std::vector<GgufCase> out;
  for (const auto& t : m.tensors) {
    const gap::GgmlType& type = gap::ggml_type_by_name(t.type);
    if (std::string(type.family) == "float") continue;  // no f16-weight matmul in the suite
    const std::string format = t.type == "mxfp4" ? "mxfp4" : type.bits() <= 5.5 ? "q4_0" : "q8_0";
    const int64_t tokens = t.is_expert() ? std::max<int64_t>(1, 512 * m.experts_used / t.experts) : 512;
    GgufCase c{{tokens, t.n, t.k}, format};
    bool seen = false;
    for (const auto& o : out) seen = seen || (o.shape == c.shape && o.format == c.format);
    if (!seen) out.push_back(c);
  }
  return out;
}
#endif

void run_bench(const BenchArgs& a) {
  bench::SetOptions set;
  set.set = a.set;
  set.model = a.model;
  set.workload = a.workload;
  set.format = a.format;
  set.act = a.act;
  set.variant = a.variant;
  set.all_variants = a.all_variants;
  if (!a.shape.empty()) {
    set.shape = bench::parse_shape(a.shape);
    set.set = "custom";
  }
  if (a.op != "all" && a.op != "matmul" && a.op != "attention")
    throw Error("bench", "op", "unknown op '" + a.op + "' (known: all, matmul, attention)");
  if (set.set == "custom" && a.op == "all")
    throw Error("bench", "op",
                "a custom --shape is for one op: add --op matmul (M,N,K) or --op attention (B,Hq,Hkv,S,T,D)");
  std::regex filter;
  try {
    filter = std::regex(a.filter.empty() ? "." : a.filter);
  } catch (const std::regex_error& e) {
    throw Error("bench", "filter", "'" + a.filter + "' is not a valid regular expression: " + e.what());
  }

  bench::Session session({a.iterations});
  const auto devices = a.devices.empty() ? bench::available_device_names() : a.devices;
  size_t total = 0;
  // Cases are filtered here rather than by --benchmark_filter so the progress count is exact.
  auto keep = [&](const std::string& name) { return std::regex_search(name, filter); };
  std::vector<std::string> seen;
  for (const std::string& name : devices) {
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;  // --device given twice
    seen.push_back(name);
    Device& dev = session.open(name);
    if (!a.gguf.empty()) {
#if XK_WITH_GAP
      for (const auto& g : gguf_cases(a.gguf)) {
        bench::SetOptions one = set;
        one.set = "custom";
        one.shape = g.shape;
        one.format = g.format;
        for (const auto& c : bench::matmul_cases(dev, one))
          if (keep(c.name)) session.add(dev, c), ++total;
      }
      continue;
#else
      throw Error("bench", "gguf", "this xk was built without tools/gap, which reads GGUF headers");
#endif
    }
    if (a.op != "attention")
      for (const auto& c : bench::matmul_cases(dev, set))
        if (keep(c.name)) session.add(dev, c), ++total;
    if (a.op != "matmul")
      for (const auto& c : bench::attention_cases(dev, set))
        if (keep(c.name)) session.add(dev, c), ++total;
  }
  if (total == 0) throw Error("bench", "filter", "no benchmark matches '" + a.filter + "'");

  // Google Benchmark reads its output file from its own flags.
  std::vector<std::string> flags = {"xk bench", "--benchmark_min_time=" + std::to_string(a.min_time)};
  if (!a.json.empty())
    flags.insert(flags.end(), {"--benchmark_out=" + a.json, "--benchmark_out_format=json"});
  std::vector<char*> argv;
  for (auto& f : flags) argv.push_back(f.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(flags.size());
  benchmark::Initialize(&argc, argv.data());

  ProgressReporter display(total, !a.quiet);
  if (a.json.empty()) {
    benchmark::RunSpecifiedBenchmarks(&display);
  } else {
    benchmark::JSONReporter file;
    benchmark::RunSpecifiedBenchmarks(&display, &file);
  }
  benchmark::Shutdown();
  std::cout << "\n";
  print_results(std::cout, display.rows());
  if (!a.json.empty()) std::cout << "\nGoogle Benchmark JSON written to " << a.json << "\n";
  // A run in which every benchmark was skipped measured nothing: that is a failure.
  const auto& rows = display.rows();
  if (std::none_of(rows.begin(), rows.end(), [](const BenchRow& r) { return r.ok; }))
    throw Error("bench", "nothing could be benchmarked: all " + std::to_string(rows.size()) +
                             " benchmarks were skipped (reasons listed above)");
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Run the benchmark set on the chosen devices");
  cmd->add_option("--device", a->devices,
                  "Device to benchmark (repeatable; default: every available device but the simulators)");
  cmd->add_option("--set", a->set,
                  "Shape set: small (quick look), models (layer GEMMs + attention of each preset) or vkpeer "
                  "(the ggml-vulkan comparison's shapes)")
      ->check(CLI::IsMember({"small", "models", "vkpeer"}));
  cmd->add_option(
      "--model", a->model,
      "Models set (implied by --model/--workload): llama3-70b, qwen2.5-72b, gemma3-27b or gpt-oss-120b");
  cmd->add_option("--workload", a->workload, "Models set: pp512, pp2048 or tg128");
  cmd->add_option("--format", a->format, "Matmul weight format: q4_0, q8_0, mxfp4, nvfp4 (default: all)");
  cmd->add_option("--act", a->act,
                  "Matmul activation precision: f32, f16, q8, fp4, fp8 (default: each offered)");
  cmd->add_option("--op", a->op, "all, matmul or attention");
  cmd->add_option("--shape", a->shape,
                  "One custom shape: M,N,K (--op matmul) or B,Hq,Hkv,S,T,D (--op attention)");
  cmd->add_option("--variant", a->variant, "Force one kernel variant by its stable name");
  cmd->add_flag("--all-variants", a->all_variants,
                "Benchmark every variant that handles a case, not only the selected one");
  cmd->add_option("--filter", a->filter, "Only benchmarks whose name matches this regular expression");
  cmd->add_option("--min-time", a->min_time, "Minimum seconds per benchmark (default 0.2)");
  auto* iterations = cmd->add_option("--iterations", a->iterations,
                                     "Fixed number of timed calls per benchmark (overrides --min-time)");
  cmd->add_option("--json", a->json, "Also write Google Benchmark JSON to this file");
  cmd->add_flag("-q,--quiet", a->quiet, "No progress lines on stderr");
  cmd->add_option(
      "--gguf", a->gguf,
      "Benchmark the weight matrices of this GGUF file's layers at pp512 (header only, no weights)");
  cmd->callback([a, iterations] {
    if ((!a->model.empty() || !a->workload.empty()) && a->set == "small") a->set = "models";
    bench::checked_min_time(a->min_time);
    if (iterations->count() > 0) bench::checked_iterations(static_cast<double>(a->iterations));
    run_bench(*a);
  });
}

}  // namespace xk::tool
