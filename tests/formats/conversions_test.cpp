// Scalar format conversions, checked over every code of every format against an independent
// computation (std::ldexp for decoding, std::nearbyint in the default round-to-nearest-even
// mode for encoding), plus every midpoint between adjacent codes.
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "kernels/ref/numerics.h"
#include "tests/common/test_util.h"
#include "xk/formats.h"

namespace {

using xk::test::bits;
using xk::test::from_bits;
// Same value and same sign of zero.
bool same(float a, float b) { return bits(a) == bits(b); }

// Nearest value of a binary format with `mbits` mantissa bits and minimum normal exponent
// `emin` (unbounded exponent above), ties to even: nearbyint in the default rounding mode.
double round_binary(double x, int emin, int mbits) {
  if (x == 0) return x;
  const int e = std::max(std::ilogb(x), emin);
  const double q = std::ldexp(1.0, e - mbits);
  return std::copysign(std::nearbyint(x / q) * q, x);
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v;
  while (v.size() < n) {
    const float f = from_bits(rng());
    if (!std::isnan(f)) v.push_back(f);
  }
  return v;
}

// ------------------------------------------------------------------------------- f16
float f16_by_ldexp(uint16_t h) {
  const int exp = (h >> 10) & 31, mant = h & 1023;
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;
  if (exp == 31) return mant ? std::numeric_limits<float>::quiet_NaN() : sign * INFINITY;
  if (exp == 0) return sign * static_cast<float>(std::ldexp(mant, -24));
  return sign * static_cast<float>(std::ldexp(1024 + mant, exp - 25));
}

TEST(F16, DecodeEveryCodeMatchesLdexp) {
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  for (uint32_t h = 0; h < 65536; ++h) {
    const float got = xk::f16_to_f32(static_cast<uint16_t>(h)), want = f16_by_ldexp(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << "code 0x" << std::hex << h;
      EXPECT_EQ(bits(got) >> 31, h >> 15) << "NaN sign, code 0x" << std::hex << h;
    } else {
      ASSERT_TRUE(same(got, want)) << "code 0x" << std::hex << h << ": " << got << " vs " << want;
    }
  }
}

TEST(F16, EncodeOfEveryDecodedCodeGivesTheCodeBack) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t back = xk::f32_to_f16(xk::f16_to_f32(static_cast<uint16_t>(h)));
    if (((h >> 10) & 31) == 31 && (h & 1023)) {
      EXPECT_EQ(back & 0x7C00, 0x7C00);
      EXPECT_NE(back & 0x3FF, 0) << "NaN must stay NaN, code 0x" << std::hex << h;
      EXPECT_NE(back & 0x200, 0) << "NaN comes back quiet, code 0x" << std::hex << h;
      EXPECT_EQ(back & 0x8000, h & 0x8000);
    } else {
      ASSERT_EQ(back, h) << "code 0x" << std::hex << h;
    }
  }
}

// Every midpoint between two adjacent finite codes goes to the even code; one float ulp
// either side goes to the nearer code. Covers zero/subnormal/normal boundaries.
TEST(F16, EncodeMidpointsBetweenAllAdjacentCodesRoundToEven) {
  for (uint16_t h = 0; h < 0x7BFF; ++h) {
    const double lo = xk::f16_to_f32(h), hi = xk::f16_to_f32(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((lo + hi) / 2);
    ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2) << "midpoint must be exact in FP32";
    const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : h;
    for (uint16_t sign : {uint16_t(0), uint16_t(0x8000)}) {
      const float s = sign ? -1.0f : 1.0f;
      ASSERT_EQ(xk::f32_to_f16(s * mid), even | sign) << "midpoint above code 0x" << std::hex << h;
      ASSERT_EQ(xk::f32_to_f16(s * std::nextafter(mid, INFINITY)), (h + 1) | sign)
          << "code 0x" << std::hex << h;
      ASSERT_EQ(xk::f32_to_f16(s * std::nextafter(mid, 0.0f)), h | sign) << "code 0x" << std::hex << h;
    }
  }
}

