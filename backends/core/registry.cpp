#include <string>

#include "backend_list.h"
#include "xk/error.h"
#include "xk/registry.h"

// Why a backend was left out, from its configure-time decision (cmake/XkBackend.cmake).
#ifndef XK_VULKAN_OFF_REASON
#define XK_VULKAN_OFF_REASON "not built (XK_VULKAN=OFF or libvulkan-dev/glslc missing at configure time)"
#endif
#ifndef XK_CUDA_OFF_REASON
#define XK_CUDA_OFF_REASON "not built (XK_CUDA=OFF or nvcc missing at configure time)"
#endif
#ifndef XK_HIP_OFF_REASON
#define XK_HIP_OFF_REASON "not built (XK_HIP=OFF or no HIP compiler at configure time)"
#endif
#ifndef XK_SIM_OFF_REASON
#define XK_SIM_OFF_REASON "not built (XK_SIM=OFF or Boost.Context missing at configure time)"
#endif

namespace xk {

namespace {

// A backend that was not compiled in still shows up in `xk devices`, with the reason.
[[maybe_unused]] Backend absent(const std::string& api, const std::string& reason) {
  return Backend{api, [api, reason] { return std::vector<DeviceEntry>{{api, api, false, reason, ""}}; },
                 [api, reason](const std::string& n) -> std::unique_ptr<Device> {
                   throw Error("open_device", "name", "'" + n + "': backend " + api + " " + reason);
                 }};
}

std::vector<Backend> all_backends() {
  std::vector<Backend> v;
  v.push_back(backends::cpu_ref());
#if XK_HAS_VULKAN
  v.push_back(backends::vulkan());
#else
  v.push_back(absent("vulkan", XK_VULKAN_OFF_REASON));
#endif
#if XK_HAS_CUDA
  v.push_back(backends::cuda());
#else
  v.push_back(absent("cuda", XK_CUDA_OFF_REASON));
#endif
#if XK_HAS_HIP
  v.push_back(backends::hip());
#else
  v.push_back(absent("hip", XK_HIP_OFF_REASON));
#endif
#if XK_HAS_SIM
  v.push_back(backends::sim());
#else
  v.push_back(absent("sim", XK_SIM_OFF_REASON));
#endif
  return v;
}

// A backend's devices; a backend that throws while looking, or finds nothing, becomes one
// unavailable entry carrying the reason.
std::vector<DeviceEntry> enumerate(const Backend& b) {
  std::vector<DeviceEntry> found;
  try {
    found = b.enumerate();
  } catch (const std::exception& e) {
    return {{b.api, b.api, false, e.what(), ""}};
  }
  if (found.empty()) found = {{b.api, b.api, false, "no devices found", ""}};
  return found;
}

}  // namespace

std::vector<DeviceEntry> list_devices() {
  std::vector<DeviceEntry> out;
  for (const Backend& b : all_backends()) {
    std::vector<DeviceEntry> found = enumerate(b);
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

std::unique_ptr<Device> open_device(std::string_view name) {
  std::string known;
  for (const Backend& b : all_backends()) {
    std::vector<DeviceEntry> found = enumerate(b);
    for (const DeviceEntry& e : found) {
      if (e.available) known += (known.empty() ? "" : ", ") + e.name;
      if (e.name != name) continue;
      if (!e.available)
        throw Error("open_device", "name", "'" + std::string(name) + "' is unavailable: " + e.reason);
      return b.open(e.name);
    }
    // "cuda:3" when cuda enumerated only cuda:0, or "vulkan:0" when vulkan is absent.
    if (name.rfind(b.api + ":", 0) == 0 || name == b.api) {
      std::string why = found.size() == 1 && !found[0].available ? found[0].reason : "no such device index";
      throw Error("open_device", "name", "'" + std::string(name) + "' is unavailable: " + why);
    }
  }
  throw Error(
      "open_device", "name",
      "unknown device '" + std::string(name) + "' (available: " + (known.empty() ? "none" : known) + ")");
}

}  // namespace xk
