// Shared by every xkern compute shader: number formats and the repacked weight layout.
//
// Number formats are those of kernels/ref/numerics.h (host side): GLSL cannot include it,
// so each conversion is restated here and tested against the host one through the ops.

// Activation dtypes as the host passes them in push constants (xk::DType order, dtype.h).
const uint DT_F32 = 0u;
const uint DT_F16 = 1u;
const uint DT_BF16 = 2u;

// Element `i` of a tensor stored as 32-bit words, widened to FP32 (exact for every dtype).
float load_act(uint dtype, uint i, uint word) {
  if (dtype == DT_F32) return uintBitsToFloat(word);
  const uint half_bits = (i & 1u) == 0u ? (word & 0xFFFFu) : (word >> 16);
  if (dtype == DT_F16) return unpackHalf2x16(half_bits).x;
  return uintBitsToFloat(half_bits << 16);  // BF16: the high half of an FP32
}
uint act_word_index(uint dtype, uint i) { return dtype == DT_F32 ? i : i >> 1; }

// x rounded to the nearest FP16 value (ties to even), returned as FP32. Written with FP32
// arithmetic because packHalf2x16's rounding is not specified by GLSL 4.50 (section 8.4),
// and ActPrecision::F16 (ref.h) requires RNE. Overflow gives +-inf.
// How: for |x| in [2^E, 2^(E+1)) the anchor c = 2^(E+13) makes |x| + c land where the FP32
// ulp is 2^(E-10), FP16's ulp at that exponent, so the (RNE) FP32 add rounds |x| to 11
// significant bits and subtracting c is exact. E is floored at -14, FP16's smallest normal
// exponent, which rounds subnormals to multiples of 2^-24, and capped at 16 (everything
// from 65520 up becomes inf anyway; a larger c would overflow). Checked bit-exact against
// the host's _Float16 conversion over all FP32 inputs (every 5th pattern after the fix
// of the cap). Branch-free: about 9 SIMD operations on llvmpipe instead of a select tree
// (it runs per weight in the F16 GEMMs).
// `precise` keeps the compiler from folding (a + c) - c into a.
float round_f16(float x) {
  const uint u = floatBitsToUint(x);
  const uint mag = u & 0x7FFFFFFFu;
  const float c = uintBitsToFloat(clamp(mag & 0x7F800000u, 0x38800000u, 0x47800000u) + (13u << 23));
  precise float r = (uintBitsToFloat(mag) + c) - c;
  r = r > 65504.0 ? uintBitsToFloat(0x7F800000u) : r;                   // >= 65520 rounds past FP16's max
  return mag >= 0x7F800000u ? x : uintBitsToFloat((u & 0x80000000u) | floatBitsToUint(r));  // inf, NaN kept
}

// Twice the FP4 E2M1 value of each code (OCP Microscaling spec v1.0, section 5.3.3): ggml's
// kvalues_mxfp4, kernels/ref/formats.h kE2M1x2. Integers, so FP4 weights enter the int8
// path exactly; the scales below are halved to match (ggml_e8m0_to_fp32_half).
const int kE2M1x2[16] = int[16](0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);

