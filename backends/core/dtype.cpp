#include <string>

#include "xk/dtype.h"
#include "xk/error.h"

namespace xk {

namespace {
// GGUF block sizes: ggml/src/ggml-common.h (QK4_0 = QK8_0 = QK_MXFP4 = 32, QK_NVFP4 = 64).
constexpr DTypeTraits kTraits[] = {
    {"f32", 1, 4, false},    {"f16", 1, 2, false},    {"bf16", 1, 2, false},
    {"q8_0", 32, 34, true},  {"q4_0", 32, 18, true},  {"mxfp4", 32, 17, true},
    {"nvfp4", 64, 36, true},
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
