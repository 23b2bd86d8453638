// xk_magnitudes: the GGUF weight quantizers over block magnitudes from the smallest float
// subnormal (2^-149 ~ 1.4e-45) to 3e38, against ggml (README "Contracts", NaN policy).
//
//  - Where ggml's result is defined, the bytes are ggml's: the table below was printed by
//    tests/badinput/magnitudes_golden.py with gguf-py 0.19.0 (ggml's NumPy port of
//    ggml-quants.c). It includes FP16-subnormal scales and scales that round to FP16 zero.
//  - Where ggml converts inf/NaN to int8 (Q4_0/Q8_0 blocks whose 1/d overflows), the block is
//    ggml's all-zero block; built with UBSan's float-cast-overflow check, this program proves
//    no such conversion is left.
//  - Where ggml's FP16 scale overflows to inf, quantize_row raises xk::Error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "badinput_common.h"
#include "xk/formats.h"

namespace xk {
namespace {

constexpr int kBlock = 32;  // elements per block in all three formats tested here

// The generator's block: x[j] = m * (k/16 - 1), k = (13 j + 5) mod 33, one FP32 rounding.
// Its largest magnitudes are -m (j = 25, first) and +m (j = 30).
std::vector<float> block(float m) {
  std::vector<float> x(kBlock);
  for (int j = 0; j < kBlock; ++j) x[j] = m * (static_cast<float>((13 * j + 5) % 33) / 16.0f - 1.0f);
  return x;
}

std::string hex(const std::vector<uint8_t>& b) {
  std::string s;
  char buf[3];
  for (uint8_t v : b) {
    std::snprintf(buf, sizeof buf, "%02x", v);
    s += buf;
  }
  return s;
}

std::vector<uint8_t> quantize_block(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> out(row_bytes(t, kBlock));
  quantize_row(t, x.data(), out.data(), kBlock);
  return out;
}

struct Golden {
  DType format;
  float magnitude;
  const char* bytes;  // the GGUF block, hex
};

// clang-format off
const Golden kGolden[] = {
    {DType::Q8_0, 0x1p-149f, "00000000000000000000000000000000000000000000000000000000000000000000"},
    {DType::Q8_0, 0x1p-120f, "0000a91077d840a1086fd038990067c83091f85fc02889f057b92081e84fb1187fe0"},
    {DType::Q8_0, 0x1.4p-100f, "0000a91077d840a1086fd038990067c83091f85fc02889f057b92081e84fb1187fe0"},
    {DType::Q8_0, 0x1p-30f, "0000a91077d840a1086fd038990067c83091f85fc02889f057b92081e84fb1187fe0"},
    {DType::Q8_0, 0x1.2p-18f, "0100a91077d840a1086fd038990067c83091f85fc02889f057b92081e84fb1187fe0"},
    {DType::Q8_0, 0x1p-10f, "8100a91077d840a1086fd038990067c83091f85fc02889f057b92081e84fb1187fe0"},
    {DType::Q8_0, 0x1p+0f, "0820a91077d840a1086fd038990067c83091f85fc02889f057b92081e84fb1187fe0"},
    {DType::Q8_0, 0x1.8p+12f, "0c52a91077d840a1086fd038990067c83091f85fc02889f057b92081e84fb1187fe0"},
    {DType::Q8_0, 0x1.fbp+22f, "fc7ba91077d840a1086fd038990067c83091f85fc02889f057b92081e84fb1187fe0"},
    {DType::Q4_0, 0x1p-149f, "000088888888888888888888888888888888"},
    {DType::Q4_0, 0x1p-124f, "000083e94fb61c72e94fa50c72d83fa5fb61"},
    {DType::Q4_0, 0x1.4p-100f, "000083e94fb61c72e94fa50c72d83fa5fb61"},
    {DType::Q4_0, 0x1p-30f, "000083e94fb61c72e94fa50c72d83fa5fb61"},
    {DType::Q4_0, 0x1.2p-18f, "090083e94fb61c72e94fa50c72d83fa5fb61"},
    {DType::Q4_0, 0x1p-10f, "000883e94fb61c72e94fa50c72d83fa5fb61"},
    {DType::Q4_0, 0x1p+0f, "003083e94fb61c72e94fa50c72d83fa5fb61"},
    {DType::Q4_0, 0x1.8p+12f, "006283e94fb61c72e94fa50c72d83fa5fb61"},
    {DType::Q4_0, 0x1.fep+18f, "f87b82e94fb60c72e93fa50c71d83fa5fb61"},
    {DType::MXFP4, 0x1p-120f, "050d51c62ae49d50c52be39d40c51b63ad"},
    {DType::MXFP4, 0x1.4p-100f, "199d61c63be49e51d62ce4ae50d62c64ae"},
    {DType::MXFP4, 0x1p-30f, "5f0d51c62ae49d50c52be39d40c51b63ad"},
    {DType::MXFP4, 0x1.2p-18f, "6b9d51c63be49d51d62be4ae50d62c63ae"},
    {DType::MXFP4, 0x1p-10f, "730d51c62ae49d50c52be39d40c51b63ad"},
    {DType::MXFP4, 0x1p+0f, "7d0d51c62ae49d50c52be39d40c51b63ad"},
    {DType::MXFP4, 0x1.8p+12f, "899e61d74cf59e61d73cf5ae60e62d74bf"},
    {DType::MXFP4, 0x1.fbp+22f, "939f72e74cf6af71e74df5bf60e73d75cf"},
    {DType::MXFP4, 0x1p+100f, "e10d51c62ae49d50c52be39d40c51b63ad"},
    {DType::MXFP4, 0x1.c3p+127f, "fc9e72e74cf6af61e74df5bf60e73d75cf"},
};
// clang-format on

TEST(QuantizeMagnitudes, BlocksFrom1e45To3e38AreGgmlsBytesWhereGgmlIsDefined) {
  for (const Golden& g : kGolden) {
    EXPECT_EQ(hex(quantize_block(g.format, block(g.magnitude))), g.bytes)
        << name(g.format) << " block of magnitude " << g.magnitude;
  }
}

// Q8_0: d = amax/127 below 1/FLT_MAX (amax < ~3.7e-37); Q4_0: |max|/8 below it (< ~2.4e-38).
// ggml's 1/d is inf there and x * inf (0 * inf = NaN for zeros) is converted to int8.
TEST(QuantizeMagnitudes, BlocksWhoseReciprocalScaleOverflowsAreGgmlsAllZeroBlock) {
  const struct {
    DType format;
    float magnitude;
  } cases[] = {{DType::Q8_0, 0x1p-140f}, {DType::Q8_0, 0x1.8p-130f}, {DType::Q8_0, 0x1p-126f},
               {DType::Q8_0, 0x1p-122f}, {DType::Q4_0, 0x1p-146f},   {DType::Q4_0, 0x1.8p-130f},
               {DType::Q4_0, 0x1p-126f}};
  // FP16 d = +-0 (the sign of the extreme value's quotient), every code the value 0.
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(name(c.format)) + " block of magnitude " + std::to_string(c.magnitude));
    const std::vector<uint8_t> q = quantize_block(c.format, block(c.magnitude));
    EXPECT_EQ(q[0], 0) << "FP16 d is not +-0";
    EXPECT_EQ(q[1] & 0x7F, 0) << "FP16 d is not +-0";
    const std::string zero_code = c.format == DType::Q8_0 ? "00" : "88";  // Q4_0 code 8 is the value 0
    std::string want;
    for (size_t i = 2; i < q.size(); ++i) want += zero_code;
    EXPECT_EQ(hex(q).substr(4), want);
    std::vector<float> y(kBlock);
    dequantize_row(c.format, q.data(), y.data(), kBlock);
    for (int j = 0; j < kBlock; ++j) EXPECT_EQ(y[j], 0.0f) << "element " << j;
  }
}

