#include "bench/summary.h"

#include <map>
#include <sstream>
#include <tuple>

#include "bench/models.h"

namespace xk::bench {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep)) out.push_back(part);
  return out;
}

}  // namespace

std::vector<ModelEstimate> model_estimates(const std::vector<Result>& results) {
  using Key =
      std::tuple<std::string, std::string, std::string, std::string, std::string>;  // dev model wl fmt act
  std::map<Key, std::map<std::string, double>> gemms;                               // -> gemm name -> seconds
  std::map<std::tuple<std::string, std::string, std::string>, double> attention;    // dev model wl
  for (const Result& r : results) {
    if (!r.ok) continue;
    const auto p = split(r.name, '/');
    // matmul/<model>/<gemm>/<workload>/<format>/<act>/<device>; forced-variant runs carry
    // an extra segment and are not an automatic selection, so they stay out.
    if (p.size() == 7 && p[0] == "matmul" && models::find_model(p[1]))
      gemms[{p[6], p[1], p[3], p[4], p[5]}][p[2]] = r.seconds;
    // attention/<model>/<workload>/<kv format>/<device>
    if (p.size() == 5 && p[0] == "attention" && models::find_model(p[1]))
      attention[{p[4], p[1], p[2]}] = r.seconds;
  }
  std::vector<ModelEstimate> out;
  for (const auto& [key, measured] : gemms) {
    const auto& [device, model_key, workload_key, format, act] = key;
    const auto* model = models::find_model(model_key);
    const models::Workload* workload = nullptr;
    for (const auto& w : models::kWorkloads)
      if (w.key == workload_key) workload = &w;
    const auto att = attention.find({device, model_key, workload_key});
    if (!workload || att == attention.end()) continue;
    ModelEstimate e{device, model_key, workload_key, format, act, model->layers, 0, att->second, 0};
    bool complete = true;
    for (const auto& g : models::layer_gemms(*model)) {
      const auto it = measured.find(std::string(g.name));
      if (it == measured.end()) {
        complete = false;
        break;
      }
      e.gemm_seconds += static_cast<double>(g.count) * it->second;
    }
    if (!complete) continue;
    const double tokens = workload->decode ? 1.0 : static_cast<double>(workload->tokens);
    e.tokens_per_second =
        tokens / (static_cast<double>(model->layers) * (e.gemm_seconds + e.attention_seconds));
    out.push_back(e);
  }
  return out;
}

}  // namespace xk::bench
