#include "bench/program.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "xk/error.h"

namespace xk::bench {

namespace {

constexpr const char* kUsage = R"(xkern options (before or among Google Benchmark's own):
  --device D        device to benchmark (repeatable; default: every available device)
  --set S           small (default), models, or custom (with --shape)
  --model M         models set: one of llama3-70b, qwen2.5-72b, gemma3-27b, gpt-oss-120b
  --workload W      models set: pp512, pp2048 or tg128
  --format F        matmul: q4_0, q8_0, mxfp4 or nvfp4 (default: all four)
  --act A           matmul: f32, f16, q8, fp4 or fp8 (default: every one the device offers)
  --shape LIST      custom set: M,N,K (matmul) or B,Hq,Hkv,S,T,D (attention)
  --no-causal       custom attention without the causal mask
  --variant NAME    force one kernel variant by its stable name
  --all-variants    one benchmark per variant that handles the case, not only the selected one
  --min-time S      minimum seconds per benchmark
  --iterations N    fixed number of timed calls (profiling), after one warm-up call
Google Benchmark flags: --benchmark_filter=REGEX --benchmark_format=json
  --benchmark_out=FILE --benchmark_out_format=json --benchmark_list_tests ...
)";

double parse_number(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    const double d = std::stod(v, &used);
    if (used == v.size()) return d;
  } catch (const std::exception&) {
  }
  throw Error("bench", flag, "expected a number, got '" + v + "'");
}

std::string shortest(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

double checked_min_time(double seconds) {
  if (!std::isfinite(seconds) || seconds <= 0)
    throw Error("bench", "min-time",
                "--min-time must be a finite number of seconds above 0, got " + shortest(seconds));
  return seconds;
}

int64_t checked_iterations(double n) {
  if (!(n >= 1 && n <= 1e12) || n != std::floor(n))
    throw Error("bench", "iterations",
                "--iterations must be a whole number of calls of at least 1, got " + shortest(n));
  return static_cast<int64_t>(n);
}

std::vector<int64_t> parse_shape(const std::string& s) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    try {
      size_t used = 0;
      const long long v = std::stoll(part, &used);
      if (used != part.size() || v < 1) throw std::invalid_argument(part);
      out.push_back(v);
    } catch (const std::exception&) {
      throw Error("bench", "shape", "'" + s + "' is not a comma-separated list of sizes of at least 1");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

ProgramArgs take_program_args(int& argc, char** argv) {
  ProgramArgs a;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (const size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) throw Error("bench", arg, "needs a value");
      return argv[++i];
    };
    if (arg == "--device")
      a.devices.push_back(next());
    else if (arg == "--set")
      a.set.set = next();
    else if (arg == "--model")
      a.set.model = next();
    else if (arg == "--workload")
      a.set.workload = next();
    else if (arg == "--format")
      a.set.format = next();
    else if (arg == "--act")
      a.set.act = next();
    else if (arg == "--shape")
      a.set.shape = parse_shape(next());
    else if (arg == "--variant")
      a.set.variant = next();
    else if (arg == "--all-variants")
      a.set.all_variants = true;
    else if (arg == "--no-causal")
      a.set.causal = false;
    else if (arg == "--min-time")
      a.min_time = checked_min_time(parse_number(arg, next()));
    else if (arg == "--iterations")
      a.run.iterations = checked_iterations(parse_number(arg, next()));
    else if (arg == "--help" || arg == "-h")
      a.help = true;
    else
      argv[kept++] = argv[i];  // Google Benchmark's (or unknown: reported below)
  }
  argc = kept;
  argv[argc] = nullptr;
  if (!a.set.shape.empty() && a.set.set == "small") a.set.set = "custom";
  return a;
}

int program_main(int argc, char** argv, Op op) {
  ProgramArgs args;
  try {
    args = take_program_args(argc, argv);
  } catch (const Error& e) {
    std::cerr << e.what() << "\n" << kUsage;
    return 2;
  }
  if (args.help) {
    std::cout << kUsage;
    benchmark::PrintDefaultHelp();
    return 0;
  }
  // --min-time goes to Google Benchmark as its own flag (placed first, so an explicit
  // --benchmark_min_time later on the command line still wins).
  std::vector<char*> gb_argv(argv, argv + argc);
  std::string min_time_flag = "--benchmark_min_time=" + std::to_string(args.min_time);
  if (args.min_time > 0) gb_argv.insert(gb_argv.begin() + 1, min_time_flag.data());
  gb_argv.push_back(nullptr);
  int gb_argc = static_cast<int>(gb_argv.size()) - 1;
  benchmark::Initialize(&gb_argc, gb_argv.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb_argv.data())) return 2;

  Session session(args.run);
  try {
    if (args.devices.empty()) args.devices = available_device_names();
    for (const std::string& name : args.devices) {
      Device& dev = session.open(name);
      if (op == Op::Matmul)
        for (const auto& c : matmul_cases(dev, args.set)) session.add(dev, c);
      else
        for (const auto& c : attention_cases(dev, args.set)) session.add(dev, c);
    }
  } catch (const Error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace xk::bench
