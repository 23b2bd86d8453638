// hip-sim's alignment rules for what fills the RDNA3 WMMA operands. The operands are VGPRs,
// so the checked accesses are the loads that fill them: the iu8 fragment loaders read each
// lane's 16-byte run from LDS as dwords (kernels/hip/wmma_fragments.h), and global loads go
// through xk::wmma::ld_global with the alignment of their type. Each rule is shown on a
// correct kernel and on the same kernel with one planted misalignment.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/hip/wmma.h"
#include "sim_test_util.h"
#include "xk/error.h"

namespace {

namespace st = xk::simtest;

template <class F>
void expect_error(F&& body, const std::string& needle) {
  try {
    body();
    ADD_FAILURE() << "expected an xk::Error containing '" << needle << "', nothing was thrown";
  } catch (const xk::Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

// One wave computes D = A B^T for a 16 x 16 x 16 int8 tile held in shared memory with rows
// `row_bytes` apart (mmq_wmma_i8 pads its 32-byte rows to 48); returns D[0][0].
int wmma_from_lds(int row_bytes) {
  int d00 = 0;
  st::run(1, 32, [&] {
    __shared__ __attribute__((aligned(16))) int8_t tile[16 * 64];  // (16 rows, row_bytes)
    const int lane = int(threadIdx.x);
    for (int i = lane; i < 16 * 64; i += 32) tile[i] = int8_t(i % 7 - 3);
    __syncthreads();
    xk::wmma::int4v a, b;
    xk::wmma::load_a_16x16x16_iu8(a, tile, row_bytes, lane);
    xk::wmma::load_b_16x16x16_iu8(b, tile, row_bytes, lane);
    xk::wmma::int8v d;
    for (int e = 0; e < 8; ++e) d[e] = 0;
    xk::wmma::wmma_i32_16x16x16_iu8(d, true, a, true, b, d, false);
    if (lane == 0) d00 = d[0];
  });
  return d00;
}

TEST(HipSimAlignment, WmmaIu8OperandsFromDwordAlignedRowsLoad) {
  int want = 0;  // row 0 of the tile dotted with itself
  for (int k = 0; k < 16; ++k) want += (k % 7 - 3) * (k % 7 - 3);
  EXPECT_EQ(wmma_from_lds(48), want);
}

TEST(HipSimAlignment, WmmaIu8OperandRowPaddedToAnOddByteCountIsReported) {
  // A 45-byte row (the pad shrunk by 3): lane 1's run starts at byte 45, not a dword.
  expect_error([] { wmma_from_lds(45); }, "misaligned WMMA iu8 operand load from LDS");
}

TEST(HipSimAlignment, MisalignedVectorGlobalLoadIsReported) {
  alignas(16) static int32_t buf[16] = {};
  int32_t ok = -1;
  st::run(1, 32, [&] {
    if (threadIdx.x == 0) ok = xk::wmma::ld_global(buf + 3);  // a dword load needs 4 bytes
  });
  EXPECT_EQ(ok, 0);
  expect_error(
      [] {
        st::run(1, 32, [&] {
          // 16-byte vector load from an address that is only 8-byte aligned.
          if (threadIdx.x == 0) (void)xk::wmma::ld_global(reinterpret_cast<const uint4*>(buf + 2));
        });
      },
      "misaligned global load");
}

// The HIP bodies are templates too: their static arrays are poisoned through wmma.h's helper.
template <int N>
void hip_template_kernel(float* seen) {
  __shared__ float s[N];
  xk::wmma::sim_poison_shared(s);
  if (blockIdx.x == 0) s[threadIdx.x] = 2.0f;
  __syncthreads();
  if (threadIdx.x == 0) seen[blockIdx.x] = s[3];
}

TEST(HipSimAlignment, HipTemplateKernelStaticSharedIsPoisonedPerBlock) {
  float seen[2] = {0, 0};
  st::run(2, 32, [&] { hip_template_kernel<32>(seen); });
  EXPECT_EQ(seen[0], 2.0f);
  EXPECT_TRUE(std::isnan(seen[1])) << "block 1 read block 0's data: " << seen[1];
}

}  // namespace
