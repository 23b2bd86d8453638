// The simulated Launcher (backends/core/launcher.h) the variant tables (backends/cuda/table.h,
// backends/hip/table.h) are instantiated with: the same contract as the real launchers, but
// launch() runs the kernel on the fiber engine, adds the counters to the LaunchRecord and
// checks the guard regions of every buffer.
#pragma once
#include <chrono>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "backends/core/variant_row.h"
#include "backends/sim/engine.h"
#include "backends/sim/sim_device.h"
#include "backends/sim/simt_dialect.h"

namespace xk::sim {

class Launcher {
 public:
  // Per-block shared memory limits: CUDA C++ Programming Guide, "Technical Specifications per
  // Compute Capability" (12.x: 99 KB per block with opt-in); RDNA3 ISA: 64 KB LDS per workgroup.
  static constexpr size_t kSmemBytesSm12x = 99 * 1024, kLdsBytesGfx11 = 64 * 1024;

  using dim_type = dim3;
  explicit Launcher(SimDevice& dev) : dev_(dev) {}
  const DeviceInfo& info() const { return dev_.info(); }
  Device& device() { return dev_; }
  void* ptr(const Buffer& b) const { return data(b); }
  Buffer scratch(size_t bytes) { return dev_.alloc(bytes); }

  template <class... P, class... A>
  void launch(const char* variant, void (*kernel)(P...), dim3 grid, dim3 block, size_t dyn_smem_bytes,
              LaunchRecord& rec, A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "kernel argument count");
    std::tuple<std::decay_t<P>...> params(static_cast<P>(std::forward<A>(args))...);
    std::vector<const void*> pointers;
    std::apply([&](const auto&... p) { (collect(pointers, p), ...); }, params);
    // Launches the real device would refuse are errors here too.
    const size_t smem_limit = dev_.info().arch.rfind("gfx", 0) == 0 ? kLdsBytesGfx11 : kSmemBytesSm12x;
    if (dyn_smem_bytes > smem_limit)
      throw Error(dev_.info().name, "dyn_smem_bytes",
                  "kernel '" + std::string(variant) + "' asks for " + std::to_string(dyn_smem_bytes) +
                      " bytes of dynamic shared memory, more than the " + std::to_string(smem_limit) +
                      " a block of " + dev_.info().arch + " can have");
    LaunchConfig cfg{variant, {grid.x, grid.y, grid.z}, {block.x, block.y, block.z}, dyn_smem_bytes};
    const auto t0 = std::chrono::steady_clock::now();
    // Each thread gets its own copy of the parameters, as on a GPU.
    Counters c;
    try {
      c = run_grid(cfg, [&] { std::apply([&](auto... p) { kernel(p...); }, params); });
    } catch (...) {
      dev_.restore_guards();  // a kernel stopped by an error may have written into a guard too
      throw;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    dev_.check_guards(variant, pointers);
    rec.has_counters = true;
    for (const auto& [k, v] : c.mma_by_kind) rec.mma_by_kind[k] += v;
    rec.global_bytes_read += c.global_bytes_read;
    rec.global_bytes_written += c.global_bytes_written;
    rec.shared_bytes += c.shared_bytes;
    rec.barriers += c.barriers;
    if (dev_.timing()) add_device_time(rec, secs);
  }

 private:
  template <class T>
  static void collect(std::vector<const void*>& out, const T& v) {
    if constexpr (std::is_pointer_v<T>) out.push_back(static_cast<const void*>(v));
  }
  SimDevice& dev_;
};

}  // namespace xk::sim
