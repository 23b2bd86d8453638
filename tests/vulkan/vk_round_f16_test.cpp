// round_f16 (kernels/vulkan/common.glsl), the FP16 rounding of the Vulkan GEMMs' F16
// activation path, run on the Vulkan device over a deterministic set of FP32 inputs and
// compared bit for bit with the host's exact conversion f16_to_f32(f32_to_f16(x))
// (include/xk/formats.h). A NaN expectation accepts any NaN; everything else, -0 and the
// sign of inf included, must match exactly.
//
// Why this test exists: an earlier round_f16 let its anchor constant grow with the input's
// exponent, so for |x| >= 2^115 the anchor overflowed to inf and (x + inf) - inf gave NaN
// where FP16 overflow must give inf. The GEMM tests never fed such values, so nothing caught
// it. The input set below covers every FP16 code, every rounding boundary and the whole FP32
// exponent range, so a slip of that kind anywhere in the function shows up.
//
// The shader (round_f16_probe.comp) is not one of the backend's kernels, so it is not in the
// embedded SPIR-V table: the test hands its words to Context::pipeline and dispatches it
// through the backend's own Batch.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "backends/vulkan/vk_context.h"
#include "tests/common/test_util.h"
#include "xk/error.h"
#include "xk/formats.h"

namespace {

using namespace xk::vk;

// SPIR-V words of round_f16_probe.comp, written by glslc -mfmt=num (tests/vulkan/CMakeLists.txt).
const uint32_t kProbeSpirv[] = {
#include "round_f16_probe.spv.inc"
};

using xk::test::bits;
using xk::test::from_bits;
bool is_nan_bits(uint32_t u) { return (u & 0x7FFFFFFFu) > 0x7F800000u; }

// The reference: FP32 -> FP16 (RNE, overflow to inf) -> FP32, both steps exact on the host.
uint32_t expected_bits(uint32_t x) { return bits(xk::f16_to_f32(xk::f32_to_f16(from_bits(x)))); }

// The deterministic input set, positive and negative:
//  * every finite FP16 value, one FP32 ulp below and above it;
//  * every midpoint between adjacent FP16 values (ties: the even neighbour wins), one ulp
//    either side, including 65520, the midpoint between 65504 and the first value past
//    FP16's range, where rounding turns to inf;
//  * for every FP32 exponent (denormals included), the mantissa patterns around each bit
//    position, which hits the rounding bit and sticky bits wherever they fall;
//  * named cases: zeros, FP32 denormals, 2^115, 2^127, FLT_MAX, inf, NaNs (quiet,
//    signalling, with payloads);
//  * a million pseudo-random bit patterns (fixed seed) for everything in between.
std::vector<uint32_t> make_inputs() {
  std::vector<uint32_t> v;
  auto add_around = [&](float f) {
    v.push_back(bits(f));
    v.push_back(bits(std::nextafter(f, -INFINITY)));
    v.push_back(bits(std::nextafter(f, INFINITY)));
  };
  for (uint32_t h = 0; h <= 0x7BFFu; ++h) {  // 0x7BFF = 65504, FP16's largest finite value
    const float lo = xk::f16_to_f32(static_cast<uint16_t>(h));
    // The next value up; past 0x7BFF that is 65536, one FP16 ulp (32) beyond the max.
    const float hi = h < 0x7BFFu ? xk::f16_to_f32(static_cast<uint16_t>(h + 1)) : 65536.0f;
    add_around(lo);
    add_around(lo + (hi - lo) / 2);  // exact in FP32: FP16 values have 11 significant bits
  }
  for (uint32_t e = 0; e <= 0xFEu; ++e)
    for (uint32_t k = 0; k < 23; ++k) {
      const uint32_t m = 1u << k;
      for (uint32_t mant : {m - 1, m, m + 1, m | (m >> 1), (m << 1) - 1, 0x7FFFFFu ^ m})
        v.push_back((e << 23) | (mant & 0x7FFFFFu));
    }
  for (float f : {0.0f,     FLT_TRUE_MIN,    FLT_MIN,  0x1p-25f, 0x1p-24f,   0x1.8p-24f, 0x1p-14f,
                  65504.0f, 65519.0f,        65520.0f, 65536.0f, 0x1p16f,    0x1p17f,    0x1p114f,
                  0x1p115f, 0x1.fffffep114f, 0x1p126f, 0x1p127f, 0x1.8p127f, FLT_MAX})
    add_around(f);
  for (uint32_t u : {0x7F800000u, 0x7FC00000u, 0x7F800001u, 0x7FBFFFFFu, 0x7FC00001u, 0x7FFFFFFFu,
                     0x00000001u, 0x007FFFFFu})
    v.push_back(u);
  uint64_t s = 0x9E3779B97F4A7C15ull;  // splitmix64, fixed seed: the same inputs every run
  for (int i = 0; i < (1 << 20); ++i) {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    v.push_back(static_cast<uint32_t>(z ^ (z >> 31)));
  }
  const size_t n = v.size();
  for (size_t i = 0; i < n; ++i) v.push_back(v[i] ^ 0x80000000u);  // the same with the sign flipped
  return v;
}

// Runs the probe shader over `x` on `ctx`: one dispatch, 64 elements per workgroup.
std::vector<uint32_t> run_probe(Context& ctx, const std::vector<uint32_t>& x) {
  const uint32_t n = static_cast<uint32_t>(x.size());
  auto in = ctx.alloc(x.size() * 4), out = ctx.alloc(x.size() * 4);
  ctx.write(*in, 0, x.data(), x.size() * 4);
  const Pipeline& probe =
      ctx.pipeline("round_f16_probe", Spirv{kProbeSpirv, sizeof(kProbeSpirv) / sizeof(uint32_t)}, {}, 2);
  Batch b = ctx.batch("round_f16 probe", false);
  b.dispatch(probe, {in.get(), out.get()}, n, {(n + 63) / 64, 1, 1});
  b.run();
  std::vector<uint32_t> y(x.size());
  ctx.read(*out, 0, y.data(), y.size() * 4);
  return y;
}

TEST(VulkanRoundF16, MatchesHostConversionBitForBit) {
  std::string why;
  auto inst = Instance::get(&why);
  ASSERT_TRUE(inst) << "no Vulkan instance: " << why;
  const PhysicalDevice* pd = nullptr;
  for (const PhysicalDevice& d : inst->devices())
    if (d.reason_unusable.empty()) {
      pd = &d;
      break;
    }
  ASSERT_NE(pd, nullptr) << "no usable Vulkan device";
  Context ctx(inst, *pd);

  const std::vector<uint32_t> x = make_inputs();
  const std::vector<uint32_t> y = run_probe(ctx, x);
  size_t bad = 0, nan_expected = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const uint32_t want = expected_bits(x[i]);
    nan_expected += is_nan_bits(want);
    const bool ok = is_nan_bits(want) ? is_nan_bits(y[i]) : y[i] == want;
    if (ok) continue;
    if (++bad <= 16)  // the first mismatches, in input order (sign-flipped copies come last)
      ADD_FAILURE() << "device " << pd->props.deviceName << ", round_f16(" << from_bits(x[i]) << " = 0x"
                    << std::hex << x[i] << "): expected " << from_bits(want) << " (0x" << want << "), got "
                    << from_bits(y[i]) << " (0x" << y[i] << ")" << std::dec;
  }
  EXPECT_EQ(bad, 0u) << "round_f16 disagrees with f16_to_f32(f32_to_f16(x)) on " << bad << " of " << x.size()
                     << " inputs on " << pd->props.deviceName;
  EXPECT_GT(nan_expected, 0u);  // the set must contain NaNs, or the NaN rule goes untested
  std::printf("round_f16: %zu inputs checked on %s, %zu mismatches\n", x.size(), pd->props.deviceName, bad);
}

}  // namespace
