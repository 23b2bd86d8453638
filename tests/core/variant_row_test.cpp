// The variant row type: names are derived from the fields by one rule, a row that breaks the
// rule cannot be built, and every row of every device here carries the name its fields give.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "backends/core/variant_row.h"
#include "xk/registry.h"

namespace {

using namespace xk;

Variant gemm_row() {
  return {.op = Op::Matmul,
          .family = "mmq",
          .formats = {DType::NVFP4},
          .acts = {ActPrecision::FP4},
          .tile = {128, 128, 128},
          .technique = "mma",
          .min_arch = "sm_120a",
          .priority = 20,
          .kernels = {"mmq_fp4_128x128_mma_sm120a"}};
}

TEST(VariantName, IsDerivedFromTheFields) {
  EXPECT_EQ(variant_name(gemm_row()), "mmq_nvfp4_fp4_128x128_mma_sm120a");
  Variant r = gemm_row();
  r.formats = {DType::Q4_0, DType::Q8_0};
  r.acts = {ActPrecision::Q8, ActPrecision::F16};
  r.min_arch = "vk1.3";
  r.technique = "splitk_mma";
  EXPECT_EQ(variant_name(r), "mmq_all_all_128x128_splitk_mma_vk");
  r.min_arch = "any";
  EXPECT_EQ(variant_name(r).substr(variant_name(r).size() - 4), "_cpu");
}

TEST(VariantName, RefusesRowsThatBreakTheRule) {
  auto broken = [](auto edit) {
    Variant r = gemm_row();
    edit(r);
    return r;
  };
  EXPECT_THROW(variant_name(broken([](Variant& r) { r.family = "gemm"; })), std::logic_error);
  EXPECT_THROW(variant_name(broken([](Variant& r) { r.family = "attn"; })),
               std::logic_error);  // a matmul row
  EXPECT_THROW(variant_name(broken([](Variant& r) { r.formats.clear(); })), std::logic_error);
  EXPECT_THROW(variant_name(broken([](Variant& r) { r.acts.clear(); })), std::logic_error);
  EXPECT_THROW(variant_name(broken([](Variant& r) { r.tile = {0, 128, 0}; })), std::logic_error);
  EXPECT_THROW(variant_name(broken([](Variant& r) { r.technique = "MMA"; })), std::logic_error);
  EXPECT_THROW(variant_name(broken([](Variant& r) { r.technique = "_mma"; })), std::logic_error);
  EXPECT_THROW(variant_name(broken([](Variant& r) { r.kernels.clear(); })), std::logic_error);
  EXPECT_THROW(make_row(broken([](Variant& r) { r.min_arch = "sm-120!"; }), {}), std::logic_error);
}

TEST(VariantName, EveryRowOfEveryDeviceHereCarriesTheNameItsFieldsGive) {
  int rows = 0;
  for (const DeviceEntry& e : list_devices()) {
    if (!e.available) continue;
    auto dev = open_device(e.name);
    std::set<std::string> seen;
    for (const Variant& v : dev->variants()) {
      EXPECT_EQ(v.name, variant_name(v)) << e.name;
      EXPECT_TRUE(seen.insert(v.name).second) << e.name << ": two rows named " << v.name;
      EXPECT_TRUE(v.ops) << v.name << " has no behaviour";
      ++rows;
    }
  }
  EXPECT_GT(rows, 2);  // cpu-ref alone has two
}

}  // namespace