// ---------------------------------------------------------------------------------------
// Repacked weights (backends/vulkan/weights_pack.cpp). The GGUF blocks (kernels/ref/formats.h)
// are split into two arrays in one buffer so every load is an aligned 32-bit word:
//   quants: per weight row n and 32-element group g (g = k / 32), W_WORDS words at
//           (n * groups + g) * W_WORDS.
//           4-bit formats: word w, byte c: low nibble = element 4w+c, high = element 16+4w+c
//           (Q4_0's own order; MXFP4 and NVFP4 are brought into it).
//           Q8_0: word w, byte c = element 4w+c (two's complement).
//   scales: FP32, W_SCALES per group at scale_base + (n * groups + g) * W_SCALES:
//           Q4_0/Q8_0 the FP16 d; MXFP4 half of 2^(e-127) (formats.h mxfp4_scale_half);
//           NVFP4 half of the two UE4M3 sub-block scales (elements 0-15, 16-31; formats.h
//           nvfp4_scale_half) without the per-tensor scale, which the shader applies last.
//   So every weight is (integer from the quants) * (scale), exactly as formats.h's *_get
//   and *_scale accessors define it.
#if defined(W_Q4_0)
const uint W_WORDS = 4u;
const uint W_SCALES = 1u;
#elif defined(W_Q8_0)
const uint W_WORDS = 8u;
const uint W_SCALES = 1u;
#elif defined(W_MXFP4)
const uint W_WORDS = 4u;
const uint W_SCALES = 1u;
#elif defined(W_NVFP4)
const uint W_WORDS = 4u;
const uint W_SCALES = 2u;
#endif

#if defined(W_Q4_0) || defined(W_MXFP4) || defined(W_NVFP4)
// The 8 weights one quant word carries: elements e0..e0+3 (low nibbles) and e0+16..e0+19.
// Float path: integer times scale (exact in FP32), then times the NVFP4 tensor scale `ts`
// (one rounding, the order of formats.cpp dequantize_row).
void decode_word_f32(uint word, vec2 sc, float ts, out vec4 lo, out vec4 hi) {
  for (uint c = 0u; c < 4u; ++c) {
    const uint ql = (word >> (8u * c)) & 0xFu;
    const uint qh = (word >> (8u * c + 4u)) & 0xFu;
#if defined(W_Q4_0)
    lo[c] = float(int(ql) - 8) * sc.x;
    hi[c] = float(int(qh) - 8) * sc.x;
#elif defined(W_MXFP4)
    lo[c] = float(kE2M1x2[ql]) * sc.x;
    hi[c] = float(kE2M1x2[qh]) * sc.x;
#else
    lo[c] = (float(kE2M1x2[ql]) * sc.x) * ts;  // elements 0..15 of the group: first sub-block
    hi[c] = (float(kE2M1x2[qh]) * sc.y) * ts;  // elements 16..31: second sub-block
#endif
  }
}
// Four of those weights as ints: the low (shift 0) or high (shift 4) nibbles of `word`.
ivec4 decode4_i8(uint word, uint shift) {
  ivec4 v;
  for (uint c = 0u; c < 4u; ++c) {
    const uint q = (word >> (8u * c + shift)) & 0xFu;
#if defined(W_Q4_0)
    v[c] = int(q) - 8;
#else
    v[c] = kE2M1x2[q];
#endif
  }
  return v;
}

// Integer path: the same 8 weights as int8 (packed 4 per word, two's complement).
void decode_word_i8(uint word, out uint lo, out uint hi) {
  lo = 0u;
  hi = 0u;
  for (uint c = 0u; c < 4u; ++c) {
    const uint ql = (word >> (8u * c)) & 0xFu;
    const uint qh = (word >> (8u * c + 4u)) & 0xFu;
#if defined(W_Q4_0)
    const int vl = int(ql) - 8, vh = int(qh) - 8;
#else
    const int vl = kE2M1x2[ql], vh = kE2M1x2[qh];
#endif
    lo |= (uint(vl) & 0xFFu) << (8u * c);
    hi |= (uint(vh) & 0xFFu) << (8u * c);
  }
}
#endif

// Sum of the four int8 x int8 products of two packed words (integer arithmetic on unpacked
// int8; GL_EXT_integer_dot_product is not in Debian 12's glslc, see backends/vulkan/README).
ivec4 unpack_i8x4(uint w) {
  return ivec4(bitfieldExtract(int(w), 0, 8), bitfieldExtract(int(w), 8, 8), bitfieldExtract(int(w), 16, 8),
               bitfieldExtract(int(w), 24, 8));
}
int dot_i8x4(ivec4 a, ivec4 b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w; }
