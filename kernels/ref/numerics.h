// Scalar number-format conversions shared by the host (formats.cpp, the oracle), the GPU
// kernels (CUDA, HIP) and the simulator that runs those kernels on the CPU.
//
// Everything here is integer/bit manipulation plus plain float arithmetic, so it compiles
// unchanged under g++, nvcc and clang -x hip and gives the same bits everywhere. No <cmath>:
// device code cannot call host libm.
//
// Two families:
//   * Exact IEEE-style conversions (f16, bf16, OCP FP4 E2M1, E8M0, E4M3/UE4M3): decode is
//     exact; encode is round-to-nearest-even with the saturation documented per function.
//     These match PTX `cvt.rn[.satfinite]` (PTX ISA "cvt" and "Floating Point Data Types").
//   * ggml's own helpers used by its GGUF reference quantizers (suffix _ggml), reproduced
//     bit for bit because GGUF compatibility is defined by them (ggml/src/ggml-impl.h:
//     ggml_e8m0_to_fp32_half, ggml_ue4m3_to_fp32, ggml_fp32_to_ue4m3).
#pragma once
#include <stdint.h>

// XK_HD: callable from host and device code. clang's CUDA/HIP modes get the attribute
// spelling, which needs no runtime header (so -nogpuinc builds work too); nvcc and other
// CUDA/HIP front ends the keywords; plain host compilers (g++, the simulator) nothing.
#if defined(__clang__) && (defined(__CUDA__) || defined(__HIP__))
#define XK_HD __attribute__((host, device))
#elif defined(__CUDACC__) || defined(__HIPCC__)
#define XK_HD __host__ __device__
#else
#define XK_HD
#endif

namespace xk::num {

// ---- bit casts (a union is accepted by every compiler here, host and device) ----
inline XK_HD uint32_t f32_bits(float f) {
  union {
    float f;
    uint32_t u;
  } c;
  c.f = f;
  return c.u;
}
inline XK_HD float f32_from_bits(uint32_t u) {
  union {
    float f;
    uint32_t u;
  } c;
  c.u = u;
  return c.f;
}

// mant >> s rounded to nearest, ties to even. s in [1, 31].
inline XK_HD uint32_t shift_right_rne(uint32_t mant, int s) {
  const uint32_t q = mant >> s;
  const uint32_t rem = mant & ((1u << s) - 1u);
  const uint32_t half = 1u << (s - 1);
  return (rem > half || (rem == half && (q & 1u))) ? q + 1u : q;
}

// Rounds a positive finite float magnitude (its bits `u`, sign clear) to a binary format with
// `mbits` stored mantissa bits and minimum normal exponent `emin` (subnormals below), RNE.
// Returns the unsigned code (exponent field << mbits | mantissa) with the exponent field
// unbounded above: callers clamp to their largest finite code. A mantissa that rounds up
// carries into the exponent field, which is exactly the next binade's encoding.
inline XK_HD uint32_t round_magnitude_rne(uint32_t u, int emin, int mbits) {
  int e = static_cast<int>(u >> 23) - 127;
  uint32_t mant = u & 0x7FFFFFu;
  if (e == -127)
    e = -126;  // float subnormal: no hidden bit
  else
    mant |= 0x800000u;
  const int e_eff = e > emin ? e : emin;  // below emin the target quantum stays 2^(emin-mbits)
  const int s = e_eff - mbits - e + 23;   // bits of `mant` below the target quantum, >= 23-mbits
  uint32_t r;
  if (s >= 25)
    r = 0;  // value < half the smallest quantum (mant < 2^24)
  else
    r = shift_right_rne(mant, s);
  // r is in [2^mbits, 2^(mbits+1)] for normals (exponent field e_eff-emin+1 after the carry)
  // and in [0, 2^mbits] for subnormals; both read as (e_eff - emin) << mbits + r.
  return (static_cast<uint32_t>(e_eff - emin) << mbits) + r;
}

// ---- IEEE binary16 ----
inline XK_HD float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  if (exp == 0x1F) return f32_from_bits(sign | 0x7F800000u | (mant << 13));  // inf, NaN (payload kept)
  if (exp != 0) return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
  if (mant == 0) return f32_from_bits(sign);
  int e = 113;  // subnormal mant * 2^-24: normalise so the leading 1 becomes the hidden bit
  while ((mant & 0x400u) == 0) {
    mant <<= 1;
    --e;
  }
  return f32_from_bits(sign | (static_cast<uint32_t>(e) << 23) | ((mant & 0x3FFu) << 13));
}