TEST(F16, OverflowGoesToInfinityAtTheRoundingBoundary) {
  EXPECT_EQ(xk::f32_to_f16(65504.0f), 0x7BFF);
  EXPECT_EQ(xk::f32_to_f16(std::nextafter(65520.0f, 0.0f)), 0x7BFF);
  EXPECT_EQ(xk::f32_to_f16(65520.0f), 0x7C00);  // tie with odd 0x7BFF: rounds up to inf
  EXPECT_EQ(xk::f32_to_f16(-65520.0f), 0xFC00);
  EXPECT_EQ(xk::f32_to_f16(1e30f), 0x7C00);
  EXPECT_EQ(xk::f32_to_f16(INFINITY), 0x7C00);
  EXPECT_EQ(xk::f32_to_f16(-INFINITY), 0xFC00);
  EXPECT_EQ(xk::f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(xk::f32_to_f16(-1e-30f), 0x8000);  // underflow keeps the sign
  EXPECT_EQ(xk::f32_to_f16(std::numeric_limits<float>::denorm_min()), 0x0000);
  const uint16_t nan = xk::f32_to_f16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE((nan & 0x7C00) == 0x7C00 && (nan & 0x3FF) != 0);
}

TEST(F16, EncodeOfRandomFloatsMatchesNearbyint) {
  for (float x : random_floats(1 << 20, 1)) {
    const float want =
        std::fabs(x) >= 65520.0f ? std::copysign(INFINITY, x) : static_cast<float>(round_binary(x, -14, 10));
    const float got = xk::f16_to_f32(xk::f32_to_f16(x));
    ASSERT_TRUE(same(got, want)) << "x = " << x << " (0x" << std::hex << bits(x) << "): " << got << " vs "
                                 << want;
  }
}

// ------------------------------------------------------------------------------- bf16
float bf16_by_ldexp(uint16_t h) {
  const int exp = (h >> 7) & 255, mant = h & 127;
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;
  if (exp == 255) return mant ? std::numeric_limits<float>::quiet_NaN() : sign * INFINITY;
  if (exp == 0) return sign * static_cast<float>(std::ldexp(mant, -133));
  return sign * static_cast<float>(std::ldexp(128 + mant, exp - 134));
}

TEST(BF16, DecodeAndRoundTripEveryCode) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float got = xk::bf16_to_f32(static_cast<uint16_t>(h)),
                want = bf16_by_ldexp(static_cast<uint16_t>(h));
    const uint16_t back = xk::f32_to_bf16(got);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got));
      EXPECT_TRUE((back & 0x7F80) == 0x7F80 && (back & 0x7F) != 0 && (back & 0x40) != 0) << std::hex << h;
    } else {
      ASSERT_TRUE(same(got, want)) << "code 0x" << std::hex << h;
      ASSERT_EQ(back, h) << "code 0x" << std::hex << h;
    }
  }
}

TEST(BF16, EncodeMidpointsBetweenAllAdjacentCodesRoundToEven) {
  for (uint16_t h = 0; h < 0x7F80; ++h) {  // h + 1 == 0x7F80 is +inf: the overflow midpoint
    const double lo = xk::bf16_to_f32(h);
    const double hi = h + 1 == 0x7F80 ? std::ldexp(1.0, 128)
                                      : static_cast<double>(xk::bf16_to_f32(static_cast<uint16_t>(h + 1)));
    const float mid = static_cast<float>((lo + hi) / 2);
    ASSERT_EQ(static_cast<double>(mid), (lo + hi) / 2);
    const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : h;
    for (uint16_t sign : {uint16_t(0), uint16_t(0x8000)}) {
      const float s = sign ? -1.0f : 1.0f;
      ASSERT_EQ(xk::f32_to_bf16(s * mid), even | sign) << "code 0x" << std::hex << h;
      ASSERT_EQ(xk::f32_to_bf16(s * std::nextafter(mid, 0.0f)), h | sign) << "code 0x" << std::hex << h;
      if (h + 1 < 0x7F80) {
        ASSERT_EQ(xk::f32_to_bf16(s * std::nextafter(mid, INFINITY)), (h + 1) | sign)
            << "code 0x" << std::hex << h;
      }
    }
  }
}

TEST(BF16, EncodeOfRandomFloatsMatchesNearbyint) {
  for (float x : random_floats(1 << 20, 2)) {
    const double r = round_binary(x, -126, 7);
    const float want =
        std::fabs(r) >= std::ldexp(1.0, 128) ? std::copysign(INFINITY, x) : static_cast<float>(r);
    ASSERT_TRUE(same(xk::bf16_to_f32(xk::f32_to_bf16(x)), want)) << "x = " << x;
  }
}

