// The runtime model: a llama.cpp llama-bench run (device, backend, build, model, test,
// ubatch) as the kernels it launches, each timed from the calibration (calibrate.h).
//
// Prompt processing ppN runs ceil(N / ubatch) chunks; chunk c holds u tokens at
// positions p0 .. p0+u-1. Per chunk and layer:
//   dense GEMM   MUL_MAT M=u: t = max(2 u n k / (peak[cls] eff(u) wave(u, n)),
//                bytes / (bw eff_mem)) with bytes = weights (once per chunk) + u k (4 + q8)
//                + u n 4
//   MoE experts  MUL_MAT_ID: experts hit = E (1 - (1 - k_used/E)^u); every hit expert's
//                weights are streamed again in every chunk (llama-bench's default ubatch of
//                512 re-streams them per 512 tokens); tokens per expert u k_used / E set the
//                efficiency (the calibration's expert batch) and the per-expert tile padding
//                (the wave factor of a tpe x n GEMM on units / experts-hit SMs).
//   router       MUL_MAT of ffn_gate_inp, then top-k/softmax/get_rows in the elementwise part
//   attention    FLASH_ATTN_EXT: 4 Hq D pairs over the KV cells the kernel computes
//                (paths.h, KvCells): all u x (cells before + u) without flash attention or
//                a masked-block skip, up to each query's position with ggml-cuda's tail
//                skip, causal and windowed with ggml-vulkan's block skip; a sliding-window
//                layer keeps min(p0, window) cells from before the ubatch
//   elementwise  passes x u x hidden x 8 bytes per layer at eff_mem (fusion per backend
//                and build, paths.h), plus the FFN's GLU at its width (glu_elementwise)
//                and a MoE layer's other expert-width nodes (expert_elementwise), plus
//                launch overhead per kernel
// Every kernel pays the per-kernel cost of its device and backend measured by the
// calibration (Calibration::dispatch_us), else the database's launch_overhead.
// Token generation tgN: N steps of u = 1 over an average context of N/2: the weights of the
// dense tensors and of the k_used experts per token, at the GEMV calibration (x = 1) or the
// memory bound, plus the per-kernel launch figure for every kernel (CUDA graphs hide the
// CPU's launch cost, not the GPU's per-kernel cost).
// Capacity: weights + F16 KV cache for the test's context must fit the device's memory,
// else the prediction is refused with the reason.
#pragma once
#include <string>
#include <vector>

#include "calibrate.h"
#include "model_desc.h"

namespace xk::gap {

struct RunConfig {
  std::string backend;  // cuda | hip | vulkan
  BuildRef build;
  std::string test = "pp512";
  int64_t ubatch = 512;
  bool flash_attn = true;
};

struct KernelTime {
  std::string name;   // tensor role, "attention", "elementwise"
  std::string group;  // "gemm", "moe", "attention", "elementwise"
  std::string path, cls, how;
  double flops = 0, bytes = 0, launches = 0;
  double eff = 0;  // fraction of the class peak used (wave factor included)
  double t_compute = 0, t_memory = 0, t_launch = 0, time = 0;
};

struct Prediction {
  bool ok = false;
  std::string refused;  // why not, when !ok
  std::string device, model, test;
  int64_t tokens = 0;
  double seconds = 0, weight_bytes = 0, kv_bytes = 0, capacity_bytes = 0;
  std::vector<KernelTime> kernels;  // summed over chunks and layers
  bool any_default = false;         // some kernel fell back to a roofline default
  double launch_us = 0;             // the per-kernel cost charged, and where it came from
  std::string launch_how;
  double tok_per_s() const { return seconds > 0 ? static_cast<double>(tokens) / seconds : 0; }
  double group_time(const std::string& group) const;
  std::string main_path() const;  // the path of the largest GEMM time
};

// Never throws for a row it cannot express: returns ok = false with the reason.
Prediction predict(const DeviceSpec& dev, const ModelDesc& model, const RunConfig& run,
                   const Calibration& cal);

}  // namespace xk::gap
