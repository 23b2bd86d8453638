// The Launcher contract, stated once. Every kernel file's launch section (the end of each
// kernels/cuda/*.cuh and kernels/hip/*.h) is written against it; the real CUDA and HIP
// launchers and the simulator's satisfy it, so the same grid, scratch and packing code runs
// on hardware and on cuda-sim / hip-sim.
#pragma once
#include <concepts>
#include <cstddef>

#include "backends/core/variant_row.h"
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

// A table row whose run() calls a launch section's function run(l, variant, args, rec) over
// launcher l (which outlives the table: the device owns both).
template <Launcher L, class Supports, class Run>
Variant matmul_row(L& l, Variant fields, Supports supports, Run run) {
  return make_row(
      std::move(fields),
      {.supports_matmul = supports, .run_matmul = [&l, run](Device&, const MatmulArgs& a, LaunchRecord& rec) {
         run(l, rec.variant.c_str(), a, rec);
       }});
}
template <Launcher L, class Supports, class Run>
Variant attention_row(L& l, Variant fields, Supports supports, Run run) {
  return make_row(std::move(fields),
                  {.supports_attention = supports,
                   .run_attention = [&l, run](Device&, const AttentionArgs& a, LaunchRecord& rec) {
                     run(l, rec.variant.c_str(), a, rec);
                   }});
}

}  // namespace xk
