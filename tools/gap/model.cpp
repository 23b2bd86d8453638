// Kernel costs and the model-level sum. Formulas are documented in model.h.
#include "model.h"

#include <algorithm>
#include <cmath>

#include "xk/error.h"

namespace xk::gap {
namespace {

double ceil_div(double a, double b) { return std::ceil(a / b); }

// Work units in flight: the SM/CU/core count, so raster-order reuse can be judged.
double resident_blocks(const DeviceSpec& dev) {
  for (const char* k : {"sm_count", "cu_count", "gpu_cores", "cores"}) {
    auto it = dev.units.find(k);
    if (it != dev.units.end()) return it->second.value;
  }
  return 1;
}

const models::ModelPreset& find_model_or_throw(const std::string& key) {
  if (const auto* m = models::find_model(key)) return *m;
  std::string known;
  for (const auto& m : models::kModels) known += (known.empty() ? "" : ", ") + std::string(m.key);
  throw Error("gap", "model", "unknown model '" + key + "' (presets: " + known + ")");
}

const models::Workload& find_workload_or_throw(const std::string& key) {
  for (const auto& w : models::kWorkloads)
    if (w.key == key) return w;
  throw Error("gap", "workload", "unknown workload '" + key + "' (pp512, pp2048, tg128)");
}

const KernelPath& choose_path(const DeviceSpec& dev, const std::string& key,
                              const std::optional<std::string>& kernel) {
  const auto& paths = dev.paths_for(key);
  if (!kernel) return dev.default_path(key);
  for (const auto& p : paths)
    if (p.kernel == *kernel) return p;
  throw Error("gap", "kernel", dev.key + " has no path '" + *kernel + "' for " + key);
}

// The fastest measured entry matching a predicate (a device offers several activation
// precisions / variants for one GEMM; the best one is what the device can do).
template <class Pred>
const BenchEntry* best_measured(const BenchFile* f, const std::string& device, Pred pred) {
  if (!f) return nullptr;
  const BenchEntry* best = nullptr;
  for (const auto& e : f->entries) {
    if (!device.empty() && e.device != device) continue;
    if (e.simulated()) continue;  // a simulator's time is CPU time; its counters are used elsewhere
    if (!pred(e)) continue;
    if (!best || e.seconds < best->seconds) best = &e;
  }
  return best;
}

// Splits a kernel's time into the part its FLOPs account for and the memory-bound excess
// (launch overhead is kept apart in rl.t_overhead). Predicted: max(t_c, t_m) = t_c +
// (t_m - t_c)+. Measured: the memory-bound excess is at most what the roofline says memory
// costs beyond compute, min(t, t_m) - t_c; anything slower than both bounds is the kernel
// falling short of its compute rate, so it counts as compute (it shows up as a lower
// achieved efficiency, not as a memory-bound share).
void split_time(KernelEstimate& k) {
  if (!k.measured) {
    k.compute_part = k.rl.t_compute;
    k.memory_part = std::max(0.0, k.rl.t_memory - k.rl.t_compute);
    return;
  }
  const double t = k.time - k.rl.t_overhead;
  k.memory_part = std::max(0.0, std::min(t, k.rl.t_memory) - k.rl.t_compute);
  k.compute_part = t - k.memory_part;
}

}  // namespace

Roofline roofline(double flops, double bytes, double peak_ops, double eff_compute, double bandwidth,
                  double eff_memory, double launches, double overhead_s) {
  if (peak_ops <= 0 || eff_compute <= 0 || bandwidth <= 0 || eff_memory <= 0)
    throw Error("gap", "roofline", "peak, bandwidth and efficiencies must be positive");
  Roofline r;
  r.t_compute = flops / (peak_ops * eff_compute);
  r.t_memory = bytes / (bandwidth * eff_memory);
  r.t_overhead = launches * overhead_s;
  r.memory_bound = r.t_memory > r.t_compute;
  r.time = std::max(r.t_compute, r.t_memory) + r.t_overhead;
  return r;
}

double weight_bits(const std::string& f) {
  // ggml-common.h block sizes: block_q4_0 18 B / 32, block_q8_0 34 B / 32, block_mxfp4
  // 17 B / 32, block_nvfp4 36 B / 64.
  if (f == "q4_0") return 18.0 * 8 / 32;
  if (f == "q8_0") return 34.0 * 8 / 32;
  if (f == "mxfp4") return 17.0 * 8 / 32;
  if (f == "nvfp4") return 36.0 * 8 / 64;
  if (f == "f16" || f == "bf16") return 16;
  if (f == "f32") return 32;
  throw Error("gap", "format",
              "unknown weight format '" + f + "' (q4_0, q8_0, mxfp4, nvfp4, f16, bf16, f32)");
}

double act_bytes(const std::string& a) {
  if (a == "q8") return 34.0 / 32;   // int8 blocks of 32 with an fp16 scale, as block_q8_0
  if (a == "q4") return 18.0 / 32;   // int4 blocks of 32 with an fp16 scale
  if (a == "fp4") return 9.0 / 16;   // E2M1 + one UE4M3 scale per 16 (NVFP4)
  if (a == "fp8") return 33.0 / 32;  // E4M3 + one E8M0 scale per 32
  if (a == "f16" || a == "bf16") return 2;
  if (a == "f32") return 4;
  throw Error("gap", "act", "unknown activation precision '" + a + "' (q8, q4, fp4, fp8, f16, f32)");
}

Traffic gemm_traffic(const GemmGeometry& g) {
  const double M = static_cast<double>(g.m), N = static_cast<double>(g.n), K = static_cast<double>(g.k);
  const double resident = std::max(1.0, g.resident);
  const double w_reads = ceil_div(ceil_div(M, g.tile_m), resident);
  const double xq = M * K * g.ab;
  const double x_reads =
      (g.llc_bytes > 0 && xq <= g.llc_bytes / 2) ? 1.0 : ceil_div(ceil_div(N, g.tile_n), resident);
  Traffic t;
  t.flops = 2.0 * M * N * K;
  t.bytes =
      N * K * g.wbits / 8.0 * w_reads + M * K * 4.0 + (g.ab < 4.0 ? xq * (1.0 + x_reads) : 0.0) + M * N * 4.0;
  return t;
}

int64_t attention_pairs(int64_t S, int64_t T, bool causal, int64_t q_offset) {
  if (!causal) return S * T;
  int64_t pairs = 0;
  for (int64_t i = 0; i < S; ++i) pairs += std::min(T, q_offset + i + 1);
  return pairs;
}

int64_t moe_total_experts(const std::string& model) {
  // openai/gpt-oss-120b config.json: num_local_experts 128 (experts_per_token 4).
  return model == "gpt-oss-120b" ? 128 : 1;
}

double Estimate::gemm_flops() const {
  double f = 0;
  for (const auto& k : kernels)
    if (k.group == "gemm") f += k.flops;
  return f;
}

Estimate estimate(const DeviceSpec& dev, const std::string& model_key, const std::string& format,
                  const std::string& workload_key, const DeviceOverride& ov, const BenchFile* measured,
                  const std::string& bench_device) {
  const auto& m = find_model_or_throw(model_key);
  const auto& w = find_workload_or_throw(workload_key);
  const double wbits = weight_bits(format);
  Estimate est;
  est.device = dev.key;
  est.model = model_key;
  est.format = format;
  est.workload = workload_key;
  est.tokens = w.decode ? 1 : w.tokens;
  const double layers = static_cast<double>(m.layers);

  auto eff = [&](const std::string& what) {
    auto it = ov.efficiency.find(what);
    return it != ov.efficiency.end() ? it->second : dev.efficiency_of(what);
  };
  const double bw = dev.bandwidth_bytes(), eff_m = eff("memory");
  const double overhead = dev.launch_overhead.value * 1e-6;
  const double resident = resident_blocks(dev), llc = dev.last_level_cache_bytes();

  const KernelPath& gemm_path =
      choose_path(dev, w.decode ? "gemv" : format, w.decode ? std::nullopt : ov.kernel);
  est.main_path = gemm_path;
  est.main_peak = dev.peak_ops(gemm_path.cls);
  const double eff_gemm = eff(gemm_path.cls);
  // A path that re-quantizes at upload streams the weights in its own format.
  const double path_wbits = gemm_path.requant.empty() ? wbits : weight_bits(gemm_path.requant);

  const int64_t total_experts = moe_total_experts(model_key);
  for (const auto& g : models::layer_gemms(m)) {
    const bool moe_ffn = g.count > 1 && total_experts > 1;
    const double count = static_cast<double>(g.count);
    KernelEstimate k;
    k.name = std::string(g.name);
    k.group = "gemm";
    k.kernel = gemm_path.kernel;
    k.cls = gemm_path.cls;
    k.act = gemm_path.act;
    GemmGeometry geo{w.tokens,         g.n,      g.k, path_wbits, act_bytes(gemm_path.act), gemm_path.tile_m,
                     gemm_path.tile_n, resident, llc};
    Traffic t = gemm_traffic(geo);
    double flops = t.flops * count, bytes = t.bytes * count;
    if (moe_ffn) {
      // Each token visits `count` experts; the weights of every expert hit are read once.
      const double hit = std::min(static_cast<double>(total_experts), static_cast<double>(w.tokens) * count);
      const double wbytes = static_cast<double>(g.n) * static_cast<double>(g.k) * path_wbits / 8.0;
      geo.m = w.tokens * g.count;
      Traffic rows = gemm_traffic(geo);
      flops = rows.flops;
      bytes =
          rows.bytes -
          wbytes * std::ceil(std::ceil(static_cast<double>(geo.m) / geo.tile_m) / std::max(1.0, resident)) +
          wbytes * hit;
      k.launches = 1;
    } else {
      k.launches = count;
    }
    k.flops = flops * layers;
    k.bytes = bytes * layers;
    k.launches *= layers;
    k.rl = roofline(k.flops, k.bytes, est.main_peak, eff_gemm, bw, eff_m, k.launches, overhead);
    k.time = k.rl.time;
    k.provenance = "predicted";
    if (const BenchEntry* e = best_measured(measured, bench_device, [&](const BenchEntry& b) {
          return b.op == "matmul" && b.model == model_key && b.gemm == k.name && b.workload == workload_key &&
                 b.format == format;
        })) {
      k.measured = true;
      k.provenance = "measured: " + e->name;
      k.time = e->seconds * count * layers + k.rl.t_overhead;
      k.act = e->act.empty() ? k.act : e->act;
      if (!e->variant.empty()) k.kernel = e->variant;
    }
    split_time(k);
    est.kernels.push_back(k);
  }

  {  // attention: prefill over the prompt, or one decode query over the KV cache
    const KernelPath& p = choose_path(dev, "attention", std::nullopt);
    const int64_t S = w.decode ? 1 : w.tokens, T = w.context, q_offset = T - S;
    const double pairs = static_cast<double>(attention_pairs(S, T, true, q_offset));
    const double D = static_cast<double>(m.head_dim);
    KernelEstimate k;
    k.name = "attention";
    k.group = "attention";
    k.kernel = p.kernel;
    k.cls = p.cls;
    k.act = p.act;
    const double q_bytes = static_cast<double>(S * m.heads) * D * 4.0;
    const double kv_bytes = 2.0 * static_cast<double>(T * m.kv_heads) * D * 2.0;
    const double kv_reads = (llc > 0 && kv_bytes <= llc / 2)
                                ? 1.0
                                : std::max(1.0, ceil_div(static_cast<double>(S), p.tile_m) / 2.0);
    k.flops = 4.0 * static_cast<double>(m.heads) * D * pairs * layers;
    k.bytes = (2.0 * q_bytes + kv_bytes * kv_reads) * layers;
    k.launches = layers;
    k.rl = roofline(k.flops, k.bytes, dev.peak_ops(p.cls), eff("attention"), bw, eff_m, k.launches, overhead);
    k.time = k.rl.time;
    k.provenance = "predicted";
    if (const BenchEntry* e = best_measured(measured, bench_device, [&](const BenchEntry& b) {
          return b.op == "attention" && b.model == model_key && b.workload == workload_key;
        })) {
      k.measured = true;
      k.provenance = "measured: " + e->name;
      k.time = e->seconds * layers + k.rl.t_overhead;
    }
    split_time(k);
    est.kernels.push_back(k);
  }

  {  // norms, RoPE, SwiGLU, residual adds: pure streaming
    const KernelPath& p = choose_path(dev, "elementwise", std::nullopt);
    const double tokens = static_cast<double>(w.tokens);
    const double q = static_cast<double>(m.heads * m.head_dim),
                 kv = static_cast<double>(m.kv_heads * m.head_dim);
    const double ffn = static_cast<double>(m.ffn * m.active_experts), hidden = static_cast<double>(m.hidden);
    KernelEstimate k;
    k.name = "elementwise";
    k.group = "elementwise";
    k.kernel = p.kernel;
    k.cls = p.cls;
    k.act = p.act;
    k.flops = tokens * (10.0 * hidden + 3.0 * ffn) * layers;
    k.bytes = tokens * 4.0 * (10.0 * hidden + 3.0 * ffn + 2.0 * (q + kv)) * layers;
    k.launches = 8.0 * layers;
    k.rl = roofline(k.flops, k.bytes, dev.peak_ops(p.cls), eff(p.cls), bw, eff_m, k.launches, overhead);
    k.time = k.rl.time;
    k.provenance = "predicted";
    split_time(k);
    est.kernels.push_back(k);
  }

  for (const auto& k : est.kernels) est.total += k.time;
  return est;
}

}  // namespace xk::gap
