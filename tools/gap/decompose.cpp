// Factor decomposition and the default "what would close the gap" scenarios.
#include "decompose.h"

#include <cmath>
#include <cstdio>

#include "xk/error.h"

namespace xk::gap {
namespace {

std::string fmt(const char* f, double a, double b) {
  char buf[160];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

}  // namespace

double Decomposition::product() const {
  double p = 1;
  for (const auto& f : factors) p *= f.value;
  return p;
}

TimeSplit split(const Estimate& e) {
  TimeSplit s;
  for (const auto& k : e.kernels) {
    if (k.group == "gemm") {
      s.gemm_compute += k.compute_part;
      s.memory += k.memory_part + k.rl.t_overhead;
    } else if (k.group == "attention") {
      s.attention += k.time;
    } else {
      s.memory += k.time;
    }
  }
  s.total = s.gemm_compute + s.memory + s.attention;
  return s;
}

Decomposition decompose(const Estimate& a, const Estimate& b) {
  const TimeSplit sa = split(a), sb = split(b);
  if (sa.gemm_compute <= 0 || sb.gemm_compute <= 0)
    throw Error("gap", "decompose", "a device has no GEMM compute time to decompose");
  Decomposition d;
  d.device_a = a.device;
  d.device_b = b.device;
  d.ratio = sb.total / sa.total;
  const double F = a.gemm_flops();
  const double eff_a = F / (sa.gemm_compute * a.main_peak), eff_b = F / (sb.gemm_compute * b.main_peak);
  const double core_a = sa.gemm_compute + sa.memory, core_b = sb.gemm_compute + sb.memory;
  d.factors = {
      {"peak-rate ratio", a.main_peak / b.main_peak, 0,
       a.main_path.cls + " " + fmt("%.1f vs %.1f T op/s", a.main_peak / 1e12, b.main_peak / 1e12) + " " +
           b.main_path.cls},
      {"achieved efficiency ratio", eff_a / eff_b, 0,
       fmt("%.1f%% vs %.1f%% of that peak on the GEMM FLOPs", 100 * eff_a, 100 * eff_b)},
      {"memory-bound share", (core_b / sb.gemm_compute) / (core_a / sa.gemm_compute), 0,
       fmt("%.1f%% vs %.1f%% of GEMM+elementwise time is memory-bound or launch overhead",
           100 * sa.memory / core_a, 100 * sb.memory / core_b)},
      {"attention share", (sb.total / core_b) / (sa.total / core_a), 0,
       fmt("attention %.1f%% vs %.1f%% of the total", 100 * sa.attention / sa.total,
           100 * sb.attention / sb.total)},
  };
  const double log_r = std::log(d.ratio);
  for (auto& f : d.factors) f.log_share = std::abs(log_r) > 1e-12 ? std::log(f.value) / log_r : 0;
  return d;
}

std::vector<Scenario> default_scenarios(const DeviceSpec& a, const DeviceSpec& b, const std::string& format) {
  std::vector<Scenario> out;
  for (const DeviceSpec* d : {&b, &a}) {
    auto it = d->paths.find(format);
    if (it == d->paths.end()) continue;
    const KernelPath& current = d->default_path(format);
    for (const KernelPath& p : it->second) {
      if (&p == &current) continue;
      Scenario s;
      s.device = d->key;
      s.label = d->key + ": use " + p.kernel + (p.what_if ? " [what-if kernel]" : "") + " (" + p.cls +
                ", activations " + p.act + ")" +
                (p.requant.empty() ? "" : ", weights re-quantized to " + p.requant);
      s.change.kernel = p.kernel;
      out.push_back(s);
    }
  }
  for (const DeviceSpec* d : {&b, &a}) {
    Scenario s;
    s.device = d->key;
    s.label = d->key + ": " + d->default_path(format).cls + " GEMM at 100% of peak (efficiency 1.0)";
    s.change.efficiency[d->default_path(format).cls] = 1.0;
    out.push_back(s);
    const Figure& mem = d->efficiency.at("memory");
    Scenario m;
    m.device = d->key;
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", 100 * mem.value);
    m.label = d->key + ": memory at 100% of theoretical bandwidth (model uses " + pct + ", " + mem.kind + ")";
    m.change.efficiency["memory"] = 1.0;
    out.push_back(m);
  }
  return out;
}

}  // namespace xk::gap
