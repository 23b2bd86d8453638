// Model-level figures from per-kernel results: a models-set run measured every layer GEMM
// and the attention of a preset, so one layer's time is their sum and the model's
// prompt-processing (or generation) rate follows:
//   layer = sum over GEMMs of count * t_gemm + t_attention
//   tok/s = tokens of the workload / (layers * layer)
// Everything else a layer does (norms, RoPE, activations, sampling) is left out, so this is
// an upper bound on what the kernels allow, not a prediction of an inference engine.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace xk::bench {

struct Result {
  std::string name;    // benchmark name as registered (see bench.h)
  double seconds = 0;  // per call
  bool ok = false;     // false when the benchmark was skipped
};

struct ModelEstimate {
  std::string device, model, workload, format, act;
  int64_t layers = 0;
  double gemm_seconds = 0;       // per layer
  double attention_seconds = 0;  // per layer
  double tokens_per_second = 0;
};

// One estimate per (device, model, workload, format, act) whose four layer GEMMs and whose
// attention were all measured; incomplete groups are left out.
std::vector<ModelEstimate> model_estimates(const std::vector<Result>& results);

}  // namespace xk::bench