// RNE; overflow (>= 65520) -> inf; NaN stays NaN (quiet bit set, top payload bits kept).
inline XK_HD uint16_t f32_to_f16(float f) {
  const uint32_t u = f32_bits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
  if (a >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // 65520: halfway to 2^16
  return static_cast<uint16_t>(sign | round_magnitude_rne(a, -14, 10));
}

// ---- bfloat16 ----
inline XK_HD float bf16_to_f32(uint16_t h) { return f32_from_bits(static_cast<uint32_t>(h) << 16); }

// RNE (overflow rounds to inf naturally); NaN -> quiet NaN with the top payload kept
// (same rule as ggml_compute_fp32_to_bf16).
inline XK_HD uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

// ---- FP4 E2M1 (OCP MX v1.0 section 5.3.3): s.ee.m, bias 1, values 0 .5 1 1.5 2 3 4 6 ----
// Twice the E2M1 value is an integer; ggml stores this table as kvalues_mxfp4 and the integer
// GEMM paths (int8 MMA/WMMA) consume it directly.
constexpr XK_HD int e2m1_x2(uint8_t code) {
  // |2 * e2m1| for exponent field E and mantissa bit M: E == 0 ? M : (2 + M) << (E - 1)
  const int exp = (code >> 1) & 3, man = code & 1;
  const int m = exp == 0 ? man : (2 + man) << (exp - 1);
  return (code & 8u) ? -m : m;
}
inline XK_HD float e2m1_to_f32(uint8_t code) {  // code 8 is -0
  const float m = static_cast<float>(e2m1_x2(code & 7u)) * 0.5f;
  return (code & 8u) ? -m : m;
}

// RNE, saturates to +-6 (satfinite); -0 and negative values that round to 0 keep the sign
// (code 8); NaN -> +6 (code 7), as PTX cvt.rn.satfinite.e2m1x2.f32 does.
inline XK_HD uint8_t f32_to_e2m1(float f) {
  const uint32_t u = f32_bits(f);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return 7;
  const uint8_t sign = (u >> 31) ? 8 : 0;
  if (a >= 0x40C00000u) return sign | 7;  // >= 6 (inf included)
  const uint32_t c = round_magnitude_rne(a, 0, 1);
  return static_cast<uint8_t>(sign | (c > 7 ? 7 : c));
}

// ---- E8M0 scale (OCP MX v1.0 section 5.4.1): 2^(e-127), 0xFF = NaN ----
inline XK_HD float e8m0_to_f32(uint8_t e) {
  if (e == 0xFF) return f32_from_bits(0x7FC00000u);
  if (e == 0) return f32_from_bits(0x00400000u);  // 2^-127 is a float subnormal
  return f32_from_bits(static_cast<uint32_t>(e) << 23);
}

// ---- FP8 E4M3 "fn" (OCP FP8 v1.0): bias 7, no inf, S.1111.111 = NaN, max 448 ----
inline XK_HD float e4m3_magnitude(uint8_t code7) {
  const uint32_t exp = (code7 >> 3) & 0xFu;
  const uint32_t man = code7 & 7u;
  if (exp == 0) return static_cast<float>(man) * (1.0f / 512.0f);  // man * 2^-9, exact
  return f32_from_bits(((exp + 120u) << 23) | (man << 20));        // (1 + man/8) * 2^(exp-7)
}
inline XK_HD float e4m3_to_f32(uint8_t code) {
  if ((code & 0x7Fu) == 0x7Fu) return f32_from_bits((code & 0x80u) ? 0xFFC00000u : 0x7FC00000u);
  const float m = e4m3_magnitude(code & 0x7Fu);
  return (code & 0x80u) ? -m : m;
}
// Magnitude code for |f| (bits a, finite): RNE, saturating to 448 (0x7E).
inline XK_HD uint8_t e4m3_magnitude_code(uint32_t a) {
  if (a >= 0x43E00000u) return 0x7E;  // >= 448
  const uint32_t c = round_magnitude_rne(a, -6, 3);
  return static_cast<uint8_t>(c > 0x7Eu ? 0x7Eu : c);
}
// RNE, saturates to +-448 (satfinite, inf included), NaN -> 0x7F, -0 -> 0x80.
inline XK_HD uint8_t f32_to_e4m3(float f) {
  const uint32_t u = f32_bits(f);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return 0x7F;
  return static_cast<uint8_t>(((u >> 31) ? 0x80u : 0u) | e4m3_magnitude_code(a));
}

// ---- UE4M3: the E4M3 magnitude used as an unsigned block scale (NVFP4, PTX .ue4m3) ----
// Sign bit ignored; 0x7F (and 0xFF) = NaN.
inline XK_HD float ue4m3_to_f32(uint8_t code) {
  if ((code & 0x7Fu) == 0x7Fu) return f32_from_bits(0x7FC00000u);
  return e4m3_magnitude(code & 0x7Fu);
}
// RNE, saturates to 448; negatives and -0 -> 0; NaN -> 0x7F.
inline XK_HD uint8_t f32_to_ue4m3(float f) {
  const uint32_t u = f32_bits(f);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return 0x7F;
  if (u >> 31) return 0;
  return e4m3_magnitude_code(a);
}

// ---- powers of two and exact binary logarithms ----
// 2^k for k in [-126, 127], exactly.
inline XK_HD float exp2i(int k) { return f32_from_bits(static_cast<uint32_t>(k + 127) << 23); }

// floor(log2(x)) exactly (the exponent of the leading bit), x > 0 finite.
inline XK_HD int floor_log2_exact(float x) {
  const uint32_t u = f32_bits(x) & 0x7FFFFFFFu;
  if (u >= 0x800000u) return static_cast<int>(u >> 23) - 127;
  int e = -127;  // subnormal: mant * 2^-149
  for (uint32_t m = u; m > 1; m >>= 1) ++e;
  return e - 22;
}

// FP8 activation block exponent (kernels/ref/ref.h quantize_act_fp8, OCP MX v1.0 section 6.3
// with emax(E4M3) = 8): e = clamp(floor(log2(amax)) - 8 + 127, 0, 254), 0 when amax == 0.
inline XK_HD uint8_t fp8_act_exponent(float amax) {
  if (!(amax > 0.0f)) return 0;
  const int e = floor_log2_exact(amax) - 8 + 127;
  return static_cast<uint8_t>(e < 0 ? 0 : (e > 254 ? 254 : e));
}
// E4M3 code of x / 2^(e-127); the division is an exact power-of-two scaling (e <= 246 for
// finite amax, so 2^(127-e) >= 2^-119 is a normal float).
inline XK_HD uint8_t fp8_act_code(float x, uint8_t e) { return f32_to_e4m3(x * exp2i(127 - e)); }

// ---- ggml's GGUF helpers (ggml/src/ggml-impl.h), reproduced exactly ----

// ggml_e8m0_to_fp32_half: 2^(e-128), i.e. half the E8M0 scale, because ggml stores E2M1
// doubled (kvalues_mxfp4). 0xFF is not special here (ggml does not handle NaN scales).
inline XK_HD float e8m0_to_f32_half_ggml(uint8_t e) {
  return f32_from_bits(e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e - 1) << 23));
}

