// Out-of-bounds shader reads on vulkan:0, through the Khronos validation layer's GPU-assisted
// validation (registered in CMakeLists.txt with VK_LAYER_ENABLES=
// VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_EXT; the backend turns every validation message
// into an xk::Error). Lavapipe bounds-checks storage-buffer accesses itself and returns zero,
// so a GEMV that computes a row past N but never stores it gives the right answer there and
// reads another tensor's bytes on a GPU; only the instrumented shader sees the read.
// N = 13 is not a multiple of the GEMVs' 8 (or 4) rows per workgroup, so the last workgroup
// has rows past N. GPU-AV instruments every pipeline, which is slow on lavapipe:
// the shapes are the smallest that have such a workgroup.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/common/test_util.h"
#include "xk/xk.h"

namespace {

TEST(VulkanGpuAv, GemvsReadNothingPastTheirOperandsWhenNIsNotARowMultiple) {
  auto dev = xk::open_device("vulkan:0");
  int ran = 0;
  for (const auto& v : dev->variants()) {
    if (v.op != xk::Op::Matmul || v.family != "mv") continue;
    const int64_t M = 1, N = 13, K = 64;
    const xk::DType w = v.formats.front();
    SCOPED_TRACE(v.name + " N=" + std::to_string(N));
    const auto wf = xk::test::randn(static_cast<size_t>(N * K), 1);
    const auto xf = xk::test::randn(static_cast<size_t>(M * K), 2);
    EXPECT_NO_THROW(xk::test::run_matmul(*dev, v.name, w, v.acts.front(), wf, xf, M, N, K));
    ++ran;
  }
  EXPECT_GE(ran, 1) << "no GEMV variant on vulkan:0";
}

}  // namespace
