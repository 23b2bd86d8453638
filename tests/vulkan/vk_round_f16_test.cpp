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
// The shader (round_f16_probe.comp) is not one of the backend's kernels, so it is not in
// the embedded SPIR-V table that Context::pipeline looks up: this test takes the backend's
// Instance, Context and buffers and builds its own pipeline and dispatch on that device.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "backends/vulkan/vk_context.h"
#include "xk/error.h"
#include "xk/formats.h"

namespace {

using namespace xk::vk;

// SPIR-V words of round_f16_probe.comp, written by glslc -mfmt=num (tests/vulkan/CMakeLists.txt).
const uint32_t kProbeSpirv[] = {
#include "round_f16_probe.spv.inc"
};

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
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
  for (float f : {0.0f, FLT_TRUE_MIN, FLT_MIN, 0x1p-25f, 0x1p-24f, 0x1.8p-24f, 0x1p-14f, 65504.0f, 65519.0f,
                  65520.0f, 65536.0f, 0x1p16f, 0x1p17f, 0x1p114f, 0x1p115f, 0x1.fffffep114f, 0x1p126f, 0x1p127f,
                  0x1.8p127f, FLT_MAX})
    add_around(f);
  for (uint32_t u : {0x7F800000u, 0x7FC00000u, 0x7F800001u, 0x7FBFFFFFu, 0x7FC00001u, 0x7FFFFFFFu, 0x00000001u,
                     0x007FFFFFu})
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
// Every Vulkan object made here is destroyed before returning, on success or throw.
std::vector<uint32_t> run_probe(Context& ctx, const std::vector<uint32_t>& x) {
  const Api& a = api();
  const VkDevice dev = ctx.device();
  const uint32_t n = static_cast<uint32_t>(x.size());
  auto in = ctx.alloc(x.size() * 4), out = ctx.alloc(x.size() * 4);
  ctx.write(*in, 0, x.data(), x.size() * 4);

  struct Objects {
    VkDevice dev;
    VkShaderModule module = VK_NULL_HANDLE;
    VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkPipeline pipeline = VK_NULL_HANDLE;
    VkDescriptorPool pool = VK_NULL_HANDLE;
    VkCommandPool cmd_pool = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
    ~Objects() {
      const Api& a = api();
      if (fence) a.vkDestroyFence(dev, fence, nullptr);
      if (cmd_pool) a.vkDestroyCommandPool(dev, cmd_pool, nullptr);
      if (pool) a.vkDestroyDescriptorPool(dev, pool, nullptr);
      if (pipeline) a.vkDestroyPipeline(dev, pipeline, nullptr);
      if (layout) a.vkDestroyPipelineLayout(dev, layout, nullptr);
      if (set_layout) a.vkDestroyDescriptorSetLayout(dev, set_layout, nullptr);
      if (module) a.vkDestroyShaderModule(dev, module, nullptr);
    }
  } o{dev};

  auto mi = make<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
  mi.codeSize = sizeof(kProbeSpirv);
  mi.pCode = kProbeSpirv;
  check(a.vkCreateShaderModule(dev, &mi, nullptr, &o.module), "round_f16 test", "vkCreateShaderModule");

  VkDescriptorSetLayoutBinding b[2] = {};
  for (uint32_t i = 0; i < 2; ++i) b[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  auto dli = make<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
  dli.bindingCount = 2;
  dli.pBindings = b;
  check(a.vkCreateDescriptorSetLayout(dev, &dli, nullptr, &o.set_layout), "round_f16 test", "vkCreateDescriptorSetLayout");
  VkPushConstantRange pc{VK_SHADER_STAGE_COMPUTE_BIT, 0, 4};
  auto pli = make<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
  pli.setLayoutCount = 1;
  pli.pSetLayouts = &o.set_layout;
  pli.pushConstantRangeCount = 1;
  pli.pPushConstantRanges = &pc;
  check(a.vkCreatePipelineLayout(dev, &pli, nullptr, &o.layout), "round_f16 test", "vkCreatePipelineLayout");
  auto ci = make<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
  ci.stage = make<VkPipelineShaderStageCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = o.module;
  ci.stage.pName = "main";
  ci.layout = o.layout;
  check(a.vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &ci, nullptr, &o.pipeline), "round_f16 test",
        "vkCreateComputePipelines");

  VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2};
  auto dpi = make<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
  dpi.maxSets = 1;
  dpi.poolSizeCount = 1;
  dpi.pPoolSizes = &ps;
  check(a.vkCreateDescriptorPool(dev, &dpi, nullptr, &o.pool), "round_f16 test", "vkCreateDescriptorPool");
  auto dai = make<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
  dai.descriptorPool = o.pool;
  dai.descriptorSetCount = 1;
  dai.pSetLayouts = &o.set_layout;
  VkDescriptorSet set;
  check(a.vkAllocateDescriptorSets(dev, &dai, &set), "round_f16 test", "vkAllocateDescriptorSets");
  VkDescriptorBufferInfo bi[2] = {{in->buffer, 0, VK_WHOLE_SIZE}, {out->buffer, 0, VK_WHOLE_SIZE}};
  VkWriteDescriptorSet w[2];
  for (uint32_t i = 0; i < 2; ++i) {
    w[i] = make<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
    w[i].dstSet = set;
    w[i].dstBinding = i;
    w[i].descriptorCount = 1;
    w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    w[i].pBufferInfo = &bi[i];
  }
  a.vkUpdateDescriptorSets(dev, 2, w, 0, nullptr);

