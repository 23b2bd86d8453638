// xk_badinput_overflow: sizes that overflow 64-bit arithmetic, and shapes edited after
// creation, give an xk::Error naming the op and the argument on every device: never a
// wrapped size that allocates a too-small buffer, reads past one, or crashes.
//
//   XK_DEVICE=hip-sim xk_badinput_overflow
//
// Each case is one that once went wrong: make_tensor accepted {2^32, 2^32} f32 with a 0-byte
// buffer and {2^62+1} with 4 bytes; matmul with M = 2^62+1 segfaulted (cpu-ref, hip-sim) or
// "succeeded" on a 128-byte X (vulkan:0, cuda-sim); K = 2^62+1 threw std::length_error;
// causal attention with q_offset near INT64_MAX overflowed q_offset + S; download trusted an
// enlarged shape and read 16 KiB from a 64-byte buffer.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/core/checked.h"
#include "badinput_common.h"
#include "xk/xk.h"

namespace xk {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t k2to32 = int64_t{1} << 32;
constexpr int64_t k2to62plus1 = (int64_t{1} << 62) + 1;

class Overflow : public badinput::DeviceTest {
 protected:
  // A tensor whose public shape field says more than its buffer holds (the field is writable).
  Tensor lying(DType dtype, std::vector<int64_t> real_shape, std::vector<int64_t> claimed_shape) {
    Tensor r = t(dtype, std::move(real_shape));
    r.shape = std::move(claimed_shape);
    return r;
  }
};

// ---- make_tensor / upload -----------------------------------------------------------------

TEST_F(Overflow, MakeTensorRejectsElementCountsPast2To63) {
  EXPECT_XK_ERROR(t(DType::F32, {k2to32, k2to32}), "make_tensor", "shape", "more than 2^63-1 elements");
  EXPECT_XK_ERROR(t(DType::F16, {k2to32, k2to32, 2}), "make_tensor", "shape", "more than 2^63-1 elements");
}

TEST_F(Overflow, MakeTensorRejectsByteSizesPast2To63) {
  // 2^62+1 f32 = 2^64 + 4 bytes: wrapped, this was a 4-byte buffer.
  EXPECT_XK_ERROR(t(DType::F32, {k2to62plus1}), "make_tensor", "shape",
                  "needs more than 2^63-1 bytes in f32");
  // q8_0: 2^63-32 elements fit in int64, their (2^58-1) blocks of 34 bytes do not fit in 2^63-1.
  EXPECT_XK_ERROR(t(DType::Q8_0, {1, kInt64Max - 31}), "make_tensor", "shape",
                  "needs more than 2^63-1 bytes in q8_0");
}

TEST_F(Overflow, UploadRejectsOverflowingShapesBeforeReadingData) {
  const float one = 1.0f;
  EXPECT_XK_ERROR(upload(dev(), DType::F32, {k2to62plus1}, &one), "upload", "shape",
                  "needs more than 2^63-1 bytes");
  EXPECT_XK_ERROR(upload_weights(dev(), DType::Q4_0, k2to32, k2to32, &one), "upload", "shape",
                  "more than 2^63-1 elements");
}

// ---- matmul -------------------------------------------------------------------------------

TEST_F(Overflow, MatmulRejectsMWhoseByteSizeWraps) {
  // X claims M = 2^62+1 rows of 32 f32: (2^62+1) * 128 bytes wraps to exactly 128 in 64 bits.
  Tensor W = t(DType::Q4_0, {8, 32});
  Tensor X = lying(DType::F32, {1, 32}, {k2to62plus1, 32});
  Tensor Y = lying(DType::F32, {1, 8}, {k2to62plus1, 8});
  EXPECT_XK_ERROR(matmul(dev(), W, X, Y), "matmul", "X", "more than 2^63-1 elements");
  EXPECT_XK_ERROR(matmul(dev(), W, X), "make_tensor", "shape", "more than 2^63-1 elements");
}

TEST_F(Overflow, MatmulRejectsKWhoseByteSizeWraps) {
  // W [8, 2^62+1] f16 wraps to 16 bytes; this threw std::length_error from a kernel's scratch.
  Tensor W = lying(DType::F16, {8, 32}, {8, k2to62plus1});
  Tensor X = lying(DType::F32, {2, 32}, {2, k2to62plus1});
  Tensor Y = t(DType::F32, {2, 8});
  EXPECT_XK_ERROR(matmul(dev(), W, X, Y), "matmul", "W", "more than 2^63-1 elements");
}

TEST_F(Overflow, MatmulRejectsOutputShapeEnlargedPastItsBuffer) {
  Tensor W = t(DType::Q8_0, {8, 32});
  Tensor X = t(DType::F32, {2, 32});
  Tensor Y = t(DType::F32, {2, 8});
  Tensor Xbig = lying(DType::F32, {2, 32}, {64, 32});
  Tensor Ybig = lying(DType::F32, {2, 8}, {64, 8});
  EXPECT_XK_ERROR(matmul(dev(), W, Xbig, Ybig), "matmul", "X", "is smaller than the 8192 bytes");
  EXPECT_NO_THROW(matmul(dev(), W, X, Y));  // the honest shapes still run
}

// ---- attention ----------------------------------------------------------------------------

class OverflowAttention : public Overflow {
 protected:
  static constexpr int64_t S = 4, T = 8, D = 64;
  void SetUp() override {
    Overflow::SetUp();
    if (IsSkipped()) return;
    // f16 inputs: the format every device's attention variants take (cuda-sim has no f32 one).
    Q = t(DType::F16, {1, 1, S, D});
    K = t(DType::F16, {1, 1, T, D});
    V = t(DType::F16, {1, 1, T, D});
    O = t(DType::F32, {1, 1, S, D});
  }
  void run(int64_t q_offset) {
    AttentionOptions opt;
    opt.causal = true;
    opt.q_offset = q_offset;
    attention(dev(), Q, K, V, O, opt);
  }
  Tensor Q, K, V, O;
};

TEST_F(OverflowAttention, CausalQOffsetNearInt64MaxIsAnOverflowError) {
  // q_offset + S wrapped negative and passed "q_offset + S <= T": NaN, zeros or a segfault.
  EXPECT_XK_ERROR(run(kInt64Max), "attention", "q_offset", "q_offset + S");
  EXPECT_XK_ERROR(run(kInt64Max - S + 1), "attention", "q_offset", "overflows");
}

TEST_F(OverflowAttention, CausalQOffsetBoundaryIsExact) {
  EXPECT_XK_ERROR(run(T - S + 1), "attention", "q_offset", "needs T >= 9");
  EXPECT_NO_THROW(run(T - S));  // the last query sees exactly the T keys there are
}

TEST_F(OverflowAttention, RejectsKVShapeEnlargedPastItsBuffer) {
  Tensor Kbig = lying(DType::F16, {1, 1, T, D}, {1, 1, int64_t{1} << 40, D});
  Tensor Vbig = lying(DType::F16, {1, 1, T, D}, {1, 1, int64_t{1} << 40, D});
  EXPECT_XK_ERROR(attention(dev(), Q, Kbig, Vbig, O, {}), "attention", "K", "is smaller than");
}

// ---- download -----------------------------------------------------------------------------

TEST_F(Overflow, DownloadComparesTheShapeWithTheBuffer) {
  // 64 bytes of buffer, a shape claiming 16 KiB: the read would have gone 16 KiB past it.
  Tensor x = lying(DType::F32, {4, 4}, {64, 64});
  std::vector<float> host(64 * 64);
  EXPECT_XK_ERROR(download(x, host.data(), host.size() * sizeof(float)), "download", "tensor",
                  "needs 16384 bytes in f32, its buffer holds");
  EXPECT_XK_ERROR(download_f32(x), "download_f32", "tensor", "needs 16384 bytes in f32, its buffer holds");
}

TEST_F(Overflow, DownloadRejectsAShapeWhoseSizeOverflows) {
  Tensor x = lying(DType::F32, {4, 4}, {k2to32, k2to32});
  std::vector<float> host(16);
  EXPECT_XK_ERROR(download(x, host.data(), host.size() * sizeof(float)), "download", "tensor",
                  "more than 2^63-1 elements");
  EXPECT_XK_ERROR(download_f32(x), "download_f32", "tensor", "more than 2^63-1 elements");
}

TEST_F(Overflow, TensorSizeQueriesRefuseOverflowingShapes) {
  Tensor x = lying(DType::F32, {4, 4}, {k2to32, k2to32});
  EXPECT_XK_ERROR(x.numel(), "tensor", "shape", "more than 2^63-1 elements");
  EXPECT_XK_ERROR(x.bytes(), "tensor", "shape", "more than 2^63-1 elements");
}

// ---- the API boundary (device-independent) ------------------------------------------------

TEST(OverflowBoundary, StdExceptionsBecomeXkErrorsNamingTheOp) {
  auto through_boundary = [](auto thrower) {
    try {
      thrower();
    } catch (...) {
      checked::rethrow_as_error("matmul");
    }
  };
  try {
    through_boundary([] { throw std::length_error("vector::_M_default_append"); });
    ADD_FAILURE() << "nothing thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.op(), "matmul");
    EXPECT_NE(std::string(e.what()).find("internal error: vector::_M_default_append"), std::string::npos)
        << e.what();
  }
  try {
    through_boundary([] { throw std::bad_alloc(); });
    ADD_FAILURE() << "nothing thrown";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("out of host memory"), std::string::npos) << e.what();
  }
  try {
    through_boundary([] { throw Error("attention", "q_offset", "kept as it is"); });
    ADD_FAILURE() << "nothing thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.op(), "attention");  // an xk::Error passes unchanged
    EXPECT_EQ(e.arg(), "q_offset");
  }
}

