// Vulkan backend registration: one device per usable physical device, named vulkan:N in the
// loader's enumeration order. XK_VULKAN_DEVICE=<index> (or a substring of the device
// name, e.g. "llvmpipe") moves that physical device to vulkan:0, so scripts written for
// vulkan:0 can be pointed at another GPU.
#include <cstdlib>
#include <string>

#include "backends/core/backend_list.h"
#include "vk_device.h"
#include "xk/error.h"

namespace xk::backends {

namespace {

// Physical devices in xkern's order (XK_VULKAN_DEVICE first).
std::vector<const vk::PhysicalDevice*> ordered(const vk::Instance& inst) {
  std::vector<const vk::PhysicalDevice*> v;
  for (const auto& pd : inst.devices()) v.push_back(&pd);
  const char* pick = std::getenv("XK_VULKAN_DEVICE");
  if (!pick || !*pick) return v;
  const std::string want = pick;
  for (size_t i = 0; i < v.size(); ++i) {
    const bool match =
        want == std::to_string(i) || std::string(v[i]->props.deviceName).find(want) != std::string::npos;
    if (match) {
      std::rotate(v.begin(), v.begin() + static_cast<long>(i), v.begin() + static_cast<long>(i) + 1);
      break;
    }
  }
  return v;
}

std::vector<DeviceEntry> enumerate() {
  std::string why;
  auto inst = vk::Instance::get(&why);
  if (!inst) return {{"vulkan", "vulkan", false, why, ""}};
  auto devs = ordered(*inst);
  if (devs.empty())
    return {{"vulkan", "vulkan", false, "no Vulkan device: the loader and driver report none", ""}};
  std::vector<DeviceEntry> out;
  for (size_t i = 0; i < devs.size(); ++i) {
    const auto& pd = *devs[i];
    out.push_back({"vulkan:" + std::to_string(i), "vulkan", pd.reason_unusable.empty(), pd.reason_unusable,
                   std::string(pd.props.deviceName)});
  }
  return out;
}

std::unique_ptr<Device> open(const std::string& name) {
  std::string why;
  auto inst = vk::Instance::get(&why);
  if (!inst) throw Error("open_device", "name", "'" + name + "' is unavailable: " + why);
  auto devs = ordered(*inst);
  for (size_t i = 0; i < devs.size(); ++i) {
    if (name != "vulkan:" + std::to_string(i)) continue;
    if (!devs[i]->reason_unusable.empty())
      throw Error("open_device", "name", "'" + name + "' is unavailable: " + devs[i]->reason_unusable);
    return std::make_unique<vk::VulkanDevice>(inst, *devs[i], static_cast<int>(i));
  }
  throw Error("open_device", "name",
              "'" + name + "': no such Vulkan device (" + std::to_string(devs.size()) + " found)");
}

}  // namespace

Backend vulkan() { return Backend{"vulkan", enumerate, open}; }

}  // namespace xk::backends