// ggml stores an infinite FP16 d and the block reads back as inf and NaN (0 * inf); a
// finite weight must not turn non-finite, so the block is refused, named, with its limit.
TEST(QuantizeMagnitudes, BlocksWhoseScaleOverflowsFp16AreAnErrorNamingTheBlock) {
  const struct {
    DType format;
    float magnitude;
  } cases[] = {{DType::Q8_0, 0x1p+23f},    {DType::Q8_0, 0x1p+100f}, {DType::Q8_0, 0x1.c3p+127f},
               {DType::Q4_0, 0x1.01p+19f}, {DType::Q4_0, 0x1p+100f}, {DType::Q4_0, 0x1.c3p+127f}};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(name(c.format)) + " block of magnitude " + std::to_string(c.magnitude));
    std::vector<float> x = block(1.0f);
    const std::vector<float> huge = block(c.magnitude);
    x.insert(x.end(), huge.begin(), huge.end());
    std::vector<uint8_t> out(row_bytes(c.format, 2 * kBlock));
    EXPECT_XK_ERROR(quantize_row(c.format, x.data(), out.data(), 2 * kBlock), "quantize_row", "x",
                    "block 1 (elements 32..63)");
    EXPECT_XK_ERROR(quantize_row(c.format, x.data(), out.data(), 2 * kBlock), "quantize_row", "x",
                    "overflows FP16 (largest finite 65504)");
    EXPECT_XK_ERROR(quantize(c.format, x.data(), 1, 2 * kBlock), "quantize_row", "x", "overflows FP16");
  }
}

// Every GGUF format, whole-tensor quantize() of a row holding every magnitude it accepts:
// everything reads back finite, and the two largest blocks within a quarter of their magnitude
// (FP4's widest grid gap, 4 to 6, is a third of the block's largest value: half of it plus the
// scale's rounding stays below a quarter). Smaller blocks may read back as 0 where the scale
// underflows (NVFP4's UE4M3 scales span 2^-9..448 of the tensor scale).
TEST(QuantizeMagnitudes, EveryFormatReadsBackFiniteAcrossTheWholeRange) {
  const float mags[] = {0x1p-149f,   0x1p-146f, 0x1p-140f,  0x1.8p-130f, 0x1p-126f, 0x1p-122f,  0x1p-120f,
                        0x1.4p-100f, 0x1p-30f,  0x1.2p-18f, 0x1p-10f,    0x1p+0f,   0x1.8p+12f, 0x1.fep+18f};
  std::vector<float> x;
  for (float m : mags) {
    const std::vector<float> b = block(m);
    x.insert(x.end(), b.begin(), b.end());
  }
  const int64_t n = static_cast<int64_t>(x.size());
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::MXFP4, DType::NVFP4}) {
    SCOPED_TRACE(name(t));
    float tensor_scale = 1.0f;
    const std::vector<uint8_t> q = quantize(t, x.data(), 1, n, &tensor_scale);
    const std::vector<float> y = dequantize(t, q.data(), 1, n, tensor_scale);
    for (size_t b = 0; b < std::size(mags); ++b)
      for (int j = 0; j < kBlock; ++j) {
        const size_t i = b * kBlock + static_cast<size_t>(j);
        ASSERT_TRUE(std::isfinite(y[i])) << "block of magnitude " << mags[b] << ", element " << j;
        if (mags[b] >= 0x1p+12f) {
          EXPECT_LE(std::fabs(y[i] - x[i]), mags[b] / 4) << "block of magnitude " << mags[b] << ", element "
                                                         << j << ": " << x[i] << " read back as " << y[i];
        }
      }
  }
}

}  // namespace
}  // namespace xk
