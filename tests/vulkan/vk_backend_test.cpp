// Vulkan-backend tests on whatever Vulkan device is vulkan:0 (lavapipe in CI): device
// discovery and features, buffers (unified and staging paths), every matmul and attention
// variant against the oracle on ragged shapes, device timers, validation-message handling,
// and bad input (no loader, no driver, missing feature, out of memory). The environment
// variants of this program are registered in CMakeLists.txt with the env they need.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/vulkan/vk_device.h"
#include "kernels/ref/ref.h"
#include "tests/common/test_util.h"
#include "xk/xk.h"

namespace {

using xk::ActPrecision;
using xk::DType;

std::unique_ptr<xk::Device> open_vulkan() {
  try {
    return xk::open_device("vulkan:0");
  } catch (const xk::Error& e) {
    ADD_FAILURE() << "vulkan:0 must be available for this test program: " << e.what();
    return nullptr;
  }
}

using xk::test::randn;
using xk::test::store;

// ------------------------------------------------------------------ device and buffers

TEST(VulkanDevice, ReportsLavapipeFeaturesAndMemory) {
  auto dev = open_vulkan();
  if (!dev) return;
  const xk::DeviceInfo& i = dev->info();
  EXPECT_EQ(i.name, "vulkan:0");
  EXPECT_EQ(i.api, "vulkan");
  EXPECT_FALSE(i.arch.empty());
  EXPECT_GT(i.memory_bytes, 0u);
  EXPECT_GE(i.subgroup_size, 1);
  EXPECT_TRUE(i.has("timestamps")) << "every Vulkan compute queue here has timestamps";
  if (i.arch == "llvmpipe") {  // Mesa lavapipe 22.3 facts (vulkaninfo)
    EXPECT_TRUE(i.unified_memory);
    EXPECT_EQ(i.subgroup_size, 8);
    for (const char* f : {"fp16", "int8", "storage8", "storage16", "subgroup_arith", "int_dot", "shared_32k"})
      EXPECT_TRUE(i.has(f)) << "llvmpipe should report " << f;
    EXPECT_FALSE(i.has("int_dot_accel"));
  }
  bool listed = false;
  for (const auto& e : xk::list_devices())
    if (e.name == "vulkan:0") listed = e.available;
  EXPECT_TRUE(listed) << "list_devices() must show vulkan:0 as available";
}

TEST(VulkanDevice, VariantTableHasStableNamesForEveryFormat) {
  auto dev = open_vulkan();
  if (!dev) return;
  std::vector<std::string> names;
  for (const auto& v : dev->variants()) names.push_back(v.name);
  for (const char* want :
       {"mm_q4_0_f32_64x64_simt_vk", "mm_q4_0_q8_64x64_i8_vk", "mm_nvfp4_f16_64x64_simt_vk",
        "mv_mxfp4_q8_8x8_subgroup_vk", "mv_q8_0_f32_8x8_subgroup_vk", "attn_f16_f32_16x32_fa2_vk",
        "attn_f16_f32_16x32_splitk_vk", "attn_f32_f32_16x32_fa2_vk"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want << " missing";
}

TEST(VulkanBuffers, RoundTripWithOffsetsAndZeroSize) {
  auto dev = open_vulkan();
  if (!dev) return;
  std::vector<uint8_t> src(1000);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 7 + 3);
  xk::Buffer b = dev->alloc(src.size());
  EXPECT_EQ(b.size(), src.size());
  dev->write(b, 0, src.data(), src.size());
  dev->write(b, 100, src.data(), 17);
  std::vector<uint8_t> back(src.size());
  dev->read(b, 0, back.data(), back.size());
  for (size_t i = 0; i < src.size(); ++i) {
    const uint8_t want = i >= 100 && i < 117 ? src[i - 100] : src[i];
    ASSERT_EQ(back[i], want) << "byte " << i;
  }
  std::vector<uint8_t> tail(9);
  dev->read(b, 991, tail.data(), 9);
  EXPECT_EQ(0, std::memcmp(tail.data(), src.data() + 991, 9));
  xk::Buffer empty = dev->alloc(0);
  EXPECT_TRUE(empty.valid());
  EXPECT_EQ(empty.size(), 0u);
  dev->synchronize();
}

TEST(VulkanBuffers, OutOfDeviceMemoryIsAnAllocError) {
  auto dev = open_vulkan();
  if (!dev) return;
  try {
    dev->alloc(size_t{1} << 44);  // 16 TiB
    FAIL() << "a 16 TiB allocation must fail";
  } catch (const xk::Error& e) {
    EXPECT_EQ(e.op(), "alloc");
    EXPECT_EQ(e.arg(), "bytes");
    EXPECT_NE(std::string(e.what()).find("out of device memory"), std::string::npos) << e.what();
  }
  // The device still works after the failure.
  xk::Buffer b = dev->alloc(64);
  EXPECT_EQ(b.size(), 64u);
}

// ------------------------------------------------------------------ matmul variants

struct MmShape {
  int64_t M, N, K;
};

// Runs `variant` on Y = X W^T and compares with the oracle at the variant's precision.
void check_matmul_variant(xk::Device& dev, const xk::Variant& v, DType w, DType xdt, MmShape s,
                          uint32_t seed) {
  const ActPrecision act = v.acts.front();
  const auto run =
      xk::test::run_matmul(dev, v.name, w, ActPrecision::Auto, randn(static_cast<size_t>(s.N * s.K), seed),
                           randn(static_cast<size_t>(s.M * s.K), seed + 1), s.M, s.N, s.K, xdt);
  EXPECT_EQ(dev.last_launch().variant, v.name);
  std::vector<float> ref(static_cast<size_t>(s.M * s.N));
  xk::ref::matmul({w, run.w_bytes.data(), run.tensor_scale, xdt, run.x_stored.bytes.data(), ref.data(), s.M,
                   s.N, s.K, act});
  // F32/F16: exact products, FP32 accumulation vs the oracle's FP64: relative error ~1e-7
  // per output (NMSE ~1e-13); 1e-9 catches any wrong element or scale.
  // Q8: integer dot products are exact, but the on-device x * (1/d) may resolve a rounding
  // tie differently from the host (Vulkan's division is 2.5 ulp, SPIR-V precision rules):
  // one flip at K = 64..320 costs NMSE ~ (1/127)^2 / K ~ 1e-7, so allow a few.
  const double max_nmse = act == ActPrecision::Q8 ? 1e-6 : 1e-9;
  xk::test::expect_close(dev.info().name,
                         "variant " + v.name + " x " + xk::name(xdt) + " shape M=" + std::to_string(s.M) +
                             " N=" + std::to_string(s.N) + " K=" + std::to_string(s.K),
                         run.y, ref, max_nmse, {s.M, s.N});
}

// A variant the device cannot run (lavapipe has no cooperative matrix) is refused by
// selection with an xk::Error naming the reason, printed as a skip.
void expect_refused_with_reason(xk::Device& dev, const xk::Variant& v, const std::string& reason) {
  const DType w = v.formats.front();
  const std::vector<float> wf = randn(64 * 64, 5);
  const std::vector<uint8_t> wq = xk::quantize(w, wf.data(), 64, 64, nullptr);
  xk::Tensor W = xk::upload_weights(dev, w, 64, 64, wq.data());
  xk::Tensor X = xk::make_tensor(dev, DType::F32, {33, 64});
  xk::MatmulOptions opt;
  opt.variant = v.name;
  try {
    xk::matmul(dev, W, X, opt);
    ADD_FAILURE() << v.name << " ran on " << dev.info().name << ", which does not report " << reason;
  } catch (const xk::Error& e) {
    EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    std::printf("[ SKIPPED  ] %s on %s: %s\n", v.name.c_str(), dev.info().name.c_str(), e.what());
  }
}

TEST(VulkanMatmul, EveryVariantMatchesOracleOnRaggedShapes) {
  auto dev = open_vulkan();
  if (!dev) return;
  // Ragged against the 64x64 / 32x32 GEMM tiles and the 8-row and 4-row GEMVs; K spans 1, 3 and 5 groups
  // of 64.
  const MmShape shapes[] = {{1, 67, 64}, {7, 33, 192}, {8, 5, 64}, {33, 70, 128}, {70, 129, 320}};
  int ran = 0;
  const auto& features = dev->info().features;
  const bool coopmat = std::find(features.begin(), features.end(), "coopmat") != features.end();
  for (const auto& v : dev->variants()) {
    if (v.op != xk::Op::Matmul) continue;
    if (v.technique == "coopmat" && !coopmat) {
      expect_refused_with_reason(*dev, v, "device lacks VK_KHR_cooperative_matrix");
      continue;
    }
    for (DType w : v.formats)
      for (const MmShape& s : shapes) {
        if (v.family == "mv" && s.M > v.tile.m) continue;  // GEMVs take M <= their tile's rows
        // Alternate F32/F16 activations; the direct (CPU-shaped) kernels read F32 only.
        const bool f32_only =
            v.name.find("_direct_") != std::string::npos && v.acts.front() != ActPrecision::Q8;
        const DType xdt = (ran % 2) && !f32_only ? DType::F16 : DType::F32;
        SCOPED_TRACE(v.name);
        check_matmul_variant(*dev, v, w, xdt, s, static_cast<uint32_t>(ran * 7 + 1));
        ++ran;
      }
  }
  EXPECT_GE(ran, 24 * 3);
}

TEST(VulkanMatmul, ZeroSizeAndKZero) {
  auto dev = open_vulkan();
  if (!dev) return;
  std::vector<uint8_t> none;
  xk::Tensor W = xk::upload_weights(*dev, DType::Q4_0, 5, 0, none.data());
  xk::Tensor X = xk::make_tensor(*dev, DType::F32, {3, 0});
  xk::Tensor Y = xk::matmul(*dev, W, X);
  for (float y : xk::download_f32(Y)) EXPECT_EQ(y, 0.0f) << "K = 0 must give zeros";
  xk::Tensor X0 = xk::make_tensor(*dev, DType::F32, {0, 0});
  xk::Tensor Y0 = xk::matmul(*dev, W, X0);
  EXPECT_EQ(Y0.numel(), 0);
}

TEST(VulkanMatmul, AutoSelectionPrefersGemvForSmallM) {
  auto dev = open_vulkan();
  if (!dev) return;
  const std::vector<float> wf = randn(64 * 128, 3);
  const auto wq = xk::quantize(DType::Q4_0, wf.data(), 64, 128);
  xk::Tensor W = xk::upload_weights(*dev, DType::Q4_0, 64, 128, wq.data());
  for (int64_t M : {1, 8, 9}) {
    xk::Tensor X = xk::upload(*dev, DType::F32, {M, 128}, randn(static_cast<size_t>(M * 128), 4).data());
    xk::matmul(*dev, W, X);
    const std::string v = dev->last_launch().variant;
    EXPECT_EQ(v.rfind(M <= 8 ? "mv_" : "mm_", 0), 0u) << "M=" << M << " chose " << v;
  }
}

TEST(VulkanMatmul, DeviceTimerReportsPositiveSeconds) {
  auto dev = open_vulkan();
  if (!dev) return;
  const auto wq = xk::quantize(DType::Q8_0, randn(128 * 256, 5).data(), 128, 256);
  xk::Tensor W = xk::upload_weights(*dev, DType::Q8_0, 128, 256, wq.data());
  xk::Tensor X = xk::upload(*dev, DType::F32, {64, 256}, randn(64 * 256, 6).data());
  dev->set_timing(true);
  xk::matmul(*dev, W, X);
  EXPECT_GT(dev->last_launch().device_seconds, 0.0);
  EXPECT_LT(dev->last_launch().device_seconds, 60.0);
  dev->set_timing(false);
  xk::matmul(*dev, W, X);
  EXPECT_LT(dev->last_launch().device_seconds, 0.0) << "timing off: no device time";
}

// ------------------------------------------------------------------ attention variants

struct AttnShape {
  int64_t B, Hq, Hkv, S, T, D;
  bool causal;
  int64_t q_offset;
};

void check_attention_variant(xk::Device& dev, const xk::Variant& v, DType qdt, const AttnShape& s,
                             uint32_t seed) {
  const DType kv = v.formats.front();
  const size_t nq = static_cast<size_t>(s.B * s.Hq * s.S * s.D),
               nk = static_cast<size_t>(s.B * s.Hkv * s.T * s.D);
  // Every input stored in its dtype, so the oracle and the device see the same values.
  const auto q = store(qdt, randn(nq, seed)), k = store(kv, randn(nk, seed + 1)),
             vv = store(kv, randn(nk, seed + 2));
  const float scale = 1.0f / std::sqrt(static_cast<float>(s.D));
  std::vector<float> ref(nq);
  xk::ref::attention({qdt, q.bytes.data(), kv, k.bytes.data(), vv.bytes.data(), ref.data(), s.B, s.Hq, s.Hkv,
                      s.S, s.T, s.D, scale, s.causal, s.q_offset});
  xk::Tensor Q = xk::upload(dev, qdt, {s.B, s.Hq, s.S, s.D}, q.bytes.data());
  xk::Tensor K = xk::upload(dev, kv, {s.B, s.Hkv, s.T, s.D}, k.bytes.data());
  xk::Tensor V = xk::upload(dev, kv, {s.B, s.Hkv, s.T, s.D}, vv.bytes.data());
  xk::AttentionOptions opt;
  opt.causal = s.causal;
  opt.q_offset = s.q_offset;
  opt.variant = v.name;
  xk::Tensor O = xk::attention(dev, Q, K, V, opt);
  // FP32 softmax and accumulation vs FP64: ~1e-7 relative per element. F16 (cooperative
  // matrix) rounds Q and P to FP16: NMSE ~1e-7, bounded as the harness does (kMaxNmseAttention).
  const double max_nmse = v.acts.front() == ActPrecision::F16 ? 2e-5 : 1e-9;
  xk::test::expect_close(dev.info().name,
                         "variant " + v.name + " q " + xk::name(qdt) + " B=" + std::to_string(s.B) +
                             " Hq=" + std::to_string(s.Hq) + " Hkv=" + std::to_string(s.Hkv) + " S=" +
                             std::to_string(s.S) + " T=" + std::to_string(s.T) + " D=" + std::to_string(s.D) +
                             (s.causal ? " causal" : "") + " q_offset=" + std::to_string(s.q_offset),
                         xk::download_f32(O), ref, max_nmse, {s.B, s.Hq, s.S, s.D});
}

TEST(VulkanAttention, EveryVariantMatchesOracle) {
  auto dev = open_vulkan();
  if (!dev) return;
  const AttnShape shapes[] = {
      {1, 4, 2, 1, 37, 64, false, 0},    // decode, GQA 2
      {2, 8, 1, 1, 100, 128, true, 99},  // decode, MQA, causal at the last position
      {1, 2, 2, 33, 33, 64, true, 0},    // prefill causal, ragged against BR = 16
      {1, 6, 2, 19, 70, 128, true, 51},  // chunked prefill: q_offset, GQA 3
      {1, 2, 1, 5, 17, 80, false, 0},    // non-tuned head dim (multiple of 16)
  };
  int ran = 0;
  const auto& features = dev->info().features;
  const bool coopmat = std::find(features.begin(), features.end(), "coopmat") != features.end();
  for (const auto& v : dev->variants()) {
    if (v.op != xk::Op::Attention) continue;
    if (v.technique == "coopmat" && !coopmat) {  // refused with the reason, printed as a skip
      xk::Tensor Q = xk::make_tensor(*dev, DType::F32, {1, 2, 3, 64});
      xk::Tensor K = xk::make_tensor(*dev, v.formats.front(), {1, 1, 5, 64});
      xk::Tensor V = xk::make_tensor(*dev, v.formats.front(), {1, 1, 5, 64});
      xk::AttentionOptions opt;
      opt.variant = v.name;
      try {
        xk::attention(*dev, Q, K, V, opt);
        ADD_FAILURE() << v.name << " ran on " << dev->info().name
                      << ", which lacks VK_KHR_cooperative_matrix";
      } catch (const xk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("device lacks VK_KHR_cooperative_matrix"), std::string::npos)
            << e.what();
        std::printf("[ SKIPPED  ] %s on %s: %s\n", v.name.c_str(), dev->info().name.c_str(), e.what());
      }
      continue;
    }
    for (const AttnShape& s : shapes) {
      if (v.technique == "coopmat" && s.D % 16 != 0) continue;
      if (v.name.find("splitk") != std::string::npos && s.S != 1) continue;
      SCOPED_TRACE(v.name);
      check_attention_variant(*dev, v, ran % 2 ? DType::F16 : DType::F32, s,
                              static_cast<uint32_t>(100 + ran));
      ++ran;
    }
  }
  EXPECT_GE(ran, 2 * 5 + 2 * 2);
}

TEST(VulkanAttention, SplitKIsChosenForDecode) {
  auto dev = open_vulkan();
  if (!dev) return;
  const auto q = randn(4 * 64, 9), kv = randn(2 * 300 * 64, 10);
  xk::Tensor Q = xk::upload(*dev, DType::F32, {1, 4, 1, 64}, q.data());
  const auto kv16 = store(DType::F16, kv);
  xk::Tensor K = xk::upload(*dev, DType::F16, {1, 2, 300, 64}, kv16.bytes.data());
  xk::Tensor V = xk::upload(*dev, DType::F16, {1, 2, 300, 64}, kv16.bytes.data());
  xk::attention(*dev, Q, K, V);
  EXPECT_EQ(dev->last_launch().variant, "attn_f16_f32_16x32_splitk_vk");
}

// ------------------------------------------------------------------ bad input

TEST(VulkanBadInput, UnknownDeviceIndexNamesTheReason) {
  try {
    xk::open_device("vulkan:7");
    FAIL() << "vulkan:7 does not exist here";
  } catch (const xk::Error& e) {
    EXPECT_EQ(e.arg(), "name");
    EXPECT_NE(std::string(e.what()).find("vulkan:7"), std::string::npos) << e.what();
  }
}

TEST(VulkanBadInput, UnsupportedHeadDimIsRefusedWithReason) {
  auto dev = open_vulkan();
  if (!dev) return;
  xk::Tensor Q = xk::make_tensor(*dev, DType::F32, {1, 1, 1, 256});
  xk::Tensor K = xk::make_tensor(*dev, DType::F16, {1, 1, 4, 256});
  xk::Tensor V = xk::make_tensor(*dev, DType::F16, {1, 1, 4, 256});
  try {
    xk::attention(*dev, Q, K, V);
    FAIL() << "D = 256 has no Vulkan variant";
  } catch (const xk::Error& e) {
    EXPECT_NE(std::string(e.what()).find("head dim 256"), std::string::npos) << e.what();
  }
}

// Run by CTest with XK_VULKAN_DISABLE=subgroup: the GEMV needs subgroup arithmetic.
TEST(VulkanMissingFeature, GemvRefusedGemmStillRuns) {
  const char* env = std::getenv("XK_VULKAN_DISABLE");
  ASSERT_TRUE(env && std::string(env).find("subgroup") != std::string::npos)
      << "run this test with XK_VULKAN_DISABLE=subgroup (see tests/vulkan/CMakeLists.txt)";
  auto dev = open_vulkan();
  if (!dev) return;
  EXPECT_FALSE(dev->info().has("subgroup_arith"));
  const auto wq = xk::quantize(DType::Q4_0, randn(32 * 64, 11).data(), 32, 64);
  xk::Tensor W = xk::upload_weights(*dev, DType::Q4_0, 32, 64, wq.data());
  xk::Tensor X = xk::upload(*dev, DType::F32, {1, 64}, randn(64, 12).data());
  xk::MatmulOptions opt;
  opt.variant = "mv_q4_0_f32_8x8_subgroup_vk";
  try {
    xk::matmul(*dev, W, X, opt);
    FAIL() << "the GEMV must be refused without subgroup arithmetic";
  } catch (const xk::Error& e) {
    EXPECT_EQ(e.arg(), "variant");
    EXPECT_NE(std::string(e.what()).find("subgroup arithmetic"), std::string::npos) << e.what();
  }
  xk::matmul(*dev, W, X);
  EXPECT_EQ(dev->last_launch().variant.rfind("mm_", 0), 0u) << "selection falls back to the GEMM";
}

// Run by CTest with XK_VULKAN_LOADER pointing at a file that does not exist.
TEST(VulkanNoLoader, DeviceListedUnavailableWithReason) {
  ASSERT_NE(std::getenv("XK_VULKAN_LOADER"), nullptr)
      << "run with XK_VULKAN_LOADER=/nonexistent/libvulkan.so.1";
  bool found = false;
  for (const auto& e : xk::list_devices())
    if (e.api == "vulkan") {
      found = true;
      EXPECT_FALSE(e.available);
      EXPECT_NE(e.reason.find("no Vulkan loader"), std::string::npos) << e.reason;
    }
  EXPECT_TRUE(found) << "vulkan must still be listed, as unavailable";
  try {
    xk::open_device("vulkan:0");
    FAIL() << "vulkan:0 cannot open without a loader";
  } catch (const xk::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no Vulkan loader"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(xk::open_device("cpu-ref")) << "other backends keep working";
}

// Run by CTest with VK_ICD_FILENAMES/VK_DRIVER_FILES pointing at no driver.
TEST(VulkanNoDriver, DeviceListedUnavailableWithReason) {
  ASSERT_NE(std::getenv("VK_DRIVER_FILES"), nullptr) << "run with VK_DRIVER_FILES=/nonexistent.json";
  for (const auto& e : xk::list_devices())
    if (e.api == "vulkan") {
      EXPECT_FALSE(e.available);
      EXPECT_TRUE(e.reason.find("no Vulkan driver") != std::string::npos ||
                  e.reason.find("no Vulkan device") != std::string::npos)
          << e.reason;
    }
  EXPECT_THROW(xk::open_device("vulkan:0"), xk::Error);
}

// ------------------------------------------------------------------ validation

// Run by CTest with XK_VULKAN_VALIDATION=1: a dispatch that breaks a valid-usage rule must
// surface as an xk::Error naming the validation message (VUID-vkCmdDispatch-groupCountX).
TEST(VulkanValidation, ValidationMessageBecomesAnError) {
  ASSERT_NE(std::getenv("XK_VULKAN_VALIDATION"), nullptr) << "run with XK_VULKAN_VALIDATION=1";
  auto dev = open_vulkan();
  if (!dev) return;
  EXPECT_TRUE(dev->info().has("validation"));
  auto& vdev = static_cast<xk::vk::VulkanDevice&>(*dev);
  xk::Buffer x = dev->alloc(64), q = dev->alloc(64), d = dev->alloc(64);
  struct {
    uint32_t M, K, x_dtype;
  } push{0, 32, 0};  // M = 0: the shader does nothing, whatever the grid
  const uint32_t too_many = vdev.ctx().physical().props.limits.maxComputeWorkGroupCount[0] + 1;
  try {
    xk::vk::Batch b = vdev.ctx().batch("deliberately-invalid", false);
    b.dispatch("quantize_q8", {}, {&xk::vk::vkbuf(x), &xk::vk::vkbuf(q), &xk::vk::vkbuf(d)}, push,
               {too_many, 1, 1});
    b.run();
    FAIL() << "the validation layer must report groupCountX > maxComputeWorkGroupCount[0]";
  } catch (const xk::Error& e) {
    EXPECT_NE(std::string(e.what()).find("validation"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("groupCountX"), std::string::npos) << e.what();
  }
  // A correct launch right after is clean.
  const auto wq = xk::quantize(DType::Q4_0, randn(32 * 64, 13).data(), 32, 64);
  xk::Tensor W = xk::upload_weights(*dev, DType::Q4_0, 32, 64, wq.data());
  xk::Tensor X = xk::upload(*dev, DType::F32, {3, 64}, randn(3 * 64, 14).data());
  EXPECT_NO_THROW(xk::matmul(*dev, W, X));
}

}  // namespace
