// `xk explain` in runtime mode: the calibrated llama.cpp model (runtime.h) per device, its
// kernel table, and a decomposition of the ratio into factors that are each measurable:
//   R = tok/s_A / tok/s_B = P * E * S            (exact)
//   P = peak_A / peak_B        peak of one instruction class both devices have (int8 MMA),
//                              the hardware
//   E = (r_A / peak_A) / (r_B / peak_B)   r = GEMM + MoE FLOPs / their time: the achieved
//                              fraction of that peak, memory-bound time and the choice of a
//                              faster path (FP4 MMA) included: kernels per backend and build
//   S = the rest: attention, elementwise and launch time per token
// With --answer it also separates software change over time (the same box, two builds).
#include <cmath>
#include <ostream>

#include "commands.h"
#include "gguf.h"
#include "render.h"
#include "validate.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

struct Run {
  std::string device, backend, date, build, test, label;
  int64_t ubatch = 512;
};

Prediction run_one(const Database& db, const ModelDesc& m, const Calibration& cal, const Run& r) {
  RunConfig rc;
  rc.backend = r.backend;
  rc.build = parse_build(r.build, r.date);
  rc.test = r.test;
  rc.ubatch = r.ubatch;
  return predict(db.device(r.device), m, rc, cal);
}

void print_prediction(std::ostream& out, const Run& r, const Prediction& p) {
  out << strf("%s: %s %s, build %s (%s), %s, ubatch %lld\n",
              r.label.empty() ? r.device.c_str() : r.label.c_str(), r.device.c_str(), r.backend.c_str(),
              r.build.empty() ? "-" : r.build.c_str(), r.date.empty() ? "no date" : r.date.c_str(),
              r.test.c_str(), static_cast<long long>(r.ubatch));
  if (!p.ok) {
    out << "  refused: " << p.refused << "\n\n";
    return;
  }
  out << strf("  %-12s %-15s %-24s %-15s %8s %10s %6s  %s\n", "group", "kernel", "path", "class", "eff",
              "time ms", "share", "efficiency from");
  for (const auto& k : p.kernels)
    out << strf("  %-12s %-15s %-24s %-15s %7.1f%% %10.2f %5.1f%%  %s\n", k.group.c_str(), k.name.c_str(),
                k.path.c_str(), k.cls.c_str(), 100 * k.eff, 1e3 * k.time, 100 * k.time / p.seconds,
                k.how.c_str());
  out << strf("  per-kernel cost: %.2f us, %s\n", p.launch_us, p.launch_how.c_str());
  out << strf("  predicted: %.1f tok/s (%.3f s for %lld tokens); weights %.1f GB\n\n", p.tok_per_s(),
              p.seconds, static_cast<long long>(p.tokens), p.weight_bytes / 1e9);
}

double gemm_flops(const Prediction& p) {
  double f = 0;
  for (const auto& k : p.kernels)
    if (k.group == "gemm" || k.group == "moe") f += k.flops;
  return f;
}

const KernelTime* main_gemm(const Prediction& p) {
  const KernelTime* best = nullptr;
  for (const auto& k : p.kernels)
    if ((k.group == "gemm" || k.group == "moe") && (!best || k.time > best->time)) best = &k;
  return best;
}

