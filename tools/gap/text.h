// Small text helpers shared by the gap model's readers of GGUF names, CSV cells and flags.
#pragma once
#include <cctype>
#include <string>

namespace xk::gap {

// ASCII lower case, byte by byte (the names and flags read here are ASCII).
inline std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace xk::gap