// ggml_ue4m3_to_fp32: HALF the UE4M3 value (pairs with the doubled E2M1 table); codes 0x00
// and 0x7F decode to 0 (not NaN); bit 7 is ignored otherwise (0xFF -> 240).
inline XK_HD float ue4m3_to_f32_half_ggml(uint8_t code) {
  if (code == 0 || code == 0x7F) return 0.0f;
  return e4m3_magnitude(code & 0x7Fu) * 0.5f;
}

// ggml_fp32_to_ue4m3: NOT round-to-nearest-even. Subnormal range: round half up of x*2^9,
// clamped to 7 (so [7.5, 8) * 2^-9 stays 7 * 2^-9 instead of reaching 2^-6). Normal range:
// round half up on the fourth mantissa bit (ties away, sticky bits ignored). Any x whose
// UE4M3 exponent field would be >= 15, i.e. x >= 256, becomes 0x7E = 448. x <= 0 or NaN -> 0.
inline XK_HD uint8_t ue4m3_from_f32_ggml(float x) {
  if (!(x > 0.0f)) return 0;
  if (x > 448.0f) x = 448.0f;
  const uint32_t bits = f32_bits(x);
  const int fp32_exp = static_cast<int>((bits >> 23) & 0xFFu) - 127;
  const int fp32_man = static_cast<int>((bits >> 20) & 0x7u);
  int exp = fp32_exp + 7;
  if (exp <= 0) {
    int man = static_cast<int>(x * 512.0f + 0.5f);
    if (man > 7) man = 7;
    return man < 1 ? 0 : static_cast<uint8_t>(man);
  }
  if (exp >= 15) return 0x7E;
  int man = fp32_man + static_cast<int>((bits >> 19) & 1u);
  if (man > 7) {
    man = 0;
    if (++exp >= 15) return 0x7E;
  }
  return static_cast<uint8_t>((exp << 3) | man);
}

