// The runtime model (formulas in runtime.h).
#include "runtime.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "render.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

double capacity_of(const DeviceSpec& d) {
  auto it = d.memory.find("capacity");
  return it == d.memory.end() ? 0 : it->second.value * 1e9;
}

struct Ctx {
  const DeviceSpec& dev;
  const RunConfig& run;
  const Calibration& cal;
  double units, bw, eff_mem, overhead;
  std::string mem_how;
};

// The width of one FFN (its up projection's rows; half the rows of a fused gate_up
// tensor) and how many layers hold it: the experts' FFN or the dense one.
struct FfnShape {
  double n_ff = 0, layers = 0;
};
FfnShape ffn_shape(const ModelDesc& m, bool experts) {
  FfnShape e;
  const std::string up = experts ? "ffn_up_exps" : "ffn_up",
                    gate_up = experts ? "ffn_gate_up_exps" : "ffn_gate_up";
  for (const auto& t : m.tensors) {
    if (t.is_expert() != experts) continue;
    if (t.role != up && t.role != gate_up) continue;
    e.n_ff = static_cast<double>(t.role == up ? t.n : t.n / 2);
    e.layers += static_cast<double>(t.layers);
  }
  return e;
}

void add(std::map<std::string, KernelTime>& into, const KernelTime& k) {
  KernelTime& t = into[k.group + "/" + k.name];
  if (t.name.empty())
    t = k;
  else {
    t.flops += k.flops, t.bytes += k.bytes, t.launches += k.launches;
    t.t_compute += k.t_compute, t.t_memory += k.t_memory, t.t_launch += k.t_launch, t.time += k.time;
  }
}

// The f16 expansion before BLAS (paths.h expands_to_f16): reads the blocks, writes f16.
KernelTime dequant_pass(const Ctx& c, double elems, double quant_bytes, double launches, double layers) {
  KernelTime k;
  k.group = "gemm";
  k.name = "to_f16 (BLAS)";
  k.path = "memory";
  k.cls = "memory";
  k.how = c.mem_how + "; quantized weights expanded to f16 before cuBLAS/hipBLAS";
  k.eff = c.eff_mem;
  k.bytes = (quant_bytes + 2 * elems) * layers;
  k.launches = launches * layers;
  k.t_memory = k.bytes / (c.bw * c.eff_mem);
  k.t_launch = k.launches * c.overhead;
  k.time = k.t_memory + k.t_launch;
  return k;
}

// One GEMM-like kernel over `layers` layers.
KernelTime timed(const Ctx& c, KernelTime k, const InstrPath& p, const std::string& kind, double x,
                 double wave, double layers, const std::string& type = "") {
  const CalLookup l = c.cal.lookup(c.dev, c.run.backend, p, kind, x, c.run.build.date, type);
  k.path = p.name;
  k.cls = p.cls;
  k.how = l.how;
  k.eff = std::max(1e-4, l.eff * wave);
  k.flops *= layers;
  k.bytes *= layers;
  k.launches *= layers;
  k.t_compute = k.flops / (c.dev.peak_ops(p.cls) * k.eff);
  k.t_memory = k.bytes / (c.bw * c.eff_mem);
  k.t_launch = k.launches * c.overhead;
  k.time = std::max(k.t_compute, k.t_memory) + k.t_launch;
  return k;
}

}  // namespace

double Prediction::group_time(const std::string& group) const {
  double t = 0;
  for (const auto& k : kernels)
    if (k.group == group) t += k.time;
  return t;
}

std::string Prediction::main_path() const {
  const KernelTime* best = nullptr;
  for (const auto& k : kernels)
    if ((k.group == "gemm" || k.group == "moe") && (!best || k.time > best->time)) best = &k;
  return best ? best->path + " (" + best->cls + ")" : "";
}

