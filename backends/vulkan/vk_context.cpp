#include "vk_context.h"

#include <cstdlib>

#include "spirv.h"
#include "xk/error.h"

namespace xk::vk {

namespace {

constexpr uint32_t kMaxBindings = 8;
constexpr uint32_t kPushBytes = 128;      // Vulkan spec, Limits: maxPushConstantsSize >= 128
constexpr uint32_t kSetsPerBatch = 64;    // descriptor sets one batch may allocate

bool force_staging() {
  const char* v = std::getenv("XK_VULKAN_FORCE_STAGING");
  return v && *v && v[0] != '0';
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Buffers

VkBuf::VkBuf(Context& ctx, size_t n, bool host_visible) : ctx_(ctx) {
  const Api& a = api();
  bytes = n;
  capacity = std::max<VkDeviceSize>(16, (n + 15) / 16 * 16);
  const PhysicalDevice& pd = ctx.physical();
  const std::string need = std::to_string(n) + " bytes requested";
  if (capacity > pd.max_allocation)
    throw Error("alloc", "bytes", "out of device memory: " + need + ", the device's largest allocation is " +
                                      std::to_string(pd.max_allocation) + " bytes (maxMemoryAllocationSize)");
  auto bi = make<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  bi.size = capacity;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkResult r = a.vkCreateBuffer(ctx.device(), &bi, nullptr, &buffer);
  if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
    throw Error("alloc", "bytes", "out of device memory: " + need + " (vkCreateBuffer: " + result_name(r) + ")");
  check(r, "alloc", "vkCreateBuffer");

  VkMemoryRequirements req;
  a.vkGetBufferMemoryRequirements(ctx.device(), buffer, &req);
  auto ai = make<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = ctx.memory_type(req.memoryTypeBits, host_visible);
  const uint32_t heap = pd.memory.memoryTypes[ai.memoryTypeIndex].heapIndex;
  if (req.size > pd.memory.memoryHeaps[heap].size) {
    a.vkDestroyBuffer(ctx.device(), buffer, nullptr);
    throw Error("alloc", "bytes", "out of device memory: " + need + ", memory heap " + std::to_string(heap) +
                                      " has " + std::to_string(pd.memory.memoryHeaps[heap].size) + " bytes");
  }
  r = a.vkAllocateMemory(ctx.device(), &ai, nullptr, &memory);
  if (r != VK_SUCCESS) {
    a.vkDestroyBuffer(ctx.device(), buffer, nullptr);
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
      throw Error("alloc", "bytes", "out of device memory: " + need + " (vkAllocateMemory: " + result_name(r) + ")");
    check(r, "alloc", "vkAllocateMemory");
  }
  check(a.vkBindBufferMemory(ctx.device(), buffer, memory, 0), "alloc", "vkBindBufferMemory");
  if (host_visible) check(a.vkMapMemory(ctx.device(), memory, 0, VK_WHOLE_SIZE, 0, &mapped), "alloc", "vkMapMemory");
}

VkBuf::~VkBuf() {
  const Api& a = api();
  if (mapped) a.vkUnmapMemory(ctx_.device(), memory);
  if (buffer) a.vkDestroyBuffer(ctx_.device(), buffer, nullptr);
  if (memory) a.vkFreeMemory(ctx_.device(), memory, nullptr);
}

// ---------------------------------------------------------------------------------------
// Context

Context::Context(std::shared_ptr<Instance> instance, const PhysicalDevice& pd)
    : instance_(std::move(instance)), pd_(pd) {
  const Api& a = api();
  float priority = 1.0f;
  auto qi = make<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
  qi.queueFamilyIndex = pd_.compute_queue_family;
  qi.queueCount = 1;
  qi.pQueuePriorities = &priority;

  // Enable exactly the optional features the shaders may use and the device has.
  auto f12 = make<VkPhysicalDeviceVulkan12Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
  f12.shaderFloat16 = pd_.fp16;
  f12.shaderInt8 = pd_.int8;
  f12.storageBuffer8BitAccess = pd_.storage8;
  auto f11 = make<VkPhysicalDeviceVulkan11Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES);
  f11.storageBuffer16BitAccess = pd_.storage16;
  f11.pNext = &f12;
  auto f2 = make<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
  f2.features.shaderInt16 = pd_.int16;
  f2.pNext = &f11;

  auto di = make<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
  di.pNext = &f2;
  di.queueCreateInfoCount = 1;
  di.pQueueCreateInfos = &qi;
  check(a.vkCreateDevice(pd_.handle, &di, nullptr, &device_), "open_device", "vkCreateDevice");
  a.vkGetDeviceQueue(device_, pd_.compute_queue_family, 0, &queue_);

  auto cpi = make<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
  cpi.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
  cpi.queueFamilyIndex = pd_.compute_queue_family;
  check(a.vkCreateCommandPool(device_, &cpi, nullptr, &cmd_pool_), "open_device", "vkCreateCommandPool");

  VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerBatch * kMaxBindings};
  auto dpi = make<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
  dpi.maxSets = kSetsPerBatch;
  dpi.poolSizeCount = 1;
  dpi.pPoolSizes = &ps;
  check(a.vkCreateDescriptorPool(device_, &dpi, nullptr, &desc_pool_), "open_device", "vkCreateDescriptorPool");

