// Text and JSON rendering shared by explain, compare and report.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "decompose.h"

namespace xk::gap {

std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Per-kernel table: one block of columns per device, the time ratio of each device to the
// first. Marks each time measured (m) or predicted (p).
void print_kernel_table(std::ostream& out, const std::vector<Estimate>& est);
void print_decomposition(std::ostream& out, const Decomposition& d);
void print_factor_definitions(std::ostream& out);
void print_scenarios(std::ostream& out, const Estimate& a, const Estimate& b,
                     const std::vector<ScenarioResult>& rows);

nlohmann::json to_json(const Estimate& e);
nlohmann::json to_json(const Decomposition& d);

// Re-runs the model for each scenario (measured kernels stay measured).
std::vector<ScenarioResult> run_scenarios(const DeviceSpec& a, const DeviceSpec& b, const Estimate& ea,
                                          const Estimate& eb, const std::vector<Scenario>& sc);

}  // namespace xk::gap
