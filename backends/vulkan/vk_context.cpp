#include "vk_context.h"

#include <cstdlib>
#include <limits>

#include "xk/error.h"

namespace xk::vk {

namespace {

constexpr uint32_t kMaxBindings = 8;
constexpr uint32_t kPushBytes = 128;    // Vulkan spec, Limits: maxPushConstantsSize >= 128
constexpr uint32_t kSetsPerBatch = 64;  // descriptor sets one batch may allocate

bool force_staging() {
  const char* v = std::getenv("XK_VULKAN_FORCE_STAGING");
  return v && *v && v[0] != '0';
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Buffers

VkBuf::VkBuf(Context& ctx, size_t n, bool host_visible) {
  const Api& a = api();
  const VkDevice dev = ctx.device();
  bytes = n;
  const PhysicalDevice& pd = ctx.physical();
  const std::string need = std::to_string(n) + " bytes requested";
  // Rounding up to 16 bytes would wrap to a tiny buffer for n near SIZE_MAX.
  if (n > std::numeric_limits<VkDeviceSize>::max() - 15)
    throw Error("alloc", "bytes",
                "out of device memory: " + need + " cannot be rounded up to a multiple of 16 bytes");
  capacity = std::max<VkDeviceSize>(16, (n + 15) / 16 * 16);
  if (capacity > pd.max_allocation)
    throw Error("alloc", "bytes",
                "out of device memory: " + need + ", the device's largest allocation is " +
                    std::to_string(pd.max_allocation) + " bytes (maxMemoryAllocationSize)");
  auto out_of_memory = [&](VkResult r, const char* call) {
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
      throw Error("alloc", "bytes",
                  "out of device memory: " + need + " (" + call + ": " + result_name(r) + ")");
    return r;
  };
  auto bi = make<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  bi.size = capacity;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
             VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  buffer_ = create<UniqueBuffer>(dev, "alloc", "vkCreateBuffer", [&](VkBuffer* h) {
    return out_of_memory(a.vkCreateBuffer(dev, &bi, nullptr, h), "vkCreateBuffer");
  });

  // From here on a throw destroys buffer_ (and memory_, once made) with this object.
  VkMemoryRequirements req;
  a.vkGetBufferMemoryRequirements(dev, buffer_.get(), &req);
  auto ai = make<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = ctx.memory_type(req.memoryTypeBits, host_visible);
  const uint32_t heap = pd.memory.memoryTypes[ai.memoryTypeIndex].heapIndex;
  if (req.size > pd.memory.memoryHeaps[heap].size)
    throw Error("alloc", "bytes",
                "out of device memory: " + need + ", memory heap " + std::to_string(heap) + " has " +
                    std::to_string(pd.memory.memoryHeaps[heap].size) + " bytes");
  memory_ = create<UniqueMemory>(dev, "alloc", "vkAllocateMemory", [&](VkDeviceMemory* h) {
    return out_of_memory(a.vkAllocateMemory(dev, &ai, nullptr, h), "vkAllocateMemory");
  });
  check(a.vkBindBufferMemory(dev, buffer_.get(), memory_.get(), 0), "alloc", "vkBindBufferMemory");
  if (host_visible)
    check(a.vkMapMemory(dev, memory_.get(), 0, VK_WHOLE_SIZE, 0, &mapped), "alloc", "vkMapMemory");
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

  // VK_KHR_cooperative_matrix's feature struct (type 1000506000; Debian 12's headers
  // predate the extension): sType, pNext, cooperativeMatrix, robustBufferAccess.
  struct {
    VkStructureType sType = static_cast<VkStructureType>(1000506000);
    void* pNext = nullptr;
    VkBool32 cooperativeMatrix = VK_TRUE, robustBufferAccess = VK_FALSE;
  } coopmat;
  const char* coopmat_ext = "VK_KHR_cooperative_matrix";
  // The coopmat modules are SPIR-V 1.6 on the Vulkan memory model, which Vulkan 1.3 makes
  // mandatory (vulkanMemoryModel): enabled together, only on 1.3 devices.
  const bool coopmat_on = pd_.coopmat && pd_.api_version >= VK_API_VERSION_1_3;
  f12.vulkanMemoryModel = coopmat_on;
  if (coopmat_on) f12.pNext = &coopmat;

  auto di = make<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
  di.pNext = &f2;
  di.enabledExtensionCount = coopmat_on ? 1 : 0;
  di.ppEnabledExtensionNames = &coopmat_ext;
  di.queueCreateInfoCount = 1;
  di.pQueueCreateInfos = &qi;
  device_ = create<UniqueDevice>({}, "open_device", "vkCreateDevice",
                                 [&](VkDevice* h) { return a.vkCreateDevice(pd_.handle, &di, nullptr, h); });
  const VkDevice dev = device_.get();
  a.vkGetDeviceQueue(dev, pd_.compute_queue_family, 0, &queue_);

  auto cpi = make<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
  cpi.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
  cpi.queueFamilyIndex = pd_.compute_queue_family;
  cmd_pool_ = create<UniqueCommandPool>(dev, "open_device", "vkCreateCommandPool", [&](VkCommandPool* h) {
    return a.vkCreateCommandPool(dev, &cpi, nullptr, h);
  });

  VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerBatch * kMaxBindings};
  auto dpi = make<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
  dpi.maxSets = kSetsPerBatch;
  dpi.poolSizeCount = 1;
  dpi.pPoolSizes = &ps;
  desc_pool_ = create<UniqueDescriptorPool>(
      dev, "open_device", "vkCreateDescriptorPool",
      [&](VkDescriptorPool* h) { return a.vkCreateDescriptorPool(dev, &dpi, nullptr, h); });

  if (pd_.timestamp_valid_bits > 0) {
    auto qpi = make<VkQueryPoolCreateInfo>(VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
    qpi.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qpi.queryCount = 2;
    query_pool_ = create<UniqueQueryPool>(dev, "open_device", "vkCreateQueryPool", [&](VkQueryPool* h) {
      return a.vkCreateQueryPool(dev, &qpi, nullptr, h);
    });
  }
  auto fi = make<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
  fence_ = create<UniqueFence>(dev, "open_device", "vkCreateFence",
                               [&](VkFence* h) { return a.vkCreateFence(dev, &fi, nullptr, h); });

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

// Work in flight must finish before its objects go; the members then destroy themselves,
// children before the device.
Context::~Context() {
  if (device_) api().vkDeviceWaitIdle(device_.get());
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

const Context::Layouts& Context::layouts(uint32_t bindings) {
  auto it = layouts_.find(bindings);
  if (it != layouts_.end()) return it->second;
  const Api& a = api();
  const VkDevice dev = device_.get();
  std::vector<VkDescriptorSetLayoutBinding> b(bindings);
  for (uint32_t i = 0; i < bindings; ++i)
    b[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  auto li = make<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
  li.bindingCount = bindings;
  li.pBindings = b.data();
  Layouts l;
  l.set = create<UniqueSetLayout>(
      dev, "vulkan", "vkCreateDescriptorSetLayout",
      [&](VkDescriptorSetLayout* h) { return a.vkCreateDescriptorSetLayout(dev, &li, nullptr, h); });
  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes};
  auto pli = make<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
  pli.setLayoutCount = 1;
  pli.pSetLayouts = l.set.address();
  pli.pushConstantRangeCount = 1;
  pli.pPushConstantRanges = &range;
  l.pipeline = create<UniquePipelineLayout>(
      dev, "vulkan", "vkCreatePipelineLayout",
      [&](VkPipelineLayout* h) { return a.vkCreatePipelineLayout(dev, &pli, nullptr, h); });
  return layouts_[bindings] = std::move(l);
}

const Pipeline& Context::pipeline(const char* shader, const std::vector<uint32_t>& spec, uint32_t bindings) {
  const Spirv code = find_spirv(shader);
  if (!code.words) throw Error("vulkan", std::string("no SPIR-V module named '") + shader + "' was built");
  return pipeline(shader, code, spec, bindings);
}

const Pipeline& Context::pipeline(const char* name, Spirv code, const std::vector<uint32_t>& spec,
                                  uint32_t bindings) {
  std::string key = name;
  for (uint32_t s : spec) key.append(",").append(std::to_string(s));
  key.append("/").append(std::to_string(bindings));
  auto it = pipelines_.find(key);
  if (it != pipelines_.end()) return it->second;

  const Api& a = api();
  const VkDevice dev = device_.get();
  if (!code.words || code.count == 0) throw Error("vulkan", std::string("empty SPIR-V for '") + name + "'");
  if (bindings > kMaxBindings) throw Error("vulkan", "too many buffer bindings for one dispatch");
  const Layouts& l = layouts(bindings);
  Pipeline p;
  p.name = name;
  p.set_layout = l.set.get();
  p.layout = l.pipeline.get();
  p.bindings = bindings;

  auto mi = make<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
  mi.codeSize = code.count * sizeof(uint32_t);
  mi.pCode = code.words;
  // Only needed until the pipeline exists: destroyed on leaving, whether or not that succeeded.
  const auto module = create<UniqueShaderModule>(
      dev, "vulkan", "vkCreateShaderModule",
      [&](VkShaderModule* h) { return a.vkCreateShaderModule(dev, &mi, nullptr, h); });

  std::vector<VkSpecializationMapEntry> entries(spec.size());
  for (uint32_t i = 0; i < spec.size(); ++i) entries[i] = {i, i * 4u, 4};
  VkSpecializationInfo si{static_cast<uint32_t>(entries.size()), entries.data(), spec.size() * 4,
                          spec.data()};
  auto ci = make<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
  ci.stage = make<VkPipelineShaderStageCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO);
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module.get();
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = spec.empty() ? nullptr : &si;
  ci.layout = p.layout;
  p.pipeline = create<UniquePipeline>(
      dev, "vulkan", (std::string("vkCreateComputePipelines(") + name + ")").c_str(),
      [&](VkPipeline* h) { return a.vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &ci, nullptr, h); });
  instance_->throw_if_validation_failed(std::string("pipeline creation for ") + name);
  return pipelines_[key] = std::move(p);
}

// ---------------------------------------------------------------------------------------
// Batches

Batch::Batch(Context& ctx, std::string label, bool timing) : ctx_(ctx), label_(std::move(label)) {
  const Api& a = api();
  timing_ = timing && ctx.query_pool_;
  const VkDevice dev = ctx.device();
  // The command buffer and descriptor sets belong to the pools: resetting them recycles the
  // previous batch's, and the pools' destruction frees them.
  check(a.vkResetCommandPool(dev, ctx.cmd_pool_.get(), 0), "vulkan", "vkResetCommandPool");
  check(a.vkResetDescriptorPool(dev, ctx.desc_pool_.get(), 0), "vulkan", "vkResetDescriptorPool");
  auto ai = make<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
  ai.commandPool = ctx.cmd_pool_.get();
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  check(a.vkAllocateCommandBuffers(dev, &ai, &cmd_), "vulkan", "vkAllocateCommandBuffers");
  auto bi = make<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(a.vkBeginCommandBuffer(cmd_, &bi), "vulkan", "vkBeginCommandBuffer");
  if (a.vkCmdBeginDebugUtilsLabelEXT) {
    auto l = make<VkDebugUtilsLabelEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_LABEL_EXT);
    l.pLabelName = label_.c_str();
    a.vkCmdBeginDebugUtilsLabelEXT(cmd_, &l);
  }
  if (timing_) {
    a.vkCmdResetQueryPool(cmd_, ctx.query_pool_.get(), 0, 2);
    a.vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, ctx.query_pool_.get(), 0);
  }
}

// A batch abandoned by an exception is never submitted; its command buffer returns to the
// pool at the next reset.
Batch::~Batch() = default;

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

const Pipeline& Batch::pipeline_for(const char* shader, const std::vector<uint32_t>& spec,
                                    uint32_t bindings) {
  return ctx_.pipeline(shader, spec, bindings);
}

void Batch::dispatch_raw(const Pipeline& p, const std::vector<const VkBuf*>& buffers, const void* push,
                         size_t push_bytes, std::array<uint32_t, 3> groups) {
  const Api& a = api();
  const VkDevice dev = ctx_.device();
  const auto nb = static_cast<uint32_t>(buffers.size());
  if (nb != p.bindings)
    throw Error("vulkan", "pipeline " + p.name + " has " + std::to_string(p.bindings) +
                              " bindings, dispatch gave " + std::to_string(nb) + " buffers");
  auto ai = make<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
  ai.descriptorPool = ctx_.desc_pool_.get();
  ai.descriptorSetCount = 1;
  ai.pSetLayouts = &p.set_layout;
  VkDescriptorSet set;  // freed with the pool's next reset
  check(a.vkAllocateDescriptorSets(dev, &ai, &set), "vulkan", "vkAllocateDescriptorSets");
  std::vector<VkDescriptorBufferInfo> infos(nb);
  std::vector<VkWriteDescriptorSet> writes(nb);
  for (uint32_t i = 0; i < nb; ++i) {
    infos[i] = {buffers[i]->buffer(), 0, VK_WHOLE_SIZE};
    writes[i] = make<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
    writes[i].dstSet = set;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  a.vkUpdateDescriptorSets(dev, nb, writes.data(), 0, nullptr);

  barrier();
  if (a.vkCmdBeginDebugUtilsLabelEXT) {
    auto l = make<VkDebugUtilsLabelEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_LABEL_EXT);
    const std::string name = label_ + ":" + p.name;
    l.pLabelName = name.c_str();
    a.vkCmdBeginDebugUtilsLabelEXT(cmd_, &l);
  }
  a.vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline.get());
  a.vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &set, 0, nullptr);
  // The layout's range is 128 bytes; push the whole struct, which is at most that.
  a.vkCmdPushConstants(cmd_, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, static_cast<uint32_t>(push_bytes),
                       push);
  a.vkCmdDispatch(cmd_, groups[0], groups[1], groups[2]);
  if (a.vkCmdEndDebugUtilsLabelEXT) a.vkCmdEndDebugUtilsLabelEXT(cmd_);
}

