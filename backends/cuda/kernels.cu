// The one nvcc translation unit of the CUDA backend: instantiates the variant table
// (table.h, every kernel of kernels/cuda/) over the real Launcher.
#include "backends/cuda/launcher.h"
#include "backends/cuda/table.h"

namespace xk::cuda {

static_assert(xk::Launcher<Launcher>, "the CUDA launcher satisfies the kernel files' launch contract");

std::vector<Variant> make_variants(Launcher& launcher) { return cuda_table::cuda_variants(launcher); }

}  // namespace xk::cuda
