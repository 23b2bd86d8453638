#include "vk_instance.h"

#include <cstdlib>
#include <cstring>
#include <functional>
#include <string_view>
#include <mutex>
#include <sstream>

#include "xk/error.h"

namespace xk::vk {

namespace {

std::mutex g_mutex;           // guards the singleton's creation
std::mutex g_messages_mutex;  // guards every instance's message list (callbacks come from any thread)

bool env_on(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

// XK_VULKAN_DISABLE=fp16,int8,... hides features, so tests can play "a device lacking a
// needed feature" on lavapipe.
bool env_disables(const char* feature) {
  const char* v = std::getenv("XK_VULKAN_DISABLE");
  if (!v) return false;
  std::stringstream ss(v);
  for (std::string item; std::getline(ss, item, ',');)
    if (item == feature) return true;
  return false;
}

bool has_extension(const std::vector<VkExtensionProperties>& exts, const char* name) {
  for (const auto& e : exts)
    if (std::strcmp(e.extensionName, name) == 0) return true;
  return false;
}

PhysicalDevice describe(VkPhysicalDevice pd) {
  const Api& a = api();
  PhysicalDevice d;
  d.handle = pd;
  a.vkGetPhysicalDeviceProperties(pd, &d.props);
  a.vkGetPhysicalDeviceMemoryProperties(pd, &d.memory);
  d.api_version = d.props.apiVersion;

  uint32_t nq = 0;
  a.vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> qf(nq);
  a.vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf.data());
  // Prefer a compute queue without graphics (async compute on discrete GPUs), else any.
  for (int pass = 0; pass < 2 && d.compute_queue_family == UINT32_MAX; ++pass)
    for (uint32_t i = 0; i < nq; ++i)
      if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) &&
          (pass == 1 || !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))) {
        d.compute_queue_family = i;
        d.timestamp_valid_bits = qf[i].timestampValidBits;
        break;
      }

  uint32_t ne = 0;
  a.vkEnumerateDeviceExtensionProperties(pd, nullptr, &ne, nullptr);
  std::vector<VkExtensionProperties> exts(ne);
  a.vkEnumerateDeviceExtensionProperties(pd, nullptr, &ne, exts.data());

  if (d.api_version < VK_API_VERSION_1_2) {
    d.reason_unusable = "Vulkan " + std::to_string(VK_API_VERSION_MAJOR(d.api_version)) + "." +
                        std::to_string(VK_API_VERSION_MINOR(d.api_version)) + " device; xkern needs 1.2";
    return d;
  }
  if (d.compute_queue_family == UINT32_MAX) {
    d.reason_unusable = "no compute queue";
    return d;
  }

  auto f13 = make<VkPhysicalDeviceVulkan13Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES);
  auto f12 = make<VkPhysicalDeviceVulkan12Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
  auto f11 = make<VkPhysicalDeviceVulkan11Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES);
  auto f2 = make<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
  f2.pNext = &f11;
  f11.pNext = &f12;
  const bool v13 = d.api_version >= VK_API_VERSION_1_3;
  if (v13) f12.pNext = &f13;
  a.vkGetPhysicalDeviceFeatures2(pd, &f2);

  auto dotp = make<VkPhysicalDeviceShaderIntegerDotProductProperties>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES);
  auto sg = make<VkPhysicalDeviceSubgroupProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES);
  auto m3 = make<VkPhysicalDeviceMaintenance3Properties>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES);
  auto p2 = make<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
  p2.pNext = &sg;
  sg.pNext = &m3;
  auto p13 =
      make<VkPhysicalDeviceVulkan13Properties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_PROPERTIES);
  if (v13) {
    m3.pNext = &dotp;
    dotp.pNext = &p13;
  }
  a.vkGetPhysicalDeviceProperties2(pd, &p2);

  d.subgroup_size = sg.subgroupSize;
  d.subgroup_size_fixed =
      v13 && p13.minSubgroupSize == p13.maxSubgroupSize && p13.minSubgroupSize == sg.subgroupSize;
  d.subgroup_ops = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ? sg.supportedOperations : 0;
  d.max_allocation = m3.maxMemoryAllocationSize;
  d.max_buffer = m3.maxMemoryAllocationSize;  // VkPhysicalDeviceMaintenance4 is not required
  d.max_storage_range = d.props.limits.maxStorageBufferRange;
  d.fp16 = f12.shaderFloat16 && !env_disables("fp16");
  d.int8 = f12.shaderInt8 && !env_disables("int8");
  d.int16 = f2.features.shaderInt16;
  d.storage8 = f12.storageBuffer8BitAccess;
  d.storage16 = f11.storageBuffer16BitAccess;
  d.timeline = f12.timelineSemaphore;
  d.int_dot = v13 && f13.shaderIntegerDotProduct && !env_disables("int_dot");
  d.int_dot_accelerated = d.int_dot && dotp.integerDotProduct4x8BitPackedSignedAccelerated;
  d.coopmat = has_extension(exts, "VK_KHR_cooperative_matrix") && !env_disables("coopmat");
  if (env_disables("subgroup")) d.subgroup_ops = 0;
  return d;
}

}  // namespace

