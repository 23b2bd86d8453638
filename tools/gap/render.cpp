// Tables, factor lists and JSON for the gap commands.
#include "render.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <ostream>

namespace xk::gap {

std::string strf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

namespace {

std::string si(double v, const char* unit) {
  const char* prefix[] = {"", "k", "M", "G", "T", "P", "E"};
  int i = 0;
  while (std::abs(v) >= 1000 && i < 6) {
    v /= 1000;
    ++i;
  }
  return strf("%.3g %s%s", v, prefix[i], unit);
}

std::string ms(double s) { return s >= 10 ? strf("%.2f s", s) : strf("%.2f ms", s * 1e3); }

}  // namespace

void print_kernel_table(std::ostream& out, const std::vector<Estimate>& est) {
  if (est.empty()) return;
  out << strf("%-12s %10s", "kernel", "FLOP");
  for (const auto& e : est) out << strf(" | %-35s", e.device.c_str());
  for (size_t i = 1; i < est.size(); ++i)
    out << strf(" | %s/%s", est[i].device.c_str(), est[0].device.c_str());
  out << "\n" << strf("%-12s %10s", "", "");
  for (size_t i = 0; i < est.size(); ++i)
    out << strf(" | %-14s %12s %6s %-3s", "class", "time", "share", "bnd");
  out << "\n";
  const size_t rows = est[0].kernels.size();
  for (size_t r = 0; r < rows; ++r) {
    const auto& k0 = est[0].kernels[r];
    out << strf("%-12s %10s", k0.name.c_str(), si(k0.flops, "").c_str());
    for (const auto& e : est) {
      const auto& k = e.kernels[r];
      const char* bound =
          k.measured ? (k.memory_part > k.compute_part ? "mem" : "cmp") : (k.rl.memory_bound ? "mem" : "cmp");
      out << strf(" | %-14s %10s %s %5.1f%% %-3s", k.cls.c_str(), ms(k.time).c_str(), k.measured ? "m" : "p",
                  100 * k.time / e.total, bound);
    }
    for (size_t i = 1; i < est.size(); ++i) out << strf(" | %8.3gx", est[i].kernels[r].time / k0.time);
    out << "\n";
  }
  out << strf("%-12s %10s", "total", si(est[0].gemm_flops(), "").c_str());
  for (const auto& e : est) out << strf(" | %-14s %12s %6s %-3s", "", ms(e.total).c_str(), "100%", "");
  for (size_t i = 1; i < est.size(); ++i) out << strf(" | %8.3gx", est[i].total / est[0].total);
  out << "\n" << strf("%-23s", "tokens/s");
  for (const auto& e : est) out << strf(" | %-35s", strf("%.4g tok/s", e.tok_per_s()).c_str());
  out << "\n(time summed over all layers; p = predicted by the roofline model, m = measured; bnd = "
         "compute- or memory-bound; FLOP column = the first device's)\n";
  for (const auto& e : est)
    out << strf("  %s GEMM path: %s (%s, activations %s)%s\n", e.device.c_str(), e.main_path.kernel.c_str(),
                e.main_path.cls.c_str(), e.main_path.act.c_str(),
                e.main_path.note.empty() ? "" : (" - " + e.main_path.note).c_str());
}

void print_decomposition(std::ostream& out, const Decomposition& d) {
  out << strf("Total ratio  T(%s) / T(%s) = tok/s(%s) / tok/s(%s) = %.3f\n", d.device_b.c_str(),
              d.device_a.c_str(), d.device_a.c_str(), d.device_b.c_str(), d.ratio);
  out << strf("  %-28s %8s %13s  %s\n", "factor", "value", "share of gap", "detail");
  for (const auto& f : d.factors)
    out << strf("  %-28s %8.3f %12.1f%%  %s\n", f.name.c_str(), f.value, 100 * f.log_share, f.detail.c_str());
  out << strf("  %-28s %8.3f %12s  product/ratio - 1 = %.1e\n", "product", d.product(), "100.0%",
              d.product() / d.ratio - 1);
}

void print_factor_definitions(std::ostream& out) {
  out << "How the factors are defined (exact: they telescope to the ratio):\n"
         "  T = Gc + Gm + A per device: Gc = GEMM time at the compute rate, Gm = memory-bound excess of\n"
         "  the GEMMs + elementwise kernels + launch overhead, A = attention; F = GEMM FLOPs (same on "
         "both).\n"
         "  peak-rate ratio           = peak_A / peak_B of the best instruction class each uses for the "
         "format\n"
         "  achieved efficiency ratio = (F / (Gc_A peak_A)) / (F / (Gc_B peak_B))\n"
         "  memory-bound share        = ((Gc_B+Gm_B)/Gc_B) / ((Gc_A+Gm_A)/Gc_A)\n"
         "  attention share           = (T_B/(Gc_B+Gm_B)) / (T_A/(Gc_A+Gm_A))\n"
         "  share of gap = log(factor) / log(ratio); a factor < 1 works for the slower device.\n";
}

void print_scenarios(std::ostream& out, const Estimate& a, const Estimate& b,
                     const std::vector<ScenarioResult>& rows) {
  out << strf("What would close the gap (the model re-run with one change; baseline ratio %.3f):\n",
              b.total / a.total);
  out << strf("  %-104s %12s %12s %7s\n", "change", (a.device + " t/s").c_str(), (b.device + " t/s").c_str(),
              "ratio");
  for (const auto& r : rows)
    out << strf("  %-104s %12.1f %12.1f %7.3f\n", r.scenario.label.c_str(), r.tok_a, r.tok_b, r.ratio);
}

std::vector<ScenarioResult> run_scenarios(const DeviceSpec& a, const DeviceSpec& b, const Estimate& ea,
                                          const Estimate& eb, const std::vector<Scenario>& sc) {
  std::vector<ScenarioResult> out;
  for (const auto& s : sc) {
    ScenarioResult r;
    r.scenario = s;
    Estimate na = ea, nb = eb;
    if (s.device == a.key)
      na = estimate(a, ea.model, ea.format, ea.workload, s.change);
    else
      nb = estimate(b, eb.model, eb.format, eb.workload, s.change);
    r.tok_a = na.tok_per_s();
    r.tok_b = nb.tok_per_s();
    r.ratio = nb.total / na.total;
    out.push_back(r);
  }
  return out;
}

nlohmann::json to_json(const Estimate& e) {
  nlohmann::json j = {
      {"device", e.device},
      {"model", e.model},
      {"format", e.format},
      {"workload", e.workload},
      {"tokens", e.tokens},
      {"total_s", e.total},
      {"tok_per_s", e.tok_per_s()},
      {"gemm_path", {{"kernel", e.main_path.kernel}, {"class", e.main_path.cls}, {"act", e.main_path.act}}},
      {"main_peak_ops", e.main_peak}};
  for (const auto& k : e.kernels)
    j["kernels"].push_back({{"name", k.name},
                            {"group", k.group},
                            {"kernel", k.kernel},
                            {"class", k.cls},
                            {"act", k.act},
                            {"flops", k.flops},
                            {"bytes", k.bytes},
                            {"launches", k.launches},
                            {"time_s", k.time},
                            {"t_compute_s", k.rl.t_compute},
                            {"t_memory_s", k.rl.t_memory},
                            {"t_overhead_s", k.rl.t_overhead},
                            {"memory_bound", k.measured ? k.memory_part > k.compute_part : k.rl.memory_bound},
                            {"measured", k.measured},
                            {"provenance", k.provenance}});
  return j;
}

nlohmann::json to_json(const Decomposition& d) {
  nlohmann::json j = {
      {"device_a", d.device_a}, {"device_b", d.device_b}, {"ratio", d.ratio}, {"product", d.product()}};
  for (const auto& f : d.factors)
    j["factors"].push_back(
        {{"name", f.name}, {"value", f.value}, {"log_share", f.log_share}, {"detail", f.detail}});
  return j;
}

}  // namespace xk::gap
