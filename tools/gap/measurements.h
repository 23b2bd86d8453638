// The measurement database (tools/measurements/*.csv) and the parsers that turn a user's
// own runs into its rows:
//   kernels.csv  device,backend,build,date,op,params,value,unit,source,notes
//                one ggml `test-backend-ops perf` result per row (op and params exactly as
//                it prints them). Only these rows enter the calibration.
//   e2e.csv      device,backend,build,model,quant,test,ubatch,tok_s,source,date[,flags,notes]
//                llama-bench results: what `xk validate` predicts, never fitted.
// Parsers: test-backend-ops perf text, llama-bench JSON (-o json) and markdown (default).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace xk::gap {

// A header-based CSV file: RFC 4180 quoting ("a,b" and "" inside quotes). Rows with fewer
// cells than the header are padded with empty cells.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string get(size_t row, const std::string& column) const;  // "" when the column is absent
};
CsvTable parse_csv(const std::string& text);

struct KernelRow {
  std::string device, backend, build, date, op, params;
  std::map<std::string, std::string> p;  // params split at top-level commas
  double value = 0;
  std::string unit;  // TFLOPS, GFLOPS, us/run, GB/s
  std::string source, notes;
  int line = 0;                                                     // 1-based line in its file (for messages)
  int64_t num(const std::string& key, int64_t fallback = 0) const;  // a numeric param
};

struct E2eRow {
  std::string device, backend, build, model, quant, test;
  int64_t ubatch = 512;
  double tok_s = 0;
  std::string source, date, flags, notes;
  int line = 0;
};

// Splits "type_a=q4_0,m=4096,bs=[1,1]" at commas outside brackets.
std::map<std::string, std::string> parse_params(const std::string& params);

// Throw xk::Error naming the file, line and column for a missing column or a bad number.
std::vector<KernelRow> read_kernel_csv(const std::string& path);
std::vector<E2eRow> read_e2e_csv(const std::string& path);
std::vector<KernelRow> kernel_rows_from_csv(const CsvTable& t, const std::string& what);
std::vector<E2eRow> e2e_rows_from_csv(const CsvTable& t, const std::string& what);

// `test-backend-ops perf` output: every "OP(params): N runs - ... - <value> <unit>" line.
// The device/backend/build/date/source fields are the caller's (the text does not hold them
// reliably); a "Backend i/n: NAME" line fills `notes` with the backend name printed.
std::vector<KernelRow> parse_backend_ops_perf(const std::string& text, const KernelRow& context);

// llama-bench output. JSON: the array `-o json` writes (n_prompt, n_gen, n_ubatch, avg_ts,
// model_type, build_number ...). Markdown: the default table, its "build: <commit> (<n>)"
// line giving the build. model/quant come from llama.cpp's model description
// ("gpt-oss 120B MXFP4 MoE", "llama 8B Q4_K - Medium") via model_key_from_description.
std::vector<E2eRow> parse_llama_bench_json(const std::string& text, const E2eRow& context);
std::vector<E2eRow> parse_llama_bench_markdown(const std::string& text, const E2eRow& context);

// ("gpt-oss 120B MXFP4 MoE") -> {"gpt-oss-120b", "MXFP4"}; {"", ""} when not recognised.
std::pair<std::string, std::string> model_key_from_description(const std::string& desc);

std::string read_text_file(const std::string& path);  // throws xk::Error when unreadable

}  // namespace xk::gap
