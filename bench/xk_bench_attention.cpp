// Attention throughput per device: causal GQA prefill and single-query decode, or each model
// preset's attention at pp512 / pp2048 / tg128 with --set models.
//   build/bench/xk_bench_attention --device cpu-ref --benchmark_format=json
#include "bench/program.h"

int main(int argc, char** argv) { return xk::bench::program_main(argc, argv, xk::Op::Attention); }