// ------------------------------------------------------------------------------- E2M1
TEST(E2M1, DecodeEveryCodeMatchesOcpTable) {
  // OCP MX v1.0 table 5: S EE M, exponent bias 1, E = 0 subnormal (0.5 * M).
  const float magnitude[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  for (int c = 0; c < 16; ++c) {
    const float want = (c & 8) ? -magnitude[c & 7] : magnitude[c & 7];
    EXPECT_TRUE(same(xk::e2m1_to_f32(static_cast<uint8_t>(c)), want)) << "code " << c;
    EXPECT_EQ(xk::num::e2m1_x2(static_cast<uint8_t>(c)), static_cast<int>(want * 2)) << "code " << c;
    EXPECT_EQ(xk::f32_to_e2m1(want), c) << "code " << c;  // includes -0 -> 8
  }
}

TEST(E2M1, EncodeMidpointsRoundToEvenAndSaturate) {
  struct Case {
    float x;
    uint8_t code;
  };
  // Midpoints between neighbours go to the code with an even mantissa bit.
  const Case cases[] = {{0.25f, 0},      {0.75f, 2},      {1.25f, 2},      {1.75f, 4},      {2.5f, 4},
                        {3.5f, 6},       {5.0f, 6},       {0.2500001f, 1}, {0.7499999f, 1}, {1.2500001f, 3},
                        {4.9999995f, 6}, {5.0000005f, 7}, {6.0f, 7},       {6.5f, 7},       {1e30f, 7},
                        {INFINITY, 7},   {0.2499999f, 0}};
  for (const Case& c : cases) {
    EXPECT_EQ(xk::f32_to_e2m1(c.x), c.code) << "x = " << c.x;
    EXPECT_EQ(xk::f32_to_e2m1(-c.x), c.code | 8) << "x = " << -c.x;
  }
  EXPECT_EQ(xk::f32_to_e2m1(-1e-30f), 8);  // rounds to zero, keeps the sign
  EXPECT_EQ(xk::f32_to_e2m1(std::numeric_limits<float>::quiet_NaN()), 7);
}

TEST(E2M1, EncodeOfRandomFloatsMatchesNearbyint) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-8.0f, 8.0f);
  for (int i = 0; i < 200000; ++i) {
    const float x = u(rng);
    const double r = std::min(std::fabs(round_binary(x, 0, 1)), 6.0);
    ASSERT_EQ(std::fabs(xk::e2m1_to_f32(xk::f32_to_e2m1(x))), r) << "x = " << x;
  }
}

// ------------------------------------------------------------------------------- E8M0
TEST(E8M0, DecodeEveryCode) {
  for (int e = 0; e < 256; ++e) {
    const float got = xk::e8m0_to_f32(static_cast<uint8_t>(e));
    if (e == 255)
      EXPECT_TRUE(std::isnan(got));
    else
      EXPECT_TRUE(same(got, static_cast<float>(std::ldexp(1.0, e - 127)))) << "e = " << e;
    // ggml's half scale (ggml-impl.h ggml_e8m0_to_fp32_half): 2^(e-128) for every code.
    EXPECT_TRUE(same(xk::num::e8m0_to_f32_half_ggml(static_cast<uint8_t>(e)),
                     static_cast<float>(std::ldexp(1.0, e - 128))))
        << "e = " << e;
  }
}

// ------------------------------------------------------------------------------- E4M3 / UE4M3
float e4m3_by_ldexp(int c) {  // magnitude of the 7 low bits
  const int exp = (c >> 3) & 15, man = c & 7;
  if (exp == 0) return static_cast<float>(std::ldexp(man, -9));
  return static_cast<float>(std::ldexp(8 + man, exp - 10));
}

