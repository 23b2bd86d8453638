// GGUF byte layouts: hand-built blocks with known bytes dequantize to known values, crafted rows
// quantize to known bytes (ggml's rounding rules, ggml/src/ggml-quants.c), and random rows
// stay within each format's error bound.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/ref/formats.h"
#include "xk/error.h"
#include "xk/formats.h"

namespace {

using xk::DType;

std::vector<float> deq(DType t, const std::vector<uint8_t>& bytes, int64_t n, float ts = 1.0f) {
  std::vector<float> y(static_cast<size_t>(n));
  xk::dequantize_row(t, bytes.data(), y.data(), n, ts);
  return y;
}
std::vector<uint8_t> quant(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> b(xk::row_bytes(t, static_cast<int64_t>(x.size())));
  xk::quantize_row(t, x.data(), b.data(), static_cast<int64_t>(x.size()));
  return b;
}

// ------------------------------------------------------------------------------- byte layouts
TEST(GgufLayout, Q4_0LowNibbleIsElementJHighNibbleIsJPlus16) {
  std::vector<uint8_t> b = {0x00, 0x40};  // fp16 2.0, little-endian
  for (int j = 0; j < 16; ++j) b.push_back(static_cast<uint8_t>(j | ((15 - j) << 4)));
  const auto y = deq(DType::Q4_0, b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], (j - 8) * 2.0f) << "element " << j;
    EXPECT_EQ(y[j + 16], (15 - j - 8) * 2.0f) << "element " << j + 16;
  }
}

TEST(GgufLayout, Q8_0IsScaleThenSignedBytes) {
  std::vector<uint8_t> b = {0x00, 0x38};  // fp16 0.5
  for (int j = 0; j < 32; ++j) b.push_back(static_cast<uint8_t>(static_cast<int8_t>(j * 8 - 128)));
  const auto y = deq(DType::Q8_0, b, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], (j * 8 - 128) * 0.5f) << "element " << j;
}

TEST(GgufLayout, Mxfp4IsE8M0ThenNibblesInQ4_0Order) {
  std::vector<uint8_t> b = {128};  // 2^(128-127) = 2
  for (int j = 0; j < 16; ++j) b.push_back(static_cast<uint8_t>(j | ((15 - j) << 4)));
  const auto y = deq(DType::MXFP4, b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], xk::e2m1_to_f32(static_cast<uint8_t>(j)) * 2) << "element " << j;
    EXPECT_EQ(y[j + 16], xk::e2m1_to_f32(static_cast<uint8_t>(15 - j)) * 2) << "element " << j + 16;
  }
}

TEST(GgufLayout, Nvfp4IsFourUe4m3ScalesThenNibblesSplitPerSubblockOf16) {
  // Scales 1, 2, 0.5, 448 (UE4M3 0x38, 0x40, 0x30, 0x7E); sub-block s, byte 8s+j holds element
  // 16s+j in its low nibble and 16s+j+8 in its high nibble.
  std::vector<uint8_t> b = {0x38, 0x40, 0x30, 0x7E};
  for (int s = 0; s < 4; ++s)
    for (int j = 0; j < 8; ++j) b.push_back(static_cast<uint8_t>(((j + s) & 15) | (((15 - j) & 15) << 4)));
  const float scale[4] = {1.0f, 2.0f, 0.5f, 448.0f};
  for (float ts : {1.0f, 0.25f}) {
    const auto y = deq(DType::NVFP4, b, 64, ts);
    for (int s = 0; s < 4; ++s)
      for (int j = 0; j < 8; ++j) {
        EXPECT_EQ(y[16 * s + j], xk::e2m1_to_f32(static_cast<uint8_t>((j + s) & 15)) * scale[s] * ts)
            << "element " << 16 * s + j;
        EXPECT_EQ(y[16 * s + j + 8], xk::e2m1_to_f32(static_cast<uint8_t>(15 - j)) * scale[s] * ts)
            << "element " << 16 * s + j + 8;
      }
  }
}

