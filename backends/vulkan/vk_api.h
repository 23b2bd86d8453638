// The Vulkan entry points xkern uses, loaded at run time from the loader (libvulkan.so.1)
// with dlopen, so that a machine without a Vulkan loader still runs every other backend
// and `xk devices` can say why Vulkan is absent instead of failing to start.
//
// One table per process: the entry points are fetched once through vkGetInstanceProcAddr
// of the process-wide instance (vk_instance.cpp); device-level functions fetched that way
// go through the loader's trampolines, which is fine for a launch-per-op runtime.
#pragma once
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <string>

namespace xk::vk {

// Global commands (no instance yet). Vulkan spec 1.3, section 4.1 "Command Function Pointers".
#define XK_VK_GLOBAL_FUNCTIONS(X)            \
  X(vkCreateInstance)                        \
  X(vkEnumerateInstanceLayerProperties)      \
  X(vkEnumerateInstanceExtensionProperties)  \
  X(vkEnumerateInstanceVersion)

#define XK_VK_INSTANCE_FUNCTIONS(X)              \
  X(vkDestroyInstance)                           \
  X(vkEnumeratePhysicalDevices)                  \
  X(vkGetPhysicalDeviceProperties)               \
  X(vkGetPhysicalDeviceProperties2)              \
  X(vkGetPhysicalDeviceFeatures2)                \
  X(vkGetPhysicalDeviceMemoryProperties)         \
  X(vkGetPhysicalDeviceQueueFamilyProperties)    \
  X(vkEnumerateDeviceExtensionProperties)        \
  X(vkCreateDevice)                              \
  X(vkDestroyDevice)                             \
  X(vkGetDeviceQueue)                            \
  X(vkCreateBuffer)                              \
  X(vkDestroyBuffer)                             \
  X(vkGetBufferMemoryRequirements)               \
  X(vkAllocateMemory)                            \
  X(vkFreeMemory)                                \
  X(vkBindBufferMemory)                          \
  X(vkMapMemory)                                 \
  X(vkUnmapMemory)                               \
  X(vkCreateShaderModule)                        \
  X(vkDestroyShaderModule)                       \
  X(vkCreateDescriptorSetLayout)                 \
  X(vkDestroyDescriptorSetLayout)                \
  X(vkCreatePipelineLayout)                      \
  X(vkDestroyPipelineLayout)                     \
  X(vkCreateComputePipelines)                    \
  X(vkDestroyPipeline)                           \
  X(vkCreateDescriptorPool)                      \
  X(vkDestroyDescriptorPool)                     \
  X(vkResetDescriptorPool)                       \
  X(vkAllocateDescriptorSets)                    \
  X(vkUpdateDescriptorSets)                      \
  X(vkCreateCommandPool)                         \
  X(vkDestroyCommandPool)                        \
  X(vkAllocateCommandBuffers)                    \
  X(vkResetCommandPool)                          \
  X(vkBeginCommandBuffer)                        \
  X(vkEndCommandBuffer)                          \
  X(vkCmdBindPipeline)                           \
  X(vkCmdBindDescriptorSets)                     \
  X(vkCmdPushConstants)                          \
  X(vkCmdDispatch)                               \
  X(vkCmdPipelineBarrier)                        \
  X(vkCmdCopyBuffer)                             \
  X(vkCmdResetQueryPool)                         \
  X(vkCmdWriteTimestamp)                         \
  X(vkCreateQueryPool)                           \
  X(vkDestroyQueryPool)                          \
  X(vkGetQueryPoolResults)                       \
  X(vkCreateFence)                               \
  X(vkDestroyFence)                              \
  X(vkResetFences)                               \
  X(vkWaitForFences)                             \
  X(vkQueueSubmit)                               \
  X(vkDeviceWaitIdle)

// VK_EXT_debug_utils: present only when the extension was enabled (null otherwise).
#define XK_VK_DEBUG_FUNCTIONS(X)           \
  X(vkCreateDebugUtilsMessengerEXT)        \
  X(vkDestroyDebugUtilsMessengerEXT)       \
  X(vkCmdBeginDebugUtilsLabelEXT)          \
  X(vkCmdEndDebugUtilsLabelEXT)

struct Api {
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
#define XK_VK_DECLARE(fn) PFN_##fn fn = nullptr;
  XK_VK_GLOBAL_FUNCTIONS(XK_VK_DECLARE)
  XK_VK_INSTANCE_FUNCTIONS(XK_VK_DECLARE)
  XK_VK_DEBUG_FUNCTIONS(XK_VK_DECLARE)
#undef XK_VK_DECLARE
};

// The process-wide table. Filled by load_loader() and load_instance_functions().
Api& api();

// dlopen()s the loader (XK_VULKAN_LOADER overrides the file name, which the bad-input tests
// use to simulate a machine without one). Returns "" on success, else why it failed.
std::string load_loader();
// Fetches every instance-level entry point; returns the first missing name or "".
std::string load_instance_functions(VkInstance instance, bool debug_utils);

// A zero-initialised Vulkan struct with its sType set (every other field 0 / nullptr).
template <class T>
T make(VkStructureType type) {
  T s{};
  s.sType = type;
  return s;
}

// "VK_ERROR_OUT_OF_DEVICE_MEMORY" etc., for error messages.
const char* result_name(VkResult r);
// Throws xk::Error(op, "<what> failed: <VkResult name>") unless r is VK_SUCCESS.
void check(VkResult r, const char* op, const char* what);

}  // namespace xk::vk