TEST(E4M3, DecodeEveryCode) {
  for (int c = 0; c < 256; ++c) {
    const float e = xk::e4m3_to_f32(static_cast<uint8_t>(c)), u = xk::ue4m3_to_f32(static_cast<uint8_t>(c));
    if ((c & 0x7F) == 0x7F) {
      EXPECT_TRUE(std::isnan(e) && std::isnan(u)) << "code " << c;
      continue;
    }
    const float m = e4m3_by_ldexp(c & 0x7F);
    EXPECT_TRUE(same(e, (c & 0x80) ? -m : m)) << "code " << c;
    EXPECT_TRUE(same(u, m)) << "ue4m3 ignores the sign bit, code " << c;
  }
  EXPECT_EQ(xk::e4m3_to_f32(0x7E), 448.0f);
  EXPECT_EQ(xk::e4m3_to_f32(0x01), std::ldexp(1.0f, -9));
}

TEST(E4M3, EncodeRoundTripsEveryCodeAndMidpointsRoundToEven) {
  for (int c = 0; c < 0x7F; ++c) {
    const float v = e4m3_by_ldexp(c);
    EXPECT_EQ(xk::f32_to_e4m3(v), c);
    EXPECT_EQ(xk::f32_to_e4m3(-v), c | 0x80);
    EXPECT_EQ(xk::f32_to_ue4m3(v), c);
    if (c == 0x7E) break;
    const double hi = e4m3_by_ldexp(c + 1);
    const float mid = static_cast<float>((v + hi) / 2);
    const int even = (c & 1) ? c + 1 : c;
    EXPECT_EQ(xk::f32_to_e4m3(mid), even) << "midpoint above code " << c;
    EXPECT_EQ(xk::f32_to_e4m3(-mid), even | 0x80);
    EXPECT_EQ(xk::f32_to_ue4m3(mid), even);
    EXPECT_EQ(xk::f32_to_e4m3(std::nextafter(mid, INFINITY)), c + 1);
    EXPECT_EQ(xk::f32_to_e4m3(std::nextafter(mid, 0.0f)), c);
  }
}

