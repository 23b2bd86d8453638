// The Vulkan attention variants (kernels/vulkan/flash_attn.comp):
//   attn_<kv>_f32_16x32_fa2_vk     FlashAttention-2 forward, prefill and decode, any S
//   attn_<kv>_f32_16x32_splitk_vk  the same kernel with the keys split over workgroups plus
//                                 flash_attn_combine.comp: decode (S = 1)
//   attn_<kv>_f16_16x16_coopmat_vk flash_attn_coopmat.comp: both products on cooperative-matrix
//                                 units (VK_KHR_cooperative_matrix), Q and P rounded to FP16
// <kv> is the K/V storage type (f16, f32); softmax and accumulation are FP32.
#include <algorithm>
#include <string>

#include "vk_device.h"
#include "xk/error.h"
#include "backends/core/variant_row.h"
#include "xk/variant.h"

namespace xk::vk {

namespace {

struct AttnPush {  // flash_attn.comp push constants
  uint32_t Hq, Hkv, S, T;
  uint32_t q_offset;
  uint32_t causal;
  float scale;
  uint32_t q_dtype;
  uint32_t splits;
  uint32_t keys_per_split;
};
AttnPush attn_push(const AttentionArgs& a, uint32_t splits, uint32_t keys_per_split) {
  return {static_cast<uint32_t>(a.Hq()),
          static_cast<uint32_t>(a.Hkv()),
          static_cast<uint32_t>(a.S()),
          static_cast<uint32_t>(a.T()),
          static_cast<uint32_t>(a.q_offset),
          a.causal ? 1u : 0u,
          a.scale,
          static_cast<uint32_t>(a.Q.dtype),
          splits,
          keys_per_split};
}
struct CombinePush {  // flash_attn_combine.comp
  uint32_t rows, D, splits;
};

constexpr uint32_t kRows = 16;          // BR: query rows per workgroup
constexpr uint32_t kThreadsPerRow = 4;  // flash_attn.comp TPR
constexpr uint32_t kMaxSplits = 16;     // split-K slices for decode

// Keys per tile: the largest of 32/16 whose tiles fit the device's shared memory.
uint32_t keys_per_tile(const PhysicalDevice& pd, uint32_t D) {
  for (uint32_t bc : {32u, 16u}) {
    const uint64_t d4 = D / 4;  // flash_attn.comp keeps Q, K, V tiles as vec4s, K padded by one
    const uint64_t bytes = 16ull * (kRows * d4 + bc * (d4 + 1) + bc * d4) + 4ull * kRows * (bc + 1);
    if (bytes <= pd.props.limits.maxComputeSharedMemorySize) return bc;
  }
  return 0;
}

uint32_t ceil_div(uint64_t a, uint64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

std::string check(const PhysicalDevice& pd, const AttentionArgs& a, bool split) {
  const int64_t D = a.D();
  if (D % (4 * kThreadsPerRow) != 0 || D > 128)
    return "head dim " + std::to_string(D) +
           " unsupported (multiples of 16 up to 128; 64 and 128 are the tuned ones)";
  if (keys_per_tile(pd, static_cast<uint32_t>(D)) == 0)
    return "shared memory too small for the attention tiles";
  if (split && a.S() != 1) return "split-K variant is for decode (S = 1); S is " + std::to_string(a.S());
  for (const Tensor* t : {&a.Q, &a.K, static_cast<const Tensor*>(&a.O)})
    if (t->bytes() > pd.max_storage_range)
      return "a " + std::to_string(t->bytes()) + "-byte operand exceeds maxStorageBufferRange (" +
             std::to_string(pd.max_storage_range) + ")";
  const uint64_t big = static_cast<uint64_t>(a.B()) * static_cast<uint64_t>(a.Hq()) *
                       static_cast<uint64_t>(std::max(a.S(), a.T())) * static_cast<uint64_t>(D);
  if (big >= (1ull << 32)) return "tensor larger than 2^32 elements (32-bit shader indexing)";
  const uint32_t gx = ceil_div(static_cast<uint64_t>(a.S()) * (a.Hq() / a.Hkv()), kRows);
  if (gx > pd.props.limits.maxComputeWorkGroupCount[0] ||
      static_cast<uint64_t>(a.B() * a.Hkv()) > pd.props.limits.maxComputeWorkGroupCount[1])
    return "dispatch grid exceeds maxComputeWorkGroupCount";
  return "";
}

// Cooperative-matrix attention: BR = TM query rows, tiles of 16 keys (flash_attn_coopmat.comp).
constexpr uint32_t kCoopKeys = 16, kCoopMaxRows = 16, kCoopMaxD = 128;

// The largest reported shape the shader takes: TM <= 16, TN and TK dividing the 16-key tile.
CoopmatShape pick_attn_shape(const std::vector<CoopmatShape>& shapes) {
  CoopmatShape best{};
  for (const CoopmatShape& s : shapes)
    if (s.m && s.n && s.k && s.m <= kCoopMaxRows && kCoopKeys % s.n == 0 && kCoopKeys % s.k == 0 &&
        s.m * s.n * s.k > best.m * best.n * best.k)
      best = s;
  return best;
}

// flash_attn_coopmat.comp's shared arrays, sized for its maxima (bytes).
constexpr uint64_t kCoopAttnShared = 2ull * kCoopMaxRows * kCoopMaxD + 2ull * 2 * kCoopKeys * kCoopMaxD +
                                     4ull * kCoopMaxRows * kCoopKeys + 2ull * kCoopMaxRows * kCoopKeys +
                                     2ull * 4 * kCoopMaxRows * kCoopMaxD + 2ull * 4 * kCoopMaxRows;

[[maybe_unused]] Variant coopmat_attn_variant(const PhysicalDevice& pd,
                                              const std::vector<CoopmatShape>& shapes, DType kv) {
  const CoopmatShape shape = pick_attn_shape(shapes);
  const std::string shader = std::string("flash_attn_coopmat_") + name(kv);
  const uint32_t rows = shape.m ? shape.m : kCoopMaxRows;
  // Above the SIMT FA2 kernel; decode's split-K kernel (S = 1) stays above it.
  return make_row(
      {.op = Op::Attention,
       .family = "attn",
       .formats = {kv},
       .acts = {ActPrecision::F16},
       .tile = {static_cast<int>(rows), static_cast<int>(kCoopKeys), 0},
       .technique = "coopmat",
       .min_arch = "vk1.3",
       .priority = 15,
       .kernels = {shader}},
      {.supports_attention = [pd, shapes, shape](const AttentionArgs& a, const DeviceInfo&) -> std::string {
         if (std::string why = coopmat_device_lacks(pd, shapes); !why.empty()) return why;
         if (!shape.m)
           return "device lacks a cooperative-matrix shape with M <= 16 and N, K dividing 16 (the shader's "
                  "tiles)";
         if (kCoopAttnShared > pd.props.limits.maxComputeSharedMemorySize)
           return "device lacks the " + std::to_string(kCoopAttnShared) +
                  " bytes of shared memory the tiles take";
         const int64_t D = a.D();
         if (D % 16 != 0 || D > static_cast<int64_t>(kCoopMaxD))
           return "head dim " + std::to_string(D) + " unsupported (multiples of 16 up to 128)";
         return check(pd, a, false);
       },
       .run_attention =
           [pd, shader, shape](Device& base, const AttentionArgs& a, LaunchRecord& rec) {
             auto& dev = static_cast<VulkanDevice&>(base);
             Context& ctx = dev.ctx();
             const auto D = static_cast<uint32_t>(a.D());
             const uint32_t G = static_cast<uint32_t>(a.Hq() / a.Hkv());
             const AttnPush push = attn_push(a, 1u, static_cast<uint32_t>(a.T()));
             VkBuf& part = ctx.scratch("attn_partials", 16);
             Batch b = ctx.batch(rec.variant, dev.timing());
             b.dispatch(shader.c_str(), {pd.subgroup_size, shape.m, shape.n, shape.k, D},
                        {&vkbuf(a.Q.buf), &vkbuf(a.K.buf), &vkbuf(a.V.buf), &vkbuf(a.O.buf), &part}, push,
                        {ceil_div(static_cast<uint64_t>(a.S()) * G, shape.m),
                         static_cast<uint32_t>(a.B() * a.Hkv()), 1});
             rec.device_seconds = b.run();
           }});
}

void run(Device& base, const AttentionArgs& a, LaunchRecord& rec, const std::string& shader, bool split) {
  auto& dev = static_cast<VulkanDevice&>(base);
  Context& ctx = dev.ctx();
  const auto D = static_cast<uint32_t>(a.D());
  const auto T = static_cast<uint32_t>(a.T());
  const uint32_t bc = keys_per_tile(ctx.physical(), D);
  uint32_t per_split = std::max<uint32_t>(T, 1);
  if (split) {  // slices of whole tiles, at most kMaxSplits of them
    per_split = std::max(bc, ceil_div(ceil_div(T, kMaxSplits), bc) * bc);
  }
  const uint32_t splits = std::max<uint32_t>(1, ceil_div(T, per_split));
  const uint32_t G = static_cast<uint32_t>(a.Hq() / a.Hkv());
  // Decode has G = Hq/Hkv rows per KV head (4 for 32:8 heads): a 16-row workgroup would
  // leave 3/4 of its threads on empty rows, so the split-K launch shrinks BR to the
  // power of two covering G (a spec constant; the shared tiles shrink with it).
  uint32_t rows_per_wg = kRows;
  if (split)
    while (rows_per_wg / 2 >= G && rows_per_wg > 1) rows_per_wg /= 2;
  const AttnPush push = attn_push(a, splits, per_split);
  const uint64_t rows = static_cast<uint64_t>(a.B()) * a.Hq() * a.S();
  VkBuf& part = ctx.scratch("attn_partials", splits > 1 ? rows * splits * (D + 2) * sizeof(float) : 16);
  const std::array<uint32_t, 3> grid{ceil_div(static_cast<uint64_t>(a.S()) * G, rows_per_wg),
                                     static_cast<uint32_t>(a.B() * a.Hkv()), splits};
  Batch b = ctx.batch(rec.variant, dev.timing());
  b.dispatch(shader.c_str(), {rows_per_wg * kThreadsPerRow, rows_per_wg, bc, D},
             {&vkbuf(a.Q.buf), &vkbuf(a.K.buf), &vkbuf(a.V.buf), &vkbuf(a.O.buf), &part}, push, grid);
  if (splits > 1) {
    const uint32_t groups = std::min<uint32_t>(65535, ceil_div(rows * D, 64));
    b.dispatch("flash_attn_combine", {}, {&part, &vkbuf(a.O.buf)},
               CombinePush{static_cast<uint32_t>(rows), D, splits}, {groups, 1, 1});
  }
  rec.device_seconds = b.run();
}

Variant attn_variant(const PhysicalDevice& pd, DType kv, bool split) {
  const std::string shader = std::string("flash_attn_") + name(kv);
  // Tile: 16 query rows x up to 32 keys per step (16 when D = 128 on 32 KB of shared memory).
  return make_row(
      {.op = Op::Attention,
       .family = "attn",
       .formats = {kv},
       .acts = {ActPrecision::F32},
       .tile = {static_cast<int>(kRows), 32, 0},
       .technique = split ? "splitk" : "fa2",
       .min_arch = "vk1.2",
       .priority = split ? 20 : 10,
       .kernels = {shader},
       .helpers = split ? std::vector<std::string>{"flash_attn_combine"} : std::vector<std::string>{}},
      {.supports_attention = [pd, split](const AttentionArgs& a,
                                         const DeviceInfo&) { return check(pd, a, split); },
       .run_attention = [shader, split](Device& dev, const AttentionArgs& a,
                                        LaunchRecord& rec) { run(dev, a, rec, shader, split); }});
}

}  // namespace

void add_attention_variants(const PhysicalDevice& pd, const std::vector<CoopmatShape>& coopmat,
                            std::vector<Variant>& out) {
  for (DType kv : {DType::F16, DType::F32}) {
#ifdef XK_VULKAN_COOPMAT  // otherwise CMake said why the shaders were not built
    out.push_back(coopmat_attn_variant(pd, coopmat, kv));
#else
    (void)coopmat;
#endif
    out.push_back(attn_variant(pd, kv, false));
    out.push_back(attn_variant(pd, kv, true));
  }
}

}  // namespace xk::vk