  if (pd_.timestamp_valid_bits > 0) {
    auto qpi = make<VkQueryPoolCreateInfo>(VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
    qpi.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qpi.queryCount = 2;
    check(a.vkCreateQueryPool(device_, &qpi, nullptr, &query_pool_), "open_device", "vkCreateQueryPool");
  }
  auto fi = make<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
  check(a.vkCreateFence(device_, &fi, nullptr, &fence_), "open_device", "vkCreateFence");

  // Unified memory: one memory type is both device-local and host-visible and the device is
  // not discrete (a discrete GPU's small host-visible BAR window is for staging, not tensors).
  const bool discrete = pd_.props.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
  for (uint32_t i = 0; i < pd_.memory.memoryTypeCount; ++i) {
    const auto f = pd_.memory.memoryTypes[i].propertyFlags;
    if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
        (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) && !discrete)
      unified_ = true;
  }
  if (force_staging()) unified_ = false;
  for (uint32_t i = 0; i < pd_.memory.memoryHeapCount; ++i)
    if (pd_.memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      device_local_bytes_ += pd_.memory.memoryHeaps[i].size;
}

Context::~Context() {
  const Api& a = api();
  if (!device_) return;
  a.vkDeviceWaitIdle(device_);
  scratch_.clear();
  for (auto& [key, p] : pipelines_) a.vkDestroyPipeline(device_, p.pipeline, nullptr);
  for (auto& [n, l] : layouts_) {
    a.vkDestroyPipelineLayout(device_, l.second, nullptr);
    a.vkDestroyDescriptorSetLayout(device_, l.first, nullptr);
  }
  if (fence_) a.vkDestroyFence(device_, fence_, nullptr);
  if (query_pool_) a.vkDestroyQueryPool(device_, query_pool_, nullptr);
  if (desc_pool_) a.vkDestroyDescriptorPool(device_, desc_pool_, nullptr);
  if (cmd_pool_) a.vkDestroyCommandPool(device_, cmd_pool_, nullptr);
  a.vkDestroyDevice(device_, nullptr);
}

uint32_t Context::memory_type(uint32_t type_bits, bool host_visible) const {
  const VkMemoryPropertyFlags want =
      host_visible ? (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)
                   : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  // First pass: host-visible buffers prefer device-local too (unified memory).
  for (int pass = 0; pass < 2; ++pass)
    for (uint32_t i = 0; i < pd_.memory.memoryTypeCount; ++i) {
      const auto f = pd_.memory.memoryTypes[i].propertyFlags;
      if (!(type_bits & (1u << i)) || (f & want) != want) continue;
      if (pass == 0 && host_visible && !(f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)) continue;
      return i;
    }
  throw Error("alloc", "no Vulkan memory type fits a storage buffer (" +
                           std::string(host_visible ? "host-visible" : "device-local") + ")");
}

void Context::write(VkBuf& dst, size_t offset, const void* src, size_t bytes) {
  if (!bytes) return;
  if (dst.mapped) {
    std::memcpy(static_cast<uint8_t*>(dst.mapped) + offset, src, bytes);
    return;
  }
  VkBuf staging(*this, bytes, true);
  std::memcpy(staging.mapped, src, bytes);
  Batch b = batch("upload", false);
  b.copy(staging, 0, dst, offset, bytes);
  b.run();
}

void Context::read(const VkBuf& src, size_t offset, void* dst, size_t bytes) {
  if (!bytes) return;
  if (src.mapped) {
    std::memcpy(dst, static_cast<const uint8_t*>(src.mapped) + offset, bytes);
    return;
  }
  VkBuf staging(*this, bytes, true);
  Batch b = batch("download", false);
  b.copy(src, offset, staging, 0, bytes);
  b.run();
  std::memcpy(dst, staging.mapped, bytes);
}

VkBuf& Context::scratch(const std::string& slot, size_t bytes) {
  auto& s = scratch_[slot];
  if (!s || s->bytes < bytes) {
    s.reset();  // free the old one first: scratch can be large
    s = std::make_unique<VkBuf>(*this, bytes, unified_);
  }
  return *s;
}

VkDescriptorSetLayout Context::set_layout(uint32_t bindings) {
  auto it = layouts_.find(bindings);
  if (it != layouts_.end()) return it->second.first;
  const Api& a = api();
  std::vector<VkDescriptorSetLayoutBinding> b(bindings);
  for (uint32_t i = 0; i < bindings; ++i)
    b[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  auto li = make<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
  li.bindingCount = bindings;
  li.pBindings = b.data();
  VkDescriptorSetLayout sl;
  check(a.vkCreateDescriptorSetLayout(device_, &li, nullptr, &sl), "vulkan", "vkCreateDescriptorSetLayout");
  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes};
  auto pli = make<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
  pli.setLayoutCount = 1;
  pli.pSetLayouts = &sl;
  pli.pushConstantRangeCount = 1;
  pli.pPushConstantRanges = &range;
  VkPipelineLayout pl;
  check(a.vkCreatePipelineLayout(device_, &pli, nullptr, &pl), "vulkan", "vkCreatePipelineLayout");
  layouts_[bindings] = {sl, pl};
  return sl;
}

const Pipeline& Context::pipeline(const char* shader, const std::vector<uint32_t>& spec, uint32_t bindings) {
  std::string key = shader;
  for (uint32_t s : spec) key.append(",").append(std::to_string(s));
  key.append("/").append(std::to_string(bindings));
  auto it = pipelines_.find(key);
  if (it != pipelines_.end()) return it->second;

  const Api& a = api();
  const Spirv code = find_spirv(shader);
  if (!code.words) throw Error("vulkan", std::string("no SPIR-V module named '") + shader + "' was built");
  if (bindings > kMaxBindings) throw Error("vulkan", "too many buffer bindings for one dispatch");
  Pipeline p;
  p.set_layout = set_layout(bindings);
  p.layout = layouts_[bindings].second;
  p.bindings = bindings;

  auto mi = make<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
  mi.codeSize = code.count * sizeof(uint32_t);
  mi.pCode = code.words;
  VkShaderModule module;
  check(a.vkCreateShaderModule(device_, &mi, nullptr, &module), "vulkan", "vkCreateShaderModule");

  std::vector<VkSpecializationMapEntry> entries(spec.size());
  for (uint32_t i = 0; i < spec.size(); ++i) entries[i] = {i, i * 4u, 4};
  VkSpecializationInfo si{static_cast<uint32_t>(entries.size()), entries.data(), spec.size() * 4, spec.data()};
  auto ci = make<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
  ci.stage = make<VkPipelineShaderStageCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = spec.empty() ? nullptr : &si;
  ci.layout = p.layout;
  VkResult r = a.vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &ci, nullptr, &p.pipeline);
  a.vkDestroyShaderModule(device_, module, nullptr);
  check(r, "vulkan", (std::string("vkCreateComputePipelines(") + shader + ")").c_str());
  instance_->throw_if_validation_failed(std::string("pipeline creation for ") + shader);
  return pipelines_[key] = p;
}

// ---------------------------------------------------------------------------------------
// Batches

Batch::Batch(Context& ctx, std::string label, bool timing) : ctx_(ctx), label_(std::move(label)) {
  const Api& a = api();
  timing_ = timing && ctx.query_pool_ != VK_NULL_HANDLE;
  check(a.vkResetCommandPool(ctx.device_, ctx.cmd_pool_, 0), "vulkan", "vkResetCommandPool");
  check(a.vkResetDescriptorPool(ctx.device_, ctx.desc_pool_, 0), "vulkan", "vkResetDescriptorPool");
  auto ai = make<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
  ai.commandPool = ctx.cmd_pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  check(a.vkAllocateCommandBuffers(ctx.device_, &ai, &cmd_), "vulkan", "vkAllocateCommandBuffers");
  auto bi = make<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(a.vkBeginCommandBuffer(cmd_, &bi), "vulkan", "vkBeginCommandBuffer");
  if (a.vkCmdBeginDebugUtilsLabelEXT) {
    auto l = make<VkDebugUtilsLabelEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_LABEL_EXT);
    l.pLabelName = label_.c_str();
    a.vkCmdBeginDebugUtilsLabelEXT(cmd_, &l);
  }
  if (timing_) {
    a.vkCmdResetQueryPool(cmd_, ctx.query_pool_, 0, 2);
    a.vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, ctx.query_pool_, 0);
  }
}

