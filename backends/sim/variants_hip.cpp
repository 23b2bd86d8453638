// hip-sim's variant table: every HIP kernel variant (backends/hip/table.h) instantiated over
// the simulated launcher. Compiled by g++ with XK_SIM (the HIP dialect of hip_sim.h).
#include "backends/hip/table.h"
#include "backends/sim/launcher.h"
#include "backends/sim/variants.h"

namespace xk::sim {

std::vector<Variant> hip_sim_variants(Launcher& launcher) { return xk::hip_table::hip_variants(launcher); }

}  // namespace xk::sim
