// Registration of the simulator devices cuda-sim (arch sm_121a, so every CUDA variant's
// minimum-arch check passes) and hip-sim (gfx1151). Both are host-memory devices with
// guard regions (sim_device.h) running the real kernel sources on the fiber engine.
#include <memory>
#include <thread>

#include "backends/core/backend_list.h"
#include "backends/core/variant_row.h"
#include "backends/cpu/host_device.h"
#include "backends/sim/launcher.h"
#include "backends/sim/variants.h"

namespace xk::backends {

namespace {

DeviceInfo sim_info(bool cuda) {
  DeviceInfo i;
  i.name = cuda ? "cuda-sim" : "hip-sim";
  i.api = "sim";
  i.arch = cuda ? "sm_121a" : "gfx1151";
  i.description = std::string(cuda ? "CUDA" : "HIP") + " kernels on the SIMT simulator (fibers) on " +
                  host::host_cpu_name();
  i.memory_bytes = host::host_memory_bytes();
  i.unified_memory = true;
  i.subgroup_size = 32;
  i.compute_units = 1;
  if (cuda)
    i.features = {"fp16",    "bf16",    "int8",     "int8_mma", "fp16_mma",
                  "fp4_mma", "fp8_mma", "cp_async", "ldmatrix"};
  else
    i.features = {"fp16", "bf16", "int8", "wmma_f16", "wmma_bf16", "wmma_iu8", "wmma_iu4", "wave32"};
  return i;
}

// The device owns the launcher its variants capture by reference.
class SimDeviceWithTable : public sim::SimDevice {
 public:
  explicit SimDeviceWithTable(bool cuda) : SimDevice(sim_info(cuda)), launcher_(*this) {
    DeviceAccess::variants(*this) =
        cuda ? sim::cuda_sim_variants(launcher_) : sim::hip_sim_variants(launcher_);
  }

 private:
  sim::Launcher launcher_;
};

}  // namespace

Backend sim() {
  return Backend{"sim",
                 [] {
                   return std::vector<DeviceEntry>{
                       {"cuda-sim", "sim", true, "", "CUDA kernels (sm_121a) on the SIMT simulator"},
                       {"hip-sim", "sim", true, "", "HIP kernels (gfx1151) on the SIMT simulator"}};
                 },
                 [](const std::string& name) -> std::unique_ptr<Device> {
                   if (name == "cuda-sim") return std::make_unique<SimDeviceWithTable>(true);
                   if (name == "hip-sim") return std::make_unique<SimDeviceWithTable>(false);
                   throw Error("open_device", "name", "sim has no device '" + name + "' (cuda-sim, hip-sim)");
                 }};
}

}  // namespace xk::backends