std::shared_ptr<Instance> Instance::get(std::string* why) {
  std::lock_guard<std::mutex> lock(g_mutex);
  static std::shared_ptr<Instance> instance;
  static std::string failure;
  static bool tried = false;
  if (!tried) {
    tried = true;
    instance = create_new(&failure);
  }
  if (!instance && why) *why = failure;
  return instance;
}

std::shared_ptr<Instance> Instance::create_new(std::string* why) {
  std::shared_ptr<Instance> made(new Instance());
  std::string failure = made->init();
  if (failure.empty()) return made;
  if (why) *why = std::move(failure);
  return nullptr;
}

bool Instance::validation_requested() {
  auto mentions_validation = [](const char* var) {
    const char* v = std::getenv(var);
    return v && std::strstr(v, "validation") != nullptr;
  };
  return env_on("XK_VULKAN_VALIDATION") || mentions_validation("VK_INSTANCE_LAYERS") ||
         mentions_validation("VK_LOADER_LAYERS_ENABLE");
}

std::string Instance::check_requested_layers(const std::function<bool(std::string_view)>& enumerated) {
  const char* path = std::getenv("VK_LAYER_PATH");
  const std::string where = path ? std::string(" (VK_LAYER_PATH=") + path + ")" : std::string();
  // Every layer VK_INSTANCE_LAYERS names must exist: a misspelled name is silently ignored.
  if (const char* env = std::getenv("VK_INSTANCE_LAYERS"))
    for (std::string_view rest = env; !rest.empty();) {
      const size_t colon = rest.find(':');
      const std::string_view name = rest.substr(0, colon);
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
      if (!name.empty() && !enumerated(name))
        return "VK_INSTANCE_LAYERS names " + std::string(name) + ", which the Vulkan loader does not find" +
               where;
    }
  if (validation_requested() && !enumerated("VK_LAYER_KHRONOS_validation"))
    return "VK_LAYER_KHRONOS_validation is not found by the Vulkan loader" + where +
           " (Debian: vulkan-validationlayers)";
  return "";
}

