// Instruction-level tests of hip-sim's WMMA emulation (kernels/hip/wmma.h), wave32
// 16x16x16 f16 / bf16 / iu8 / iu4. Operands are built from AMD's published formulas
// (GPUOpen "How to accelerate AI applications on RDNA 3 using WMMA": a_frag[e] =
// A[lane%16][e], b_frag[e] = B[e][lane%16], D[2e + lane/16][lane%16] = d_frag[e]), written
// here independently of kernels/hip/wmma_layouts.h, and compared with a plain matrix product.
#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <random>
#include <string>

#include "kernels/hip/wmma.h"
#include "sim_test_util.h"
#include "xk/error.h"

namespace {

namespace st = xk::simtest;
using xk::wmma::float8;
using xk::wmma::half16;
using xk::wmma::int8v;

enum class Type { F16, BF16, IU8, IU4 };

struct WmmaCase {
  double A[16][16] = {}, B[16][16] = {}, C[16][16] = {};  // A: M x K, B: K x N
};

// One wave of 32 lanes; returns D[16][16].
void run_wmma(Type type, const WmmaCase& t, bool a_signed, bool b_signed, bool clamp, double (&D)[16][16],
              bool break_replication = false) {
  static uint8_t fa[32][32], fb[32][32];
  static uint8_t fc[32][32], fd[32][32];
  for (int lane = 0; lane < 32; ++lane) {
    std::memset(fa[lane], 0, 32);
    std::memset(fb[lane], 0, 32);
    const int src = lane % 16;
    for (int e = 0; e < 16; ++e) {
      const double a = t.A[src][e], b = t.B[e][src];
      switch (type) {
        case Type::F16:
        case Type::BF16: {
          const uint16_t ha =
              type == Type::F16 ? xk::sim::f32_to_f16(float(a)) : xk::sim::f32_to_bf16(float(a));
          const uint16_t hb =
              type == Type::F16 ? xk::sim::f32_to_f16(float(b)) : xk::sim::f32_to_bf16(float(b));
          std::memcpy(fa[lane] + 2 * e, &ha, 2);
          std::memcpy(fb[lane] + 2 * e, &hb, 2);
          break;
        }
        case Type::IU8:
          fa[lane][e] = uint8_t(int(a));
          fb[lane][e] = uint8_t(int(b));
          break;
        case Type::IU4:
          fa[lane][e / 2] |= uint8_t((int(a) & 15) << (4 * (e % 2)));
          fb[lane][e / 2] |= uint8_t((int(b) & 15) << (4 * (e % 2)));
          break;
      }
    }
    for (int e = 0; e < 8; ++e) {
      const double c = t.C[2 * e + lane / 16][lane % 16];
      if (type == Type::IU8 || type == Type::IU4) {
        const int32_t ci = int32_t(c);
        std::memcpy(fc[lane] + 4 * e, &ci, 4);
      } else {
        const float cf = float(c);
        std::memcpy(fc[lane] + 4 * e, &cf, 4);
      }
    }
  }
  if (break_replication) fa[21][0] ^= 1;
  st::run(
      1, 32,
      [&] {
        const int l = threadIdx.x;
        if (type == Type::F16 || type == Type::BF16) {
          float8 c, d;
          std::memcpy(&c, fc[l], 32);
          if (type == Type::F16) {
            half16 a, b;
            std::memcpy(&a, fa[l], 32);
            std::memcpy(&b, fb[l], 32);
            xk::wmma::wmma_f32_16x16x16_f16(d, a, b, c);
          } else {
            xk::wmma::bf16x16 a, b;
            std::memcpy(&a, fa[l], 32);
            std::memcpy(&b, fb[l], 32);
            xk::wmma::wmma_f32_16x16x16_bf16(d, a, b, c);
          }
          std::memcpy(fd[l], &d, 32);
        } else {
          int8v c, d;
          std::memcpy(&c, fc[l], 32);
          if (type == Type::IU8) {
            xk::wmma::int4v a, b;
            std::memcpy(&a, fa[l], 16);
            std::memcpy(&b, fb[l], 16);
            xk::wmma::wmma_i32_16x16x16_iu8(d, a_signed, a, b_signed, b, c, clamp);
          } else {
            xk::wmma::int2v a, b;
            std::memcpy(&a, fa[l], 8);
            std::memcpy(&b, fb[l], 8);
            xk::wmma::wmma_i32_16x16x16_iu4(d, a_signed, a, b_signed, b, c, clamp);
          }
          std::memcpy(fd[l], &d, 32);
        }
      },
      "wmma_test");
  for (int lane = 0; lane < 32; ++lane)
    for (int e = 0; e < 8; ++e) {
      double v;
      if (type == Type::IU8 || type == Type::IU4) {
        int32_t x;
        std::memcpy(&x, fd[lane] + 4 * e, 4);
        v = x;
      } else {
        float x;
        std::memcpy(&x, fd[lane] + 4 * e, 4);
        v = x;
      }
      D[2 * e + lane / 16][lane % 16] = v;
    }
}

void expect_product(const char* what, Type type, const WmmaCase& t, bool as = true, bool bs = true,
                    double tol = 0) {
  double D[16][16];
  run_wmma(type, t, as, bs, false, D);
  auto q = [type](double v) {
    if (type == Type::F16) return double(xk::sim::f16_to_f32(xk::sim::f32_to_f16(float(v))));
    if (type == Type::BF16) return double(xk::sim::bf16_to_f32(xk::sim::f32_to_bf16(float(v))));
    return v;
  };
  double worst = -1, got_w = 0, want_w = 0;
  int wm = 0, wn = 0;
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 16; ++n) {
      double s = t.C[m][n];
      for (int k = 0; k < 16; ++k) s += q(t.A[m][k]) * q(t.B[k][n]);
      if (type == Type::F16 || type == Type::BF16) s = float(s);
      const double err = std::fabs(D[m][n] - s) / std::max(1.0, std::fabs(s));
      if (err > worst || std::isnan(D[m][n])) {
        worst = std::isnan(D[m][n]) ? INFINITY : err;
        wm = m;
        wn = n;
        got_w = D[m][n];
        want_w = s;
      }
    }
  EXPECT_LE(worst, tol) << "device hip-sim, " << what << ": worst element D[" << wm << "][" << wn
                        << "] expected " << want_w << " actual " << got_w;
}

