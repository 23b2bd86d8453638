// The HIP variant table instantiated with the real launcher: every kernel of kernels/hip/ is
// compiled into this translation unit (clang -x hip, --offload-arch per XK_HIP_ARCHS).
#include "backends/hip/launcher.h"
#include "backends/hip/table.h"

namespace xk::hip {

static_assert(xk::Launcher<Launcher>, "the HIP launcher satisfies the kernel headers' launch contract");

std::vector<Variant> make_variants(Launcher& launcher) { return hip_table::hip_variants(launcher); }

}  // namespace xk::hip
