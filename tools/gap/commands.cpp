// The explain and compare commands and their CLI11 wiring.
#include "commands.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include "kernel_predict.h"
#include "render.h"
#include "validate.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

// A bench device name ("cpu-ref", "cuda:0") -> database key. Host devices are this CPU;
// a GPU needs the user to say which database entry it is.
std::string infer_db_device(const Database& db, const std::string& bench_name, const std::string& file) {
  if (db.devices.count(bench_name)) return bench_name;
  if (bench_name == "cpu-ref" || bench_name == "cpu") return "this-cpu";
  throw Error("gap", "devices",
              "cannot tell which database device '" + bench_name + "' in " + file +
                  " is; name it with --devices (e.g. --devices dgx-spark,strix-halo)");
}

std::string pick_bench_device(const BenchFile& f, const std::string& wanted) {
  const auto names = f.device_names();
  if (names.empty()) throw Error("gap", "bench", f.path + ": no usable benchmark entries");
  if (wanted.empty()) return names.front();
  for (const auto& n : names)
    if (n == wanted) return n;
  throw Error("gap", "bench", f.path + ": no entries for bench device '" + wanted + "'");
}

void explain_body(std::ostream& out, const Database& db, const std::vector<Estimate>& est,
                  nlohmann::json* js) {
  print_kernel_table(out, est);
  out << "\n";
  for (size_t i = 1; i < est.size(); ++i) {
    const Decomposition d = decompose(est[0], est[i]);
    print_decomposition(out, d);
    out << "\n";
    if (js) (*js)["decompositions"].push_back(to_json(d));
  }
  print_factor_definitions(out);
  out << "\n";
  for (size_t i = 1; i < est.size(); ++i) {
    const DeviceSpec& a = db.device(est[0].device);
    const DeviceSpec& b = db.device(est[i].device);
    const auto rows = run_scenarios(a, b, est[0], est[i], default_scenarios(a, b, est[0].format));
    print_scenarios(out, est[0], est[i], rows);
    if (js)
      for (const auto& r : rows)
        (*js)["scenarios"].push_back(
            {{"change", r.scenario.label}, {"ratio", r.ratio}, {"tok_a", r.tok_a}, {"tok_b", r.tok_b}});
  }
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

int run_explain(const ExplainArgs& args, std::ostream& out) {
  if (args.runtime()) return run_explain_runtime(args, out);
  if (args.devices.size() < 2)
    throw Error("explain", "devices", "name at least two devices, e.g. dgx-spark,strix-halo");
  const auto t0 = std::chrono::steady_clock::now();
  const Database db = load_database(database_path());
  BenchFile bench;
  std::string bench_dev, bench_as;
  if (!args.bench.empty()) {
    bench = read_bench_json(args.bench);
    bench_dev = pick_bench_device(bench, args.bench_device);
    bench_as = args.bench_as.empty() ? infer_db_device(db, bench_dev, args.bench) : args.bench_as;
  }
  std::vector<Estimate> est;
  for (const auto& key : args.devices) {
    const DeviceSpec& dev = db.device(key);
    const bool use_bench = !args.bench.empty() && key == bench_as;
    est.push_back(
        estimate(dev, args.model, args.format, args.workload, {}, use_bench ? &bench : nullptr, bench_dev));
  }
  const auto* m = models::find_model(args.model);
  out << strf("xk explain: %s, %s weights, %s, devices:", std::string(m->label).c_str(), args.format.c_str(),
              args.workload.c_str());
  for (const auto& e : est) out << " " << e.device;
  out << "\n  database " << db.path;
  if (!args.bench.empty())
    out << "; measured kernels from " << args.bench << " (" << bench_dev << " as " << bench_as << ")";
  out << "\n\n";
  nlohmann::json js;
  for (const auto& e : est) js["estimates"].push_back(to_json(e));
  explain_body(out, db, est, args.json_out.empty() ? nullptr : &js);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out << strf("\n(model evaluated in %.3f s)\n", secs);
  if (!args.json_out.empty()) {
    std::ofstream f(args.json_out);
    if (!f) throw Error("explain", "json", "cannot write '" + args.json_out + "'");
    f << js.dump(1) << "\n";
  }
  return 0;
}

int run_compare(const CompareArgs& args, std::ostream& out) {
  const Database db = load_database(database_path());
  const BenchFile fa = read_bench_json(args.a), fb = read_bench_json(args.b);
  const std::string na = pick_bench_device(fa, args.names.size() > 0 ? args.names[0] : "");
  const std::string nb = pick_bench_device(fb, args.names.size() > 1 ? args.names[1] : "");
  if (!args.devices.empty() && args.devices.size() != 2)
    throw Error("compare", "devices", "give two database keys, one per file (e.g. dgx-spark,strix-halo)");
  const std::string ka = args.devices.empty() ? infer_db_device(db, na, args.a) : args.devices[0];
  const std::string kb = args.devices.empty() ? infer_db_device(db, nb, args.b) : args.devices[1];
  const Estimate ea = estimate(db.device(ka), args.model, args.format, args.workload, {}, &fa, na);
  const Estimate eb = estimate(db.device(kb), args.model, args.format, args.workload, {}, &fb, nb);
  out << strf("xk compare: %s (%s in %s) vs %s (%s in %s), %s %s %s\n\n", ka.c_str(), na.c_str(),
              args.a.c_str(), kb.c_str(), nb.c_str(), args.b.c_str(), args.model.c_str(), args.format.c_str(),
              args.workload.c_str());
  int measured = 0, total = 0;
  for (const auto* e : {&ea, &eb})
    for (const auto& k : e->kernels) {
      measured += k.measured;
      ++total;
    }
  out << strf("%d of %d kernel times are measured; the rest are roofline predictions (marked p).\n", measured,
              total);
  for (const auto* e : {&ea, &eb})
    for (const auto& k : e->kernels)
      if (k.measured) out << "  " << e->device << " " << k.name << ": " << k.provenance << "\n";
  out << "\n";
  explain_body(out, db, {ea, eb}, nullptr);
  return 0;
}

void add_commands(CLI::App& app) {
  add_validate_commands(app);
  add_predict_command(app);
  auto ex = std::make_shared<ExplainArgs>();
  auto ex_devices = std::make_shared<std::string>("dgx-spark,strix-halo");
  CLI::App* e = app.add_subcommand(
      "explain", "Where the prompt-processing gap between devices comes from, kernel by kernel");
  e->add_option("--devices", *ex_devices, "Database devices, comma-separated; the first is the reference")
      ->capture_default_str();
  e->add_option("--model", ex->model, "Model preset (llama3-70b, qwen2.5-72b, gemma3-27b, gpt-oss-120b)")
      ->capture_default_str();
  e->add_option("--format", ex->format, "Weight format (q4_0, q8_0, mxfp4, nvfp4)")->capture_default_str();
  e->add_option("--workload", ex->workload, "pp512, pp2048 or tg128")->capture_default_str();
  e->add_option("--bench", ex->bench, "xk bench --json file whose kernels replace predictions");
  e->add_option("--bench-device", ex->bench_device,
                "Bench device name inside that file (default: the most frequent)");
  e->add_option("--bench-as", ex->bench_as,
                "Database device the bench file measured (default: cpu-ref -> this-cpu)");
  e->add_option("--json", ex->json_out, "Also write the estimates, decomposition and scenarios as JSON");
  auto ex_backends = std::make_shared<std::string>(), ex_dates = std::make_shared<std::string>(),
       ex_builds = std::make_shared<std::string>();
  e->add_option("--gguf", ex->gguf,
                "Runtime model: the model from this GGUF file's header (no weights needed)");
  e->add_flag("--answer", ex->answer,
              "Runtime model: decompose the article's ~1,723 vs ~340 tok/s (README 'Explaining the gap')");
  e->add_option("--backends", *ex_backends,
                "Runtime model: backend per device, comma-separated (cuda, hip, vulkan)");
  e->add_option("--dates", *ex_dates,
                "Runtime model: llama.cpp build date per device, comma-separated (YYYY-MM-DD)");
  e->add_option("--builds", *ex_builds, "Runtime model: llama.cpp build per device, comma-separated (b6918)");
  e->add_option("--test", ex->test, "Runtime model: llama-bench test (pp512, pp2048, tg128)")
      ->capture_default_str();
  e->add_option("--ubatch", ex->ubatch, "Runtime model: llama-bench -ub")->capture_default_str();
  e->add_option("--quant", ex->quant,
                "Runtime model: llama.cpp file type of a preset (Q4_0, Q4_K_M, MXFP4 ...)")
      ->capture_default_str();
  e->add_option("--kernels", ex->kernels,
                "Runtime model: kernel rows for the calibration (default tools/measurements/kernels.csv)");
  e->callback([ex, ex_devices, ex_backends, ex_dates, ex_builds] {
    ex->devices = split_list(*ex_devices);
    ex->backends = split_list(*ex_backends);
    ex->dates = split_list(*ex_dates);
    ex->builds = split_list(*ex_builds);
    // One value per device, in --devices order: a shorter list left the later devices at
    // their defaults and a longer one was dropped, both without a word.
    for (const auto& [name, list] : {std::pair{"backends", &ex->backends}, std::pair{"dates", &ex->dates},
                                     std::pair{"builds", &ex->builds}})
      if (!ex->answer && !list->empty() && list->size() != ex->devices.size())
        throw Error("explain", name,
                    strf("%zu value(s) for %zu device(s) (%s): give one per device, in --devices order",
                         list->size(), ex->devices.size(), ex_devices->c_str()));
    run_explain(*ex, std::cout);
  });

  auto cmp = std::make_shared<CompareArgs>();
  auto cmp_devices = std::make_shared<std::string>(), cmp_names = std::make_shared<std::string>();
  CLI::App* c =
      app.add_subcommand("compare", "The gap decomposition from two xk bench --json files (two machines)");
  c->add_option("a", cmp->a, "Bench JSON of the reference machine")->required();
  c->add_option("b", cmp->b, "Bench JSON of the other machine")->required();
  c->add_option("--devices", *cmp_devices, "Database keys of the two machines, comma-separated");
  c->add_option("--bench-devices", *cmp_names, "Bench device names inside the two files, comma-separated");
  c->add_option("--model", cmp->model, "Model preset")->capture_default_str();
  c->add_option("--format", cmp->format, "Weight format")->capture_default_str();
  c->add_option("--workload", cmp->workload, "pp512, pp2048 or tg128")->capture_default_str();
  c->callback([cmp, cmp_devices, cmp_names] {
    cmp->devices = split_list(*cmp_devices);
    cmp->names = split_list(*cmp_names);
    run_compare(*cmp, std::cout);
  });

  auto rep = std::make_shared<ReportArgs>();
  auto rep_devices = std::make_shared<std::string>("dgx-spark,strix-halo");
  CLI::App* r = app.add_subcommand("report", "Markdown report with roofline and time-breakdown plots");
  r->add_option("--bench", rep->bench, "xk bench --json file of this machine");
  r->add_option("--devices", *rep_devices, "Database devices, comma-separated")->capture_default_str();
  r->add_option("--model", rep->model, "Model preset")->capture_default_str();
  r->add_option("--format", rep->format, "Weight format")->capture_default_str();
  r->add_option("--workload", rep->workload, "Prompt-processing workload for the plots")
      ->capture_default_str();
  r->add_option("--out", rep->out_dir, "Output folder")->capture_default_str();
  r->callback([rep, rep_devices] {
    rep->devices = split_list(*rep_devices);
    run_report(*rep, std::cout);
  });
}

}  // namespace xk::gap
