// The Vulkan matmul variants: rows of data over three shader families.
//   mm_<w>_<act>_<BMxBN>_<simt|i8>_vk   tiled GEMM, kernels/vulkan/mul_mm.comp (any M)
//   mv_<w>_<act>_8x<ROWS>_subgroup_vk   skinny GEMV, kernels/vulkan/mul_mv.comp (M <= 8)
//   mv_<w>_<act>_1x4_subgroup_vk        single-token GEMV, one subgroup per workgroup,
//   kernels/vulkan/mul_mv_sg.comp mm_<w>_<act>_<MxN>_direct_vk        shared-memory-free GEMM,
//   kernels/vulkan/mul_mm_direct.comp mm_<w>_f16_<BMxBN>_coopmat_vk       cooperative-matrix GEMM,
//   kernels/vulkan/mul_mm_coopmat.comp
// with <w> in q4_0 q8_0 mxfp4 nvfp4 and <act> the activation precision the variant runs
// (f32, f16, q8: semantics in kernels/ref/ref.h). Selection (ops.cpp) takes the highest
// priority among variants whose supports() returns "".
#include <algorithm>
#include <string>

#include "vk_device.h"
#include "weights_pack.h"
#include "xk/error.h"
#include "backends/core/variant_row.h"
#include "xk/variant.h"

