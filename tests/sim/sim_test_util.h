// Helpers for the simulator's own tests: run a lambda as a kernel on the fiber engine, and
// the second, independent statement of each fragment layout the tests build operands from.
//
// The tests never build fragments with kernels/cuda/mma_layouts.h or wmma_layouts.h (the
// tables under test): they use CUTLASS's CuTe layouts (cute/atom/mma_traits_sm80.hpp,
// mma_traits_sm120.hpp), transcribed below as (thread shape : stride, value shape : stride),
// and AMD's published WMMA formulas. A wrong entry in a layout header therefore makes the
// emulation disagree with the test's expectation.
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "backends/sim/engine.h"
#include "tests/common/test_util.h"

namespace xk::simtest {

// Runs body once per thread of a grid (grid and block are 1-D here).
inline sim::Counters run(unsigned blocks, unsigned threads, const std::function<void()>& body,
                         const std::string& name = "test_kernel", size_t dyn_smem = 0) {
  sim::LaunchConfig cfg{name, {blocks, 1, 1}, {threads, 1, 1}, dyn_smem};
  return sim::run_grid(cfg, body);
}

// A rank-2-of-modes CuTe layout ((t0,t1),(v0,v1,v2)) : ((ts0,ts1),(vs0,vs1,vs2)) mapping
// (thread, value) to a column-major index of an R-row matrix.
struct CuteLayout {
  int t_shape[2], t_stride[2];
  int v_shape[3], v_stride[3];
  int rows;  // extent of the first matrix mode (column-major)
  // (row, col) of value v held by lane t.
  void coord(int t, int v, int& row, int& col) const {
    const int t0 = t % t_shape[0], t1 = t / t_shape[0];
    const int v0 = v % v_shape[0], v1 = (v / v_shape[0]) % v_shape[1], v2 = v / (v_shape[0] * v_shape[1]);
    const int idx =
        t0 * t_stride[0] + t1 * t_stride[1] + v0 * v_stride[0] + v1 * v_stride[1] + v2 * v_stride[2];
    row = idx % rows;
    col = idx / rows;
  }
};

// cute/atom/mma_traits_sm80.hpp, SM80_16x8x16_F32F16F16F32_TN: A (M16,K16), B (N8,K16).
inline constexpr CuteLayout kCuteA_k16{{4, 8}, {32, 1}, {2, 2, 2}, {16, 8, 128}, 16};
inline constexpr CuteLayout kCuteB_k16{{4, 8}, {16, 1}, {2, 2, 1}, {8, 64, 0}, 8};
// SM80_16x8_Row: C (M16,N8).
inline constexpr CuteLayout kCuteC{{4, 8}, {32, 1}, {2, 2, 1}, {16, 8, 0}, 16};
// SM80_16x8x32_S32S8S8S32_TN: A (M16,K32), B (N8,K32).
inline constexpr CuteLayout kCuteA_k32{{4, 8}, {64, 1}, {4, 2, 2}, {16, 8, 256}, 16};
inline constexpr CuteLayout kCuteB_k32{{4, 8}, {32, 1}, {4, 2, 1}, {8, 128, 0}, 8};
// mma_traits_sm120.hpp, SM120_16x8x64_TN_VS: A (M16,K64), B (N8,K64).
inline constexpr CuteLayout kCuteA_k64{{4, 8}, {128, 1}, {8, 2, 2}, {16, 8, 512}, 16};
inline constexpr CuteLayout kCuteB_k64{{4, 8}, {64, 1}, {8, 2, 1}, {8, 256, 0}, 8};

// The accumulator fragment lane `lane` holds under kCuteC: rc[i] = c(m, n) of its element i.
template <class T, class F>
void c_fragment(int lane, T (&rc)[4], F&& c) {
  for (int i = 0; i < 4; ++i) {
    int m, n;
    kCuteC.coord(lane, i, m, n);
    rc[i] = static_cast<T>(c(m, n));
  }
}

// Scale-factor lanes, PTX ISA "Block Scaling for mma.sync" (transcribed independently of
// mma_layouts.h): scale_A row m comes from lane 4*(m%8) + 2*thread_id_a + m/8, scale_B column
// n from lane 4*n + thread_id_b; K-block v uses byte byte_id + v. CuTe's SFALayout
// ((2,2,8),64):((8,0,1),16) and SFBLayout ((4,8),64):((0,1),8) say the same for selector 0.
inline int ptx_scale_a_lane(int m, int tid) { return 4 * (m % 8) + 2 * tid + m / 8; }
inline int ptx_scale_b_lane(int n, int tid) { return 4 * n + tid; }

// e2m1 values of codes 0..15 (OCP Microscaling spec, FP4 E2M1).
inline double e2m1_value(int code) {
  static const double mag[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  return (code & 8) ? -mag[code & 7] : mag[code & 7];
}

// A quantizer's block scale matches the oracle's: the same value, or both NaN (a block that
// holds a non-finite value, or whose FP16 scale overflows, has a NaN scale by the NaN policy).
inline bool same_scale(float got, float want) { return got == want || (std::isnan(got) && std::isnan(want)); }

// Five rows of K activations for the quantizer tests: ordinary N(0,1); log-uniform over all of
// FP32 (1.4e-45 .. 3e38, random signs); subnormals only; huge only (1e30 .. 3e38); zeros. Row 1
// also holds the extremes themselves (3e38 and the smallest subnormal, 2^-149).
inline std::vector<float> rows_of_every_magnitude(int64_t K, uint64_t seed) {
  test::Rng rng(seed);
  auto log_uniform = [&](double lo, double hi) {
    const double v = std::exp(std::log(lo) + rng.uniform() * (std::log(hi) - std::log(lo)));
    return static_cast<float>(rng.next() & 1 ? v : -v);
  };
  std::vector<float> x(static_cast<size_t>(5 * K));
  for (int64_t k = 0; k < K; ++k) {
    x[k] = rng.normal();
    x[K + k] = log_uniform(1.4e-45, 3e38);
    x[2 * K + k] = log_uniform(1.4e-45, 1.1e-38);
    x[3 * K + k] = log_uniform(1e30, 3e38);
    x[4 * K + k] = 0.0f;
  }
  x[K + 5] = 3e38f;
  x[K + 6] = std::ldexp(1.0f, -149);
  return x;
}

}  // namespace xk::simtest
