#include "vk_api.h"

#include <dlfcn.h>

#include <cstdlib>

#include "xk/error.h"

namespace xk::vk {

Api& api() {
  static Api table;
  return table;
}

std::string load_loader() {
  Api& a = api();
  if (a.vkGetInstanceProcAddr) return "";
  const char* env = std::getenv("XK_VULKAN_LOADER");
  const std::string file = env && *env ? env : "libvulkan.so.1";
  // The handle is kept for the life of the process: Vulkan objects may outlive any scope here.
  void* lib = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    return "no Vulkan loader: dlopen(" + file + ") failed: " + (why ? why : "unknown error");
  }
  a.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
  if (!a.vkGetInstanceProcAddr) return "no Vulkan loader: " + file + " lacks vkGetInstanceProcAddr";
#define XK_VK_LOAD_GLOBAL(fn) a.fn = reinterpret_cast<PFN_##fn>(a.vkGetInstanceProcAddr(nullptr, #fn));
  XK_VK_GLOBAL_FUNCTIONS(XK_VK_LOAD_GLOBAL)
#undef XK_VK_LOAD_GLOBAL
  if (!a.vkCreateInstance) return "no Vulkan loader: vkCreateInstance not found in " + file;
  return "";
}

std::string load_instance_functions(VkInstance instance, bool debug_utils) {
  Api& a = api();
#define XK_VK_LOAD_INSTANCE(fn)                                              \
  a.fn = reinterpret_cast<PFN_##fn>(a.vkGetInstanceProcAddr(instance, #fn)); \
  if (!a.fn) return #fn;
  XK_VK_INSTANCE_FUNCTIONS(XK_VK_LOAD_INSTANCE)
#undef XK_VK_LOAD_INSTANCE
  if (debug_utils) {
#define XK_VK_LOAD_DEBUG(fn) a.fn = reinterpret_cast<PFN_##fn>(a.vkGetInstanceProcAddr(instance, #fn));
    XK_VK_DEBUG_FUNCTIONS(XK_VK_LOAD_DEBUG)
#undef XK_VK_LOAD_DEBUG
  }
  return "";
}

const char* result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS:
      return "VK_SUCCESS";
    case VK_NOT_READY:
      return "VK_NOT_READY";
    case VK_TIMEOUT:
      return "VK_TIMEOUT";
    case VK_INCOMPLETE:
      return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY:
      return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
      return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED:
      return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST:
      return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED:
      return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT:
      return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT:
      return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT:
      return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER:
      return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS:
      return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED:
      return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL:
      return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY:
      return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default:
      return "VkResult (unnamed)";
  }
}

void check(VkResult r, const char* op, const char* what) {
  if (r == VK_SUCCESS) return;
  throw Error(op, std::string(what) + " failed: " + result_name(r) + " (" +
                      std::to_string(static_cast<int>(r)) + ")");
}

}  // namespace xk::vk
