// `xk validate` (published end-to-end figures vs the runtime model) and `xk calibrate`
// (the fitted efficiencies), plus `xk explain`'s runtime mode (--gguf, --answer).
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "calibrate.h"
#include "measurements.h"
#include "model_desc.h"
#include "runtime.h"

namespace CLI {
class App;
}

namespace xk::gap {

std::string measurements_dir();  // <data dir>/measurements

struct CalibrationInput {
  std::string kernels_csv;              // default: measurements_dir()/kernels.csv
  std::vector<std::string> perf_files;  // test-backend-ops perf text (user runs)
  std::string perf_device, perf_backend, perf_build, perf_date;
};
// Reads the kernel rows (CSV + perf files) and fits them.
Calibration load_calibration(const Database& db, const CalibrationInput& in,
                             std::vector<KernelRow>* rows_out = nullptr);

struct ValidateResult {
  int within = 0, predicted = 0, calibrated_excluded = 0, not_expressible = 0;
  std::string summary() const;  // "validated: K of N rows within 20% (C rows ...)"
};
ValidateResult run_validate(const Database& db, const Calibration& cal, const std::vector<E2eRow>& rows,
                            std::ostream& out);

// A row's run configuration: flags "fa=0" switch flash attention off (llama-bench's
// default flash-attention setting is taken as on when the row does not say).
RunConfig run_config_of(const E2eRow& row);

void add_validate_commands(CLI::App& app);

}  // namespace xk::gap
