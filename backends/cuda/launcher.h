// The real Launcher (backends/core/launcher.h) the variant table (table.h) is instantiated
// with: device pointers, stream-ordered scratch, and launches wrapped in an NVTX range named
// after the variant (Nsight Systems shows the variant name; ncu filters on the __global__
// names each row lists), timed by events when dev.timing().
// The class is visible to g++ (cuda_device.cpp owns it); launch() only exists under nvcc.
#pragma once
#include <cuda_runtime_api.h>

#include <utility>

#include "backends/core/variant_row.h"
#include "backends/cuda/cuda_device.h"

#ifdef __CUDACC__
#include <nvtx3/nvToolsExt.h>
#endif

namespace xk::cuda {

class Launcher {
 public:
  using dim_type = dim3;
  explicit Launcher(CudaDevice& dev) : dev_(dev) {}
  const DeviceInfo& info() const { return dev_.info(); }
  Device& device() { return dev_; }
  void* ptr(const Buffer& b) const { return b.valid() ? impl_as<CudaBuffer>(b)->data() : nullptr; }
  // Freed (stream-ordered) when the returned Buffer dies, after the launches queued before.
  Buffer scratch(size_t bytes) { return dev_.alloc(bytes); }

#ifdef __CUDACC__
  template <class... P, class... A>
  void launch(const char* variant, void (*kernel)(P...), dim3 grid, dim3 block, size_t dyn_smem_bytes,
              LaunchRecord& rec, A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "kernel argument count");
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;  // empty problem: nothing to run
    // Above 48 KiB of dynamic shared memory a kernel must opt in (CUDA C++ Programming Guide,
    // "Shared Memory", compute capability 7.x+).
    if (dyn_smem_bytes > 48 * 1024)
      check(
          cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel),
                               cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(dyn_smem_bytes)),
          variant, "cudaFuncSetAttribute(MaxDynamicSharedMemorySize)");
    const bool timed = dev_.timing();
    Event start, stop;
    nvtxRangePushA(variant);
    if (timed) check(cudaEventRecord(start.get(), dev_.stream()), variant, "cudaEventRecord");
    kernel<<<grid, block, dyn_smem_bytes, dev_.stream()>>>(static_cast<P>(std::forward<A>(args))...);
    const cudaError_t launched = cudaGetLastError();
    if (timed) check(cudaEventRecord(stop.get(), dev_.stream()), variant, "cudaEventRecord");
    nvtxRangePop();
    check(launched, variant, "kernel launch");
    if (timed) {
      check(cudaEventSynchronize(stop.get()), variant, "cudaEventSynchronize");
      float ms = 0;
      check(cudaEventElapsedTime(&ms, start.get(), stop.get()), variant, "cudaEventElapsedTime");
      add_device_time(rec, ms * 1e-3);
    }
  }
#endif

 private:
  CudaDevice& dev_;
};

// Defined in kernels.cu (nvcc): the variant table over this launcher.
std::vector<Variant> make_variants(Launcher& launcher);

}  // namespace xk::cuda
