// Plain-text output helpers for the xk tool: aligned tables and numbers with units.
#pragma once
#include <ostream>
#include <string>
#include <vector>

namespace xk::tool {

// Columns padded to their widest cell, two spaces apart; the header is underlined.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& os, const std::string& indent = "") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// 1234567 -> "1.23 M" style with an SI prefix, followed by the unit ("GFLOP/s", "GB/s").
std::string si(double value, const std::string& unit);
// Seconds in the unit that keeps 3 significant digits readable: "812 ns", "3.41 ms".
std::string duration(double seconds);
// Bytes as GiB/MiB/KiB.
std::string mem(double bytes);
std::string join(const std::vector<std::string>& parts, const std::string& sep = " ");

}  // namespace xk::tool
