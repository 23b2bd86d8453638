// Vulkan host objects own themselves: a failure at any step of making an Instance, a Context, a
// buffer or a pipeline leaves no Vulkan object and no host memory behind.
//
// How: the test wraps every entry of the loaded function table (vk_api.h: global, instance and
// debug-utils commands) in a shim that
//  * counts calls and, at a chosen call, injects a fault: throws (the "throw from every step"
//    case) or returns VK_ERROR_OUT_OF_HOST_MEMORY without calling the driver;
//  * records each object a vkCreate*/vkAllocateMemory call returns and forgets it when its
//    vkDestroy*/vkFreeMemory arrives, so an object nobody destroyed stays in `live`.
// vkGetInstanceProcAddr is wrapped too and hands out the shims, so the table an Instance loads
// for itself while it is being made goes through them as well; a lookup is not a fault point
// (it cannot fail other than by returning null, which Instance::create_new reports).
// Each case runs the operation once to count its calls, then fails call 0, 1, ... in turn and
// checks that `live` is back to what it was before. The binary is built with AddressSanitizer
// and runs with its leak checker (tests/vulkan/CMakeLists.txt), which catches host memory
// (a VkBuf, a Pipeline) lost on the way; the validation layer is on as everywhere.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <link.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "backends/vulkan/vk_context.h"
#include "xk/error.h"

namespace {

using namespace xk::vk;

enum class Fault { Throw, Result };

struct Tracker {
  static inline int calls = 0;
  static inline int fail_at = -1;  // the call that fails; -1: none
  static inline Fault mode = Fault::Throw;
  static inline std::string failed;  // the name of the call that was made to fail
  static inline std::map<std::pair<std::string, uintptr_t>, std::string> live;  // (kind, handle) -> maker
};

// What a table entry does to object lifetimes: makes a `kind` (handle written to its last
// argument) or destroys one (handle in argument `index`).
struct Role {
  const char* kind = nullptr;
  bool creates = false;
  int index = 0;
};
const std::map<std::string, Role>& roles() {
  static const std::map<std::string, Role> r = {
      {"vkCreateInstance", {"instance", true}},
      {"vkDestroyInstance", {"instance", false, 0}},
      {"vkCreateDebugUtilsMessengerEXT", {"messenger", true}},
      {"vkDestroyDebugUtilsMessengerEXT", {"messenger", false, 1}},
      {"vkCreateDevice", {"device", true}},
      {"vkDestroyDevice", {"device", false, 0}},
      {"vkCreateCommandPool", {"command_pool", true}},
      {"vkDestroyCommandPool", {"command_pool", false, 1}},
      {"vkCreateDescriptorPool", {"descriptor_pool", true}},
      {"vkDestroyDescriptorPool", {"descriptor_pool", false, 1}},
      {"vkCreateQueryPool", {"query_pool", true}},
      {"vkDestroyQueryPool", {"query_pool", false, 1}},
      {"vkCreateFence", {"fence", true}},
      {"vkDestroyFence", {"fence", false, 1}},
      {"vkCreateBuffer", {"buffer", true}},
      {"vkDestroyBuffer", {"buffer", false, 1}},
      {"vkAllocateMemory", {"memory", true}},
      {"vkFreeMemory", {"memory", false, 1}},
      {"vkCreateShaderModule", {"shader_module", true}},
      {"vkDestroyShaderModule", {"shader_module", false, 1}},
      {"vkCreateDescriptorSetLayout", {"set_layout", true}},
      {"vkDestroyDescriptorSetLayout", {"set_layout", false, 1}},
      {"vkCreatePipelineLayout", {"pipeline_layout", true}},
      {"vkDestroyPipelineLayout", {"pipeline_layout", false, 1}},
      {"vkCreateComputePipelines", {"pipeline", true}},  // always one pipeline per call here
      {"vkDestroyPipeline", {"pipeline", false, 1}},
  };
  return r;
}

template <class T>
uintptr_t key_of(T v) {
  if constexpr (std::is_pointer_v<T>)
    return reinterpret_cast<uintptr_t>(v);
  else
    return 0;
}

template <auto Member, class F>
struct Shim;
template <auto Member, class R, class... A>
struct Shim<Member, R (*)(A...)> {
  static inline R (*orig)(A...) = nullptr;
  static inline const char* name = "";
  static inline const Role* role = nullptr;
  static inline bool fault_point = true;  // false for the calls destructors make: they must not throw

