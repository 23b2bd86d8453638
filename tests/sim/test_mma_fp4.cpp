// Instruction-level tests of the block-scaled FP4 mma.sync emulation (m16n8k64 e2m1 with
// ue4m3 scale_vec::4X, ue8m0 scale_vec::2X, kind::mxf4), against a plain matrix product of
// decoded values: random codes and scales, one-hot operands at every position, and every
// thread-id / byte-id scale selector (PTX ISA "Block Scaling for mma.sync").
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernels/cuda/ptx.cuh"
#include "sim_test_util.h"

namespace {

namespace st = xk::simtest;

enum Kind { NVF4_4X, MXF4NVF4_2X, MXF4_2X };

double ue4m3_value(uint32_t b) {  // unsigned E4M3: bias 7, 3 mantissa bits, subnormals
  const int e = int(b >> 3) & 15, m = int(b & 7);
  return e == 0 ? std::ldexp(m / 8.0, -6) : std::ldexp(1.0 + m / 8.0, e - 7);
}
double ue8m0_value(uint32_t b) { return std::ldexp(1.0, int(b) - 127); }

struct Fp4Case {
  int A[16][64];  // e2m1 codes, M x K
  int B[64][8];   // e2m1 codes, K x N
  uint32_t sa[32], sb[32];
  float C[16][8];
};

template <int KIND, int BA, int TA, int BB, int TB>
void run_fp4(const Fp4Case& t, const std::string& what) {
  const int V = KIND == NVF4_4X ? 4 : 2, kb = 64 / V;
  auto scale = [&](uint32_t reg, int byte) {
    const uint32_t b = (reg >> (8 * byte)) & 0xff;
    return KIND == NVF4_4X ? ue4m3_value(b) : ue8m0_value(b);
  };
  double want[16][8];
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      double s = t.C[m][n];
      for (int k = 0; k < 64; ++k)
        s += st::e2m1_value(t.A[m][k]) * scale(t.sa[st::ptx_scale_a_lane(m, TA)], BA + k / kb) *
             st::e2m1_value(t.B[k][n]) * scale(t.sb[st::ptx_scale_b_lane(n, TB)], BB + k / kb);
      want[m][n] = float(s);
    }
  static uint32_t fa[32][4], fb[32][2];
  static float fd[32][4];
  for (int lane = 0; lane < 32; ++lane) {
    for (int i = 0; i < 4; ++i) fa[lane][i] = 0;
    for (int i = 0; i < 2; ++i) fb[lane][i] = 0;
    for (int v = 0; v < 32; ++v) {
      int r, c;
      st::kCuteA_k64.coord(lane, v, r, c);
      fa[lane][v / 8] |= uint32_t(t.A[r][c] & 15) << (4 * (v % 8));
    }
    for (int v = 0; v < 16; ++v) {
      int n, k;
      st::kCuteB_k64.coord(lane, v, n, k);
      fb[lane][v / 8] |= uint32_t(t.B[k][n] & 15) << (4 * (v % 8));
    }
  }
  const auto counters = st::run(1, 32, [&] {
    const int l = threadIdx.x;
    uint32_t ra[4], rb[2];
    float rc[4], rd[4];
    std::memcpy(ra, fa[l], sizeof ra);
    std::memcpy(rb, fb[l], sizeof rb);
    st::c_fragment(l, rc, [&](int m, int n) { return t.C[m][n]; });
    if constexpr (KIND == NVF4_4X)
      xk::ptx::mma_m16n8k64_nvf4_ue4m3_4x<BA, TA, BB, TB>(rd, ra, rb, rc, t.sa[l], t.sb[l]);
    if constexpr (KIND == MXF4NVF4_2X)
      xk::ptx::mma_m16n8k64_mxf4_ue8m0_2x<BA, TA, BB, TB>(rd, ra, rb, rc, t.sa[l], t.sb[l]);
    if constexpr (KIND == MXF4_2X)
      xk::ptx::mma_m16n8k64_mxf4_kind_mxf4<BA, TA, BB, TB>(rd, ra, rb, rc, t.sa[l], t.sb[l]);
    std::memcpy(fd[l], rd, sizeof rd);
  });
  EXPECT_EQ(counters.mma_by_kind.size(), 1u);
  double worst = -1, got_w = 0;
  int wm = 0, wn = 0;
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      int m, n;
      st::kCuteC.coord(lane, i, m, n);
      const double got = fd[lane][i], exp = want[m][n];
      const double err =
          std::isnan(got) ? INFINITY : std::fabs(got - exp) / std::max(1e-30, std::fabs(exp) + 1e-30);
      if (err > worst && (got != exp)) {
        worst = err;
        wm = m;
        wn = n;
        got_w = got;
      }
    }
  EXPECT_LT(worst, 1e-6) << "device cuda-sim, " << what << " selectors {" << BA << "," << TA << "},{" << BB
                         << "," << TB << "}: worst element D[" << wm << "][" << wn << "] expected "
                         << want[wm][wn] << " actual " << got_w;
}

