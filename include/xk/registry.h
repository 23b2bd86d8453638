// Device registry: what backends were built, what devices they see, and opening one by name.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xk/device.h"

namespace xk {

struct DeviceEntry {
  std::string name;  // "cpu-ref", "vulkan:0", "cuda-sim", or the api name when absent
  std::string api;   // backend name
  bool available = false;
  std::string reason;       // why unavailable: "not built (XK_CUDA=OFF)", "no driver", ...
  std::string description;  // product / driver string when available
};

// Every device of every backend, plus one unavailable entry per backend that has none.
std::vector<DeviceEntry> list_devices();
// Opens a device by name; throws xk::Error("open_device", "name", reason) when unknown or absent.
std::unique_ptr<Device> open_device(std::string_view name);

}  // namespace xk