TEST(GgufLayout, AccessorsStateTheSameOrder) {
  for (int j = 0; j < 32; ++j) {
    const auto at = xk::ref::q4_0_nibble_at(j);
    EXPECT_EQ(at.byte, j % 16);
    EXPECT_EQ(at.shift, j < 16 ? 0 : 4);
  }
  for (int j = 0; j < 64; ++j) {
    const auto at = xk::ref::nvfp4_nibble_at(j);
    EXPECT_EQ(at.byte, (j / 16) * 8 + (j % 8));
    EXPECT_EQ(at.shift, (j % 16) < 8 ? 0 : 4);
  }
}

// ------------------------------------------------------------------------------- quantize bytes
TEST(GgufQuantize, Q4_0UsesSignedMaxOverMinus8AndRoundsHalfUp) {
  std::vector<float> x(32, 0.0f);
  x[0] = -8.0f;  // largest magnitude, negative: d = -8 / -8 = 1
  x[1] = 7.0f;   // q = 15
  x[2] = 0.5f;   // 0.5 + 8.5 = 9.0 -> 9 (half rounds up)
  x[3] = -0.5f;  // -0.5 + 8.5 = 8.0 -> 8, i.e. 0 (half rounds up)
  x[4] = 0.49f;  // 8.99 -> 8
  x[16] = 3.0f;  // high nibble of byte 0
  x[17] = 8.0f;  // 16.5 -> 16, clamped to 15 -> 7
  const auto b = quant(DType::Q4_0, x);
  std::vector<uint8_t> want = {0x00,         0x3C,         0x00 | (11 << 4), 15 | (15 << 4),
                               9 | (8 << 4), 8 | (8 << 4), 8 | (8 << 4)};
  for (int j = 5; j < 16; ++j) want.push_back(8 | (8 << 4));
  EXPECT_EQ(b, want);

  std::vector<float> y(32, 1.0f);
  y[5] = 16.0f;  // positive max: d = 16 / -8 = -2 (fp16 0xC000), 16 -> q 0
  const auto c = quant(DType::Q4_0, y);
  EXPECT_EQ(c[0], 0x00);
  EXPECT_EQ(c[1], 0xC0);
  EXPECT_EQ(c[2 + 5] & 0xF, 0);
  EXPECT_EQ(c[2] & 0xF, 8);  // 1 * -0.5 + 8.5 = 8.0 -> 8 -> value 0 * -2: 1.0 is lost, as in ggml
}

TEST(GgufQuantize, Q8_0UsesAmaxOver127AndRoundsHalfAwayFromZero) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  x[0] = -127.0f;  // amax 127 -> d = 1.0 (fp16 0x3C00)
  x[1] = 2.5f;
  x[2] = -2.5f;
  const auto b = quant(DType::Q8_0, x);
  ASSERT_EQ(b.size(), 34u);
  EXPECT_EQ(b[0], 0x00);
  EXPECT_EQ(b[1], 0x3C);
  EXPECT_EQ(static_cast<int8_t>(b[2]), -127);
  EXPECT_EQ(static_cast<int8_t>(b[3]), 3);
  EXPECT_EQ(static_cast<int8_t>(b[4]), -3);
  for (int j = 3; j < 32; ++j) EXPECT_EQ(static_cast<int8_t>(b[2 + j]), j - 16);
}

TEST(GgufQuantize, Mxfp4ExponentAndNearestCodeWithLowerIndexOnTies) {
  // amax 6: floor(log2 6) = 2 -> e = 127, values are e2m1 codes directly.
  std::vector<float> x = {0,     0.5f,  1,  1.5f, 2,  3,     4,      6,    -0.0f, -0.5f, -1,
                          -1.5f, -2,    -3, -4,   -6, 0.25f, -0.25f, 5.0f, -5.0f, 2.5f,  0.75f,
                          7.0f,  1e-9f, 0,  0,    0,  0,     0,      0,    0,     0};
  // Ties keep the lower index: 0.75 -> 0.5 (code 1), not the even-mantissa 1.0 that RNE picks.
  const auto b = quant(DType::MXFP4, x);
  EXPECT_EQ(b[0], 127);
  const uint8_t want_hi[16] = {0, 0, 6, 14, 4, 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(b[1 + j] & 0xF, j == 8 ? 0 : j) << "element " << j;  // -0 scans to code 0 first
    EXPECT_EQ(b[1 + j] >> 4, want_hi[j]) << "element " << j + 16;
  }
  std::vector<float> y(32, 0.0f);
  y[3] = 8.0f;  // floor(log2 8) = 3 -> e = 128
  EXPECT_EQ(quant(DType::MXFP4, y)[0], 128);
  EXPECT_EQ(quant(DType::MXFP4, std::vector<float>(32, 0.0f))[0], 0);
}

