// One function per backend, called from exactly one place (registry.cpp). Explicit
// registration: no static initialisers for a linker to drop.
#pragma once
#include <functional>

#include "xk/registry.h"

namespace xk {

// What each backend provides to the registry (backends/<api>/register.cpp).
struct Backend {
  std::string api;
  // Devices this backend sees now; an empty list or unavailable entries carry the reason.
  std::function<std::vector<DeviceEntry>()> enumerate;
  // Opens one of the names it enumerated; throws xk::Error otherwise.
  std::function<std::unique_ptr<Device>(const std::string& name)> open;
};

}  // namespace xk

namespace xk::backends {

Backend cpu_ref();  // backends/cpu/register.cpp
#if XK_HAS_VULKAN
Backend vulkan();  // backends/vulkan/register.cpp
#endif
#if XK_HAS_CUDA
Backend cuda();  // backends/cuda/register.cpp
#endif
#if XK_HAS_HIP
Backend hip();  // backends/hip/register.cpp
#endif
#if XK_HAS_SIM
Backend sim();  // backends/sim/register.cpp: cuda-sim and hip-sim
#endif

}  // namespace xk::backends
