// The process-wide Vulkan instance: loader, optional Khronos validation layer, debug-utils
// messenger, and the list of physical devices with their capabilities.
//
// Validation policy (also in backends/vulkan/README.md):
//   * Validation is requested by XK_VULKAN_VALIDATION=1, or by VK_INSTANCE_LAYERS /
//     VK_LOADER_LAYERS_ENABLE mentioning "validation". The instance then enables
//     VK_LAYER_KHRONOS_validation by name, so vkCreateInstance really loads it. If the
//     loader does not enumerate it (not installed, VK_LAYER_PATH elsewhere), or
//     VK_INSTANCE_LAYERS names any layer the loader lacks (a misspelling), every
//     synchronisation point throws xk::Error("vulkan", "validation requested but not
//     active: <why>"): a test run that asked for validation never passes without it.
//   * Whether the layer came from XK_VULKAN_VALIDATION or from VK_INSTANCE_LAYERS, a
//     debug-utils messenger records every validation message of WARNING or ERROR severity.
//     The next synchronisation point of any device (launch, copy, synchronize) throws
//     xk::Error("vulkan", "validation: <message>") - so any validation message fails the
//     test that caused it.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vk_api.h"
#include "xk/tensor.h"

namespace xk::vk {

// What the backend needs to know about one physical device.
struct PhysicalDevice {
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties props{};
  VkPhysicalDeviceMemoryProperties memory{};
  uint32_t compute_queue_family = UINT32_MAX;
  uint32_t timestamp_valid_bits = 0;
  uint32_t api_version = 0;
  uint32_t subgroup_size = 1;
  uint32_t subgroup_ops = 0;         // VkSubgroupFeatureFlags supported in compute
  bool subgroup_size_fixed = false;  // minSubgroupSize == maxSubgroupSize (Vulkan 1.3)
  uint64_t max_allocation = 0, max_buffer = 0;
  uint64_t max_storage_range = 0;  // maxStorageBufferRange: the largest buffer one binding may cover
  // Features this runtime enables when present (Vulkan 1.1/1.2/1.3 core feature structs).
  bool fp16 = false, int8 = false, int16 = false, storage8 = false, storage16 = false;
  bool int_dot = false, int_dot_accelerated = false, coopmat = false;
  bool timeline = false;
  std::string reason_unusable;  // "" when the backend can run on it
};

class Instance {
 public:
  // The instance, or nullptr with *why set (no loader, no driver, layer missing).
  static std::shared_ptr<Instance> get(std::string* why);
  // A new instance besides the process-wide one, made as get() makes that one (nullptr with
  // *why set): for tests that make and drop instances (tests/vulkan/vk_raii_test.cpp).
  static std::shared_ptr<Instance> create_new(std::string* why);
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  VkInstance handle() const { return instance_.get(); }
  bool debug_utils() const { return debug_utils_; }
  bool validation() const { return validation_; }
  const std::vector<PhysicalDevice>& devices() const { return devices_; }

  // Validation messages recorded since the last call (and clears them).
  std::vector<std::string> take_messages();
  // Throws xk::Error("vulkan", "validation: ...") when any message was recorded.
  void throw_if_validation_failed(const std::string& during);

 private:
  Instance() = default;
  std::string init();
  // Validation counts as requested by XK_VULKAN_VALIDATION=1 or when VK_INSTANCE_LAYERS or
  // VK_LOADER_LAYERS_ENABLE mentions "validation".
  static bool validation_requested();
  // Why requested layers cannot be active ("" when they can): a name in VK_INSTANCE_LAYERS
  // the loader does not enumerate, or requested validation without the Khronos layer.
  static std::string check_requested_layers(const std::function<bool(std::string_view)>& enumerated);
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT type,
                                                   const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                   void* self);
  // Before the handles: members are destroyed in reverse order, so the list outlives
  // vkDestroyInstance, whose validation messages can still arrive through on_message.
  std::vector<std::string> messages_;
  UniqueInstance instance_;  // before the messenger: the messenger made from it goes first
  UniqueMessenger messenger_;
  bool debug_utils_ = false, validation_ = false;
  std::vector<PhysicalDevice> devices_;
  std::string layer_problem_;  // check_requested_layers(): every validation check throws it
};

}  // namespace xk::vk