TEST(OverflowBoundary, CheckedArithmeticStopsExactlyAtTheLimit) {
  EXPECT_EQ(checked::add(kInt64Max - 1, 1, "op", "a", "a + b"), kInt64Max);
  EXPECT_THROW(checked::add(kInt64Max, 1, "op", "a", "a + b"), Error);
  EXPECT_EQ(checked::mul(int64_t{1} << 31, int64_t{1} << 31, "op", "a", "a * b"), int64_t{1} << 62);
  EXPECT_THROW(checked::mul(int64_t{1} << 32, int64_t{1} << 31, "op", "a", "a * b"), Error);
  // f32 bytes: 2^61 - 1 elements fit in PTRDIFF_MAX bytes with room to spare, 2^61 do not.
  EXPECT_EQ(checked::tensor_bytes(DType::F32, {(int64_t{1} << 61) - 1}, "op", "a"),
            ((uint64_t{1} << 61) - 1) * 4);
  EXPECT_THROW(checked::tensor_bytes(DType::F32, {int64_t{1} << 61}, "op", "a"), Error);
  EXPECT_EQ(checked::tensor_bytes(DType::F32, {0, k2to62plus1}, "op", "a"),
            0u);  // empty is fine at any width
}

}  // namespace
}  // namespace xk

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (const int rc = xk::badinput::open_device_under_test(argc, argv, "xk_badinput")) return rc;
  const int rc = RUN_ALL_TESTS();
  xk::badinput::g_device.reset();
  return rc;
}
