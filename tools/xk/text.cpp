#include "tools/xk/text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace xk::tool {

void Table::print(std::ostream& os, const std::string& indent) const {
  std::vector<size_t> width(header_.size(), 0);
  auto widen = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  };
  widen(header_);
  for (const auto& r : rows_) widen(r);
  auto line = [&](const std::vector<std::string>& r) {
    std::string s = indent;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < r.size() ? r[i] : "";
      s += cell;
      if (i + 1 < width.size()) s += std::string(width[i] - cell.size() + 2, ' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    os << s << '\n';
  };
  line(header_);
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& r : rows_) line(r);
}

namespace {
std::string fixed3(double v) {
  // Three significant digits: 1.23, 12.3, 123.
  char buf[32];
  const double a = std::fabs(v);
  std::snprintf(buf, sizeof buf, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
  return buf;
}
}  // namespace

std::string si(double value, const std::string& unit) {
  if (!std::isfinite(value)) return "-";
  static const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  int p = 0;
  double v = value;
  while (std::fabs(v) >= 1000.0 && p < 5) {
    v /= 1000.0;
    ++p;
  }
  return fixed3(v) + " " + prefixes[p] + unit;
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  if (seconds >= 1.0) return fixed3(seconds) + " s";
  if (seconds >= 1e-3) return fixed3(seconds * 1e3) + " ms";
  if (seconds >= 1e-6) return fixed3(seconds * 1e6) + " us";
  return fixed3(seconds * 1e9) + " ns";
}

std::string mem(double bytes) {
  if (bytes >= 1024.0 * 1024 * 1024) return fixed3(bytes / (1024.0 * 1024 * 1024)) + " GiB";
  if (bytes >= 1024.0 * 1024) return fixed3(bytes / (1024.0 * 1024)) + " MiB";
  return fixed3(bytes / 1024.0) + " KiB";
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? sep : "") + parts[i];
  return s;
}

}  // namespace xk::tool