  static R call(A... args) {
    if (fault_point && Tracker::calls++ == Tracker::fail_at) {
      Tracker::failed = name;
      if constexpr (std::is_same_v<R, VkResult>) {
        if (Tracker::mode == Fault::Result) return VK_ERROR_OUT_OF_HOST_MEMORY;
      }
      throw std::runtime_error(std::string("injected fault in ") + name);
    }
    const uintptr_t keys[] = {key_of(args)...};
    if (role && !role->creates)
      Tracker::live.erase(std::make_pair(std::string(role->kind), keys[role->index]));
    if constexpr (std::is_same_v<R, void>) {
      orig(args...);
    } else {
      const R r = orig(args...);
      using Last = std::tuple_element_t<sizeof...(A) - 1, std::tuple<A...>>;  // a creator's output
      if constexpr (std::is_same_v<R, VkResult> && std::is_pointer_v<Last> &&
                    std::is_pointer_v<std::remove_pointer_t<Last>> &&
                    !std::is_const_v<std::remove_pointer_t<Last>>) {
        if (role && role->creates && r == VK_SUCCESS) {
          const Last out = std::get<sizeof...(A) - 1>(std::tie(args...));
          Tracker::live[std::make_pair(std::string(role->kind), key_of(*out))] = name;
        }
      }
      return r;
    }
  }
};

bool is_teardown(const std::string& fn) {
  return fn.rfind("vkDestroy", 0) == 0 || fn == "vkFreeMemory" || fn == "vkUnmapMemory" ||
         fn == "vkDeviceWaitIdle";
}

// A shim as vkGetInstanceProcAddr hands it out, and how to give it the real entry it wraps.
struct ShimEntry {
  PFN_vkVoidFunction call;
  void (*set_orig)(PFN_vkVoidFunction real);
};
std::map<std::string, ShimEntry>& shim_entries() {
  static std::map<std::string, ShimEntry> m;
  return m;
}

// Installs the shims over every entry of the table for the life of the object.
class TableShims {
 public:
  TableShims() : saved_(api()) {
    Api& a = api();
#define XK_VK_SHIM(fn)                                                                                   \
  {                                                                                                      \
    using S = Shim<&Api::fn, PFN_##fn>;                                                                  \
    S::orig = a.fn;                                                                                      \
    S::name = #fn;                                                                                       \
    auto it = roles().find(#fn);                                                                         \
    S::role = it == roles().end() ? nullptr : &it->second;                                               \
    S::fault_point = !is_teardown(#fn);                                                                  \
    shim_entries()[#fn] = {reinterpret_cast<PFN_vkVoidFunction>(&S::call), [](PFN_vkVoidFunction real) { \
                             if (!S::orig) S::orig = reinterpret_cast<PFN_##fn>(real);                   \
                           }};                                                                           \
    if (a.fn) a.fn = &S::call;                                                                           \
  }
    XK_VK_GLOBAL_FUNCTIONS(XK_VK_SHIM)
    XK_VK_INSTANCE_FUNCTIONS(XK_VK_SHIM)
    XK_VK_DEBUG_FUNCTIONS(XK_VK_SHIM)
#undef XK_VK_SHIM
    real_gipa_ = a.vkGetInstanceProcAddr;
    a.vkGetInstanceProcAddr = &get_instance_proc_addr;
    reset();
  }
  ~TableShims() { api() = saved_; }
  TableShims(const TableShims&) = delete;
  TableShims& operator=(const TableShims&) = delete;
  static void reset() {
    Tracker::calls = 0;
    Tracker::fail_at = -1;
    Tracker::failed.clear();
  }

 private:
  // The loader's lookup, answering with the shim for every entry the table holds.
  static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL get_instance_proc_addr(VkInstance instance,
                                                                         const char* name) {
    const PFN_vkVoidFunction real = real_gipa_(instance, name);
    auto it = shim_entries().find(name);
    if (!real || it == shim_entries().end()) return real;
    it->second.set_orig(real);
    return it->second.call;
  }
  static inline PFN_vkGetInstanceProcAddr real_gipa_ = nullptr;
  Api saved_;
};

std::string describe(const std::map<std::pair<std::string, uintptr_t>, std::string>& live) {
  std::string s;
  for (const auto& [k, maker] : live) s += " " + k.first + " (from " + maker + ")";
  return s.empty() ? " none" : s;
}

// The loader unloads the driver (and layer) when the process-wide instance goes at exit,
// before the leak checker runs; what those libraries never freed would then be reported from
// "<unknown module>". Pinning every library loaded so far keeps their names in the reports,
// so tests/vulkan/lsan_vulkan_libraries.supp can set aside what the Vulkan stack itself keeps
// while any allocation made from xkern's own code alone is still reported.
void pin_loaded_libraries() {
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void*) {
        if (info->dlpi_name && *info->dlpi_name)
          dlopen(info->dlpi_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        return 0;
      },
      nullptr);
}

class VulkanRaii : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    inst_ = Instance::get(&why);
    ASSERT_TRUE(inst_) << "no Vulkan instance: " << why;
    pin_loaded_libraries();
    for (const PhysicalDevice& d : inst_->devices())
      if (d.reason_unusable.empty()) {
        pd_ = &d;
        break;
      }
    ASSERT_NE(pd_, nullptr) << "no usable Vulkan device";
  }

  // Runs `op` once to count its table calls, then fails each call in turn in `mode`; after
  // every failure the tracked objects must be exactly those that existed before the attempt.
  // `keeps_result`: a successful op leaves what it made with its owner (a cached pipeline).
  template <class Op>
  int fail_every_call(Fault mode, const char* what, Op op, bool keeps_result = false) {
    auto before = Tracker::live;
    TableShims::reset();
    op();
    const int n = Tracker::calls;
    if (!keeps_result) {
      EXPECT_EQ(describe(Tracker::live), describe(before)) << what << " without a fault";
    }
    for (int k = 0; k < n; ++k) {
      before = Tracker::live;
      TableShims::reset();
      Tracker::fail_at = k;
      Tracker::mode = mode;
      bool threw = false;
      try {
        op();
      } catch (const xk::Error&) {
        threw = true;
      } catch (const std::runtime_error&) {
        threw = true;
      }
      Tracker::fail_at = -1;
      // A failed void call or a result the code tolerates need not throw; a leak is never fine.
      if (mode == Fault::Throw) {
        EXPECT_TRUE(threw) << what << ": call " << k << " (" << Tracker::failed << ")";
      }
      EXPECT_EQ(describe(Tracker::live), describe(before))
          << what << ": objects left after call " << k << " (" << Tracker::failed << ") failed";
    }
    return n;
  }

  std::shared_ptr<Instance> inst_;
  const PhysicalDevice* pd_ = nullptr;
};

