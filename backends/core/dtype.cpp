#include <string>

#include "kernels/ref/formats.h"
#include "xk/dtype.h"
#include "xk/error.h"

namespace xk {

namespace {
template <DType F>
constexpr DTypeTraits row(const char* name, bool quantized) {
  return {name, ref::FormatBlock<F>::elems, ref::FormatBlock<F>::bytes, quantized};
}
// Indexed by DType's value.
constexpr DTypeTraits kTraits[] = {
    row<DType::F32>("f32", false),    row<DType::F16>("f16", false),  row<DType::BF16>("bf16", false),
    row<DType::Q8_0>("q8_0", true),   row<DType::Q4_0>("q4_0", true), row<DType::MXFP4>("mxfp4", true),
    row<DType::NVFP4>("nvfp4", true),
};
constexpr const char* kActNames[] = {"auto", "f32", "f16", "q8", "fp4", "fp8"};
}  // namespace

const DTypeTraits& traits(DType t) { return kTraits[static_cast<int>(t)]; }

DType parse_dtype(std::string_view s) {
  for (DType t : kAllDTypes)
    if (s == traits(t).name) return t;
  throw Error("dtype", "name",
              "unknown format '" + std::string(s) + "' (known: f32 f16 bf16 q8_0 q4_0 mxfp4 nvfp4)");
}

const char* name(ActPrecision a) { return kActNames[static_cast<int>(a)]; }

ActPrecision parse_act(std::string_view s) {
  for (int i = 0; i < 6; ++i)
    if (s == kActNames[i]) return static_cast<ActPrecision>(i);
  throw Error("act", "name",
              "unknown activation precision '" + std::string(s) + "' (known: auto f32 f16 q8 fp4 fp8)");
}

}  // namespace xk
