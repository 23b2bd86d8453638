// hip-sim's variant table: the demonstration WMMA GEMM (kernels/hip/demo_wmma_gemm.h) plus,
// when backends/hip/table.h is in the tree, every HIP kernel variant instantiated over the
// simulated launcher. Compiled by g++ with XK_SIM (the HIP dialect of hip_sim.h).
#include "backends/sim/launcher.h"
#include "backends/sim/variants.h"
#include "kernels/hip/demo_wmma_gemm.h"
#if XK_SIM_HAS_HIP_TABLE
#include "backends/hip/table.h"
#endif

namespace xk::sim {

std::vector<Variant> hip_sim_variants(Launcher& launcher) {
  std::vector<Variant> out;
  Variant v = f16_demo_variant("mm_f16_f16_64x64_wmma_demo_gfx11", "gfx11");
  v.run_matmul = [&launcher, name = v.name](Device&, const MatmulArgs& a, LaunchRecord& rec) {
    namespace hd = xk::hip_demo;
    const auto p = hd::plan(a.M(), a.N());
    const auto* w = static_cast<const _Float16*>(launcher.ptr(a.W.buf));
    auto* y = static_cast<float*>(launcher.ptr(a.Y.buf));
    if (a.X.dtype == DType::F32)
      launcher.launch(name.c_str(), hd::mm_f16_f16_64x64_wmma_demo_gfx11<float>, dim3(p.grid_x, p.grid_y), dim3(p.threads), 0,
                      rec, w, static_cast<const float*>(launcher.ptr(a.X.buf)), y, a.M(), a.N(), a.K());
    else
      launcher.launch(name.c_str(), hd::mm_f16_f16_64x64_wmma_demo_gfx11<_Float16>, dim3(p.grid_x, p.grid_y), dim3(p.threads),
                      0, rec, w, static_cast<const _Float16*>(launcher.ptr(a.X.buf)), y, a.M(), a.N(), a.K());
  };
  out.push_back(std::move(v));
#if XK_SIM_HAS_HIP_TABLE
  for (auto& t : hip_variants(launcher)) out.push_back(std::move(t));
#endif
  return out;
}

}  // namespace xk::sim