TEST_F(VulkanRaii, TrackerSeesAnUndestroyedObject) {
  // The check below is only as good as the tracker: a fence made and not destroyed must show.
  TableShims shims;
  Context ctx(inst_, *pd_);
  const auto before = Tracker::live;
  auto fi = make<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
  VkFence f = VK_NULL_HANDLE;
  ASSERT_EQ(api().vkCreateFence(ctx.device(), &fi, nullptr, &f), VK_SUCCESS);
  EXPECT_NE(describe(Tracker::live), describe(before));
  api().vkDestroyFence(ctx.device(), f, nullptr);
  EXPECT_EQ(describe(Tracker::live), describe(before));
}

// A fresh Instance (not the process-wide one the fixture holds) made under the shims: every
// table call it makes (layer and extension queries, vkCreateInstance, the messenger, device
// enumeration and description) fails in turn.
void make_instance() {
  std::string why;
  const std::shared_ptr<Instance> inst = Instance::create_new(&why);
  if (!inst) throw std::runtime_error("Instance::create_new: " + why);
}

TEST_F(VulkanRaii, ThrowFromEveryStepOfInstanceCreationLeaksNothing) {
  TableShims shims;
  const int steps = fail_every_call(Fault::Throw, "Instance", make_instance);
  // Layer and extension queries (2 + 2), vkCreateInstance, the messenger, device enumeration.
  EXPECT_GE(steps, 7);
  EXPECT_EQ(describe(Tracker::live), " none");
}

