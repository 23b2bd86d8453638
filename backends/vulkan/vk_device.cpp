#include "vk_device.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "backends/core/variant_row.h"
#include "spirv.h"
#include "weights_pack.h"
#include "xk/error.h"

namespace xk::vk {

namespace {

const char* kPackedKey = "vk_soa";  // xk::packed key of the repacked weights

std::string version_str(uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

// "llvmpipe (LLVM 15.0.6, 256 bits)" -> "llvmpipe"; "NVIDIA GB10" -> "nvidia_gb10".
std::string arch_of(const std::string& device_name) {
  std::string s = device_name.substr(0, device_name.find(" ("));
  for (char& c : s)
    c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  return s;
}

}  // namespace

DeviceInfo describe_device(const PhysicalDevice& pd, int index, bool unified, bool validation) {
  DeviceInfo i;
  i.name = "vulkan:" + std::to_string(index);
  i.api = "vulkan";
  i.arch = arch_of(pd.props.deviceName);
  i.description = std::string(pd.props.deviceName) + ", Vulkan " + version_str(pd.api_version);
  for (uint32_t h = 0; h < pd.memory.memoryHeapCount; ++h)
    if (pd.memory.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      i.memory_bytes += pd.memory.memoryHeaps[h].size;
  i.unified_memory = unified;
  i.subgroup_size = static_cast<int>(pd.subgroup_size);
  // Core Vulkan does not report SMs/CUs; lavapipe runs one thread per host core.
  i.compute_units = pd.props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU
                        ? static_cast<int>(std::thread::hardware_concurrency())
                        : 0;
  auto add = [&](bool on, const char* f) {
    if (on) i.features.push_back(f);
  };
  add(pd.fp16, "fp16");
  add(pd.int8, "int8");
  add(pd.int16, "int16");
  add(pd.storage8, "storage8");
  add(pd.storage16, "storage16");
  add(pd.subgroup_ops & VK_SUBGROUP_FEATURE_BASIC_BIT, "subgroup_basic");
  add(pd.subgroup_ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT, "subgroup_arith");
  add(pd.subgroup_ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT, "subgroup_shuffle");
  add(pd.int_dot, "int_dot");
  add(pd.int_dot_accelerated, "int_dot_accel");
  add(pd.coopmat, "coopmat");
  add(pd.timestamp_valid_bits > 0, "timestamps");
  add(validation, "validation");
  i.features.push_back("shared_" + std::to_string(pd.props.limits.maxComputeSharedMemorySize / 1024) + "k");
  return i;
}

// VK_KHR_cooperative_matrix (Vulkan registry, extension 507): Debian 12's headers (1.3.239)
// predate it, so the query's types are restated from the specification here, with the
// values the registry assigns (enum base 1000000000 + (507 - 1) * 1000).
namespace {
constexpr auto kCoopmatPropertiesType = static_cast<VkStructureType>(1000506001);
constexpr int32_t kComponentFloat16 = 0, kComponentFloat32 = 1;  // VkComponentTypeKHR
constexpr int32_t kScopeSubgroup = 3;                            // VkScopeKHR
struct CoopmatProperties {                                       // VkCooperativeMatrixPropertiesKHR
  VkStructureType sType;
  void* pNext;
  uint32_t MSize, NSize, KSize;
  int32_t AType, BType, CType, ResultType;
  VkBool32 saturatingAccumulation;
  int32_t scope;
};
using PfnCoopmatProperties = VkResult(VKAPI_PTR*)(VkPhysicalDevice, uint32_t*, CoopmatProperties*);
}  // namespace

std::vector<CoopmatShape> coopmat_f16_shapes(VkInstance instance, const PhysicalDevice& pd) {
  if (!pd.coopmat || !api().vkGetInstanceProcAddr) return {};
  const auto query = reinterpret_cast<PfnCoopmatProperties>(
      api().vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR"));
  if (!query) return {};
  uint32_t count = 0;
  if (query(pd.handle, &count, nullptr) != VK_SUCCESS) return {};
  CoopmatProperties blank{};
  blank.sType = kCoopmatPropertiesType;
  std::vector<CoopmatProperties> props(count, blank);
  if (query(pd.handle, &count, props.data()) != VK_SUCCESS) return {};
  std::vector<CoopmatShape> out;
  for (const CoopmatProperties& p : props)
    if (p.AType == kComponentFloat16 && p.BType == kComponentFloat16 && p.CType == kComponentFloat32 &&
        p.ResultType == kComponentFloat32 && p.scope == kScopeSubgroup && !p.saturatingAccumulation)
      out.push_back({p.MSize, p.NSize, p.KSize});
  return out;
}

std::string coopmat_device_lacks(const PhysicalDevice& pd, const std::vector<CoopmatShape>& shapes) {
  if (!pd.coopmat) return "device lacks VK_KHR_cooperative_matrix";
  if (pd.api_version < VK_API_VERSION_1_3)
    return "device lacks Vulkan 1.3 (the modules are SPIR-V 1.6 on the Vulkan memory model)";
  if (!pd.fp16) return "device lacks shaderFloat16 (the FP16 tiles in shared memory)";
  if (shapes.empty()) return "device lacks an FP16 x FP16 -> FP32 subgroup cooperative-matrix shape";
  return "";
}

VulkanDevice::VulkanDevice(std::shared_ptr<Instance> instance, const PhysicalDevice& pd, int index) {
  const bool validation = instance->validation();
  ctx_ = std::make_shared<Context>(std::move(instance), pd);
  info_ = describe_device(pd, index, ctx_->unified(), validation);
  info_.description += ctx_->unified() ? ", unified memory" : ", staging copies";
  auto& rows = DeviceAccess::variants(*this);
  const std::vector<CoopmatShape> coopmat = coopmat_f16_shapes(ctx_->instance().handle(), pd);
  add_matmul_variants(pd, coopmat, rows);
  add_attention_variants(pd, coopmat, rows);
  // The shader list is written in CMakeLists.txt (one SPIR-V module per format x activation);
  // a row naming a module the build did not make is a table bug, caught when the device opens.
  for (const Variant& v : rows)
    for (const auto* names : {&v.kernels, &v.helpers})
      for (const std::string& shader : *names)
        if (!find_spirv(shader).words)
          throw std::logic_error("vulkan variant " + v.name + " launches pipeline '" + shader +
                                 "', which backends/vulkan/CMakeLists.txt does not compile");
}

VulkanDevice::~VulkanDevice() = default;

std::unique_ptr<BufferImpl> VulkanDevice::allocate(size_t bytes) {
  std::unique_ptr<VkBuf> b = ctx_->alloc(bytes);
  b->keep_alive = ctx_;
  return b;
}

void VulkanDevice::write_bytes(Buffer& dst, size_t offset, const void* src, size_t bytes) {
  ctx_->write(vkbuf(dst), offset, src, bytes);
}

void VulkanDevice::read_bytes(const Buffer& src, size_t offset, void* dst, size_t bytes) {
  ctx_->read(vkbuf(src), offset, dst, bytes);
}

void VulkanDevice::synchronize() {
  // Every batch already waited on its fence; this only surfaces late validation messages.
  check(api().vkDeviceWaitIdle(ctx_->device()), "synchronize", "vkDeviceWaitIdle");
  ctx_->instance().throw_if_validation_failed("synchronize");
}

void VulkanDevice::prepare_weights(Tensor& w) {
  if (w.shape.size() != 2 || !traits(w.dtype).quantized) return;  // float weights: not used by these kernels
  packed_weights(w);
}

const VkBuf& VulkanDevice::packed_weights(const Tensor& w) {
  return vkbuf(packed(w, kPackedKey, [&](const std::vector<uint8_t>& gguf) {
    const std::vector<uint32_t> words = pack_weights(w.dtype, gguf.data(), w.shape[0], w.shape[1]);
    std::vector<uint8_t> bytes(words.size() * sizeof(uint32_t));
    if (!bytes.empty()) std::memcpy(bytes.data(), words.data(), bytes.size());  // empty W: data() may be null
    return bytes;
  }));
}

}  // namespace xk::vk