TEST(Wmma16x16x16, F16AndBf16RandomMatchPlainProduct) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-2, 2);
  for (Type type : {Type::F16, Type::BF16}) {
    WmmaCase ints, reals;
    for (int i = 0; i < 16; ++i)
      for (int j = 0; j < 16; ++j) {
        ints.A[i][j] = int(rng() % 9) - 4;
        ints.B[i][j] = int(rng() % 9) - 4;
        ints.C[i][j] = int(rng() % 9) - 4;
        reals.A[i][j] = u(rng);
        reals.B[i][j] = u(rng);
        reals.C[i][j] = u(rng);
      }
    expect_product(type == Type::F16 ? "f16 integers" : "bf16 integers", type, ints);
    expect_product(type == Type::F16 ? "f16 reals" : "bf16 reals", type, reals, true, true, 1e-6);
  }
}

TEST(Wmma16x16x16, OneHotAAndBAtEveryPositionPinTheLayouts) {
  for (int r = 0; r < 16; ++r)
    for (int k = 0; k < 16; ++k) {
      WmmaCase t;
      t.A[r][k] = 1;
      for (int kk = 0; kk < 16; ++kk)
        for (int n = 0; n < 16; ++n) t.B[kk][n] = 1 + kk + 16 * n;
      expect_product(("f16 one-hot A(" + std::to_string(r) + "," + std::to_string(k) + ")").c_str(),
                     Type::F16, t);
      t = WmmaCase{};
      t.B[k][r] = 1;
      for (int m = 0; m < 16; ++m)
        for (int kk = 0; kk < 16; ++kk) t.A[m][kk] = 1 + kk + 16 * m;
      expect_product(("f16 one-hot B(" + std::to_string(k) + "," + std::to_string(r) + ")").c_str(),
                     Type::F16, t);
      t = WmmaCase{};
      t.C[r][k] = 3;
      expect_product(("one-hot C(" + std::to_string(r) + "," + std::to_string(k) + ")").c_str(), Type::F16,
                     t);
      if (testing::Test::HasFailure()) return;
    }
}

TEST(Wmma16x16x16, Iu8AndIu4HonourSignednessFlags) {
  std::mt19937 rng(6);
  for (Type type : {Type::IU8, Type::IU4})
    for (int flags = 0; flags < 4; ++flags) {
      const bool as = flags & 1, bs = flags & 2;
      const int range = type == Type::IU8 ? 256 : 16, half = range / 2;
      WmmaCase t;
      for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 16; ++j) {
          t.A[i][j] = as ? int(rng() % range) - half : int(rng() % range);
          t.B[i][j] = bs ? int(rng() % range) - half : int(rng() % range);
          t.C[i][j] = int(rng() % 2001) - 1000;
        }
      expect_product((std::string(type == Type::IU8 ? "iu8" : "iu4") + (as ? " A signed" : " A unsigned") +
                      (bs ? ", B signed" : ", B unsigned"))
                         .c_str(),
                     type, t, as, bs);
    }
}

TEST(Wmma16x16x16, ClampSaturatesAndNoClampWraps) {
  WmmaCase t;
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      t.A[i][j] = 127;
      t.B[i][j] = 127;
      t.C[i][j] = INT_MAX - 1000;
    }
  double sat[16][16], wrap[16][16];
  run_wmma(Type::IU8, t, true, true, true, sat);
  run_wmma(Type::IU8, t, true, true, false, wrap);
  const int64_t exact = int64_t(INT_MAX) - 1000 + 16 * 127 * 127;
  EXPECT_EQ(sat[3][7], double(INT_MAX));
  EXPECT_EQ(wrap[3][7], double(int32_t(uint32_t(exact))));
}

TEST(Wmma16x16x16, UpperLanesNotReplicatingAreReported) {
  WmmaCase t;
  double D[16][16];
  try {
    run_wmma(Type::F16, t, true, true, false, D, /*break_replication=*/true);
    ADD_FAILURE() << "expected an xk::Error for lane 21 not replicating lane 5";
  } catch (const xk::Error& e) {
    EXPECT_NE(std::string(e.what()).find("lane 21 does not replicate lane 5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("kernel 'wmma_test'"), std::string::npos) << e.what();
  }
}

}  // namespace
