// xk validate / xk calibrate.
#include "validate.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "render.h"
#include "xk/error.h"

namespace xk::gap {

std::string measurements_dir() { return (std::filesystem::path(data_dir()) / "measurements").string(); }

Calibration load_calibration(const Database& db, const CalibrationInput& in,
                             std::vector<KernelRow>* rows_out) {
  std::vector<KernelRow> rows;
  const std::string csv = in.kernels_csv.empty() ? measurements_dir() + "/kernels.csv" : in.kernels_csv;
  if (in.kernels_csv != "none") {
    if (!std::filesystem::exists(csv))
      throw Error("calibrate", "kernels",
                  "no kernel measurements at '" + csv + "' (give --kernels FILE, or --kernels none)");
    rows = read_kernel_csv(csv);
  }
  for (const auto& f : in.perf_files) {
    if (in.perf_device.empty() || in.perf_backend.empty())
      throw Error("calibrate", "perf",
                  "a test-backend-ops file needs --perf-device and --perf-backend (e.g. strix-halo, hip)");
    KernelRow ctx;
    ctx.device = in.perf_device;
    ctx.backend = in.perf_backend;
    ctx.build = in.perf_build;
    ctx.date = in.perf_date;
    ctx.source = f;
    auto more = parse_backend_ops_perf(read_text_file(f), ctx);
    if (more.empty()) throw Error("calibrate", "perf", f + ": no 'OP(params): N runs - ...' lines");
    rows.insert(rows.end(), more.begin(), more.end());
  }
  if (rows_out) *rows_out = rows;
  return calibrate(db, rows);
}

RunConfig run_config_of(const E2eRow& row) {
  RunConfig r;
  r.backend = row.backend;
  r.build = parse_build(row.build, row.date);
  if (row.backend == "vulkan") {
    r.build.vk_shader = vulkan_shader_of(row.flags);
    r.build.vk_shared_bytes = vulkan_shared_memory_of(row.flags + " " + row.notes);
  }
  r.test = row.test;
  r.ubatch = row.ubatch;
  // A row that does not say ran with its tool's default: llama-bench (-fa 0 unless asked since
  // flash attention came, llama.cpp PR 5021 of 2024-04-30; none before) and llama-cli left it
  // off until llama.cpp PR 15434 (opened 2025-08-19) made it the default of llama.cpp's tools.
  // Later and undated rows keep the model's default (on): whether llama-bench's own default
  // followed is not established here.
  const bool says = row.flags.find("fa=") != std::string::npos;
  const bool before_default = r.build.date.size() >= 10 && r.build.date.substr(0, 10) < "2025-08-19";
  r.flash_attn = says ? row.flags.find("fa=0") == std::string::npos : !before_default;
  return r;
}

std::string ValidateResult::summary() const {
  return strf(
      "validated: %d of %d rows within 20%% (%d rows used in calibration excluded, %d rows not expressible)",
      within, predicted, calibrated_excluded, not_expressible);
}

ValidateResult run_validate(const Database& db, const Calibration& cal, const std::vector<E2eRow>& rows,
                            std::ostream& out) {
  ValidateResult v;
  std::map<std::string, std::vector<double>> errors, hits;  // "device backend pp|tg" -> errors, within (1/0)
  out << strf("%-5s %-11s %-7s %-16s %-14s %-7s %-7s %5s %10s %10s %8s  %s\n", "line", "device", "backend",
              "build", "model", "quant", "test", "ub", "published", "predicted", "error", "status");
  for (const auto& r : rows) {
    auto head = strf("%-5d %-11s %-7s %-16.16s %-14s %-7s %-7s %5lld", r.line, r.device.c_str(),
                     r.backend.c_str(), r.build.c_str(), r.model.c_str(), r.quant.c_str(), r.test.c_str(),
                     static_cast<long long>(r.ubatch));
    // A row from a document that also gave kernel rows is not an independent check.
    if (!r.source.empty() && cal.sources.count(source_document(r.source))) {
      ++v.calibrated_excluded;
      out << head
          << strf(" %10.1f %10s %8s  used in calibration (same source as kernel rows)\n", r.tok_s, "-", "-");
      continue;
    }
    std::string why;
    Prediction p;
    try {
      if (!db.devices.count(r.device))
        throw Error("validate", "device", "device '" + r.device + "' is not in the database");
      const ModelDesc m = model_from_preset(r.model, r.quant);
      p = predict(db.device(r.device), m, run_config_of(r), cal);
      if (!p.ok) why = p.refused;
    } catch (const Error& e) {
      why = e.what();
    }
    if (!why.empty()) {
      ++v.not_expressible;
      out << head << strf(" %10.1f %10s %8s  not expressible: %s\n", r.tok_s, "-", "-", why.c_str());
      continue;
    }
    ++v.predicted;
    const double err = p.tok_per_s() / r.tok_s - 1;
    const bool ok = std::abs(err) <= 0.20;
    v.within += ok;
    const std::string group = r.device + " " + r.backend + " " + r.test.substr(0, 2);
    errors[group].push_back(err);
    hits[group].push_back(ok ? 1 : 0);
    out << head
        << strf(" %10.1f %10.1f %+7.0f%%  %s, %s%s\n", r.tok_s, p.tok_per_s(), 100 * err,
                ok ? "within 20%" : "MISS", p.main_path().c_str(),
                p.any_default ? ", some kernels at roofline defaults" : "");
  }
  out << "\nby device, backend and test:\n| device backend test | rows | within 20% | median error | range "
         "|\n| --- | --- | --- | --- | --- |\n";
  for (auto& [group, e] : errors) {
    std::vector<double> sorted = e;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    int within = 0;
    for (double h : hits[group]) within += static_cast<int>(h);
    out << strf("| %s | %zu | %d | %+.0f%% | %+.0f%% .. %+.0f%% |\n", group.c_str(), n, within, 100 * median,
                100 * sorted.front(), 100 * sorted.back());
  }
  out << v.summary() << "\n";
  return v;
}

void add_validate_commands(CLI::App& app) {
  auto in = std::make_shared<CalibrationInput>();
  auto csv = std::make_shared<std::string>();
  auto bench_files = std::make_shared<std::vector<std::string>>();
  auto ctx = std::make_shared<E2eRow>();
  CLI::App* v =
      app.add_subcommand("validate", "Predict published llama-bench figures from kernel-level calibration");
  v->add_option("--csv", *csv,
                "End-to-end rows (device,backend,build,model,quant,test,ubatch,tok_s,source,date)");
  v->add_option("--llama-bench", *bench_files,
                "llama-bench output (JSON or markdown) to validate instead; needs --device/--backend");
  v->add_option("--device", ctx->device, "Database device of --llama-bench files");
  v->add_option("--backend", ctx->backend, "Backend of --llama-bench files (cuda, hip, vulkan)");
  v->add_option("--date", ctx->date, "Date (YYYY-MM-DD) of --llama-bench files' build");
  v->add_option("--kernels", in->kernels_csv,
                "Kernel rows for the calibration (default: tools/measurements/kernels.csv; 'none')");
  v->add_option("--perf", in->perf_files,
                "test-backend-ops perf output to add to the calibration (repeatable)");
  v->add_option("--perf-device", in->perf_device, "Database device of the --perf files");
  v->add_option("--perf-backend", in->perf_backend, "Backend of the --perf files");
  v->add_option("--perf-build", in->perf_build, "llama.cpp build of the --perf files (e.g. b6918)");
  v->add_option("--perf-date", in->perf_date, "Date of the --perf files' build (YYYY-MM-DD)");
  v->callback([in, csv, bench_files, ctx] {
    const Database db = load_database(database_path());
    const Calibration cal = load_calibration(db, *in);
    std::vector<E2eRow> rows;
    if (!csv->empty()) rows = read_e2e_csv(*csv);
    for (const auto& f : *bench_files) {
      if (ctx->device.empty() || ctx->backend.empty())
        throw Error("validate", "llama-bench", "--llama-bench needs --device and --backend");
      const std::string text = read_text_file(f);
      E2eRow c = *ctx;
      c.source = f;
      auto more = text.find_first_not_of(" \t\r\n") != std::string::npos &&
                          text[text.find_first_not_of(" \t\r\n")] == '['
                      ? parse_llama_bench_json(text, c)
                      : parse_llama_bench_markdown(text, c);
      rows.insert(rows.end(), more.begin(), more.end());
    }
    if (rows.empty()) throw Error("validate", "csv", "no rows: give --csv FILE or --llama-bench FILE");
    run_validate(db, cal, rows, std::cout);
  });

  auto cin = std::make_shared<CalibrationInput>();
  CLI::App* c = app.add_subcommand("calibrate",
                                   "Fit achieved efficiencies from kernel-level measurements and print them");
  c->add_option("--kernels", cin->kernels_csv,
                "Kernel rows (default: tools/measurements/kernels.csv; 'none')");
  c->add_option("--perf", cin->perf_files, "test-backend-ops perf output (repeatable)");
  c->add_option("--perf-device", cin->perf_device, "Database device of the --perf files");
  c->add_option("--perf-backend", cin->perf_backend, "Backend of the --perf files");
  c->add_option("--perf-build", cin->perf_build, "llama.cpp build of the --perf files");
  c->add_option("--perf-date", cin->perf_date, "Date of the --perf files' build (YYYY-MM-DD)");
  c->callback([cin] {
    const Database db = load_database(database_path());
    print_calibration(std::cout, load_calibration(db, *cin));
  });
}

}  // namespace xk::gap