TEST(E4M3, SaturationNanAndSigns) {
  for (float big : {448.0f, 449.0f, 464.0f, 480.0f, 1e6f, INFINITY}) {
    EXPECT_EQ(xk::f32_to_e4m3(big), 0x7E) << big;
    EXPECT_EQ(xk::f32_to_e4m3(-big), 0xFE) << big;
    EXPECT_EQ(xk::f32_to_ue4m3(big), 0x7E) << big;
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(xk::f32_to_e4m3(nan), 0x7F);
  EXPECT_EQ(xk::f32_to_ue4m3(nan), 0x7F);
  EXPECT_EQ(xk::f32_to_e4m3(-0.0f), 0x80);
  EXPECT_EQ(xk::f32_to_ue4m3(-0.0f), 0x00);
  EXPECT_EQ(xk::f32_to_ue4m3(-3.0f), 0x00);                 // an unsigned scale cannot be negative
  EXPECT_EQ(xk::f32_to_e4m3(std::ldexp(1.0f, -10)), 0x00);  // tie with 0: even
  EXPECT_EQ(xk::f32_to_e4m3(std::nextafter(std::ldexp(1.0f, -10), 1.0f)), 0x01);
}

TEST(E4M3, EncodeOfRandomFloatsMatchesNearbyint) {
  for (float x : random_floats(1 << 20, 4)) {
    const double r = std::min(std::fabs(round_binary(x, -6, 3)), 448.0);
    const float got = xk::e4m3_to_f32(xk::f32_to_e4m3(x));
    ASSERT_EQ(std::fabs(got), r) << "x = " << x;
    ASSERT_EQ(std::signbit(got), std::signbit(x)) << "x = " << x;
    if (x >= 0) {
      ASSERT_EQ(xk::f32_to_ue4m3(x), xk::f32_to_e4m3(x)) << "x = " << x;
    }
  }
}

// ------------------------------------------------------------------------------- ggml helpers
// ggml_ue4m3_to_fp32 (ggml-impl.h): half the UE4M3 value, 0x00 and 0x7F decode to 0.
TEST(GgmlUe4m3, HalfDecodeOfEveryCode) {
  for (int c = 0; c < 256; ++c) {
    const float got = xk::num::ue4m3_to_f32_half_ggml(static_cast<uint8_t>(c));
    const float want = (c == 0 || c == 0x7F) ? 0.0f : e4m3_by_ldexp(c & 0x7F) / 2;
    EXPECT_TRUE(same(got, want)) << "code " << c;
  }
  EXPECT_EQ(xk::num::ue4m3_to_f32_half_ggml(0xFF), 240.0f);  // only 0x7F itself is special
}

// ggml_fp32_to_ue4m3 rounds half up (not to even), clamps the subnormal range at code 7 and
// sends everything >= 256 to 0x7E. These are its observable rules, pinned code by code.
TEST(GgmlUe4m3, EncodeRulesPinnedForEveryCode) {
  for (int c = 1; c < 0x78; ++c) {  // exponent field < 15: exact values come back
    EXPECT_EQ(xk::num::ue4m3_from_f32_ggml(e4m3_by_ldexp(c)), c) << "code " << c;
    if (c == 0x77) break;
    const float mid = static_cast<float>((static_cast<double>(e4m3_by_ldexp(c)) + e4m3_by_ldexp(c + 1)) / 2);
    const int want = c == 7 ? 7 : c + 1;  // half up; [7.5, 8) * 2^-9 stays at 7 (ggml's clamp)
    EXPECT_EQ(xk::num::ue4m3_from_f32_ggml(mid), want) << "midpoint above code " << c;
    EXPECT_EQ(xk::num::ue4m3_from_f32_ggml(std::nextafter(mid, 0.0f)), c)
        << "below midpoint above code " << c;
  }
  for (float x : {256.0f, 300.0f, 447.0f, 448.0f, 1e9f, INFINITY})
    EXPECT_EQ(xk::num::ue4m3_from_f32_ggml(x), 0x7E) << x;
  for (float x : {0.0f, -0.0f, -5.0f, std::numeric_limits<float>::quiet_NaN(), std::ldexp(0.49f, -9)})
    EXPECT_EQ(xk::num::ue4m3_from_f32_ggml(x), 0) << x;
  EXPECT_EQ(xk::num::ue4m3_from_f32_ggml(std::ldexp(0.5f, -9)), 1);  // half up from zero
}

// ggml computes the MXFP4 block exponent as floorf(log2f(amax)); numerics.h emulates it
// without libm. Check every binade's top 4096 mantissas (where log2f can round up to the next
// integer), its bottom ones, subnormals, and random values against this libm's log2f.
TEST(GgmlMxfp4Exponent, FloorLog2fMatchesLibmNearEveryPowerOfTwo) {
  auto check = [](uint32_t u) {
    const float x = from_bits(u);
    const int want = static_cast<int>(std::floor(std::log2(x)));
    ASSERT_EQ(xk::num::floor_log2f_ggml(x), want) << "x = " << x << " (0x" << std::hex << u << ")";
    ASSERT_EQ(xk::num::floor_log2_exact(x), std::ilogb(x)) << "x = " << x;
    if (want - 2 + 127 >= 0) {
      ASSERT_EQ(xk::num::mxfp4_exponent_ggml(x), static_cast<uint8_t>(want - 2 + 127)) << "x = " << x;
    }
  };
  for (uint32_t e = 0; e < 255; ++e) {
    for (uint32_t m = 0x7FFFFF - 4095; m <= 0x7FFFFF; ++m) check((e << 23) | m);
    for (uint32_t m = (e == 0 ? 1 : 0); m < 64; ++m) check((e << 23) | m);
  }
  for (uint32_t m = 1; m < (1u << 23); m = m * 2 + 1) check(m);  // subnormals 0b1...1
  std::mt19937 rng(5);
  for (int i = 0; i < 1 << 20; ++i) check(rng() % 0x7F800000u + 1);
  EXPECT_EQ(xk::num::mxfp4_exponent_ggml(0.0f), 0);
}

TEST(Fp8ActExponent, PutsBlockMaxIntoTheTopE4M3Binade) {
  EXPECT_EQ(xk::num::fp8_act_exponent(0.0f), 0);
  EXPECT_EQ(xk::num::fp8_act_exponent(1.0f), 119);      // 1 / 2^-8 = 256
  EXPECT_EQ(xk::num::fp8_act_exponent(448.0f), 127);    // 448 = 1.75 * 2^8
  EXPECT_EQ(xk::num::fp8_act_exponent(1e-38f), 0);      // clamped
  EXPECT_EQ(xk::num::fp8_act_code(1.0f, 119), 0x78);    // 256: exponent field 15, mantissa 0
  EXPECT_EQ(xk::num::fp8_act_code(-1.99f, 119), 0xFE);  // 509 saturates to -448
}

}  // namespace