void Batch::copy(const VkBuf& src, size_t src_off, const VkBuf& dst, size_t dst_off, size_t bytes) {
  barrier();
  VkBufferCopy region{src_off, dst_off, bytes};
  api().vkCmdCopyBuffer(cmd_, src.buffer(), dst.buffer(), 1, &region);
}

double Batch::run() {
  const Api& a = api();
  const VkDevice dev = ctx_.device();
  // The host reads results through mapped memory once the fence signals: make the batch's
  // writes available to it (Vulkan spec, "Host Write Ordering Guarantees" and the host
  // access scope of pipeline barriers).
  auto mb = make<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  a.vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  if (timing_) a.vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ctx_.query_pool_.get(), 1);
  if (a.vkCmdEndDebugUtilsLabelEXT) a.vkCmdEndDebugUtilsLabelEXT(cmd_);
  check(a.vkEndCommandBuffer(cmd_), "vulkan", "vkEndCommandBuffer");
  check(a.vkResetFences(dev, 1, ctx_.fence_.address()), "vulkan", "vkResetFences");
  auto si = make<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd_;
  check(a.vkQueueSubmit(ctx_.queue_, 1, &si, ctx_.fence_.get()), "vulkan",
        (std::string("vkQueueSubmit(") + label_ + ")").c_str());
  submitted_ = true;
  check(a.vkWaitForFences(dev, 1, ctx_.fence_.address(), VK_TRUE, UINT64_MAX), "vulkan",
        (std::string("vkWaitForFences(") + label_ + ")").c_str());
  ctx_.instance().throw_if_validation_failed(label_);
  if (!timing_) return -1;
  uint64_t ts[2] = {0, 0};
  check(a.vkGetQueryPoolResults(dev, ctx_.query_pool_.get(), 0, 2, sizeof(ts), ts, sizeof(uint64_t),
                                VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
        "vulkan", "vkGetQueryPoolResults");
  const uint64_t mask =
      ctx_.pd_.timestamp_valid_bits >= 64 ? ~0ull : ((1ull << ctx_.pd_.timestamp_valid_bits) - 1);
  return static_cast<double>((ts[1] - ts[0]) & mask) * ctx_.pd_.props.limits.timestampPeriod * 1e-9;
}

}  // namespace xk::vk
