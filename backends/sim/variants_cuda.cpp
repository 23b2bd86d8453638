// cuda-sim's variant table: the demonstration GEMM (kernels/cuda/demo_mma_gemm.cuh) plus,
// when backends/cuda/table.h is in the tree, every CUDA kernel variant instantiated over the
// simulated launcher. Compiled by g++ with XK_SIM (the CUDA dialect of cuda_sim.h).
#include "backends/sim/launcher.h"
#include "backends/sim/variants.h"
#include "kernels/cuda/demo_mma_gemm.cuh"
#if XK_SIM_HAS_CUDA_TABLE
#include "backends/cuda/table.h"
#endif

namespace xk::sim {

std::vector<Variant> cuda_sim_variants(Launcher& launcher) {
  std::vector<Variant> out;
  Variant v = f16_demo_variant("mm_f16_f16_64x64_mma16816_demo_sm80", "sm_80");
  v.run_matmul = [&launcher, name = v.name](Device&, const MatmulArgs& a, LaunchRecord& rec) {
    namespace cd = xk::cuda_demo;
    const auto p = cd::plan(a.M(), a.N());
    const auto* w = static_cast<const uint16_t*>(launcher.ptr(a.W.buf));
    auto* y = static_cast<float*>(launcher.ptr(a.Y.buf));
    if (a.X.dtype == DType::F32)
      launcher.launch(name.c_str(), cd::mm_f16_f16_64x64_mma16816_demo_sm80<float>, dim3(p.grid_x, p.grid_y), dim3(p.threads), 0,
                      rec, w, static_cast<const float*>(launcher.ptr(a.X.buf)), y, a.M(), a.N(), a.K());
    else
      launcher.launch(name.c_str(), cd::mm_f16_f16_64x64_mma16816_demo_sm80<uint16_t>, dim3(p.grid_x, p.grid_y),
                      dim3(p.threads), 0, rec, w, static_cast<const uint16_t*>(launcher.ptr(a.X.buf)), y, a.M(), a.N(),
                      a.K());
  };
  out.push_back(std::move(v));
#if XK_SIM_HAS_CUDA_TABLE
  for (auto& t : xk::cuda_table::cuda_variants(launcher)) out.push_back(std::move(t));
#endif
  return out;
}

}  // namespace xk::sim
