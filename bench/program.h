// The command line shared by the benchmark programs (xk_bench_matmul, xk_bench_attention):
// xkern's own flags, then Google Benchmark's (--benchmark_filter, --benchmark_format=json,
// --benchmark_out=FILE, --benchmark_min_time, ...), which pass through untouched.
#pragma once
#include <string>
#include <vector>

#include "bench/bench.h"
#include "xk/variant.h"

namespace xk::bench {

struct ProgramArgs {
  std::vector<std::string> devices;  // --device (repeatable); empty = every available device
  SetOptions set;
  RunOptions run;
  double min_time = 0;  // --min-time: becomes --benchmark_min_time
  bool help = false;
};

// Takes xkern's flags out of argv (argc shrinks) and leaves the rest for
// benchmark::Initialize. Throws xk::Error("bench", <flag>, reason) on a malformed flag.
ProgramArgs take_program_args(int& argc, char** argv);

// Parses "512,4096,4096" into sizes of at least 1; throws xk::Error("bench", "shape", ...).
std::vector<int64_t> parse_shape(const std::string& s);
// --min-time (finite seconds above 0) and --iterations (a whole count of at least 1), as
// given; throw xk::Error("bench", "min-time" / "iterations", ...) otherwise.
double checked_min_time(double seconds);
int64_t checked_iterations(double n);

// main() of a benchmark program for one op.
int program_main(int argc, char** argv, Op op);

}  // namespace xk::bench