namespace xk::vk {

namespace {

struct MmPush {  // mul_mm.comp / mul_mv.comp push constants
  uint32_t M, N, K;
  uint32_t x_dtype;     // xk::DType value: F32 = 0, F16 = 1, BF16 = 2 (common.glsl DT_*)
  uint32_t scale_base;  // word offset of the scales in the repacked weights
  float tensor_scale;
};
struct QuantPush {  // quantize_q8.comp
  uint32_t M, K, x_dtype;
};

// GEMM tile: BM x BN outputs per workgroup, TM x TN per thread (mul_mm.comp header).
struct MmTile {
  uint32_t bm, bn, tm, tn;
  constexpr uint32_t threads() const { return (bm / tm) * (bn / tn); }
};
// 64x64 with 4x4 per thread: 256 threads, 16 FMAs per 8 shared loads, 16.6 KB shared in
// the float path - fits the 32 KB minimum of every device and leaves room for two
// workgroups per SM/CU on 64 KB parts.
constexpr MmTile kTile64{64, 64, 4, 4};
static_assert(kTile64.bm % kTile64.tm == 0 && kTile64.bn % kTile64.tn == 0,
              "tile must divide by the register block");
static_assert(kTile64.threads() <= 256,
              "Vulkan guarantees maxComputeWorkGroupInvocations >= 128; 256 is universal in practice");

constexpr uint32_t kMvThreads = 64;  // a multiple of every subgroup size (8 lavapipe, 32, 64)
constexpr uint32_t kMvRows = 8;      // W rows per workgroup: amortises the final reduction
constexpr int64_t kMvMaxM = 8;       // mul_mv.comp MAX_M

uint32_t ceil_div(int64_t a, int64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

const char* act_tag(ActPrecision a) {
  return a == ActPrecision::Q8 ? "q8" : a == ActPrecision::F16 ? "f16" : "f32";
}

std::string shader_name(const char* family, DType w, ActPrecision a) {
  return std::string(family) + "_" + name(w) + "_" + act_tag(a);
}

// The quantizer a Q8 variant dispatches before its GEMM (none for float activations).
std::vector<std::string> helpers(ActPrecision act, bool q8_as_f32) {
  if (act != ActPrecision::Q8) return {};
  return {q8_as_f32 ? "quantize_q8_f32" : "quantize_q8"};
}

// Runs quantize_q8 (when the act is Q8) then the GEMM/GEMV in one batch.
// q8_as_f32: the GEMM reads the quantized activations as FP32 values (mul_mm_direct.comp),
// so they come from quantize_q8_f32 instead of the packed-int8 quantize_q8.
void run(Device& base, const MatmulArgs& a, LaunchRecord& rec, const std::string& shader,
         std::initializer_list<uint32_t> spec, std::array<uint32_t, 3> groups, bool q8_as_f32 = false) {
  auto& dev = static_cast<VulkanDevice&>(base);
  Context& ctx = dev.ctx();
  const VkBuf& w = dev.packed_weights(a.W);
  const int64_t M = a.M(), N = a.N(), K = a.K();
  const auto x_dtype = static_cast<uint32_t>(a.X.dtype);
  const MmPush push{static_cast<uint32_t>(M),    static_cast<uint32_t>(N), static_cast<uint32_t>(K), x_dtype,
                    scale_base(a.W.dtype, N, K), a.W.tensor_scale};
  const VkBuf& x = vkbuf(a.X.buf);
  const VkBuf& y = vkbuf(a.Y.buf);
  if (a.act == ActPrecision::Q8) {
    VkBuf& xq = ctx.scratch(q8_as_f32 ? "q8_quants_f32" : "q8_quants",
                            static_cast<size_t>(M * K) * (q8_as_f32 ? sizeof(float) : 1));
    VkBuf& xd = ctx.scratch("q8_scales", static_cast<size_t>(M * (K / 32)) * sizeof(float));
    Batch b = ctx.batch(rec.variant, dev.timing());
    const uint32_t qgroups = std::min<uint32_t>(65535, std::max<uint32_t>(1, ceil_div(M * (K / 32), 64)));
    b.dispatch(q8_as_f32 ? "quantize_q8_f32" : "quantize_q8", {}, {&x, &xq, &xd},
               QuantPush{push.M, push.K, x_dtype}, {qgroups, 1, 1});
    b.dispatch(shader.c_str(), spec, {&w, &xq, &xd, &y}, push, groups);
    rec.device_seconds = b.run();
  } else {
    Batch b = ctx.batch(rec.variant, dev.timing());
    b.dispatch(shader.c_str(), spec, {&w, &x, &y}, push, groups);
    rec.device_seconds = b.run();
  }
}

// Limits every variant checks: one buffer for the repacked weights, dispatch grid sizes.
std::string check_limits(const PhysicalDevice& pd, const MatmulArgs& a, uint32_t gx, uint32_t gy) {
  const uint64_t packed = static_cast<uint64_t>(a.N()) * static_cast<uint64_t>(a.K() / 32) *
                          (quant_words_per_group(a.W.dtype) + scales_per_group(a.W.dtype)) * 4;
  if (packed > pd.max_allocation)
    return "repacked weights (" + std::to_string(packed) + " bytes) exceed the device's largest allocation";
  // Each tensor is bound whole to one storage-buffer descriptor (Vulkan spec, Limits).
  for (uint64_t bytes : {packed, static_cast<uint64_t>(a.X.bytes()), static_cast<uint64_t>(a.Y.bytes())})
    if (bytes > pd.max_storage_range)
      return "a " + std::to_string(bytes) + "-byte operand exceeds maxStorageBufferRange (" +
             std::to_string(pd.max_storage_range) + ")";
  if (gx > pd.props.limits.maxComputeWorkGroupCount[0] || gy > pd.props.limits.maxComputeWorkGroupCount[1])
    return "dispatch grid " + std::to_string(gx) + "x" + std::to_string(gy) +
           " exceeds maxComputeWorkGroupCount";
  if (static_cast<uint64_t>(a.M()) * static_cast<uint64_t>(a.K()) >= (1ull << 32) ||
      static_cast<uint64_t>(a.M()) * static_cast<uint64_t>(a.N()) >= (1ull << 32))
    return "tensor larger than 2^32 elements (32-bit shader indexing)";
  return "";
}

Variant mm_variant(const PhysicalDevice& pd, DType w, ActPrecision act, const MmTile& t) {
  const std::string shader = shader_name("mul_mm", w, act);
  // FP32 is exact-est and, without packed int8 dot hardware, as fast as the integer path;
  // where the device accelerates 4x8-bit dot products the Q8 path is preferred.
  const int priority = act == ActPrecision::F32  ? 10
                       : act == ActPrecision::Q8 ? (pd.int_dot_accelerated ? 12 : 8)
                                                 : 5;
  return make_row({.op = Op::Matmul,
                   .family = "mm",
                   .formats = {w},
                   .acts = {act},
                   .tile = {static_cast<int>(t.bm), static_cast<int>(t.bn), 32},
                   .technique = act == ActPrecision::Q8 ? "i8" : "simt",
                   .min_arch = "vk1.2",
                   .priority = priority,
                   .kernels = {shader},
                   .helpers = helpers(act, false)},
                  {.supports_matmul = [pd, t](const MatmulArgs& a, const DeviceInfo&) -> std::string {
                     return check_limits(pd, a, ceil_div(a.N(), t.bn), ceil_div(a.M(), t.bm));
                   },
                   .run_matmul =
                       [shader, t](Device& dev, const MatmulArgs& a, LaunchRecord& rec) {
                         run(dev, a, rec, shader, {t.threads(), t.bm, t.bn, t.tm, t.tn},
                             {ceil_div(a.N(), t.bn), ceil_div(a.M(), t.bm), 1});
                       }});
}

Variant mv_variant(const PhysicalDevice& pd, DType w, ActPrecision act) {
  const std::string shader = shader_name("mul_mv", w, act);
  // Above every GEMM: for M <= 8 the GEMM would waste most of its 64-row tile.
  const int priority = act == ActPrecision::F32  ? 20
                       : act == ActPrecision::Q8 ? (pd.int_dot_accelerated ? 22 : 18)
                                                 : 15;
  return make_row({.op = Op::Matmul,
                   .family = "mv",
                   .formats = {w},
                   .acts = {act},
                   .tile = {static_cast<int>(kMvMaxM), static_cast<int>(kMvRows), 0},
                   .technique = "subgroup",
                   .min_arch = "vk1.2",
                   .priority = priority,
                   .kernels = {shader},
                   .helpers = helpers(act, false)},
                  {.supports_matmul = [pd](const MatmulArgs& a, const DeviceInfo&) -> std::string {
                     if (a.M() > kMvMaxM)
                       return "GEMV variant handles M <= " + std::to_string(kMvMaxM) + ", M is " +
                              std::to_string(a.M());
                     const uint32_t need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
                     if ((pd.subgroup_ops & need) != need)
                       return "device lacks subgroup arithmetic in compute shaders";
                     if (pd.subgroup_size > kMvThreads || kMvThreads % pd.subgroup_size != 0)
                       return "subgroup size " + std::to_string(pd.subgroup_size) +
                              " does not divide the 64-thread workgroup";
                     return check_limits(pd, a, ceil_div(a.N(), kMvRows), 1);
                   },
                   .run_matmul =
                       [shader](Device& dev, const MatmulArgs& a, LaunchRecord& rec) {
                         run(dev, a, rec, shader, {kMvThreads, kMvRows}, {ceil_div(a.N(), kMvRows), 1, 1});
                       }});
}

// Single-token GEMV (mul_mv_sg.comp): a workgroup is one subgroup computing kMvSgRows rows.
constexpr uint32_t kMvSgRows = 4;  // mul_mv_sg.comp NR: the components of its vec4 accumulator

Variant mv_sg_variant(const PhysicalDevice& pd, DType w, ActPrecision act) {
  const std::string shader = shader_name("mul_mv_sg", w, act);
  // Above the 64-thread GEMV for M = 1 (no shared-memory reduction or barrier, each
  // activation load reused for 4 rows); below the Q8 GEMV where packed int8 dot is accelerated.
  const int priority = act == ActPrecision::F32 ? 21 : 16;
  return make_row(
      {.op = Op::Matmul,
       .family = "mv",
       .formats = {w},
       .acts = {act},
       .tile = {1, static_cast<int>(kMvSgRows), 0},
       .technique = "subgroup",
       .min_arch = "vk1.2",
       .priority = priority,
       .kernels = {shader}},
      {.supports_matmul = [pd](const MatmulArgs& a, const DeviceInfo&) -> std::string {
         if (a.M() != 1) return "single-token GEMV handles M = 1, M is " + std::to_string(a.M());
         const uint32_t need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
         if ((pd.subgroup_ops & need) != need) return "device lacks subgroup arithmetic in compute shaders";
         // The workgroup is sized to be exactly one subgroup, which needs a size the device keeps.
         if (!pd.subgroup_size_fixed)
           return "device lacks a fixed subgroup size (the workgroup is one subgroup)";
         return check_limits(pd, a, ceil_div(a.N(), kMvSgRows), 1);
       },
       .run_matmul =
           [shader, lanes = pd.subgroup_size](Device& dev, const MatmulArgs& a, LaunchRecord& rec) {
             run(dev, a, rec, shader, {lanes}, {ceil_div(a.N(), kMvSgRows), 1, 1});
           }});
}

// Direct (shared-memory-free) GEMM: X rows per subgroup, W rows per lane (mul_mm_direct.comp).
constexpr uint32_t kDirectThreads = 64;
// 16 X rows x 8 W rows per invocation, fixed by mul_mm_direct.comp (ROWS_PER_SG, COLS there).
// Measured on lavapipe: array-based 4x4 blocks ~5 GFLOP/s, larger arrays ~2 (spilled);
// named-accumulator blocks of 8x4 ~10, 16x4 and 16x8 ~57-60 on a quiet 2-core host, 32x4 slower.
constexpr uint32_t kDirectRows = 16, kDirectCols = 8;

Variant direct_variant(const PhysicalDevice& pd, DType w, ActPrecision act) {
  const uint32_t lanes = pd.subgroup_size, tile_m = kDirectThreads / std::max(1u, lanes) * kDirectRows,
                 tile_n = lanes * kDirectCols;
  const std::string shader = shader_name("mul_mm_direct", w, act);
  // The kernel shaped for SIMD-CPU implementations ranks first there; on GPUs the tiled
  // shared-memory kernel reuses operands on chip and ranks above it.
  const bool cpu = pd.props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
  const int priority = (cpu ? 10 : -10) + (act == ActPrecision::F32 ? 4 : act == ActPrecision::Q8 ? 3 : -4);
  return make_row(
      {.op = Op::Matmul,
       .family = "mm",
       .formats = {w},
       .acts = {act},
       .tile = {static_cast<int>(tile_m), static_cast<int>(tile_n), 32},
       .technique = "direct",
       .min_arch = "vk1.3",
       .priority = priority,
       .kernels = {shader},
       .helpers = helpers(act, true)},
      {.supports_matmul = [pd, tile_m, tile_n](const MatmulArgs& a, const DeviceInfo&) -> std::string {
         if (a.act != ActPrecision::Q8 && a.X.dtype != DType::F32)
           return std::string("direct variant reads F32 activations (or Q8 ones it quantizes); X is ") +
                  name(a.X.dtype);
         if (!pd.subgroup_size_fixed || kDirectThreads % pd.subgroup_size != 0 || pd.subgroup_size % 8 != 0)
           return "needs a fixed subgroup size, a multiple of 8 dividing 64 (the grid is sized with it)";
         const uint32_t need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
         if ((pd.subgroup_ops & need) != need) return "device lacks subgroup shuffle in compute shaders";
         const uint64_t q8_f32_bytes =
             static_cast<uint64_t>(a.M()) * static_cast<uint64_t>(a.K()) * sizeof(float);
         if (a.act == ActPrecision::Q8 && q8_f32_bytes > pd.max_storage_range)
           return "the " + std::to_string(q8_f32_bytes) +
                  "-byte FP32 copy of the Q8 activations exceeds maxStorageBufferRange";
         return check_limits(pd, a, ceil_div(a.N(), tile_n), ceil_div(a.M(), tile_m));
       },
       .run_matmul =
           [shader, tile_m, tile_n, lanes](Device& dev, const MatmulArgs& a, LaunchRecord& rec) {
             run(dev, a, rec, shader, {kDirectThreads, lanes},
                 {ceil_div(a.N(), tile_n), ceil_div(a.M(), tile_m), 1},
                 /*q8_as_f32=*/true);
           }});
}

// Cooperative-matrix GEMM: one subgroup per workgroup, 2 x 2 fragments of a shape the device
// reports (mul_mm_coopmat.comp). The shader's shared tiles hold fragments up to 16 x 16 and
// step K by 32, so a shape fits when M, N <= 16 and K divides 32.
constexpr uint32_t kCoopFragments = 2, kCoopMaxMN = 16, kCoopStepK = 32;

// The largest reported shape that fits the shader ({} when none does).
CoopmatShape pick_coopmat_shape(const std::vector<CoopmatShape>& shapes) {
  CoopmatShape best{};
  for (const CoopmatShape& s : shapes)
    if (s.m && s.n && s.k && s.m <= kCoopMaxMN && s.n <= kCoopMaxMN && kCoopStepK % s.k == 0 &&
        s.m * s.n * s.k > best.m * best.n * best.k)
      best = s;
  return best;
}

[[maybe_unused]] Variant coopmat_variant(const PhysicalDevice& pd, const std::vector<CoopmatShape>& shapes,
                                         DType w) {
  const CoopmatShape shape = pick_coopmat_shape(shapes);
  const CoopmatShape named =
      shape.m ? shape : CoopmatShape{16, 16, 16};  // RDNA3's shape names an unusable row
  const uint32_t bm = kCoopFragments * named.m, bn = kCoopFragments * named.n;
  const std::string shader = shader_name("mul_mm_coopmat", w, ActPrecision::F16);
  // Above every SIMT GEMM (the matrix units are many times the SIMT FP16 rate), below every
  // GEMV (for M <= 8 a 32-row tile is mostly padding).
  return make_row(
      {.op = Op::Matmul,
       .family = "mm",
       .formats = {w},
       .acts = {ActPrecision::F16},
       .tile = {static_cast<int>(bm), static_cast<int>(bn), static_cast<int>(kCoopStepK)},
       .technique = "coopmat",
       .min_arch = "vk1.3",
       .priority = 14,
       .kernels = {shader}},
      {.supports_matmul = [pd, shapes, shape, bm, bn](const MatmulArgs& a, const DeviceInfo&) -> std::string {
         if (std::string why = coopmat_device_lacks(pd, shapes); !why.empty()) return why;
         if (!shape.m)
           return "device lacks a cooperative-matrix shape with M, N <= 16 and K dividing 32 (the shader's "
                  "tiles)";
         if (pd.subgroup_size > 128) return "subgroup size above 128 (the workgroup is one subgroup)";
         return check_limits(pd, a, ceil_div(a.N(), bn), ceil_div(a.M(), bm));
       },
       .run_matmul =
           [pd, shader, shape, bm, bn](Device& dev, const MatmulArgs& a, LaunchRecord& rec) {
             run(dev, a, rec, shader, {pd.subgroup_size, shape.m, shape.n, shape.k},
                 {ceil_div(a.N(), bn), ceil_div(a.M(), bm), 1});
           }});
}

}  // namespace

void add_matmul_variants(const PhysicalDevice& pd, const std::vector<CoopmatShape>& coopmat,
                         std::vector<Variant>& out) {
#ifdef XK_VULKAN_COOPMAT  // otherwise CMake said why the shaders were not built
  for (DType w : kWeightFormats) out.push_back(coopmat_variant(pd, coopmat, w));
#else
  (void)coopmat;
#endif
  for (DType w : kWeightFormats)
    for (ActPrecision act : {ActPrecision::F32, ActPrecision::F16, ActPrecision::Q8}) {
      out.push_back(mm_variant(pd, w, act, kTile64));
      out.push_back(mv_variant(pd, w, act));
      if (act != ActPrecision::Q8 && pd.subgroup_size_fixed) out.push_back(mv_sg_variant(pd, w, act));
      if (pd.subgroup_size_fixed) out.push_back(direct_variant(pd, w, act));
    }
}

}  // namespace xk::vk
