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
#include <utility>

namespace xk::vk {

// Global commands (no instance yet). Vulkan spec 1.3, section 4.1 "Command Function Pointers".
#define XK_VK_GLOBAL_FUNCTIONS(X)           \
  X(vkCreateInstance)                       \
  X(vkEnumerateInstanceLayerProperties)     \
  X(vkEnumerateInstanceExtensionProperties) \
  X(vkEnumerateInstanceVersion)

#define XK_VK_INSTANCE_FUNCTIONS(X)           \
  X(vkDestroyInstance)                        \
  X(vkEnumeratePhysicalDevices)               \
  X(vkGetPhysicalDeviceProperties)            \
  X(vkGetPhysicalDeviceProperties2)           \
  X(vkGetPhysicalDeviceFeatures2)             \
  X(vkGetPhysicalDeviceMemoryProperties)      \
  X(vkGetPhysicalDeviceQueueFamilyProperties) \
  X(vkEnumerateDeviceExtensionProperties)     \
  X(vkCreateDevice)                           \
  X(vkDestroyDevice)                          \
  X(vkGetDeviceQueue)                         \
  X(vkCreateBuffer)                           \
  X(vkDestroyBuffer)                          \
  X(vkGetBufferMemoryRequirements)            \
  X(vkAllocateMemory)                         \
  X(vkFreeMemory)                             \
  X(vkBindBufferMemory)                       \
  X(vkMapMemory)                              \
  X(vkUnmapMemory)                            \
  X(vkCreateShaderModule)                     \
  X(vkDestroyShaderModule)                    \
  X(vkCreateDescriptorSetLayout)              \
  X(vkDestroyDescriptorSetLayout)             \
  X(vkCreatePipelineLayout)                   \
  X(vkDestroyPipelineLayout)                  \
  X(vkCreateComputePipelines)                 \
  X(vkDestroyPipeline)                        \
  X(vkCreateDescriptorPool)                   \
  X(vkDestroyDescriptorPool)                  \
  X(vkResetDescriptorPool)                    \
  X(vkAllocateDescriptorSets)                 \
  X(vkUpdateDescriptorSets)                   \
  X(vkCreateCommandPool)                      \
  X(vkDestroyCommandPool)                     \
  X(vkAllocateCommandBuffers)                 \
  X(vkResetCommandPool)                       \
  X(vkBeginCommandBuffer)                     \
  X(vkEndCommandBuffer)                       \
  X(vkCmdBindPipeline)                        \
  X(vkCmdBindDescriptorSets)                  \
  X(vkCmdPushConstants)                       \
  X(vkCmdDispatch)                            \
  X(vkCmdPipelineBarrier)                     \
  X(vkCmdCopyBuffer)                          \
  X(vkCmdResetQueryPool)                      \
  X(vkCmdWriteTimestamp)                      \
  X(vkCreateQueryPool)                        \
  X(vkDestroyQueryPool)                       \
  X(vkGetQueryPoolResults)                    \
  X(vkCreateFence)                            \
  X(vkDestroyFence)                           \
  X(vkResetFences)                            \
  X(vkWaitForFences)                          \
  X(vkQueueSubmit)                            \
  X(vkDeviceWaitIdle)

// VK_EXT_debug_utils: present only when the extension was enabled (null otherwise).
#define XK_VK_DEBUG_FUNCTIONS(X)     \
  X(vkCreateDebugUtilsMessengerEXT)  \
  X(vkDestroyDebugUtilsMessengerEXT) \
  X(vkCmdBeginDebugUtilsLabelEXT)    \
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

// ---- Ownership ---------------------------------------------------------------------------
// Every Vulkan object xkern creates is held by one Unique: the handle and the parent it was
// made from, destroyed exactly once by its destructor (through the loaded table, so a test
// that wraps the table sees every destroy), movable, never copied. Members are declared
// parent first, so a class's children go before their device, and a constructor that throws
// half-way destroys what it had made (the Vulkan-Hpp vulkan_raii.hpp model).
struct NoParent {};  // the parent of a VkInstance or VkDevice: they are destroyed on their own

template <class H, class Parent, void (*Destroy)(Parent, H)>
class Unique {
 public:
  using handle_type = H;
  using parent_type = Parent;
  Unique() = default;
  Unique(Parent parent, H handle) : parent_(parent), handle_(handle) {}
  ~Unique() { reset(); }
  Unique(Unique&& o) noexcept : parent_(o.parent_), handle_(std::exchange(o.handle_, H{})) {}
  Unique& operator=(Unique&& o) noexcept {
    if (this != &o) {
      reset();
      parent_ = o.parent_;
      handle_ = std::exchange(o.handle_, H{});
    }
    return *this;
  }
  Unique(const Unique&) = delete;
  Unique& operator=(const Unique&) = delete;

