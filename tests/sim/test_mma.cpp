// Instruction-level tests of cuda-sim's mma.sync / ldmatrix emulation (kernels/cuda/ptx.cuh).
// Each instruction runs on one simulated warp with operands built from the CuTe layouts of
// sim_test_util.h and is compared with a plain matrix product: random inputs, one-hot inputs
// at every (row, k) of A and every (k, col) of B (these pin the layout), and every
// block-scale selector.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernels/cuda/ptx.cuh"
#include "sim_test_util.h"

namespace {

using xk::simtest::CuteLayout;
using Mat = std::vector<std::vector<double>>;  // [rows][cols]

Mat zeros(int r, int c) { return Mat(size_t(r), std::vector<double>(size_t(c), 0.0)); }

// Packs codes of a (rows x cols) matrix into per-lane registers: `bits` per element, values
// v = reg * (32/bits) + element as in CuTe's value order.
template <int REGS>
void pack(const CuteLayout& L, int bits, const std::vector<std::vector<uint32_t>>& codes,
          uint32_t (&out)[32][REGS]) {
  const int per = 32 / bits;
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < REGS; ++i) {
      out[lane][i] = 0;
      for (int e = 0; e < per; ++e) {
        int r, c;
        L.coord(lane, i * per + e, r, c);
        out[lane][i] |= (codes[size_t(r)][size_t(c)] & ((1ull << bits) - 1)) << (bits * e);
      }
    }
}

// Compares D with the plain product, printing the worst element.
template <class T>
void expect_matches(const char* what, const Mat& want, const T (&d)[32][4], double tol) {
  double worst = -1, got_worst = 0;
  int wm = 0, wn = 0;
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      int m, n;
      xk::simtest::kCuteC.coord(lane, i, m, n);
      const double got = double(d[lane][i]), exp = want[size_t(m)][size_t(n)];
      const double err = std::isnan(got) ? INFINITY : std::fabs(got - exp) / std::max(1.0, std::fabs(exp));
      if (err > worst) {
        worst = err;
        wm = m;
        wn = n;
        got_worst = got;
      }
    }
  EXPECT_LE(worst, tol) << "device cuda-sim, " << what << ": worst element D[" << wm << "][" << wn
                        << "] expected " << want[size_t(wm)][size_t(wn)] << " actual " << got_worst;
}

// ---- f16 / bf16 m16n8k16 ----------------------------------------------------------------
struct F16Case {
  Mat A = zeros(16, 16), B = zeros(16, 8), C = zeros(16, 8);  // B is K x N
};

void run_16bit(const F16Case& t, bool bf16, const char* what, double tol) {
  auto enc = [bf16](double v) {
    return uint32_t(bf16 ? xk::sim::f32_to_bf16(float(v)) : xk::sim::f32_to_f16(float(v)));
  };
  auto dec = [bf16](uint32_t u) {
    return double(bf16 ? xk::sim::bf16_to_f32(uint16_t(u)) : xk::sim::f16_to_f32(uint16_t(u)));
  };
  std::vector<std::vector<uint32_t>> a(16, std::vector<uint32_t>(16)), bt(8, std::vector<uint32_t>(16));
  Mat want = t.C;
  for (int m = 0; m < 16; ++m)
    for (int k = 0; k < 16; ++k) a[m][k] = enc(t.A[m][k]);
  for (int k = 0; k < 16; ++k)
    for (int n = 0; n < 8; ++n) bt[n][k] = enc(t.B[k][n]);
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      double s = t.C[m][n];
      for (int k = 0; k < 16; ++k) s += dec(a[m][k]) * dec(bt[n][k]);
      want[m][n] = float(s);
    }
  static uint32_t fa[32][4], fb[32][2];
  static float fc[32][4], fd[32][4];
  pack(xk::simtest::kCuteA_k16, 16, a, fa);
  pack(xk::simtest::kCuteB_k16, 16, bt, fb);
  for (int lane = 0; lane < 32; ++lane)
    xk::simtest::c_fragment(lane, fc[lane], [&](int m, int n) { return t.C[m][n]; });
  const auto counters = xk::simtest::run(1, 32, [&] {
    const int l = threadIdx.x;
    uint32_t ra[4], rb[2];
    float rc[4], rd[4];
    std::memcpy(ra, fa[l], sizeof ra);
    std::memcpy(rb, fb[l], sizeof rb);
    std::memcpy(rc, fc[l], sizeof rc);
    if (bf16)
      xk::ptx::mma_m16n8k16_bf16_f32(rd, ra, rb, rc);
    else
      xk::ptx::mma_m16n8k16_f16_f32(rd, ra, rb, rc);
    std::memcpy(fd[l], rd, sizeof rd);
  });
  EXPECT_EQ(counters.mma_by_kind.at(bf16 ? "mma.m16n8k16.bf16" : "mma.m16n8k16.f16"), 1u);
  expect_matches(what, want, fd, tol);
}

