// xk_badinput: every bad input gives an xk::Error that names the op and the argument.
// Never a crash, never a silent wrong answer.
//
//   xk_badinput --device vulkan:0        (or XK_DEVICE=vulkan:0 xk_badinput)
//
// Argument validation lives in one place (backends/core), but each device is tested
// because allocation, foreign buffers and forced variants go through the backend.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "backends/core/variant_row.h"
#include "backends/cpu/host_device.h"
#include "badinput_common.h"
#include "xk/xk.h"

namespace xk {
namespace {

using badinput::g_device;
using badinput::g_device_name;
using badinput::g_open_error;

class BadInput : public badinput::DeviceTest {
 protected:
  // A tensor whose buffer the caller sizes, to get past make_tensor's own checks.
  Tensor raw(DType dtype, std::vector<int64_t> shape, size_t buffer_bytes) {
    Tensor r{dtype, std::move(shape), {}, 1.0f, {}};
    r.buf = dev().alloc(buffer_bytes);
    return r;
  }
};

// ---- matmul -----------------------------------------------------------------------------

class Matmul : public BadInput {
 protected:
  static constexpr int64_t M = 2, N = 8, K = 64;
  void SetUp() override {
    BadInput::SetUp();
    if (IsSkipped()) return;
    W = t(DType::Q4_0, {N, K});
    X = t(DType::F32, {M, K});
    Y = t(DType::F32, {M, N});
  }
  Tensor W, X, Y;
};

TEST_F(Matmul, RejectsWeightsOfRank3) {
  Tensor W3 = t(DType::Q4_0, {2, N, K});
  EXPECT_XK_ERROR(matmul(dev(), W3, X, Y), "matmul", "W", "expected rank 2");
  EXPECT_XK_ERROR(matmul(dev(), W3, X), "matmul", "W", "expected rank 2");
}

TEST_F(Matmul, RejectsActivationsOfRank1) {
  Tensor X1 = t(DType::F32, {K});
  EXPECT_XK_ERROR(matmul(dev(), W, X1, Y), "matmul", "X", "expected rank 2");
}

TEST_F(Matmul, RejectsKMismatchBetweenXAndW) {
  Tensor X32 = t(DType::F32, {M, 32});
  EXPECT_XK_ERROR(matmul(dev(), W, X32, Y), "matmul", "X", "K mismatch");
}

TEST_F(Matmul, RejectsOutputOfWrongShape) {
  Tensor Y9 = t(DType::F32, {M, N + 1});
  EXPECT_XK_ERROR(matmul(dev(), W, X, Y9), "matmul", "Y", "expected shape [2, 8]");
}

TEST_F(Matmul, RejectsQuantizedActivations) {
  Tensor Xq = t(DType::Q8_0, {M, K});
  EXPECT_XK_ERROR(matmul(dev(), W, Xq, Y), "matmul", "X", "activations must be f32, f16 or bf16");
}

TEST_F(Matmul, RejectsNonF32Output) {
  Tensor Y16 = t(DType::F16, {M, N});
  EXPECT_XK_ERROR(matmul(dev(), W, X, Y16), "matmul", "Y", "output must be f32");
}

TEST_F(Matmul, RejectsKNotAMultipleOfTheBlockSize) {
  // make_tensor/upload refuse the shape themselves ...
  EXPECT_XK_ERROR(t(DType::Q4_0, {N, 48}), "make_tensor", "shape", "block size 32");
  std::vector<uint8_t> zeros(1024);
  EXPECT_XK_ERROR(upload_weights(dev(), DType::Q4_0, N, 48, zeros.data()), "upload", "shape",
                  "block size 32");
  EXPECT_XK_ERROR(upload_weights(dev(), DType::NVFP4, N, 96, zeros.data()), "upload", "shape",
                  "block size 64");
  // ... and a hand-built tensor that slipped past them is caught by the op.
  Tensor W48 = raw(DType::Q4_0, {N, 48}, 4096);
  Tensor X48 = t(DType::F32, {M, 48});
  EXPECT_XK_ERROR(matmul(dev(), W48, X48, Y), "matmul", "W", "not a multiple of the q4_0 block size 32");
}

TEST_F(Matmul, RejectsIntegerActivationsWhenKIsNotAMultipleOf32) {
  Tensor W48 = t(DType::F16, {N, 48});
  Tensor X48 = t(DType::F32, {M, 48});
  MatmulOptions opt;
  opt.act = ActPrecision::Q8;
  EXPECT_XK_ERROR(matmul(dev(), W48, X48, Y, opt), "matmul", "act", "not a multiple of 32");
}

TEST_F(Matmul, RejectsFp4ActivationsWithQ4_0Weights) {
  MatmulOptions opt;
  opt.act = ActPrecision::FP4;
  EXPECT_XK_ERROR(matmul(dev(), W, X, Y, opt), "matmul", "act", "fp4 activations need mxfp4 or nvfp4");
}

TEST_F(Matmul, RejectsUndersizedBuffers) {
  Tensor Xs = raw(DType::F32, {M, K}, M * K * sizeof(float) - 4);
  EXPECT_XK_ERROR(matmul(dev(), W, Xs, Y), "matmul", "X", "is smaller than");
  Tensor Ws = raw(DType::Q4_0, {N, K}, row_bytes(DType::Q4_0, K) * N - 1);
  EXPECT_XK_ERROR(matmul(dev(), Ws, X, Y), "matmul", "W", "is smaller than");
  Tensor Ys = raw(DType::F32, {M, N}, 0);
  EXPECT_XK_ERROR(matmul(dev(), W, X, Ys), "matmul", "Y", "is smaller than");
}

TEST_F(Matmul, RejectsTensorWithoutBuffer) {
  Tensor empty{DType::F32, {M, K}, {}, 1.0f, {}};
  EXPECT_XK_ERROR(matmul(dev(), W, empty, Y), "matmul", "X", "has no buffer");
}

TEST_F(Matmul, RejectsTensorFromAnotherDevice) {
  // A second instance of the same device is another device: its buffers are foreign here.
  std::unique_ptr<Device> other = open_device(g_device_name);
  Tensor foreign = make_tensor(*other, DType::Q4_0, {N, K});
  EXPECT_XK_ERROR(matmul(dev(), foreign, X, Y), "matmul", "W",
                  "buffer belongs to another Device object named " + g_device_name +
                      " (each open_device call opens a separate device");
  try {
    matmul(dev(), W, X, foreign);
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find(", not " + g_device_name), std::string::npos)
        << "refuses the device by its own name: " << e.what();
  }
}

TEST_F(Matmul, RejectsTensorScaleOnFormatsWithoutOne) {
  W.tensor_scale = 2.0f;
  EXPECT_XK_ERROR(matmul(dev(), W, X, Y), "matmul", "W", "tensor_scale is only meaningful for nvfp4");
  std::vector<uint8_t> zeros(row_bytes(DType::NVFP4, K) * N);
  EXPECT_XK_ERROR(upload_weights(dev(), DType::Q4_0, N, K, zeros.data(), 2.0f), "upload_weights",
                  "tensor_scale", "only NVFP4");
  EXPECT_XK_ERROR(upload_weights(dev(), DType::NVFP4, N, K, zeros.data(), 0.0f), "upload_weights",
                  "tensor_scale", "must be finite and > 0");
  EXPECT_XK_ERROR(upload_weights(dev(), DType::NVFP4, N, K, zeros.data(), std::nanf("")), "upload_weights",
                  "tensor_scale", "must be finite and > 0");
}

// NaN, inf, zero and negative per-tensor scales: refused at upload, and at matmul when the
// public field is changed afterwards (it would scale every output of W).
TEST_F(Matmul, RejectsNvfp4TensorScaleThatIsNotFiniteAndPositiveAtUploadAndAtMatmul) {
  constexpr int64_t N4 = 8, K4 = 64;
  const std::vector<uint8_t> w(row_bytes(DType::NVFP4, K4) * N4, 0x22);
  const std::vector<float> x(M * K4, 1.0f);
  Tensor X4 = upload(dev(), DType::F32, {M, K4}, x.data());
  Tensor W4 = upload_weights(dev(), DType::NVFP4, N4, K4, w.data(), 0.5f);
  try {  // a valid scale runs, or the device has no nvfp4 variant: the format error
    matmul(dev(), W4, X4);
  } catch (const Error& e) {
    EXPECT_EQ(e.arg(), "W") << e.what();
    EXPECT_NE(std::string(e.what()).find("supports format nvfp4"), std::string::npos) << e.what();
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (float bad :
       {std::nanf(""), inf, -inf, 0.0f, -0.0f, -1.0f, -std::numeric_limits<float>::denorm_min()}) {
    SCOPED_TRACE("tensor_scale " + std::to_string(bad));
    EXPECT_XK_ERROR(upload_weights(dev(), DType::NVFP4, N4, K4, w.data(), bad), "upload_weights",
                    "tensor_scale", "must be finite and > 0, got");
    W4.tensor_scale = bad;
    EXPECT_XK_ERROR(matmul(dev(), W4, X4), "matmul", "W", "tensor_scale must be finite and > 0, got");
  }
}

TEST_F(Matmul, RejectsUnknownForcedVariant) {
  MatmulOptions opt;
  opt.variant = "mm_q4_0_q8_no_such_kernel";
  EXPECT_XK_ERROR(matmul(dev(), W, X, Y, opt), "matmul", "variant",
                  "unknown variant 'mm_q4_0_q8_no_such_kernel'");
}

// On the device under test: a real variant forced onto a format it does not handle.
TEST_F(Matmul, RejectsForcedVariantThatCannotRunTheFormat) {
  for (const Variant& v : dev().variants()) {
    if (v.op != Op::Matmul) continue;
    for (DType f : kAllDTypes) {
      if (v.handles(f)) continue;
      Tensor Wf = t(f, {N, K});
      MatmulOptions opt;
      opt.variant = v.name;
      EXPECT_XK_ERROR(matmul(dev(), Wf, X, Y, opt), "matmul", "variant",
                      "variant '" + v.name + "' cannot run");
      return;
    }
  }
  GTEST_SKIP()
      << "every matmul variant on " << g_device_name
      << " handles every format (RefusingDevice.ForcedVariantThatCannotRunIsAnError covers the dispatch)";
}

// ---- attention --------------------------------------------------------------------------

class Attention : public BadInput {
 protected:
  static constexpr int64_t B = 1, Hq = 4, Hkv = 2, S = 4, T = 8, D = 64;
  void SetUp() override {
    BadInput::SetUp();
    if (IsSkipped()) return;
    Q = t(DType::F32, {B, Hq, S, D});
    K = t(DType::F16, {B, Hkv, T, D});
    V = t(DType::F16, {B, Hkv, T, D});
    O = t(DType::F32, {B, Hq, S, D});
  }
  Tensor Q, K, V, O;
};

TEST_F(Attention, RejectsQueryHeadsNotAMultipleOfKvHeads) {
  Tensor Q3 = t(DType::F32, {B, 3, S, D}), O3 = t(DType::F32, {B, 3, S, D});
  EXPECT_XK_ERROR(attention(dev(), Q3, K, V, O3), "attention", "K",
                  "query heads 3 must be a multiple of KV heads 2");
}

TEST_F(Attention, RejectsCausalWindowPastTheLastKey) {
  AttentionOptions opt;
  opt.causal = true;
  opt.q_offset = 5;  // queries at 5..8, but keys only at 0..7
  EXPECT_XK_ERROR(attention(dev(), Q, K, V, O, opt), "attention", "q_offset", "needs T >= 9");
  opt.q_offset = -1;
  EXPECT_XK_ERROR(attention(dev(), Q, K, V, O, opt), "attention", "q_offset", "must be >= 0");
}

TEST_F(Attention, RejectsBadScale) {
  for (float s : {-1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    AttentionOptions opt;
    opt.scale = s;
    EXPECT_XK_ERROR(attention(dev(), Q, K, V, O, opt), "attention", "scale", "must be finite and > 0");
  }
}

TEST_F(Attention, RejectsValueDtypeDifferentFromKeys) {
  Tensor V32 = t(DType::F32, {B, Hkv, T, D});
  EXPECT_XK_ERROR(attention(dev(), Q, K, V32, O), "attention", "V", "differs from K's f16");
}

TEST_F(Attention, RejectsUnsupportedDtypes) {
  Tensor Qb = t(DType::BF16, {B, Hq, S, D});
  EXPECT_XK_ERROR(attention(dev(), Qb, K, V, O), "attention", "Q", "must be f32 or f16");
  Tensor Kq = t(DType::Q8_0, {B, Hkv, T, D}), Vq = t(DType::Q8_0, {B, Hkv, T, D});
  EXPECT_XK_ERROR(attention(dev(), Q, Kq, Vq, O), "attention", "K", "must be f16 or f32");
  Tensor O16 = t(DType::F16, {B, Hq, S, D});
  EXPECT_XK_ERROR(attention(dev(), Q, K, V, O16), "attention", "O", "must be f32");
}

TEST_F(Attention, RejectsShapeMismatches) {
  Tensor Q3 = t(DType::F32, {Hq, S, D});
  EXPECT_XK_ERROR(attention(dev(), Q3, K, V), "attention", "Q", "expected rank 4");
  Tensor K128 = t(DType::F16, {B, Hkv, T, 128}), V128 = t(DType::F16, {B, Hkv, T, 128});
  EXPECT_XK_ERROR(attention(dev(), Q, K128, V128, O), "attention", "K", "head dim differs");
  Tensor Vshort = t(DType::F16, {B, Hkv, T - 1, D});
  EXPECT_XK_ERROR(attention(dev(), Q, K, Vshort, O), "attention", "V", "differs from K's");
  Tensor Owrong = t(DType::F32, {B, Hq, S + 1, D});
  EXPECT_XK_ERROR(attention(dev(), Q, K, V, Owrong), "attention", "O", "differs from Q's");
  Tensor K0 = t(DType::F16, {B, Hkv, 0, D}), V0 = t(DType::F16, {B, Hkv, 0, D});
  EXPECT_XK_ERROR(attention(dev(), Q, K0, V0, O), "attention", "K", "no keys");
}

TEST_F(Attention, RejectsUndersizedAndForeignBuffers) {
  Tensor Ks = raw(DType::F16, {B, Hkv, T, D}, B * Hkv * T * D * 2 - 2);
  EXPECT_XK_ERROR(attention(dev(), Q, Ks, V, O), "attention", "K", "is smaller than");
  std::unique_ptr<Device> other = open_device(g_device_name);
  Tensor Vforeign = make_tensor(*other, DType::F16, {B, Hkv, T, D});
  EXPECT_XK_ERROR(attention(dev(), Q, K, Vforeign, O), "attention", "V",
                  "buffer belongs to another Device object named " + g_device_name);
}

TEST_F(Attention, RejectsUnknownForcedVariant) {
  AttentionOptions opt;
  opt.variant = "attn_no_such_kernel";
  EXPECT_XK_ERROR(attention(dev(), Q, K, V, O, opt), "attention", "variant",
                  "unknown variant 'attn_no_such_kernel'");
}

// ---- memory and host helpers ------------------------------------------------------------

TEST_F(BadInput, AllocOfAHugeSizeIsOutOfMemory) {
  EXPECT_XK_ERROR(dev().alloc(size_t{1} << 62), "alloc", "bytes", "out of");
  EXPECT_XK_ERROR(make_tensor(dev(), DType::F32, {int64_t{1} << 30, int64_t{1} << 30}), "alloc", "bytes",
                  "out of");
}

TEST_F(BadInput, MakeTensorRejectsNegativeAndEmptyShapes) {
  EXPECT_XK_ERROR(make_tensor(dev(), DType::F32, {-1, 4}), "make_tensor", "shape", "negative dimension");
  EXPECT_XK_ERROR(make_tensor(dev(), DType::F32, {}), "make_tensor", "shape", "at least one dimension");
}

TEST_F(BadInput, UploadAndDownloadRejectBadHostBuffers) {
  EXPECT_XK_ERROR(upload(dev(), DType::F32, {4, 4}, nullptr), "upload", "data", "null pointer");
  Tensor x = make_tensor(dev(), DType::F32, {4, 4});
  std::vector<float> small(15);
  EXPECT_XK_ERROR(download(x, small.data(), small.size() * sizeof(float)), "download", "dst_bytes",
                  "is smaller than");
  Tensor h = make_tensor(dev(), DType::F16, {4, 4});
  EXPECT_XK_ERROR(download_f32(h), "download_f32", "tensor", "expected f32");
}

// ---- device-independent: registry and names ---------------------------------------------

TEST(Registry, OpenDeviceRejectsUnknownName) {
  EXPECT_XK_ERROR(open_device("nope"), "open_device", "name", "unknown device 'nope'");
  EXPECT_XK_ERROR(open_device(""), "open_device", "name", "unknown device ''");
}

TEST(Registry, OpenDeviceRejectsAbsentVulkanIndex) {
  EXPECT_XK_ERROR(open_device("vulkan:7"), "open_device", "name", "'vulkan:7' is unavailable");
}

TEST(Registry, OpenDeviceRejectsCudaWithoutBuildOrDriver) {
  for (const DeviceEntry& e : list_devices())
    if (e.name == "cuda:0" && e.available)
      GTEST_SKIP() << "cuda:0 is present on this machine: " << e.description;
  EXPECT_XK_ERROR(open_device("cuda:0"), "open_device", "name", "'cuda:0' is unavailable");
}

TEST(Names, ParseDtypeRejectsUnknownFormat) {
  EXPECT_XK_ERROR(parse_dtype("q5_k"), "dtype", "name", "unknown format 'q5_k'");
  EXPECT_XK_ERROR(parse_dtype("Q4_0"), "dtype", "name", "unknown format 'Q4_0'");  // names are lower-case
}

TEST(Names, ParseActRejectsUnknownPrecision) {
  EXPECT_XK_ERROR(parse_act("int3"), "act", "name", "unknown activation precision 'int3'");
}

// A host device whose only matmul variant refuses row counts that miss its 8-row tile:
// proves the dispatch turns a supports() refusal into an error for forced and automatic
// selection alike, independent of which real backends exist.
class RefusingDevice : public host::HostDevice {
 public:
  RefusingDevice() : HostDevice(make_info()) {
    Variant v;
    v.name = "mm_q4_0_f32_8x1_refusestails_test";
    v.op = Op::Matmul;
    v.formats = {DType::Q4_0};
    v.acts = {ActPrecision::F32};
    v.min_arch = "any";
    v.ops = std::make_shared<const VariantOps>(VariantOps{
        .supports_matmul =
            [](const MatmulArgs& a, const DeviceInfo&) {
              return a.M() % 8 ? "M=" + std::to_string(a.M()) + " is not a multiple of the 8-row tile"
                               : std::string();
            },
        .run_matmul = [](Device&, const MatmulArgs&,
                         LaunchRecord&) { ADD_FAILURE() << "a refused variant ran"; }});
    DeviceAccess::variants(*this).push_back(std::move(v));
  }

 private:
  static DeviceInfo make_info() {
    DeviceInfo i;
    i.name = "test-refusing";
    i.api = "test";
    i.memory_bytes = 1 << 20;
    return i;
  }
};

TEST(RefusingDevice, ForcedVariantThatCannotRunIsAnError) {
  RefusingDevice dev;
  Tensor W = make_tensor(dev, DType::Q4_0, {8, 64}), X = make_tensor(dev, DType::F32, {7, 64});
  Tensor Y = make_tensor(dev, DType::F32, {7, 8});
  MatmulOptions opt;
  opt.variant = "mm_q4_0_f32_8x1_refusestails_test";
  EXPECT_XK_ERROR(matmul(dev, W, X, Y, opt), "matmul", "variant", "M=7 is not a multiple of the 8-row tile");
  opt.variant.clear();
  EXPECT_XK_ERROR(matmul(dev, W, X, Y, opt), "matmul", "W",
                  "no matmul variant on test-refusing supports format q4_0");
  opt.act = ActPrecision::F16;
  opt.variant = "mm_q4_0_f32_8x1_refusestails_test";
  EXPECT_XK_ERROR(matmul(dev, W, X, Y, opt), "matmul", "variant", "activation precision f16 not handled");
  Tensor Wq8 = make_tensor(dev, DType::Q8_0, {8, 64});
  opt.act = ActPrecision::Auto;
  EXPECT_XK_ERROR(matmul(dev, Wq8, X, Y, opt), "matmul", "variant", "format q8_0 not handled");
  Tensor Q = make_tensor(dev, DType::F32, {1, 1, 1, 64}), K = make_tensor(dev, DType::F32, {1, 1, 1, 64});
  Tensor V = make_tensor(dev, DType::F32, {1, 1, 1, 64});
  EXPECT_XK_ERROR(attention(dev, Q, K, V), "attention", "K", "(the backend has none)");
}

// A tensor of a device with another name: the message names both.
TEST(RefusingDevice, TensorOfAnotherDeviceNamesBothDevices) {
  if (!g_device) GTEST_SKIP() << g_open_error;
  RefusingDevice other;
  Tensor W = make_tensor(other, DType::Q4_0, {8, 64});
  Tensor X = make_tensor(*g_device, DType::F32, {2, 64});
  EXPECT_XK_ERROR(matmul(*g_device, W, X), "matmul", "W",
                  "buffer belongs to device test-refusing, not " + g_device_name);
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
