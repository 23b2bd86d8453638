// The two variant lists of the simulator devices, each built in its own translation unit
// (the CUDA and HIP dialects cannot share one).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "xk/variant.h"

namespace xk::sim {
class Launcher;

// The row both demonstration GEMMs share (f16 weights x f32/f16 activations, 64x64 tiles);
// each dialect's file adds the launch.
inline Variant f16_demo_variant(std::string name, std::string min_arch) {
  Variant v;
  v.name = std::move(name);
  v.op = Op::Matmul;
  v.formats = {DType::F16};
  v.acts = {ActPrecision::F16};
  v.min_arch = std::move(min_arch);
  v.tile = "64x64x32";
  v.priority = 0;  // a demonstration: any real variant for the same call wins
  v.supports_matmul = [](const MatmulArgs& a, const DeviceInfo&) -> std::string {
    if (a.W.dtype != DType::F16) return "demo kernel takes f16 weights";
    if (a.X.dtype != DType::F32 && a.X.dtype != DType::F16) return "demo kernel takes f32 or f16 activations";
    return "";
  };
  return v;
}

std::vector<Variant> cuda_sim_variants(Launcher& launcher);  // variants_cuda.cpp
std::vector<Variant> hip_sim_variants(Launcher& launcher);   // variants_hip.cpp
}  // namespace xk::sim