// R = P * E * S (header comment); prints the factors and checks they multiply back. P is
// taken on one instruction class both devices have (int8 MMA where both do, the class
// llama.cpp's MMQ issues on both), so a path with a higher peak that reaches a smaller
// fraction of it shows up once, in E, and not as a large P cancelled by a small E.
void print_factors(std::ostream& out, const Database& db, const Prediction& a, const Prediction& b) {
  const KernelTime *ka = main_gemm(a), *kb = main_gemm(b);
  if (!ka || !kb) return;
  const DeviceSpec &da = db.device(a.device), &db_ = db.device(b.device);
  const std::string common = da.peak.count("int8_mma") && db_.peak.count("int8_mma") ? "int8_mma" : ka->cls;
  const double peak_a = da.peak_ops(common),
               peak_b = db_.peak.count(common) ? db_.peak_ops(common) : db_.peak_ops(kb->cls);
  const double ga = a.group_time("gemm") + a.group_time("moe"),
               gb = b.group_time("gemm") + b.group_time("moe");
  const double R = a.tok_per_s() / b.tok_per_s();
  const double P = peak_a / peak_b;
  const double rate_a = gemm_flops(a) / ga, rate_b = gemm_flops(b) / gb;  // achieved GEMM op/s
  const double E = (rate_a / peak_a) / (rate_b / peak_b);
  const double S = (b.seconds / gb) / (a.seconds / ga) * (gemm_flops(b) / static_cast<double>(b.tokens)) /
                   (gemm_flops(a) / static_cast<double>(a.tokens));
  out << strf("ratio %s / %s = %.2fx = P %.2f x E %.2f x S %.2f (product %.2f)\n", a.device.c_str(),
              b.device.c_str(), R, P, E, S, P * E * S);
  out << strf("  P hardware: %s peak %.1f vs %.1f T op/s\n", common.c_str(), peak_a / 1e12, peak_b / 1e12);
  out << strf(
      "  E kernels as built: GEMMs achieve %.1f vs %.1f T op/s = %.1f%% vs %.1f%% of that peak (paths %s vs "
      "%s)\n",
      rate_a / 1e12, rate_b / 1e12, 100 * rate_a / peak_a, 100 * rate_b / peak_b, ka->path.c_str(),
      kb->path.c_str());
  out << strf("  S non-GEMM time (attention, elementwise, launches): %.1f%% vs %.1f%% of the total\n",
              100 * (1 - ga / a.seconds), 100 * (1 - gb / b.seconds));
  for (const auto& [name, v] : {std::pair<const char*, double>{"P", P}, {"E", E}, {"S", S}})
    out << strf("  share of log(ratio) %s: %+.0f%%\n", name,
                std::abs(std::log(R)) > 1e-9 ? 100 * std::log(v) / std::log(R) : 0.0);
}

// The article's "~1,723 vs ~340 tok/s" (DESIGN.md): the measurements most likely behind each
// figure (tools/measurements/e2e.csv rows named in the README), predicted, and the ratio
// split into factors each measurable on its own:
//   R = [today's ratio, same test] x [Spark's software change] x [Strix's software change]
//       x [test difference]                                                       (exact)
int run_answer(const Database& db, const ModelDesc& m, const Calibration& cal, std::ostream& out) {
  const std::string today = "2026-09-01";
  const Run a_old{
      "dgx-spark", "cuda", "2025-10-15", "llama.cpp b6767", "pp2048", "A  Spark, Oct 2025 (the ~1,723)",
      2048};
  const Run b_old{
      "strix-halo", "hip", "2025-08-09", "llama.cpp b6119", "pp512", "B  Strix Halo HIP, Aug 2025 (the ~340)",
      512};
  const Run b_old_same{"strix-halo", "hip",
                       "2025-08-09", "llama.cpp b6119",
                       "pp2048",     "B' Strix Halo HIP, Aug 2025, at A's test",
                       2048};
  const Run a_now{"dgx-spark", "cuda", today, "", "pp2048", "A+ Spark, today's rules", 2048};
  const Run b_now{"strix-halo", "hip", today, "", "pp2048", "B+ Strix Halo HIP, today's rules", 2048};
  const Run v_now{"strix-halo", "vulkan", today, "", "pp2048", "V+ Strix Halo Vulkan, today's rules", 2048};
  std::vector<Prediction> p;
  for (const Run* r : {&a_old, &b_old, &b_old_same, &a_now, &b_now, &v_now}) {
    p.push_back(run_one(db, m, cal, *r));
    print_prediction(out, *r, p.back());
  }
  for (const auto& x : p)
    if (!x.ok) throw Error("explain", "answer", "a run of the answer was refused: " + x.refused);
  const double R = p[0].tok_per_s() / p[1].tok_per_s();
  const double today_ratio = p[3].tok_per_s() / p[4].tok_per_s();
  const double spark_sw = p[0].tok_per_s() / p[3].tok_per_s();
  const double strix_sw = p[4].tok_per_s() / p[2].tok_per_s();
  const double test = p[2].tok_per_s() / p[1].tok_per_s();
  out << strf("predicted article ratio A/B = %.2fx (published: ~1,723 / ~340 = 5.07x)\n", R);
  out << strf("  = today's ratio, same test (A+/B+)            %.2fx\n", today_ratio);
  out << strf("  x Spark software change (A/A+)                %.2fx\n", spark_sw);
  out << strf("  x Strix Halo software change (B+/B')          %.2fx\n", strix_sw);
  out << strf("  x test difference pp2048 ub2048 vs pp512 (B'/B) %.2fx\n", test);
  out << strf("  product %.2fx\n\n", today_ratio * spark_sw * strix_sw * test);
  out << "today's ratio, by factor:\n";
  print_factors(out, db, p[3], p[4]);
  out << strf("\nStrix Halo Vulkan today: %.1f tok/s; Spark / Strix Vulkan = %.2fx\n", p[5].tok_per_s(),
              p[3].tok_per_s() / p[5].tok_per_s());
  // What would close it: xkern's own WMMA kernels on Strix Halo have no measurement yet, so
  // their effect is the roofline prediction at the database's efficiencies (a what-if).
  const Prediction xk_strix = run_one(db, m, Calibration{}, b_now);
  out << strf(
      "what-if (prediction, not measured): Strix Halo HIP GEMMs at devices.json's efficiencies for xkern's "
      "WMMA kernels "
      "(int8_mma %.0f%% of peak): %.1f tok/s, Spark / Strix = %.2fx\n",
      100 * db.device("strix-halo").efficiency_of("int8_mma"), xk_strix.tok_per_s(),
      p[3].tok_per_s() / xk_strix.tok_per_s());
  // An upstream change after "today": RDNA3.5's MoE token tile sized for one expert's share
  // (paths.h, InstrPath::expert_width_tile), B+ otherwise unchanged.
  Run b_tiles = b_now;
  b_tiles.build = "llama.cpp with PR #28935";
  const Prediction tiles = run_one(db, m, cal, b_tiles);
  out << strf(
      "what-if (prediction, not measured): B+ with PR 28935 (RDNA3.5 sizes the MoE token tile for one "
      "expert's share, upstream from 2026-09-15): %.1f tok/s, Spark / Strix = %.2fx\n",
      tiles.tok_per_s(), p[3].tok_per_s() / tiles.tok_per_s());
  return 0;
}

}  // namespace

