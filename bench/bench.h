// xk_bench: the benchmark harness shared by bench/xk_bench_* and `xk bench`.
//
// A benchmark is one (device, op, variant-or-auto, shape) case registered at runtime with
// Google Benchmark. Timing is the device's own timer (Device::set_timing + LaunchRecord::
// device_seconds: CUDA/HIP events, Vulkan timestamp queries) fed to UseManualTime(); a
// backend that reports no device time falls back to wall time around launch + synchronize,
// and the benchmark's label says which timer was used.
//
// Counters (Google Benchmark JSON, so compare.py and `xk compare` can read them):
//   FLOP/s, bytes/s, tok/s   rates over the measured time
//   flops, bytes, tokens     per-iteration amounts (what the rates divide)
//   mma, mma:<kind>, global_bytes_read, global_bytes_written, shared_bytes, barriers
//                            the simulator's counts for one launch, when the device has them
//
// Names (stable, `/`-separated so --filter and compare.py can pick them apart):
//   matmul/<model>/<gemm>/<workload>/<format>/<act>[/variant=<name>]/<device>
//   matmul/small/M64_N1024_K1024/<format>/<act>[/variant=<name>]/<device>
//   attention/<model>/<workload>/<kv format>[/variant=<name>]/<device>
//   attention/small/prefill_B1_Hq8_Hkv2_S256_T256_D128_causal/<kv format>/<device>
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xk/device.h"
#include "xk/dtype.h"

namespace xk::bench {

// ---- Accounting: what one call does, independent of how fast it ran -------------------

struct Work {
  double flops = 0;   // arithmetic operations (a multiply-add counts 2)
  double bytes = 0;   // compulsory traffic: every input read once, the output written once
  double tokens = 0;  // tokens the call advances (matmul: M rows; attention: B * S queries)
};

// Y[M,N] = X[M,K] W[N,K]^T: 2*M*N*K FLOPs; bytes = W in its storage format + X + Y (F32).
Work matmul_work(int64_t M, int64_t N, int64_t K, DType w_format, DType x_dtype);

struct AttentionShape {
  int64_t B = 1, Hq = 1, Hkv = 1, S = 1, T = 1, D = 128;
  bool causal = false;
  int64_t q_offset = 0;  // absolute position of query 0 (decode: T - 1)
};
// Query-key pairs that are scored per (batch, head): S*T, or with a causal mask the exact
// count sum_i min(T, q_offset + i + 1) (about half of S*T for a square prefill).
int64_t attention_pairs(const AttentionShape& s);
// 4*B*Hq*D*pairs FLOPs (QK^T and PV, 2 each per pair and head-dim element); bytes = Q + K +
// V + O (O in F32); tokens = B*S.
Work attention_work(const AttentionShape& s, DType q_dtype, DType kv_dtype);

// ---- Cases: the shape sets -------------------------------------------------------------

struct MatmulCase {
  std::string name;      // full benchmark name (see top of file)
  std::string model;     // model key, or "small" / "custom"
  std::string gemm;      // layer GEMM ("qkv", "o", "gate_up", "down"), or "" outside models
  std::string workload;  // "pp512", "tg128", or ""
  int64_t M = 0, N = 0, K = 0;
  int64_t count = 1;  // times the GEMM runs per layer (active experts)
  DType format = DType::Q4_0;
  ActPrecision act = ActPrecision::Auto;
  std::string variant;  // forced variant name, "" = automatic selection
};

struct AttentionCase {
  std::string name;
  std::string model, workload;
  AttentionShape shape;
  DType q_dtype = DType::F32;
  DType kv_dtype = DType::F16;
  std::string variant;
};

struct SetOptions {
  std::string set = "small";   // "small", "models" or "custom"
  std::string model;           // models set: one model key ("" = all)
  std::string workload;        // models set: one workload key ("" = all)
  std::string format;          // matmul: one weight format ("" = all four)
  std::string act;             // matmul: one activation precision ("" = every one offered)
  std::vector<int64_t> shape;  // custom: M,N,K (matmul) or B,Hq,Hkv,S,T,D (attention)
  bool causal = true;          // custom attention: causal mask (q_offset = T - S)
  std::string variant;         // force one variant by name ("" = automatic)
  bool all_variants = false;   // one case per variant that handles the format
};

// The shape part of a benchmark name: "M512_N4096_K4096", "prefill_B1_Hq8_Hkv2_S256_T256_D128_causal".
std::string matmul_shape_tag(int64_t M, int64_t N, int64_t K);
std::string attention_shape_tag(const AttentionShape& s);

// Throws xk::Error("bench", "set", ...) for an unknown set, model, workload or shape.
std::vector<MatmulCase> matmul_cases(const Device& dev, const SetOptions& opt);
std::vector<AttentionCase> attention_cases(const Device& dev, const SetOptions& opt);

// Activation precisions the device offers for a weight format: the union, in table order,
// of the acts of every matmul variant that handles the format, minus those the format
// cannot take (FP4 activations need FP4 weights). `variant` limits it to one variant.
std::vector<ActPrecision> offered_acts(const Device& dev, DType format, const std::string& variant = "");

// ---- Registration ----------------------------------------------------------------------

// Minimum time per benchmark is Google Benchmark's own --benchmark_min_time flag (a
// per-benchmark MinTime() would append "/min_time:..." to every name and break comparisons).
struct RunOptions {
  int64_t iterations = 0;  // fixed iteration count (profiling); 0 = decided by min_time
};

// Owns the opened devices and registers benchmarks with Google Benchmark. Keep it alive
// until RunSpecifiedBenchmarks() returns; its destructor releases the cached tensors and
// clears the registered benchmarks.
class Session {
 public:
  explicit Session(RunOptions run = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Opens a device by name (xk::open_device); throws xk::Error when it is absent.
  Device& open(const std::string& device_name);
  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }

  void add(Device& dev, const MatmulCase& c);
  void add(Device& dev, const AttentionCase& c);
  const std::vector<std::string>& names() const { return names_; }

 private:
  RunOptions run_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::vector<std::string> names_;
};

// The devices `xk bench` uses when none is named: every available one except the
// simulators (cuda-sim, hip-sim), whose run times say nothing about a GPU and which run
// kernels thousands of times slower than the hardware; name them to benchmark their counts.
std::vector<std::string> available_device_names();

// A device's DeviceInfo as a JSON object text (name, api, arch, memory, features, ...): the
// one description used by `xk devices --json` and by the benchmark JSON's context.
std::string device_info_json(const DeviceInfo& info);

}  // namespace xk::bench