Batch::~Batch() {
  // A batch abandoned by an exception is never submitted; its command buffer returns to
  // the pool at the next reset.
}

void Batch::barrier() {
  if (!recorded_any_) {
    recorded_any_ = true;
    return;
  }
  auto mb = make<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                     VK_ACCESS_TRANSFER_WRITE_BIT;
  const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  api().vkCmdPipelineBarrier(cmd_, stages, stages, 0, 1, &mb, 0, nullptr, 0, nullptr);
}

void Batch::dispatch_raw(const char* shader, std::vector<uint32_t> spec, std::vector<const VkBuf*> buffers,
                         const void* push, size_t push_bytes, std::array<uint32_t, 3> groups) {
  const Api& a = api();
  const auto nb = static_cast<uint32_t>(buffers.size());
  const Pipeline& p = ctx_.pipeline(shader, spec, nb);
  auto ai = make<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
  ai.descriptorPool = ctx_.desc_pool_;
  ai.descriptorSetCount = 1;
  ai.pSetLayouts = &p.set_layout;
  VkDescriptorSet set;
  check(a.vkAllocateDescriptorSets(ctx_.device_, &ai, &set), "vulkan", "vkAllocateDescriptorSets");
  std::vector<VkDescriptorBufferInfo> infos(nb);
  std::vector<VkWriteDescriptorSet> writes(nb);
  for (uint32_t i = 0; i < nb; ++i) {
    infos[i] = {buffers[i]->buffer, 0, VK_WHOLE_SIZE};
    writes[i] = make<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
    writes[i].dstSet = set;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  a.vkUpdateDescriptorSets(ctx_.device_, nb, writes.data(), 0, nullptr);

  barrier();
  if (a.vkCmdBeginDebugUtilsLabelEXT) {
    auto l = make<VkDebugUtilsLabelEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_LABEL_EXT);
    const std::string name = label_ + ":" + shader;
    l.pLabelName = name.c_str();
    a.vkCmdBeginDebugUtilsLabelEXT(cmd_, &l);
  }
  a.vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
  a.vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &set, 0, nullptr);
  // The layout's range is 128 bytes; push the whole struct, which is at most that.
  a.vkCmdPushConstants(cmd_, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, static_cast<uint32_t>(push_bytes), push);
  a.vkCmdDispatch(cmd_, groups[0], groups[1], groups[2]);
  if (a.vkCmdEndDebugUtilsLabelEXT) a.vkCmdEndDebugUtilsLabelEXT(cmd_);
}