TEST_F(VulkanRaii, FailedCallsInInstanceCreationLeakNothingAndSayWhy) {
  TableShims shims;
  fail_every_call(Fault::Result, "Instance", [] {
    std::string why;
    const std::shared_ptr<Instance> inst = Instance::create_new(&why);
    if (!inst) {
      EXPECT_NE(why.find(Tracker::failed), std::string::npos) << "the reason names the failed call: " << why;
      throw std::runtime_error(why);
    }
  });
}

TEST_F(VulkanRaii, ThrowFromEveryStepOfContextCreationLeaksNothing) {
  TableShims shims;
  const int steps = fail_every_call(Fault::Throw, "Context", [&] { Context ctx(inst_, *pd_); });
  // vkCreateDevice, vkGetDeviceQueue, the command and descriptor pools and the fence at least.
  EXPECT_GE(steps, 5);
  EXPECT_EQ(describe(Tracker::live), " none");
}

TEST_F(VulkanRaii, FailedCallsInContextCreationThrowXkErrorAndLeakNothing) {
  TableShims shims;
  fail_every_call(Fault::Result, "Context", [&] {
    try {
      Context ctx(inst_, *pd_);
    } catch (const xk::Error& e) {
      EXPECT_NE(std::string(e.what()).find(Tracker::failed), std::string::npos)
          << "the error names the failed call: " << e.what();
      throw;
    }
  });
}

TEST_F(VulkanRaii, BufferCreationFailureAtAnyStepLeaksNothing) {
  TableShims shims;
  Context ctx(inst_, *pd_);
  fail_every_call(Fault::Throw, "VkBuf", [&] { auto b = ctx.alloc(4096); });
  fail_every_call(Fault::Result, "VkBuf", [&] { auto b = ctx.alloc(4096); });
}

TEST_F(VulkanRaii, PipelineCreationFailureLeaksNothingAndTheContextStaysUsable) {
  TableShims shims;
  Context ctx(inst_, *pd_);
  // Pipelines are cached: each attempt asks for a new specialization, i.e. a new pipeline
  // (quantize_q8 has no specialization constants, so any values are valid). The first call
  // makes the layouts for 3 bindings, which the Context keeps.
  uint32_t variant = 0;
  auto make_one = [&] { ctx.pipeline("quantize_q8", {++variant}, 3); };
  make_one();
  fail_every_call(Fault::Throw, "Context::pipeline", make_one, true);
  fail_every_call(Fault::Result, "Context::pipeline", make_one, true);
  EXPECT_NO_THROW(ctx.pipeline("quantize_q8", {1000}, 3));

  // A new binding count makes its set layout, then its pipeline layout: when the second fails,
  // the first must go too.
  const auto before = Tracker::live;
  TableShims::reset();
  Tracker::fail_at = 1;
  EXPECT_THROW(ctx.pipeline("quantize_q8", {}, 4), std::runtime_error);
  Tracker::fail_at = -1;
  EXPECT_EQ(Tracker::failed, "vkCreatePipelineLayout");
  EXPECT_EQ(describe(Tracker::live), describe(before));
  EXPECT_NO_THROW(ctx.pipeline("quantize_q8", {}, 4));
}

}  // namespace
