// `xk explain`, `xk compare`, `xk report`: the gap between two devices, kernel by kernel.
//
// add_commands() registers the three subcommands on the xk CLI11 app; the run_* functions
// are what they call, writing to a stream so tests can read the output.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace xk::gap {

void add_commands(CLI::App& app);

struct ExplainArgs {
  std::vector<std::string> devices{"dgx-spark", "strix-halo"};  // first = reference A
  std::string model = "llama3-70b";
  std::string format = "q4_0";
  std::string workload = "pp512";
  std::string bench;         // optional bench JSON whose kernels replace predictions
  std::string bench_device;  // bench device name in it (default: the most frequent)
  std::string bench_as;      // database device the bench file measured (default: inferred)
  std::string json_out;      // optional: write the estimates and decomposition as JSON
  // Runtime mode (the calibrated llama.cpp model, runtime.h): on when any of these is set.
  std::string gguf;                   // model from this GGUF header instead of a preset
  bool answer = false;                // the "~1,723 vs ~340" decomposition (README)
  std::vector<std::string> backends;  // one per device (default: its api)
  std::vector<std::string> dates;     // build date per device (YYYY-MM-DD; default today's rules)
  std::vector<std::string> builds;    // build text per device ("llama.cpp b6918")
  std::string test = "pp512";
  int64_t ubatch = 512;
  std::string quant = "Q4_0";  // llama.cpp file type for a preset model
  std::string kernels;         // kernel rows for the calibration (default: the database's)
  bool runtime() const { return !gguf.empty() || answer || !backends.empty() || !dates.empty(); }
};
int run_explain(const ExplainArgs& args, std::ostream& out);
int run_explain_runtime(const ExplainArgs& args, std::ostream& out);

struct CompareArgs {
  std::string a, b;                  // two `xk bench --json` files (A = reference)
  std::vector<std::string> devices;  // database keys for a and b (default: inferred)
  std::vector<std::string> names;    // bench device names inside a and b (default: most frequent)
  std::string model = "llama3-70b";
  std::string format = "q4_0";
  std::string workload = "pp512";
};
int run_compare(const CompareArgs& args, std::ostream& out);

struct ReportArgs {
  std::string bench;  // bench JSON of this machine (optional)
  std::vector<std::string> devices{"dgx-spark", "strix-halo"};
  std::string model = "llama3-70b";
  std::string format = "q4_0";
  std::string workload = "pp512";
  std::string out_dir = "xk-report";
  bool plots = true;  // run plot.py (tests may switch it off)
};
int run_report(const ReportArgs& args, std::ostream& out);

// The Python that draws the plots: $XK_PYTHON, else the first of python3 and
// /usr/bin/python3 that imports matplotlib (a pyenv or venv python3 on the PATH may lack
// Debian's python3-matplotlib); "" when none does.
std::string python_for_plots();

}  // namespace xk::gap