void Batch::copy(const VkBuf& src, size_t src_off, const VkBuf& dst, size_t dst_off, size_t bytes) {
  barrier();
  VkBufferCopy region{src_off, dst_off, bytes};
  api().vkCmdCopyBuffer(cmd_, src.buffer, dst.buffer, 1, &region);
}

double Batch::run() {
  const Api& a = api();
  if (timing_) a.vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ctx_.query_pool_, 1);
  if (a.vkCmdEndDebugUtilsLabelEXT) a.vkCmdEndDebugUtilsLabelEXT(cmd_);
  check(a.vkEndCommandBuffer(cmd_), "vulkan", "vkEndCommandBuffer");
  check(a.vkResetFences(ctx_.device_, 1, &ctx_.fence_), "vulkan", "vkResetFences");
  auto si = make<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd_;
  check(a.vkQueueSubmit(ctx_.queue_, 1, &si, ctx_.fence_), "vulkan", (std::string("vkQueueSubmit(") + label_ + ")").c_str());
  submitted_ = true;
  check(a.vkWaitForFences(ctx_.device_, 1, &ctx_.fence_, VK_TRUE, UINT64_MAX), "vulkan",
        (std::string("vkWaitForFences(") + label_ + ")").c_str());
  ctx_.instance().throw_if_validation_failed(label_);
  if (!timing_) return -1;
  uint64_t ts[2] = {0, 0};
  check(a.vkGetQueryPoolResults(ctx_.device_, ctx_.query_pool_, 0, 2, sizeof(ts), ts, sizeof(uint64_t),
                                VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
        "vulkan", "vkGetQueryPoolResults");
  const uint64_t mask = ctx_.pd_.timestamp_valid_bits >= 64 ? ~0ull : ((1ull << ctx_.pd_.timestamp_valid_bits) - 1);
  return static_cast<double>((ts[1] - ts[0]) & mask) * ctx_.pd_.props.limits.timestampPeriod * 1e-9;
}

}  // namespace xk::vk
