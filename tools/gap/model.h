// The gap model: per-kernel roofline times and their sum over one model's layers.
//
// One kernel on one device:
//   t_compute = flops / (peak[class] * eff[class])
//   t_memory  = bytes / (bandwidth * eff[memory])
//   time      = max(t_compute, t_memory) + launches * launch_overhead
// The efficiency factors come from the device database (each with its source) and are
// replaced by a measured time where a bench JSON has the kernel.
//
// Traffic formulas (bytes that reach DRAM), stated once here and used everywhere:
//   GEMM  Y[M,N] = X[M,K] W[N,K]^T, weight format of `wbits` bits per element, activation
//         precision of `ab` bytes per element (q8: 34/32, q4/fp4: 18/32, fp8: 33/32,
//         f16: 2, f32: 4), tile (tile_m, tile_n), `resident` blocks in flight (SM/CU
//         count), last-level cache `llc`:
//     W   = N*K*wbits/8 * ceil(ceil(M/tile_m) / resident)   grid raster is M-fastest, so
//           the M tiles of one N stripe run together and share each weight tile in L2
//     X   = M*K*4 (F32 activations read once to quantize) + M*K*ab (quantized copy
//           written) + M*K*ab * x_reads, x_reads = 1 when the quantized X fits in half
//           the LLC, else ceil(ceil(N/tile_n) / resident); F32 activations: M*K*4 only
//     Y   = M*N*4 (F32 output)
//     FLOPs = 2*M*N*K. MoE FFNs (gpt-oss): FLOPs of the active experts, weight bytes of
//     the experts actually hit, min(total, M*active).
//   Attention (FlashAttention-2 tiling, Q F32, K/V F16, O F32), per layer:
//     FLOPs = 4*Hq*D*pairs, pairs = S*T or, causal, sum_i min(T, q_offset+i+1)
//     bytes = Q + O + K/V * kv_reads; kv_reads = 1 when K/V fit in half the LLC, else the
//             number of query tiles (halved when causal)
//   Elementwise (RMSNorm x2, RoPE, SwiGLU, residual adds x2, unfused, F32), per token and
//     layer: 4 * (10*hidden + 3*ffn*active + 2*(q + kv)) bytes.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/models.h"
#include "devices.h"

namespace xk::gap {

// ---- Single-kernel roofline ---------------------------------------------------------

struct Roofline {
  double t_compute = 0, t_memory = 0, t_overhead = 0, time = 0;
  bool memory_bound = false;
};
Roofline roofline(double flops, double bytes, double peak_ops, double eff_compute, double bandwidth,
                  double eff_memory, double launches = 0, double overhead_s = 0);

// Bits per weight element of a storage format (q4_0 4.5, q8_0 8.5, mxfp4 4.25, nvfp4 4.5,
// f16/bf16 16, f32 32); bytes per activation element for a precision (q8, q4, fp4, fp8,
// f16, bf16, f32). Both throw xk::Error naming the unknown name.
double weight_bits(const std::string& format);
double act_bytes(const std::string& act);

struct Traffic {
  double flops = 0, bytes = 0;
};
struct GemmGeometry {
  int64_t m = 0, n = 0, k = 0;
  double wbits = 4.5, ab = 34.0 / 32.0;
  int tile_m = 128, tile_n = 128;
  double resident = 1;   // thread blocks in flight
  double llc_bytes = 0;  // last-level cache
};
Traffic gemm_traffic(const GemmGeometry& g);
int64_t attention_pairs(int64_t S, int64_t T, bool causal, int64_t q_offset);

// ---- Measured kernels (Google Benchmark JSON from `xk bench --json`) ------------------

struct BenchEntry {
  std::string name;  // full benchmark name
  std::string op;    // "matmul" | "attention"
  std::string model, gemm, workload, format, act, variant, device;
  double seconds = 0;                       // real_time per iteration
  double flops = 0, bytes = 0, tokens = 0;  // per iteration (counters, or rate * time)
  // The simulator's counts for one launch of the real kernel (cuda-sim / hip-sim): global
  // bytes read + written and MMA/WMMA instructions. 0 when the device has no counters.
  double global_bytes = 0, mma = 0;
  bool simulated() const;  // device is a simulator: its times are CPU time, not device time
};
struct BenchFile {
  std::string path;
  std::vector<BenchEntry> entries;
  std::vector<std::string> device_names() const;  // distinct, most entries first
};
// Parses the benchmark list; entries with an error or without timing are skipped. Names
// follow bench/bench.h: matmul/<model>/<gemm>/<workload>/<format>/<act>[/variant=..]/<dev>
// and attention/<model>/<workload>/<kv>[/variant=..]/<dev>.
BenchFile parse_bench_json(const nlohmann::json& j, const std::string& path = "");
BenchFile read_bench_json(const std::string& path);
// The fields of a benchmark or variant name between separators ("a/b//c" -> a, b, "", c),
// as parse_bench_json and the kernel predictions read them.
std::vector<std::string> split_name(const std::string& s, char sep);

// Global traffic of one GEMM launch without any cache (what the simulator counts):
// W * ceil(M/tile_m) + X_q * ceil(N/tile_n) + Y. Set beside the simulator's global bytes it
// checks the tiling formulas above against the real kernel.
struct TrafficCheck {
  std::string name, variant;
  int64_t m = 0, n = 0, k = 0;
  int tile_m = 0, tile_n = 0;
  double formula_bytes = 0, simulator_bytes = 0;
};
// One row per simulated matmul entry whose shape and tile can be read from its name and
// variant (tile = the "<m>x<n>" segment of the variant name).
std::vector<TrafficCheck> traffic_checks(const BenchFile& f);

// ---- Model-level estimate ------------------------------------------------------------

struct KernelEstimate {
  std::string name;   // "qkv", "o", "gate_up", "down", "attention", "elementwise"
  std::string group;  // "gemm", "attention", "elementwise"
  std::string kernel, cls, act;
  double flops = 0, bytes = 0, launches = 0;  // summed over the layers
  Roofline rl;                                // predicted
  double time = 0;                            // predicted or measured, with overhead
  double compute_part = 0, memory_part = 0;   // time split for the decomposition
  bool measured = false;
  std::string provenance;  // "predicted" or "measured: <bench name>"
};

struct Estimate {
  std::string device, model, format, workload;
  int64_t tokens = 0;    // tokens the workload advances (pp: M; tg: 1)
  KernelPath main_path;  // the GEMM path used
  double main_peak = 0;  // op/s of its class
  std::vector<KernelEstimate> kernels;
  double total = 0;  // seconds
  double tok_per_s() const { return total > 0 ? static_cast<double>(tokens) / total : 0; }
  double gemm_flops() const;
};

struct DeviceOverride {
  std::optional<std::string> kernel;         // use this path of the format (by kernel name)
  std::map<std::string, double> efficiency;  // class|attention|memory -> fraction
};

// Throws xk::Error for an unknown model, workload, format or device.
Estimate estimate(const DeviceSpec& dev, const std::string& model, const std::string& format,
                  const std::string& workload, const DeviceOverride& ov = {},
                  const BenchFile* measured = nullptr, const std::string& bench_device = "");

int64_t moe_total_experts(const std::string& model);

}  // namespace xk::gap
