// Static __shared__ arrays of function templates, poisoned per block. g++ ignores the section
// attribute that lets the engine poison a non-template kernel's arrays at block start, so a
// kernel template names its arrays in xk::ptx::sim_poison_shared: the first thread of each
// block to get there fills them with 0xFF (NaN floats, -1 integers). Shown on a small
// template kernel and on flash_attn, whose V tail rows past the last key must be written
// (zero-filled) because P = 0 times an uninitialised NaN is NaN on the GPU too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cuda/ptx.cuh"
#include "sim_test_util.h"

namespace {

namespace st = xk::simtest;

// Block 0 writes the arrays; block 1 reads before writing. On a GPU block 1 sees whatever the
// SM held; here NaN / -1, never block 0's values, whichever worker runs it.
template <int N>
void read_before_write_kernel(float* seen_f, int* seen_i) {
  __shared__ float f[N];
  __shared__ int n[N];
  xk::ptx::sim_poison_shared(f, n);
  const unsigned t = threadIdx.x, blk = blockIdx.x;
  if (blk == 0) {
    f[t] = 1.0f;
    n[t] = 7;
  }
  __syncthreads();
  if (t == 0) {
    seen_f[blk] = f[5];
    seen_i[blk] = n[5];
  }
}

TEST(SimTemplateSharedPoison, NamedArraysOfATemplateKernelArePoisonedBeforeEveryBlock) {
  float seen_f[2] = {0, 0};
  int seen_i[2] = {0, 0};
  st::run(2, 32, [&] { read_before_write_kernel<32>(seen_f, seen_i); });
  EXPECT_EQ(seen_f[0], 1.0f);
  EXPECT_EQ(seen_i[0], 7);
  EXPECT_TRUE(std::isnan(seen_f[1])) << "block 1's uninitialised read must see NaN, got " << seen_f[1];
  EXPECT_EQ(seen_i[1], -1);
}

template <int N>
void poison_once_kernel(float* out) {
  __shared__ float s[N];
  xk::ptx::sim_poison_shared(s);
  const unsigned t = threadIdx.x;
  s[t] = float(t);
  __syncthreads();
  // A late thread's call (every thread makes it) must not wipe what earlier threads wrote.
  xk::ptx::sim_poison_shared(s);
  out[t] = s[(t + 1) % N];
}

TEST(SimTemplateSharedPoison, LaterCallsInTheSameBlockKeepTheWrittenData) {
  std::vector<float> out(64, -1.0f);
  st::run(1, 64, [&] { poison_once_kernel<64>(out.data()); });
  for (int t = 0; t < 64; ++t) EXPECT_EQ(out[t], float((t + 1) % 64)) << "thread " << t;
}

}  // namespace