  H get() const { return handle_; }
  const H* address() const { return &handle_; }  // for the API's "count, pointer" arguments
  explicit operator bool() const { return handle_ != H{}; }
  void reset() {
    if (handle_ != H{}) Destroy(parent_, std::exchange(handle_, H{}));
  }

 private:
  Parent parent_{};
  H handle_{};
};

namespace destroy {
inline void instance(NoParent, VkInstance h) { api().vkDestroyInstance(h, nullptr); }
inline void messenger(VkInstance i, VkDebugUtilsMessengerEXT h) {
  api().vkDestroyDebugUtilsMessengerEXT(i, h, nullptr);
}
inline void device(NoParent, VkDevice h) { api().vkDestroyDevice(h, nullptr); }
// Freeing mapped memory unmaps it (Vulkan spec, vkFreeMemory).
inline void memory(VkDevice d, VkDeviceMemory h) { api().vkFreeMemory(d, h, nullptr); }
inline void buffer(VkDevice d, VkBuffer h) { api().vkDestroyBuffer(d, h, nullptr); }
inline void shader_module(VkDevice d, VkShaderModule h) { api().vkDestroyShaderModule(d, h, nullptr); }
inline void set_layout(VkDevice d, VkDescriptorSetLayout h) {
  api().vkDestroyDescriptorSetLayout(d, h, nullptr);
}
inline void pipeline_layout(VkDevice d, VkPipelineLayout h) { api().vkDestroyPipelineLayout(d, h, nullptr); }
inline void pipeline(VkDevice d, VkPipeline h) { api().vkDestroyPipeline(d, h, nullptr); }
// Destroying a pool frees the sets / command buffers allocated from it.
inline void descriptor_pool(VkDevice d, VkDescriptorPool h) { api().vkDestroyDescriptorPool(d, h, nullptr); }
inline void command_pool(VkDevice d, VkCommandPool h) { api().vkDestroyCommandPool(d, h, nullptr); }
inline void query_pool(VkDevice d, VkQueryPool h) { api().vkDestroyQueryPool(d, h, nullptr); }
inline void fence(VkDevice d, VkFence h) { api().vkDestroyFence(d, h, nullptr); }
}  // namespace destroy

using UniqueInstance = Unique<VkInstance, NoParent, destroy::instance>;
using UniqueMessenger = Unique<VkDebugUtilsMessengerEXT, VkInstance, destroy::messenger>;
using UniqueDevice = Unique<VkDevice, NoParent, destroy::device>;
using UniqueMemory = Unique<VkDeviceMemory, VkDevice, destroy::memory>;
using UniqueBuffer = Unique<VkBuffer, VkDevice, destroy::buffer>;
using UniqueShaderModule = Unique<VkShaderModule, VkDevice, destroy::shader_module>;
using UniqueSetLayout = Unique<VkDescriptorSetLayout, VkDevice, destroy::set_layout>;
using UniquePipelineLayout = Unique<VkPipelineLayout, VkDevice, destroy::pipeline_layout>;
using UniquePipeline = Unique<VkPipeline, VkDevice, destroy::pipeline>;
using UniqueDescriptorPool = Unique<VkDescriptorPool, VkDevice, destroy::descriptor_pool>;
using UniqueCommandPool = Unique<VkCommandPool, VkDevice, destroy::command_pool>;
using UniqueQueryPool = Unique<VkQueryPool, VkDevice, destroy::query_pool>;
using UniqueFence = Unique<VkFence, VkDevice, destroy::fence>;

// "VK_ERROR_OUT_OF_DEVICE_MEMORY" etc., for error messages.
const char* result_name(VkResult r);
// Throws xk::Error(op, "<what> failed: <VkResult name>") unless r is VK_SUCCESS.
void check(VkResult r, const char* op, const char* what);

// Runs a vkCreate*-style `call(handle_type*) -> VkResult` and takes ownership of what it made;
// throws as check() does when it fails (nothing is owned then, so nothing leaks).
template <class U, class Call>
U create(typename U::parent_type parent, const char* op, const char* what, Call&& call) {
  typename U::handle_type h{};
  check(call(&h), op, what);
  return U(parent, h);
}

}  // namespace xk::vk