Fp4Case random_case(uint32_t seed, int kind) {
  std::mt19937 rng(seed);
  Fp4Case t;
  for (auto& r : t.A)
    for (auto& v : r) v = int(rng() % 16);
  for (auto& r : t.B)
    for (auto& v : r) v = int(rng() % 16);
  for (auto& r : t.C)
    for (auto& v : r) v = float(int(rng() % 7) - 3);
  for (int l = 0; l < 32; ++l) {
    t.sa[l] = t.sb[l] = 0;
    for (int b = 0; b < 4; ++b) {
      // ue4m3: codes 0x08..0x77 (normal, not NaN); ue8m0: 2^-8 .. 2^7 around 1.
      const uint32_t ca = kind == NVF4_4X ? 8 + rng() % 0x70 : 119 + rng() % 16;
      const uint32_t cb = kind == NVF4_4X ? 8 + rng() % 0x70 : 119 + rng() % 16;
      t.sa[l] |= ca << (8 * b);
      t.sb[l] |= cb << (8 * b);
    }
  }
  return t;
}

Fp4Case unit_case(int kind) {
  Fp4Case t{};
  const uint32_t one = kind == NVF4_4X ? 0x38 : 127;  // ue4m3 1.0 = e 7, m 0; ue8m0 1.0 = 127
  for (int l = 0; l < 32; ++l) t.sa[l] = t.sb[l] = one * 0x01010101u;
  return t;
}

TEST(MmaM16n8k64Fp4, RandomCodesAndScalesMatchPlainProduct) {
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    run_fp4<NVF4_4X, 0, 0, 0, 0>(random_case(seed, NVF4_4X), "nvf4 ue4m3 4X random");
    run_fp4<MXF4NVF4_2X, 0, 0, 0, 0>(random_case(seed, MXF4NVF4_2X), "mxf4nvf4 ue8m0 2X random");
    run_fp4<MXF4_2X, 0, 0, 0, 0>(random_case(seed, MXF4_2X), "kind::mxf4 ue8m0 2X random");
  }
}

TEST(MmaM16n8k64Fp4, OneHotAAndBAtEveryPositionPinTheLayouts) {
  for (int r = 0; r < 16; ++r)
    for (int k = 0; k < 64; ++k) {
      Fp4Case t = unit_case(NVF4_4X);
      t.A[r][k] = 2;  // 1.0
      for (int kk = 0; kk < 64; ++kk)
        for (int n = 0; n < 8; ++n) t.B[kk][n] = 1 + (kk + 3 * n) % 7;
      run_fp4<NVF4_4X, 0, 0, 0, 0>(t, "one-hot A(" + std::to_string(r) + "," + std::to_string(k) + ")");
      if (testing::Test::HasFailure()) return;
    }
  for (int k = 0; k < 64; ++k)
    for (int n = 0; n < 8; ++n) {
      Fp4Case t = unit_case(MXF4NVF4_2X);
      t.B[k][n] = 2;
      for (int m = 0; m < 16; ++m)
        for (int kk = 0; kk < 64; ++kk) t.A[m][kk] = 1 + (kk + 5 * m) % 7;
      run_fp4<MXF4NVF4_2X, 0, 0, 0, 0>(t, "one-hot B(" + std::to_string(k) + "," + std::to_string(n) + ")");
      if (testing::Test::HasFailure()) return;
    }
}

// Every lane holds different scale bytes, so a selector reading the wrong lane or byte changes D.
TEST(MmaM16n8k64Fp4, ScaleSelectorPicksLanePerPtxIsa) {
#define XK_SEL(KIND, BA, TA, BB, TB) \
  run_fp4<KIND, BA, TA, BB, TB>(random_case(100 + TA * 4 + TB + BA, KIND), #KIND)
#define XK_SEL_TB(KIND, BA, TA, BB) \
  XK_SEL(KIND, BA, TA, BB, 0);      \
  XK_SEL(KIND, BA, TA, BB, 1);      \
  XK_SEL(KIND, BA, TA, BB, 2);      \
  XK_SEL(KIND, BA, TA, BB, 3)
#define XK_SEL_ALL(KIND, BA, BB) \
  XK_SEL_TB(KIND, BA, 0, BB);    \
  XK_SEL_TB(KIND, BA, 1, BB)
  XK_SEL_ALL(NVF4_4X, 0, 0);
  XK_SEL_ALL(MXF4NVF4_2X, 0, 0);
  XK_SEL_ALL(MXF4NVF4_2X, 2, 2);
  XK_SEL_ALL(MXF4NVF4_2X, 0, 2);
  XK_SEL_ALL(MXF4_2X, 2, 0);
#undef XK_SEL_ALL
#undef XK_SEL_TB
#undef XK_SEL
}

}  // namespace
