// Registration of the CUDA backend (called from backends/core/registry.cpp).
#include "backends/core/backend_list.h"
#include "backends/cuda/cuda_device.h"
#include "xk/error.h"

namespace xk::backends {

Backend cuda() {
  return Backend{"cuda", [] { return cuda::enumerate(); },
                 [](const std::string& name) -> std::unique_ptr<Device> {
                   const std::string prefix = "cuda:";
                   if (name.rfind(prefix, 0) != 0)
                     throw Error("open_device", "name", "'" + name + "' is not a cuda:N device name");
                   int ordinal = -1;
                   try {
                     ordinal = std::stoi(name.substr(prefix.size()));
                   } catch (const std::exception&) {
                     throw Error("open_device", "name", "'" + name + "': device index is not a number");
                   }
                   return std::make_unique<cuda::CudaDevice>(ordinal);
                 }};
}

}  // namespace xk::backends