TEST(GgufQuantize, Nvfp4ScalesPerSubblockWithGgmlUe4m3Rounding) {
  std::vector<float> x(64, 0.0f);
  x[0] = 6.0f;           // sub-block 0: amax 6 -> 6/6 = 1 -> 0x38; code 7 in element 0
  x[8] = -3.0f;          //   element 8 -> high nibble of byte 0, code 13 (-3)
  x[16 + 1] = 12.0f;     // sub-block 1: 12/6 = 2 -> 0x40; element 17 -> byte 9 low nibble, code 7
  x[48 + 15] = 1800.0f;  // sub-block 3: 1800/6 = 300 >= 256 -> 0x7E (448), 1800/448 ~ 4.02 -> code 6
  const auto b = quant(DType::NVFP4, x);
  ASSERT_EQ(b.size(), 36u);
  EXPECT_EQ(b[0], 0x38);
  EXPECT_EQ(b[1], 0x40);
  EXPECT_EQ(b[2], 0x00);  // all-zero sub-block: scale 0, codes 0
  EXPECT_EQ(b[3], 0x7E);
  EXPECT_EQ(b[4 + 0], 7 | (13 << 4));
  EXPECT_EQ(b[4 + 9], 7);
  EXPECT_EQ(b[4 + 24 + 7], 6 << 4);  // element 63 = 48 + 8 + 7: byte 8*3 + 7, high nibble
  for (int i = 4; i < 36; ++i)
    if (i != 4 && i != 13 && i != 35) {
      EXPECT_EQ(b[i], 0) << "byte " << i;
    }
}

TEST(GgufQuantize, WholeTensorNvfp4PicksScaleSoAmaxMapsTo6Times448) {
  std::vector<float> x(2 * 128);
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0.0f, 0.02f);
  for (auto& v : x) v = g(rng);
  x[77] = -0.5f;
  float ts = 0;
  const auto bytes = xk::quantize(DType::NVFP4, x.data(), 2, 128, &ts);
  EXPECT_EQ(ts, 0.5f / 2688.0f);
  const auto y = xk::dequantize(DType::NVFP4, bytes.data(), 2, 128, ts);
  EXPECT_NEAR(y[77], -0.5f, 1e-6f);
  float t1 = -1;
  xk::quantize(DType::Q4_0, x.data(), 2, 128, &t1);
  EXPECT_EQ(t1, 1.0f);
  float tz = -1;
  const std::vector<float> zeros(64, 0.0f);
  xk::quantize(DType::NVFP4, zeros.data(), 1, 64, &tz);
  EXPECT_EQ(tz, 1.0f);
  // amax / 2688 would underflow to 0 and make x / scale infinite: the scale floors at FLT_MIN.
  std::vector<float> tiny(64, 0.0f);
  tiny[5] = std::numeric_limits<float>::denorm_min() * 100;
  float tt = 0;
  EXPECT_NO_THROW(xk::quantize(DType::NVFP4, tiny.data(), 1, 64, &tt));
  EXPECT_EQ(tt, std::numeric_limits<float>::min());
}

// ------------------------------------------------------------------------------- error bounds
// Each element must dequantize to the nearest grid point of its block (E2M1 formats: the
// nearest of the 16 codes times the block scale), checked against a brute-force search.
double nearest_fp4_error(float x, double scale) {
  double best = INFINITY;
  for (int c = 0; c < 16; ++c)
    best = std::min(best, std::fabs(xk::e2m1_to_f32(static_cast<uint8_t>(c)) * scale - x));
  return best;
}