int run_explain_runtime(const ExplainArgs& args, std::ostream& out) {
  const Database db = load_database(database_path());
  CalibrationInput ci;
  ci.kernels_csv = args.kernels;
  const Calibration cal = load_calibration(db, ci);
  const ModelDesc m = !args.gguf.empty() ? model_from_gguf(read_gguf(args.gguf))
                      : args.answer      ? model_from_preset("gpt-oss-120b", "MXFP4")
                                         : model_from_preset(args.model, args.quant);
  out << strf("xk explain (runtime model): %s, %s, %lld layers, %s", m.label.c_str(), m.source.c_str(),
              static_cast<long long>(m.layers),
              m.moe() ? strf("MoE %lld experts, %lld per token", static_cast<long long>(m.experts),
                             static_cast<long long>(m.experts_used))
                            .c_str()
                      : "dense");
  out << strf("; calibration: %zu kernel rows in %zu groups\n", cal.rows_used, cal.groups.size());
  out << "weights:";
  for (const auto& t : m.tensors)
    out << strf(" %s[%lldx%lld%s]x%lld %s;", t.role.c_str(), static_cast<long long>(t.n),
                static_cast<long long>(t.k),
                t.experts > 1 ? strf("x%lld", static_cast<long long>(t.experts)).c_str() : "",
                static_cast<long long>(t.layers), t.type.c_str());
  out << "\n\n";
  if (args.answer) return run_answer(db, m, cal, out);
  std::vector<Run> runs;
  for (size_t i = 0; i < args.devices.size(); ++i) {
    Run r;
    r.device = args.devices[i];
    r.backend = i < args.backends.size() ? args.backends[i] : db.device(r.device).api;
    r.date = i < args.dates.size() ? args.dates[i] : "";
    r.build = i < args.builds.size() ? args.builds[i] : "";
    r.test = args.test;
    r.ubatch = args.ubatch;
    runs.push_back(r);
  }
  std::vector<Prediction> preds;
  for (const auto& r : runs) {
    preds.push_back(run_one(db, m, cal, r));
    print_prediction(out, r, preds.back());
  }
  for (size_t i = 1; i < preds.size(); ++i)
    if (preds[0].ok && preds[i].ok) print_factors(out, db, preds[0], preds[i]);
  return 0;
}

}  // namespace xk::gap
