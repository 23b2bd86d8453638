#include "backends/core/variant_row.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>

namespace xk {

namespace {

bool is_word(const std::string& s, bool underscores) {
  if (s.empty() || s.front() == '_' || s.back() == '_') return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           (underscores && c == '_');
  });
}

[[noreturn]] void broken(const Variant& row, const std::string& why) {
  throw std::logic_error("variant row (" + row.family + ", " + row.technique + ", " + row.min_arch + "): " +
                         why + " (naming rule: <family>_<weights>_<acts>_<tile>_<technique>_<minarch>)");
}

std::string arch_word(const std::string& min_arch) {
  if (min_arch == "any") return "cpu";
  if (min_arch.rfind("vk", 0) == 0) return "vk";
  std::string s;
  for (char c : min_arch)
    if (c != '_' && c != '.') s += c;
  return s;
}

}  // namespace

std::string Tile::str() const {
  std::string s = std::to_string(m) + "x" + std::to_string(n);
  return k ? s + "x" + std::to_string(k) : s;
}

std::string variant_name(const Variant& row) {
  static const char* const kFamilies[] = {"mm", "mmq", "mmvq", "mv", "attn"};
  if (std::find(std::begin(kFamilies), std::end(kFamilies), row.family) == std::end(kFamilies))
    broken(row, "family '" + row.family + "' is not one of mm, mmq, mmvq, mv, attn");
  if ((row.family == "attn") != (row.op == Op::Attention))
    broken(row, "family 'attn' is the attention op's alone");
  if (row.formats.empty()) broken(row, "no formats");
  if (row.acts.empty()) broken(row, "no activation precisions");
  if (row.tile.m <= 0 || row.tile.n <= 0 || row.tile.k < 0)
    broken(row, "tile " + row.tile.str() + " is not positive");
  if (!is_word(row.technique, true)) broken(row, "technique '" + row.technique + "' is not lower-case words");
  const std::string arch = arch_word(row.min_arch);
  if (!is_word(arch, false)) broken(row, "min_arch '" + row.min_arch + "' gives no arch word");
  if (row.kernels.empty()) broken(row, "names no device function it launches");
  const std::string weights = row.formats.size() == 1 ? name(row.formats[0]) : "all";
  const std::string acts = row.acts.size() == 1 ? name(row.acts[0]) : "all";
  return row.family + "_" + weights + "_" + acts + "_" + std::to_string(row.tile.m) + "x" +
         std::to_string(row.tile.n) + "_" + row.technique + "_" + arch;
}

Variant make_row(Variant fields, VariantOps ops) {
  fields.name = variant_name(fields);
  fields.ops = std::make_shared<const VariantOps>(std::move(ops));
  return fields;
}

}  // namespace xk