// floor(log2f(x)) as ggml's quantize_row_mxfp4_ref computes it for x > 0 finite, assuming a
// correctly rounded log2f (glibc's; checked over the boundary cases in tests/formats).
// log2f(x) = E + log2(1+m) can round up to E+1 when 1+m is within a few ulps of 2 and
// E+1 has coarse float spacing (|E+1| >= 2), so the result is E or E+1.
inline XK_HD int floor_log2f_ggml(float x) {
  const uint32_t u = f32_bits(x);
  int e = static_cast<int>(u >> 23) - 127;
  uint32_t mant = u & 0x7FFFFFu;
  if (e == -127) {  // subnormal: normalise so bit 23 is the leading one, as for normals
    e = -126;
    while (mant != 0 && (mant & 0x800000u) == 0) {
      mant <<= 1;
      --e;
    }
  }
  const int target = e + 1;
  const int mag = target < 0 ? -target : target;
  if (mag < 2) return e;  // spacing near 0 and 1 is too fine: never rounds up
  // Half the float spacing on the side of `target` that log2 approaches from: for target > 0
  // the floats just below it, for target < 0 the floats just above |target| in magnitude.
  int p = 0;  // floor(log2(mag)), or of (mag - tiny) when target > 0 is a power of two
  for (int v = mag; v > 1; v >>= 1) ++p;
  if (target > 0 && (mag & (mag - 1)) == 0) --p;
  const double half_spacing = static_cast<double>(1u << p) * (1.0 / 16777216.0);  // 2^(p-24)
  // delta = target - log2(x) = -log2(1 - t), t = (2^24 - (1+m) 2^23) / 2^24, t small.
  const double t = static_cast<double>(0x1000000u - (mant | 0x800000u)) * (1.0 / 16777216.0);
  const double delta = (t + t * t * 0.5 + t * t * t * (1.0 / 3.0)) * 1.4426950408889634;
  return delta < half_spacing ? target : e;
}

// MXFP4 shared exponent of a block as ggml's quantize_row_mxfp4_ref picks it:
// e = floor(log2(amax)) - 2 + 127 (so amax / 2^(e-127) lies in [4, 8) and the largest
// element maps near E2M1's 6), 0 when amax == 0. Clamped to [0, 254] where ggml's uint8_t
// cast would be undefined (amax < 2^-125).
inline XK_HD uint8_t mxfp4_exponent_ggml(float amax) {
  if (!(amax > 0.0f)) return 0;
  const int e = floor_log2f_ggml(amax) - 2 + 127;
  return static_cast<uint8_t>(e < 0 ? 0 : (e > 254 ? 254 : e));
}

// ggml's best_index_mxfp4: the E2M1 code whose doubled value times d is nearest to x, by a
// linear scan in float with a strict '<' (ties keep the lower code index: 0 over 8 for +-0,
// and the smaller magnitude between two neighbours).
inline XK_HD uint8_t e2m1_best_index_ggml(float x, float d) {
  uint8_t best = 0;
  float diff0 = static_cast<float>(e2m1_x2(0)) * d - x;
  float best_err = diff0 < 0 ? -diff0 : diff0;
  for (int i = 1; i < 16; ++i) {
    const float diff = static_cast<float>(e2m1_x2(static_cast<uint8_t>(i))) * d - x;
    const float err = diff < 0 ? -diff : diff;
    if (err < best_err) {
      best = static_cast<uint8_t>(i);
      best_err = err;
    }
  }
  return best;
}

}  // namespace xk::num