  const uint32_t family = ctx.physical().compute_queue_family;
  auto cpi = make<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
  cpi.queueFamilyIndex = family;
  check(a.vkCreateCommandPool(dev, &cpi, nullptr, &o.cmd_pool), "round_f16 test", "vkCreateCommandPool");
  auto cai = make<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
  cai.commandPool = o.cmd_pool;
  cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  cai.commandBufferCount = 1;
  VkCommandBuffer cmd;
  check(a.vkAllocateCommandBuffers(dev, &cai, &cmd), "round_f16 test", "vkAllocateCommandBuffers");
  auto cbi = make<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
  cbi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(a.vkBeginCommandBuffer(cmd, &cbi), "round_f16 test", "vkBeginCommandBuffer");
  a.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, o.pipeline);
  a.vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, o.layout, 0, 1, &set, 0, nullptr);
  a.vkCmdPushConstants(cmd, o.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &n);
  a.vkCmdDispatch(cmd, (n + 63) / 64, 1, 1);
  // The shader's writes must be visible to the host (mapped read) or to the staging copy
  // that Context::read records for device-local memory.
  auto mb = make<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT;
  a.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, nullptr, 0,
                         nullptr);
  check(a.vkEndCommandBuffer(cmd), "round_f16 test", "vkEndCommandBuffer");

  auto fi = make<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
  check(a.vkCreateFence(dev, &fi, nullptr, &o.fence), "round_f16 test", "vkCreateFence");
  VkQueue queue;
  a.vkGetDeviceQueue(dev, family, 0, &queue);
  auto si = make<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd;
  check(a.vkQueueSubmit(queue, 1, &si, o.fence), "round_f16 test", "vkQueueSubmit");
  check(a.vkWaitForFences(dev, 1, &o.fence, VK_TRUE, UINT64_MAX), "round_f16 test", "vkWaitForFences");
  ctx.instance().throw_if_validation_failed("round_f16 probe");

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
      ADD_FAILURE() << "device " << pd->props.deviceName << ", round_f16(" << from_bits(x[i]) << " = 0x" << std::hex
                    << x[i] << "): expected " << from_bits(want) << " (0x" << want << "), got " << from_bits(y[i])
                    << " (0x" << y[i] << ")" << std::dec;
  }
  EXPECT_EQ(bad, 0u) << "round_f16 disagrees with f16_to_f32(f32_to_f16(x)) on " << bad << " of " << x.size()
                     << " inputs on " << pd->props.deviceName;
  EXPECT_GT(nan_expected, 0u);  // the set must contain NaNs, or the NaN rule goes untested
  std::printf("round_f16: %zu inputs checked on %s, %zu mismatches\n", x.size(), pd->props.deviceName, bad);
}

}  // namespace