std::string Instance::init() {
  if (std::string why = load_loader(); !why.empty()) return why;
  const Api& a = api();

  uint32_t nl = 0;
  a.vkEnumerateInstanceLayerProperties(&nl, nullptr);
  std::vector<VkLayerProperties> layers(nl);
  a.vkEnumerateInstanceLayerProperties(&nl, layers.data());
  auto enumerated = [&](std::string_view name) {
    for (const auto& l : layers)
      if (name == l.layerName) return true;
    return false;
  };
  layer_problem_ = check_requested_layers(enumerated);

  // Requested validation is enabled by name here too, so vkCreateInstance either really
  // loads the layer or fails with VK_ERROR_LAYER_NOT_PRESENT: the loader's environment
  // variables alone skip a layer they cannot load with a log line nobody reads.
  std::vector<const char*> enabled_layers;
  if (validation_requested() && layer_problem_.empty()) {
    enabled_layers.push_back("VK_LAYER_KHRONOS_validation");
    validation_ = true;
  }

  uint32_t ne = 0;
  a.vkEnumerateInstanceExtensionProperties(nullptr, &ne, nullptr);
  std::vector<VkExtensionProperties> exts(ne);
  a.vkEnumerateInstanceExtensionProperties(nullptr, &ne, exts.data());
  debug_utils_ = has_extension(exts, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) || validation_;
  std::vector<const char*> enabled_exts;
  if (debug_utils_) enabled_exts.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);

  auto app = make<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
  app.pApplicationName = "xkern";
  app.pEngineName = "xkern";
  app.apiVersion = VK_API_VERSION_1_3;

  // The messenger also covers vkCreateInstance/vkDestroyInstance when chained here.
  auto mci =
      make<VkDebugUtilsMessengerCreateInfoEXT>(VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT);
  mci.messageSeverity =
      VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  mci.messageType =
      VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  mci.pfnUserCallback = &Instance::on_message;
  mci.pUserData = this;

  auto ci = make<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<uint32_t>(enabled_layers.size());
  ci.ppEnabledLayerNames = enabled_layers.data();
  ci.enabledExtensionCount = static_cast<uint32_t>(enabled_exts.size());
  ci.ppEnabledExtensionNames = enabled_exts.data();
  if (debug_utils_) ci.pNext = &mci;
  VkInstance inst = VK_NULL_HANDLE;
  VkResult r = a.vkCreateInstance(&ci, nullptr, &inst);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER) return "no Vulkan driver (ICD) found by the loader";
  if (r == VK_ERROR_LAYER_NOT_PRESENT)
    return "VK_LAYER_KHRONOS_validation is enumerated but the loader cannot load it";
  if (r != VK_SUCCESS) return std::string("vkCreateInstance failed: ") + result_name(r);
  // vkDestroyInstance comes from this load: the instance is owned as soon as it can be destroyed.
  const std::string missing = load_instance_functions(inst, debug_utils_);
  if (a.vkDestroyInstance) instance_ = UniqueInstance({}, inst);
  if (!missing.empty()) return "Vulkan loader lacks " + missing;
  if (debug_utils_ && a.vkCreateDebugUtilsMessengerEXT)
    messenger_ = create<UniqueMessenger>(inst, "vulkan", "vkCreateDebugUtilsMessengerEXT",
                                         [&](VkDebugUtilsMessengerEXT* h) {
                                           return a.vkCreateDebugUtilsMessengerEXT(inst, &mci, nullptr, h);
                                         });

  uint32_t np = 0;
  r = a.vkEnumeratePhysicalDevices(inst, &np, nullptr);
  if (r != VK_SUCCESS && r != VK_INCOMPLETE)
    return std::string("vkEnumeratePhysicalDevices failed: ") + result_name(r);
  std::vector<VkPhysicalDevice> pds(np);
  // The second call can fail too; its handles are then not to be used.
  r = a.vkEnumeratePhysicalDevices(inst, &np, pds.data());
  if (r != VK_SUCCESS && r != VK_INCOMPLETE)
    return std::string("vkEnumeratePhysicalDevices failed: ") + result_name(r);
  pds.resize(np);
  for (VkPhysicalDevice pd : pds) devices_.push_back(describe(pd));
  return "";
}

VKAPI_ATTR VkBool32 VKAPI_CALL Instance::on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                    VkDebugUtilsMessageTypeFlagsEXT type,
                                                    const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                    void* self) {
  // Performance warnings are advice, not errors; validation warnings and errors both fail.
  if ((type & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT) == 0 &&
      (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) == 0)
    return VK_FALSE;
  std::string msg = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) ? "error: " : "warning: ";
  if (data && data->pMessageIdName) msg += std::string("[") + data->pMessageIdName + "] ";
  if (data && data->pMessage) msg += data->pMessage;
  std::lock_guard<std::mutex> lock(g_messages_mutex);
  static_cast<Instance*>(self)->messages_.push_back(std::move(msg));
  return VK_FALSE;
}

std::vector<std::string> Instance::take_messages() {
  std::lock_guard<std::mutex> lock(g_messages_mutex);
  std::vector<std::string> out;
  out.swap(messages_);
  return out;
}

void Instance::throw_if_validation_failed(const std::string& during) {
  // Every check fails while requested validation is not active: a run must not pass without it.
  if (!layer_problem_.empty())
    throw Error("vulkan", "validation requested but not active: " + layer_problem_);
  std::vector<std::string> msgs = take_messages();
  if (msgs.empty()) return;
  std::string all = msgs.front();
  if (msgs.size() > 1) all += " (and " + std::to_string(msgs.size() - 1) + " more)";
  throw Error("vulkan", "validation message during " + during + ": " + all);
}

}  // namespace xk::vk
