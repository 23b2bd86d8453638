// Small text helpers shared by the gap model's readers of GGUF names, CSV cells and flags.
#pragma once
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>

namespace xk::gap {

// ASCII lower case, byte by byte (the names and flags read here are ASCII).
inline std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// The whole of `s` as a number, in strtod's syntax as std::stod reads it: false when nothing
// is read, anything is left over, or the value lies outside a double's range.
inline bool parse_double(const std::string& s, double& out) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || errno == ERANGE || end != s.c_str() + s.size()) return false;
  out = v;
  return true;
}

// A calendar date as the measurement files and llama-bench write it: "YYYY-MM-DD", optionally
// followed by a time ("T..." or " ..."). Month lengths and leap years are checked.
inline bool iso_date(const std::string& s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (s.size() > 10 && s[10] != 'T' && s[10] != ' ') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  using namespace std::chrono;
  const year_month_day d{year{std::stoi(s.substr(0, 4))},
                         month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
                         day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}};
  return d.ok();
}

}  // namespace xk::gap