TEST(MmaM16n8k16, F16RandomSmallIntegersMatchPlainProductExactly) {
  std::mt19937 rng(1);
  F16Case t;
  for (auto& r : t.A)
    for (auto& v : r) v = int(rng() % 9) - 4;
  for (auto& r : t.B)
    for (auto& v : r) v = int(rng() % 9) - 4;
  for (auto& r : t.C)
    for (auto& v : r) v = int(rng() % 5) - 2;
  run_16bit(t, false, "mma.m16n8k16.f16 random integers", 0.0);
}

TEST(MmaM16n8k16, F16And16BitRandomRealsMatchWithinFp32Rounding) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> u(-1, 1);
  for (bool bf16 : {false, true}) {
    F16Case t;
    for (auto& r : t.A)
      for (auto& v : r) v = u(rng);
    for (auto& r : t.B)
      for (auto& v : r) v = u(rng);
    for (auto& r : t.C)
      for (auto& v : r) v = u(rng);
    run_16bit(t, bf16, bf16 ? "mma.m16n8k16.bf16 random reals" : "mma.m16n8k16.f16 random reals", 1e-6);
  }
}

TEST(MmaM16n8k16, OneHotAAtEveryRowKPinsTheALayout) {
  for (bool bf16 : {false, true})
    for (int r = 0; r < 16; ++r)
      for (int k = 0; k < 16; ++k) {
        F16Case t;
        t.A[r][k] = 1;
        for (int kk = 0; kk < 16; ++kk)
          for (int n = 0; n < 8; ++n) t.B[kk][n] = 1 + kk + 16 * n;  // distinct per (k, n)
        run_16bit(t, bf16, ("one-hot A(" + std::to_string(r) + "," + std::to_string(k) + ")").c_str(), 0.0);
        if (testing::Test::HasFailure()) return;
      }
}

TEST(MmaM16n8k16, OneHotBAtEveryKColPinsTheBLayout) {
  for (bool bf16 : {false, true})
    for (int k = 0; k < 16; ++k)
      for (int n = 0; n < 8; ++n) {
        F16Case t;
        t.B[k][n] = 1;
        for (int m = 0; m < 16; ++m)
          for (int kk = 0; kk < 16; ++kk) t.A[m][kk] = 1 + kk + 16 * m;
        run_16bit(t, bf16, ("one-hot B(" + std::to_string(k) + "," + std::to_string(n) + ")").c_str(), 0.0);
        if (testing::Test::HasFailure()) return;
      }
}

TEST(MmaM16n8k16, OneHotCPinsTheAccumulatorLayout) {
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      F16Case t;
      t.C[m][n] = 7;
      run_16bit(t, false, ("one-hot C(" + std::to_string(m) + "," + std::to_string(n) + ")").c_str(), 0.0);
      if (testing::Test::HasFailure()) return;
    }
}

