// The Launcher contract, stated once. Every kernel file's launch section (the end of each
// kernels/cuda/*.cuh and kernels/hip/*.h) is written against it; the real CUDA and HIP
// launchers and the simulator's satisfy it, so the same grid, scratch and packing code runs
// on hardware and on cuda-sim / hip-sim.
#pragma once
#include <concepts>
#include <cstddef>

#include "xk/tensor.h"

namespace xk {

template <class L>
concept Launcher = requires(L& l, const L& cl, const Buffer& b, std::size_t bytes, typename L::dim_type dim,
                            LaunchRecord& rec, void (*kernel)(int)) {
  { cl.info() } -> std::same_as<const DeviceInfo&>;  // the device the kernels run on
  { cl.ptr(b) } -> std::same_as<void*>;              // device address of a buffer (nullptr if empty)
  { l.scratch(bytes) } -> std::same_as<Buffer>;      // temporary device memory, freed with the Buffer
  // Launches kernel<<<grid, block, dyn_smem_bytes>>>(args...) inside a profiler range named
  // after the variant, and adds its device time / counters to rec.
  l.launch("variant", kernel, dim, dim, bytes, rec, 0);
};

}  // namespace xk