TEST(GgufErrorBound, EveryFormatStaysWithinItsBoundOnRandomRows) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  const int64_t n = 64 * 64;
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = g(rng) * std::exp(g(rng));  // heavy-ish tails, mixed block ranges
  for (DType t : xk::kAllDTypes) {
    const auto b = quant(t, x);
    const auto y = deq(t, b, n);
    double err2 = 0, ref2 = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double e = std::fabs(static_cast<double>(y[i]) - x[i]);
      err2 += e * e;
      ref2 += static_cast<double>(x[i]) * x[i];
      double bound = 0;
      switch (t) {
        case DType::F32:
          bound = 0;
          break;
        case DType::F16:
          bound = std::fabs(x[i]) * std::ldexp(1.0, -11) + std::ldexp(1.0, -25);
          break;
        case DType::BF16:
          bound = std::fabs(x[i]) * std::ldexp(1.0, -8);
          break;
        case DType::Q8_0: {  // half a step plus the fp16 rounding of d times |q| <= 127
          const double d = std::fabs(
              xk::f16_to_f32(static_cast<uint16_t>(b[(i / 32) * 34] | (b[(i / 32) * 34 + 1] << 8))));
          bound = 0.5 * d * (1 + 1e-6) + 127 * d * std::ldexp(1.0, -11);
          break;
        }
        case DType::Q4_0: {  // half a step (+ fp16 d), a full step for the clamped +8|d| side
          const double d = std::fabs(
              xk::f16_to_f32(static_cast<uint16_t>(b[(i / 32) * 18] | (b[(i / 32) * 18 + 1] << 8))));
          bound = d * (1 + 1e-6) + 8 * d * std::ldexp(1.0, -11);
          break;
        }
        case DType::MXFP4:
          bound = nearest_fp4_error(x[i], std::ldexp(1.0, b[(i / 32) * 17] - 127)) * (1 + 1e-6);
          break;
        case DType::NVFP4:
          bound = nearest_fp4_error(x[i], xk::ue4m3_to_f32(b[(i / 64) * 36 + (i % 64) / 16])) * (1 + 1e-6);
          break;
      }
      ASSERT_LE(e, bound + 1e-30) << xk::name(t) << " element " << i << ": x = " << x[i] << ", got " << y[i];
    }
    // Normalised MSE on this data, measured: f16 4.2e-8, bf16 2.9e-6, q8_0 1.04e-4,
    // q4_0 1.75e-2, mxfp4 2.0e-2, nvfp4 7.4e-3. Limits leave ~1.5-2x headroom.
    const double nmse = err2 / ref2;
    const double limit = t == DType::F32     ? 0
                         : t == DType::F16   ? 1e-7
                         : t == DType::BF16  ? 6e-6
                         : t == DType::Q8_0  ? 2e-4
                         : t == DType::NVFP4 ? 1.5e-2
                                             : 3e-2;
    EXPECT_LE(nmse, limit) << xk::name(t);
  }
}

// ------------------------------------------------------------------------------- bad input
TEST(GgufBadInput, LengthNotAMultipleOfTheBlockOrNonFiniteInputThrowsNamingTheArgument) {
  std::vector<float> x(48, 1.0f);
  std::vector<uint8_t> out(64);
  try {
    xk::quantize_row(DType::Q4_0, x.data(), out.data(), 48);
    FAIL() << "expected xk::Error";
  } catch (const xk::Error& e) {
    EXPECT_EQ(e.arg(), "n");
    EXPECT_NE(std::string(e.what()).find("block size 32"), std::string::npos) << e.what();
  }
  x[3] = NAN;
  try {
    xk::quantize_row(DType::MXFP4, x.data(), out.data(), 32);
    FAIL() << "expected xk::Error";
  } catch (const xk::Error& e) {
    EXPECT_EQ(e.arg(), "x");
    EXPECT_NE(std::string(e.what()).find("element 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(xk::dequantize(DType::Q8_0, out.data(), 1, 32, 2.0f), xk::Error);  // tensor_scale on q8_0
  EXPECT_THROW(xk::quantize(DType::NVFP4, x.data(), 1, 48), xk::Error);
}

}  // namespace
