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
  Variant v;
  v.name = "mm_f16_f16_64x64_wmma_demo_gfx11";
  v.op = Op::Matmul;
  v.formats = {DType::F16};
  v.acts = {ActPrecision::F16};
  v.min_arch = "gfx11";
  v.tile = "64x64x32";
  v.priority = 0;  // a demonstration: any real variant for the same call wins
  v.supports_matmul = [](const MatmulArgs& a, const DeviceInfo&) -> std::string {
    if (a.W.dtype != DType::F16) return "demo kernel takes f16 weights";
    if (a.X.dtype != DType::F32 && a.X.dtype != DType::F16) return "demo kernel takes f32 or f16 activations";
    return "";
  };
  v.run_matmul = [&launcher](Device&, const MatmulArgs& a, LaunchRecord& rec) {
    namespace hd = xk::hip_demo;
    const auto p = hd::plan(a.M(), a.N());
    const auto* w = static_cast<const _Float16*>(launcher.ptr(a.W.buf));
    auto* y = static_cast<float*>(launcher.ptr(a.Y.buf));
    const char* name = "mm_f16_f16_64x64_wmma_demo_gfx11";
    if (a.X.dtype == DType::F32)
      launcher.launch(name, hd::mm_f16_f16_64x64_wmma_demo_gfx11<float>, dim3(p.grid_x, p.grid_y), dim3(p.threads), 0,
                      rec, w, static_cast<const float*>(launcher.ptr(a.X.buf)), y, a.M(), a.N(), a.K());
    else
      launcher.launch(name, hd::mm_f16_f16_64x64_wmma_demo_gfx11<_Float16>, dim3(p.grid_x, p.grid_y), dim3(p.threads),
                      0, rec, w, static_cast<const _Float16*>(launcher.ptr(a.X.buf)), y, a.M(), a.N(), a.K());
  };
  out.push_back(std::move(v));
#if XK_SIM_HAS_HIP_TABLE
  for (auto& t : hip_variants(launcher)) out.push_back(std::move(t));
#endif
  return out;
}

}  // namespace xk::sim
