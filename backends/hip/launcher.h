// The real Launcher (backends/core/launcher.h) the HIP variant table is instantiated with.
// The class is visible to g++ (hip_device.cpp owns it); launch() exists only in the clang -x hip
// translation unit (variants.hip).
#pragma once
#include <optional>
#include <utility>

#include "backends/core/variant_row.h"
#include "backends/hip/hip_device.h"

namespace xk::hip {

// The Launcher (backends/core/launcher.h) the table is instantiated with: a launch is
// kernel<<<grid, block, dyn_smem, stream>>> inside a roctx range named after the variant,
// between two events when the device times launches. Several launches of one call (the Q8
// quantizer and the GEMM; decode and combine) add their times into one record.
class Launcher {
 public:
  using dim_type = dim3;
  explicit Launcher(HipDevice& dev) : dev_(dev) {}
  const DeviceInfo& info() const { return dev_.info(); }
  void* ptr(const Buffer& b) const { return b.valid() ? impl_as<HipBuffer>(b)->ptr : nullptr; }
  Buffer scratch(size_t bytes) { return dev_.alloc(bytes); }

#ifdef __HIP__
  template <class... P, class... A>
  void launch(const char* variant, void (*kernel)(P...), dim3 grid, dim3 block, size_t dyn_smem,
              LaunchRecord& rec, A&&... args) {
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;  // empty problem: nothing to launch
    dev_.make_current();
    RoctxRange range(variant);
    std::optional<EventTimer> timer;
    if (dev_.timing()) timer.emplace(dev_.stream());
    kernel<<<grid, block, dyn_smem, dev_.stream()>>>(static_cast<P>(std::forward<A>(args))...);
    check(hipGetLastError(), variant);
    if (timer) {
      timer->stop();
      add_device_time(rec, timer->seconds());
    }
  }
#endif

 private:
  HipDevice& dev_;
};

// Defined in variants.hip: the variant table over this launcher.
std::vector<Variant> make_variants(Launcher& launcher);

}  // namespace xk::hip