// ---- s8 / u8 m16n8k32 ---------------------------------------------------------------------
void run_8bit(const std::vector<std::vector<int>>& A, const std::vector<std::vector<int>>& B /* K x N */,
              bool is_signed, const char* what) {
  std::vector<std::vector<uint32_t>> a(16, std::vector<uint32_t>(32)), bt(8, std::vector<uint32_t>(32));
  Mat want = zeros(16, 8);
  for (int m = 0; m < 16; ++m)
    for (int k = 0; k < 32; ++k) a[m][k] = uint32_t(A[m][k]) & 0xff;
  for (int k = 0; k < 32; ++k)
    for (int n = 0; n < 8; ++n) bt[n][k] = uint32_t(B[k][n]) & 0xff;
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      int64_t s = 5 * m - n;  // C
      for (int k = 0; k < 32; ++k) s += int64_t(A[m][k]) * B[k][n];
      want[m][n] = double(s);
    }
  static uint32_t fa[32][4], fb[32][2];
  static int32_t fd[32][4];
  pack(xk::simtest::kCuteA_k32, 8, a, fa);
  pack(xk::simtest::kCuteB_k32, 8, bt, fb);
  xk::simtest::run(1, 32, [&] {
    const int l = threadIdx.x;
    uint32_t ra[4], rb[2];
    int32_t rc[4], rd[4];
    std::memcpy(ra, fa[l], sizeof ra);
    std::memcpy(rb, fb[l], sizeof rb);
    xk::simtest::c_fragment(l, rc, [](int m, int n) { return 5 * m - n; });
    if (is_signed)
      xk::ptx::mma_m16n8k32_s8_s32(rd, ra, rb, rc);
    else
      xk::ptx::mma_m16n8k32_u8_s32(rd, ra, rb, rc);
    std::memcpy(fd[l], rd, sizeof rd);
  });
  expect_matches(what, want, fd, 0.0);
}

TEST(MmaM16n8k32, S8AndU8RandomFullRangeMatchPlainProductExactly) {
  std::mt19937 rng(3);
  for (bool s : {true, false}) {
    std::vector<std::vector<int>> A(16, std::vector<int>(32)), B(32, std::vector<int>(8));
    for (auto& r : A)
      for (auto& v : r) v = s ? int(rng() % 256) - 128 : int(rng() % 256);
    for (auto& r : B)
      for (auto& v : r) v = s ? int(rng() % 256) - 128 : int(rng() % 256);
    run_8bit(A, B, s, s ? "mma.m16n8k32.s8 random" : "mma.m16n8k32.u8 random");
  }
}

TEST(MmaM16n8k32, OneHotAtEveryPositionPinsTheS8Layouts) {
  for (int r = 0; r < 16; ++r)
    for (int k = 0; k < 32; ++k) {
      std::vector<std::vector<int>> A(16, std::vector<int>(32, 0)), B(32, std::vector<int>(8));
      A[r][k] = 1;
      for (int kk = 0; kk < 32; ++kk)
        for (int n = 0; n < 8; ++n) B[kk][n] = (kk + 32 * n) % 251 - 125;
      run_8bit(A, B, true, ("one-hot A(" + std::to_string(r) + "," + std::to_string(k) + ")").c_str());
      if (testing::Test::HasFailure()) return;
    }
  for (int k = 0; k < 32; ++k)
    for (int n = 0; n < 8; ++n) {
      std::vector<std::vector<int>> A(16, std::vector<int>(32)), B(32, std::vector<int>(8, 0));
      B[k][n] = 1;
      for (int m = 0; m < 16; ++m)
        for (int kk = 0; kk < 32; ++kk) A[m][kk] = (kk + 32 * m) % 251 - 125;
      run_8bit(A, B, true, ("one-hot B(" + std::to_string(k) + "," + std::to_string(n) + ")").c_str());
      if (testing::Test::HasFailure()) return;
    }
}

}  // namespace
