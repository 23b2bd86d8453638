// Matmul throughput per device, weight format and activation precision: GEMV (M = 1) and
// GEMM shapes, or every layer GEMM of a model preset with --set models.
//   build/bench/xk_bench_matmul --device cpu-ref --benchmark_format=json
#include "bench/program.h"

int main(int argc, char** argv) { return xk::bench::program_main(argc, argv, xk::Op::Matmul); }
