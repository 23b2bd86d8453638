// The HIP backend's registry entry: `hip:N` for every GPU the HIP runtime sees whose arch
// libxk carries code for; otherwise one unavailable entry that says why.
#include <sys/stat.h>

#include <algorithm>
#include <string>

#include "backends/core/backend_list.h"
#include "hip_device.h"
#include "xk/error.h"

namespace xk::backends {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::vector<DeviceEntry> enumerate_hip() {
  int version = 0;
  (void)hipRuntimeGetVersion(&version);
  const std::string runtime =
      "HIP runtime " + std::to_string(version / 10000000) + "." + std::to_string(version / 100000 % 100);
  int count = 0;
  const hipError_t rc = hipGetDeviceCount(&count);
  if (rc != hipSuccess || count == 0) {
    struct stat st{};
    const bool kfd = stat("/dev/kfd", &st) == 0;
    std::string why = std::string("no GPU: ") + runtime + " reports " +
                      (rc == hipSuccess ? "0 devices" : hipGetErrorName(rc));
    why += kfd ? " (/dev/kfd present: check the amdgpu driver and render-group access)"
               : " (no /dev/kfd: amdgpu kernel driver not loaded or no AMD GPU)";
    return {{"hip", "hip", false, why, ""}};
  }
  const auto archs = hip::built_archs();
  std::vector<DeviceEntry> out;
  for (int i = 0; i < count; ++i) {
    DeviceEntry e{"hip:" + std::to_string(i), "hip", true, "", ""};
    try {
      const DeviceInfo info = hip::query_info(i);
      e.description = info.description + ", " + runtime;
      if (std::find(archs.begin(), archs.end(), info.arch) == archs.end()) {
        e.available = false;
        e.reason = "GPU is " + info.arch + " but xkern was built for " + join(archs) +
                   " (reconfigure with -DXK_HIP_ARCHS=\"" + join(archs) + ";" + info.arch + "\")";
      }
    } catch (const Error& err) {
      e.available = false;
      e.reason = err.what();
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

Backend hip() {
  return Backend{"hip", enumerate_hip, [](const std::string& name) -> std::unique_ptr<Device> {
                   if (name.rfind("hip:", 0) != 0)
                     throw Error("open_device", "name", "'" + name + "' is not a hip:N device name");
                   int index = -1;
                   try {
                     index = std::stoi(name.substr(4));
                   } catch (const std::exception&) {
                     throw Error("open_device", "name", "'" + name + "': index is not a number");
                   }
                   return std::make_unique<hip::HipDevice>(index);
                 }};
}

}  // namespace xk::backends