Prediction predict(const DeviceSpec& dev, const ModelDesc& m, const RunConfig& run, const Calibration& cal) {
  Prediction pr;
  pr.device = dev.key;
  pr.model = m.key;
  pr.test = run.test;
  const bool pp = run.test.rfind("pp", 0) == 0, tg = run.test.rfind("tg", 0) == 0;
  int64_t n = 0;
  try {
    n = std::stoll(run.test.substr(2));
  } catch (const std::exception&) {
  }
  if ((!pp && !tg) || n <= 0 || run.test.find_first_of("+@ ") != std::string::npos) {
    pr.refused = "test '" + run.test + "' is not ppN or tgN (combined tests and depths are not modelled)";
    return pr;
  }
  if (run.ubatch < 1) {
    pr.refused = strf("ubatch %lld is not a token count (llama-bench -ub is at least 1)",
                      static_cast<long long>(run.ubatch));
    return pr;
  }
  pr.tokens = n;
  pr.weight_bytes = m.weight_bytes();
  pr.kv_bytes = 2.0 * static_cast<double>(m.layers * m.kv_heads * m.head_dim) * 2.0 * static_cast<double>(n);
  pr.capacity_bytes = capacity_of(dev);
  if (pr.capacity_bytes > 0 && pr.weight_bytes + pr.kv_bytes > pr.capacity_bytes) {
    pr.refused = strf(
        "does not fit: %s needs %.1f GB of weights + %.1f GB of KV cache, %s has %.0f GB (no offload "
        "modelled)",
        m.key.c_str(), pr.weight_bytes / 1e9, pr.kv_bytes / 1e9, dev.key.c_str(), pr.capacity_bytes / 1e9);
    return pr;
  }
  try {
    pr.launch_us = dev.launch_overhead.value;
    pr.launch_how = "database launch_overhead (" + dev.launch_overhead.source + ")";
    cal.dispatch_us(dev.key, run.backend, run.build.date, pr.launch_us, pr.launch_how);
    Ctx c{dev, run, cal, tile_units(dev, run.backend), dev.bandwidth_bytes(), 0, pr.launch_us * 1e-6, ""};
    const InstrPath mem_path{"memory", "memory", 1, 1, ""};
    const CalLookup mem = cal.lookup(dev, run.backend, mem_path, "mem", 1, run.build.date);
    c.eff_mem = mem.eff;
    c.mem_how = mem.how;
    // CUDA graphs (llama.cpp's single-token decode) remove the CPU's launch cost but not
    // the GPU's per-kernel cost of a few microseconds, so decode keeps the database's
    // per-kernel figure too.
    std::map<std::string, KernelTime> sum;
    const int64_t u_max = pp ? std::max<int64_t>(1, std::min(run.ubatch, n)) : 1;
    const int64_t steps = pp ? (n + u_max - 1) / u_max : n;
    const Fusion fusion = elementwise_fusion(run.backend, run.build, m.moe());
    const FfnShape expert_ffn = m.moe() ? ffn_shape(m, true) : FfnShape{}, dense_ffn = ffn_shape(m, false);
    const bool gemv_fused = gemv_fusion(run.backend, run.build);
    const double swa = static_cast<double>(m.swa_layers), full = static_cast<double>(m.layers - m.swa_layers);
    for (int64_t s = 0; s < steps; ++s) {
      const double u = pp ? static_cast<double>(std::min(u_max, n - s * u_max)) : 1.0;
      const double p0 = pp ? static_cast<double>(s * u_max) : static_cast<double>(n) / 2.0;
      for (const auto& t : m.tensors) {
        const GgmlType& type = ggml_type_by_name(t.type);
        const double N = static_cast<double>(t.n), K = static_cast<double>(t.k),
                     wbytes = N * K * type.bits() / 8.0;
        const double layers = static_cast<double>(t.layers);
        if (t.role == "output" && pp && s != steps - 1) continue;  // prompt: logits of the last token only
        const double rows = t.role == "output" ? 1.0 : u;
        KernelTime k;
        k.name = t.role;
        // Decode under ggml-cuda's GEMV fusion: the gate's mat-vec is the up's kernel.
        const bool gate_in_up =
            (t.role == "ffn_gate" || t.role == "ffn_gate_exps") && gemv_rows(rows) && gemv_fused;
        k.launches = gate_in_up ? 0 : 1;
        if (!t.is_expert()) {
          const InstrPath p =
              instruction_path(dev, run.backend, run.build, "mm", type.family, rows, 0, t.type);
          k.group = "gemm";
          k.flops = 2 * rows * N * K;
          k.bytes = wbytes + rows * K * (4 + 34.0 / 32) + rows * N * 4;
          if (expands_to_f16(p, type.family)) {
            add(sum, dequant_pass(c, N * K, wbytes, 1, layers));
            k.bytes += 2 * N * K - wbytes;
          }
          add(sum,
              timed(c, k, p, "mm", rows,
                    gemv_rows(rows) ? 1.0
                                    : wave_factor(rows, N, p.tile_m, p.tile_n, p.stream_k ? 1.0 : c.units),
                    layers, t.type));
        } else {
          const double E = static_cast<double>(t.experts), used = static_cast<double>(m.experts_used);
          const double hit = E * (1 - std::pow(1 - used / E, rows));
          const double x = rows * used / E;
          const InstrPath p =
              instruction_path(dev, run.backend, run.build, "mm_id", type.family, x, rows, t.type);
          k.group = "moe";
          k.flops = 2 * rows * used * N * K;
          const double act_bytes = rows * used * (K * (4 + 34.0 / 32) + N * 4);  // gather, q8_1, out
          k.bytes = hit * wbytes + act_bytes;
          if (p.per_expert) {
            // Each expert's GEMM takes the path its own token count picks (paths.h): below
            // and from kBlasFromTokens, priced apart; the loop's fixed launches go with the first.
            const InstrPath few = instruction_path(dev, run.backend, run.build, "mm_id", type.family, 1, rows,
                                                   t.type),
                            many = instruction_path(dev, run.backend, run.build, "mm_id", type.family,
                                                    kBlasFromTokens, rows, t.type);
            const double split = few.name == many.name ? rows + 1 : kBlasFromTokens;
            bool first = true;
            for (const auto& [q, lo, hi] : {std::tuple{few, 0.0, split}, std::tuple{many, split, rows + 1}}) {
              const ExpertGemm g = expert_loop_gemm(rows, used, E, N, q, c.units, lo, hi);
              if (g.hit <= 0) continue;
              KernelTime part = k;
              part.flops *= g.share;
              part.bytes = g.hit * wbytes + g.share * act_bytes;
              part.launches = g.launches + (first ? kExpertLoopFixedLaunches : 0);
              first = false;
              if (expands_to_f16(q, type.family)) {
                add(sum, dequant_pass(c, g.hit * N * K, g.hit * wbytes, g.hit, layers));
                part.bytes += g.hit * (2 * N * K - wbytes);
              }
              add(sum, timed(c, part, q, "mm_id", g.x, g.wave, layers, t.type));
            }
            continue;
          }
          const ExpertGemm g = expert_gemm(rows, used, E, N, p, c.units);
          add(sum, timed(c, k, p, "mm_id", g.x, g.wave, layers, t.type));
        }
      }
      {  // attention
        const InstrPath p = instruction_path(dev, run.backend, run.build, "fa", "float");
        // The KV cells computed for the ubatch's queries (paths.h, KvCells). A sliding-window
        // layer's cache holds at most `window` cells from before the ubatch plus its own
        // (llama.cpp's iSWA cache), so it sees min(p0, window) + u cells.
        const KvCells cells = attention_kv_cells(run.backend, run.build, run.flash_attn);
        auto pairs = [&](double window) {
          const double before = window > 0 ? std::min(p0, window) : p0;
          if (cells == KvCells::all) return u * (before + u);
          double total = 0;
          for (double i = 0; i < u; ++i)
            total += window > 0 && cells == KvCells::blocks ? std::min(window, p0 + i + 1) : before + i + 1;
          return total;
        };
        const double HqD = static_cast<double>(m.heads * m.head_dim),
                     kvD = static_cast<double>(m.kv_heads * m.head_dim);
        const double ctx = p0 + u;
        KernelTime k;
        k.name = "attention";
        k.group = "attention";
        k.launches = 1;
        k.flops = 4 * HqD * (swa * pairs(static_cast<double>(m.sliding_window)) + full * pairs(0)) /
                  static_cast<double>(m.layers);
        k.bytes = 2 * u * HqD * 4 + 2 * kvD * 2 * ctx;
        // Without flash attention the KQ scores make round trips through memory, plus the
        // F32 mask the softmax reads once per (token, KV cell).
        if (!run.flash_attn)
          k.bytes += (score_bytes_unfused(run.backend) * static_cast<double>(m.heads) + 4) * u * ctx,
              k.launches = 4;
        add(sum, timed(c, k, p, "fa", u, 1.0, static_cast<double>(m.layers)));
      }
      {  // elementwise
        KernelTime k;
        k.name = "elementwise";
        k.group = "elementwise";
        k.path = "memory";
        k.cls = "memory";
        k.how = c.mem_how + "; " + fusion.why;
        const double layers = static_cast<double>(m.layers);
        k.bytes = fusion.passes_per_layer * u * static_cast<double>(m.hidden) * 8 * layers;
        k.launches = fusion.launches_per_layer * layers;
        auto add_work = [&](const ElementwiseWork& e, double ffn_layers, const std::string& label) {
          k.bytes += e.floats * 4 * u * ffn_layers;
          k.launches += e.launches * ffn_layers;
          k.how += "; " + label + e.why;
        };
        if (expert_ffn.layers > 0)
          add_work(expert_elementwise(run.backend, run.build, static_cast<double>(m.hidden), expert_ffn.n_ff,
                                      static_cast<double>(m.experts_used), m.expert_bias, gemv_rows(u)),
                   expert_ffn.layers, "");
        if (dense_ffn.layers > 0)
          add_work(glu_elementwise(run.backend, run.build, dense_ffn.n_ff, gemv_rows(u)), dense_ffn.layers,
                   "dense FFN ");
        if (m.qk_norm)
          add_work(qk_norm_elementwise(run.backend, run.build, static_cast<double>(m.heads * m.head_dim),
                                       static_cast<double>(m.kv_heads * m.head_dim)),
                   layers, "");
        k.eff = c.eff_mem;
        k.t_memory = k.bytes / (c.bw * c.eff_mem);
        k.t_launch = k.launches * c.overhead;
        k.time = k.t_memory + k.t_launch;
        add(sum, k);
      }
    }
    for (auto& [key, k] : sum) {
      pr.any_default = pr.any_default || k.how.find("roofline default") != std::string::npos;
      pr.seconds += k.time;
      pr.kernels.push_back(k);
    }
  } catch (const Error& e) {
    pr.refused = e.what();
    return pr;
  }
  pr.ok = true;
  return pr;
}

}  // namespace xk::gap
