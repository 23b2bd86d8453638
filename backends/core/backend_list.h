// One function per backend, called from exactly one place (registry.cpp). Explicit
// registration: no static initialisers for a linker to drop.
#pragma once
#include "xk/registry.h"

namespace xk::backends {

Backend cpu_ref();  // backends/cpu/register.cpp
#if XK_HAS_VULKAN
Backend vulkan();   // backends/vulkan/register.cpp
#endif
#if XK_HAS_CUDA
Backend cuda();     // backends/cuda/register.cpp
#endif
#if XK_HAS_HIP
Backend hip();      // backends/hip/register.cpp
#endif
#if XK_HAS_SIM
Backend sim();      // backends/sim/register.cpp: cuda-sim and hip-sim
#endif

}  // namespace xk::backends
