// cuda-sim's variant table: every CUDA kernel variant (backends/cuda/table.h) instantiated
// over the simulated launcher. Compiled by g++ with XK_SIM (the CUDA dialect of cuda_sim.h).
#include "backends/cuda/table.h"
#include "backends/sim/launcher.h"
#include "backends/sim/variants.h"

namespace xk::sim {

static_assert(xk::Launcher<Launcher>, "the simulator's launcher satisfies the kernel files' launch contract");

std::vector<Variant> cuda_sim_variants(Launcher& launcher) { return xk::cuda_table::cuda_variants(launcher); }

}  // namespace xk::sim
