// The two variant lists of the simulator devices, each built in its own translation unit
// (the CUDA and HIP dialects cannot share one).
#pragma once
#include <vector>

#include "xk/variant.h"

namespace xk::sim {
class Launcher;

std::vector<Variant> cuda_sim_variants(Launcher& launcher);  // variants_cuda.cpp
std::vector<Variant> hip_sim_variants(Launcher& launcher);   // variants_hip.cpp
}  // namespace xk::sim
