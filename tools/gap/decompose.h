// Decomposing the time ratio between two devices into named factors that multiply back
// to it exactly.
//
// For device X (A = the faster reference, B = the other), split the workload's time
//   T_X = Gc_X + Gm_X + A_X
//   Gc_X  GEMM time the FLOPs need at the device's compute rate (compute part)
//   Gm_X  GEMM time beyond that because the kernel waits on memory, plus elementwise
//         kernels and launch overhead (memory-bound part)
//   A_X   attention time
// and with F = the GEMM FLOPs (the same on both devices) and peak_X the peak of the best
// instruction class X uses for this weight format:
//   R = T_B / T_A = P * E * M * S            (exact, by telescoping)
//   P = peak_A / peak_B                                   peak-rate ratio
//   E = (F / (Gc_A peak_A)) / (F / (Gc_B peak_B))         achieved efficiency ratio
//   M = ((Gc_B+Gm_B)/Gc_B) / ((Gc_A+Gm_A)/Gc_A)           memory-bound share
//   S = (T_B/(Gc_B+Gm_B)) / (T_A/(Gc_A+Gm_A))             attention share
// P*E = Gc_B/Gc_A, so the product telescopes to T_B/T_A. Each factor's share of the gap
// is log(factor)/log(R).
#pragma once
#include <string>
#include <vector>

#include "model.h"

namespace xk::gap {

struct Factor {
  std::string name;      // "peak-rate ratio", ...
  double value = 1;      // multiplicative factor (> 1: favours device A)
  double log_share = 0;  // log(value) / log(ratio)
  std::string detail;    // the two devices' numbers behind it
};

struct Decomposition {
  std::string device_a, device_b;
  double ratio = 1;  // T_B / T_A = tok/s_A / tok/s_B
  std::vector<Factor> factors;
  double product() const;
};

struct TimeSplit {
  double gemm_compute = 0, memory = 0, attention = 0, total = 0;
};
TimeSplit split(const Estimate& e);

Decomposition decompose(const Estimate& a, const Estimate& b);

// "What would close the gap": one change to one device, the model re-run.
struct Scenario {
  std::string label;
  std::string device;  // which device changes
  DeviceOverride change;
};
struct ScenarioResult {
  Scenario scenario;
  double ratio = 0, tok_a = 0, tok_b = 0;
};
std::vector<Scenario> default_scenarios(const DeviceSpec& a, const DeviceSpec& b, const std::string& format);

}  // namespace xk::gap
