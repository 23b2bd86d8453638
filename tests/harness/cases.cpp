// The case table. A case = one precision row x one shape; the tolerances live with the
// precision rows. Shapes miss every tile multiple on purpose (cutlass TestAll style):
// M = 1, 7, 33, 512; N odd; K an odd multiple of 32 (for NVFP4, of 64), so the last
// K block, the last N column and the last M row all fall in partial tiles.
#include "cases.h"

#include <algorithm>
#include <cmath>

namespace xk::harness {

// The oracle applies exactly the quantization each precision implies and accumulates in
// FP64, rounding Y once. A correct device kernel differs only by FP32 accumulation order
// and by the arithmetic of its own on-the-fly activation quantization:
double max_nmse_matmul(ActPrecision act) {
  switch (act) {
    // FP32 FMA accumulation of <= 1088 exact products: relative error per output is
    // <= K * 2^-24 = 6.5e-5 worst case, ~sqrt(K) * 2^-24 = 2e-6 typical, so NMSE < 1e-8.
    // 1e-6 leaves room for split-K or tree reductions, and still fails a single dropped
    // K block (NMSE ~ 1/blocks >= 1e-2) or one unwritten output.
    case ActPrecision::F32:
      return 1e-6;
    // FP16 x FP16 products are exact in FP32 (11 + 11 significant bits < 24); tensor
    // cores may align addends with truncation inside one MMA (a few ulp of FP32).
    case ActPrecision::F16:
      return 1e-5;
    // Integer dot products are exact; the only divergence is an activation rounding tie
    // resolved differently (x/d versus x*(1/d)): one flip moves one product by d_x*w,
    // NMSE ~ (3/127)^2 / K per flip <= 6e-6 at K = 96.
    case ActPrecision::Q8:
      return 5e-5;
    // E4M3 keeps 3 mantissa bits; the E8M0 block scale is a power of two, so division is
    // exact and flips come only from a differently computed exponent near powers of two.
    case ActPrecision::FP8:
      return 1e-4;
    // E2M1 steps are 1/6..1/2 of a block's amax: one rounding flip (NVFP4's per-row scale
    // x/s is inexact) moves a value by a whole step, NMSE ~ 0.03/K per flip.
    case ActPrecision::FP4:
      return 1e-3;
    case ActPrecision::Auto:
      break;
  }
  return 0.0;  // Auto never reaches a comparison: the resolved precision is used
}

// FlashAttention kernels round Q and P to FP16 for the MMA (relative rms 2.8e-4 each),
// which moves scores and weights by ~3e-4 relative: NMSE ~ 1e-7. 2e-5 keeps a 100x margin
// and still fails a causal-mask off-by-one (the first query sees 2 keys instead of 1:
// NMSE ~ 1.6 / S >= 1e-2 at S <= 130) or a missed KV tile.
const double kMaxNmseAttention = 2e-5;

namespace {

std::string shape_tail(int64_t M, int64_t N, int64_t K) {
  return "_M" + std::to_string(M) + "_N" + std::to_string(N) + "_K" + std::to_string(K);
}

size_t elem_bytes(DType t) { return static_cast<size_t>(traits(t).block_bytes) / traits(t).block_elems; }

// Precision rows: which activation precisions each weight format is tested with. Every
// format also gets an Auto row, so the device's own default choice is checked.
struct PrecisionRow {
  DType w;
  DType x;
  ActPrecision act;
};

// clang-format off
constexpr PrecisionRow kPrecisionRows[] = {
  // weights       X            act
  {DType::Q4_0,  DType::F32,  ActPrecision::Auto},
  {DType::Q4_0,  DType::F32,  ActPrecision::F32},
  {DType::Q4_0,  DType::F32,  ActPrecision::F16},
  {DType::Q4_0,  DType::F32,  ActPrecision::Q8},   // the llama.cpp MMQ path (int8 dot)
  {DType::Q4_0,  DType::F16,  ActPrecision::Q8},   // F16 activations feeding the same path
  {DType::Q8_0,  DType::F32,  ActPrecision::Auto},
  {DType::Q8_0,  DType::F32,  ActPrecision::F32},
  {DType::Q8_0,  DType::F32,  ActPrecision::F16},
  {DType::Q8_0,  DType::F32,  ActPrecision::Q8},
  {DType::Q8_0,  DType::BF16, ActPrecision::F32},
  {DType::MXFP4, DType::F32,  ActPrecision::Auto},
  {DType::MXFP4, DType::F32,  ActPrecision::F32},
  {DType::MXFP4, DType::F32,  ActPrecision::F16},
  {DType::MXFP4, DType::F32,  ActPrecision::Q8},   // exact integer expansion of E2M1 x 2
  {DType::MXFP4, DType::F32,  ActPrecision::FP4},  // Blackwell kind::mxf4
  {DType::MXFP4, DType::F32,  ActPrecision::FP8},  // W4A8
  {DType::NVFP4, DType::F32,  ActPrecision::Auto},
  {DType::NVFP4, DType::F32,  ActPrecision::F32},
  {DType::NVFP4, DType::F32,  ActPrecision::F16},
  {DType::NVFP4, DType::F32,  ActPrecision::Q8},
  {DType::NVFP4, DType::F32,  ActPrecision::FP4},  // Blackwell kind::mxf4nvf4 scale_vec::4X
  {DType::NVFP4, DType::F32,  ActPrecision::FP8},
  {DType::NVFP4, DType::F16,  ActPrecision::FP4},
  {DType::F16,   DType::F32,  ActPrecision::Auto},
  {DType::F16,   DType::F32,  ActPrecision::F32},
  {DType::F16,   DType::F16,  ActPrecision::F16},  // plain F16 GEMM
  {DType::BF16,  DType::F32,  ActPrecision::Auto},
  {DType::BF16,  DType::BF16, ActPrecision::F32},
  {DType::F32,   DType::F32,  ActPrecision::Auto},
  {DType::F32,   DType::F32,  ActPrecision::F32},
};

struct Shape { int64_t M, N, K; };

// K values are odd multiples of 32 (3, 5, 9, 11, 33 blocks). NVFP4 rounds K up to its
// 64-element block (288 -> 320, 160 -> 192, 1056 -> 1088): still no multiple of 256.
constexpr Shape kSmallShapes[] = {
  {1,  71,  96},   // GEMV, token generation
  {7,  37,  288},  // skinny M under a 8-row GEMV/mul_mv threshold, 9 K blocks
  {33, 97,  160},  // one full 32-row tile plus a 1-row tail
  {64, 129, 96},   // a full 64-row tile, N one past a multiple of 64
  {3,  200, 160},  // GEMV-like M, N past three 64-column tiles
  {48, 65,  224},  // K = 7 blocks (NVFP4: 256, a whole number of 256-wide K tiles)
  {0,  37,  96},   // zero-size: no rows
  {5,  0,   96},   // zero-size: no output columns
};
constexpr Shape kM512Shape = {512, 71, 288};  // prefill-sized M on cpu-ref
constexpr Shape kFullShapes[] = {
  {1,   201, 288},
  {7,   133, 96},
  {33,  97,  352},
  {100, 515, 1056},  // many K tiles and a partial N tile at every tile width
  {512, 133, 352},   // prompt processing
  {0,   37,  96},
  {5,   0,   96},
};

// Attention: prefill (S > 1) and decode (S = 1), causal and not, GQA 4:1 and 8:2 groups
// and plain MHA, D = 64 and 128, F16 and F32 K/V.
//   q           kv          B  Hq Hkv  S    T     D    causal q_offset scale
constexpr AttentionCase kSmallAttention[] = {
  {DType::F32, DType::F16, 1, 4, 1,   33,  33,   64,  false, 0,   0.0f},
  {DType::F32, DType::F16, 1, 8, 2,   19,  19,   128, true,  0,   0.0f},
  {DType::F32, DType::F16, 1, 4, 2,   13,  45,   64,  true,  32,  0.0f},  // chunked prefill
  {DType::F32, DType::F32, 1, 4, 1,   17,  17,   128, true,  0,   0.0f},
  {DType::F32, DType::F32, 1, 2, 1,   40,  9,    64,  false, 0,   0.3f},  // S > T, own scale
  {DType::F16, DType::F16, 1, 2, 2,   9,   9,    64,  true,  0,   0.0f},  // MHA, F16 Q
  {DType::F32, DType::F16, 1, 8, 2,   1,   77,   128, true,  76,  0.0f},  // decode
  {DType::F32, DType::F32, 2, 4, 1,   1,   50,   64,  false, 0,   0.0f},  // decode, batch 2
  {DType::F32, DType::F16, 1, 4, 1,   1,   130,  64,  true,  129, 0.0f},  // split-K decode
  {DType::F32, DType::F16, 1, 4, 1,   0,   16,   64,  false, 0,   0.0f},  // zero queries
  // A full 64-row HIP workgroup / CUDA block of queries whose causal edge is one past a
  // 32-key boundary (q_offset % 32 == 1), with keys beyond the last query's edge (T >
  // q_offset + S) so the causal cut, not T, ends the key loop: a kv_end one short loses
  // exactly one key of the last row.
  {DType::F32, DType::F16, 1, 2, 2,   64,  130,  64,  true,  33,  0.0f},
  {DType::F16, DType::F16, 1, 4, 1,   64,  100,  64,  true,  1,   0.0f},
  // Decode long enough for several key splits once the device reports many compute units
  // (the harness's seed2/accum runs set XK_SIM_COMPUTE_UNITS).
  {DType::F32, DType::F16, 1, 8, 2,   1,   321,  128, true,  320, 0.0f},
};
constexpr AttentionCase kFullAttention[] = {
  {DType::F32, DType::F16, 1, 4, 1,   33,  33,   64,  false, 0,   0.0f},
  {DType::F32, DType::F16, 1, 8, 2,   100, 100,  128, true,  0,   0.0f},
  {DType::F32, DType::F16, 2, 4, 2,   37,  101,  64,  true,  64,  0.0f},  // chunked prefill
  {DType::F32, DType::F32, 1, 4, 1,   65,  65,   128, true,  0,   0.0f},
  {DType::F32, DType::F16, 1, 8, 2,   256, 256,  128, true,  0,   0.0f},  // pp-sized tile grid
  {DType::F32, DType::F32, 1, 2, 1,   40,  9,    64,  false, 0,   0.3f},
  {DType::F16, DType::F16, 1, 2, 2,   17,  17,   64,  true,  0,   0.0f},
  {DType::F32, DType::F16, 1, 8, 2,   1,   300,  128, true,  299, 0.0f},  // decode
  {DType::F32, DType::F32, 2, 4, 1,   1,   77,   64,  false, 0,   0.0f},
  {DType::F32, DType::F16, 1, 8, 1,   1,   1000, 64,  true,  999, 0.0f},  // split-K decode
  {DType::F32, DType::F16, 1, 4, 1,   0,   16,   64,  false, 0,   0.0f},
  {DType::F32, DType::F16, 1, 2, 2,   64,  130,  64,  true,  33,  0.0f},  // causal edge at q_offset % 32 == 1
  {DType::F32, DType::F16, 1, 8, 2,   96,  193,  128, true,  97,  0.0f},
};
// clang-format on

}  // namespace

std::string MatmulCase::name() const {
  std::string s = xk::name(w);
  if (x != DType::F32) s += std::string("_x") + xk::name(x);
  return s + "_" + xk::name(act) + shape_tail(M, N, K);
}

double MatmulCase::bytes() const {
  return static_cast<double>(row_bytes(w, K) * static_cast<size_t>(N) +
                             elem_bytes(x) * static_cast<size_t>(M * K) +
                             sizeof(float) * static_cast<size_t>(M * N));
}

std::string AttentionCase::name() const {
  std::string s = q == DType::F32 ? "" : std::string("q") + xk::name(q) + "_";
  s += std::string("kv") + xk::name(kv) + "_B" + std::to_string(B) + "_Hq" + std::to_string(Hq) + "_Hkv" +
       std::to_string(Hkv) + "_S" + std::to_string(S) + "_T" + std::to_string(T) + "_D" + std::to_string(D);
  if (causal) s += "_causal_off" + std::to_string(q_offset);
  if (scale != 0.0f) s += "_scale" + std::to_string(static_cast<int>(std::lround(scale * 1000))) + "m";
  return s;
}

double AttentionCase::flops() const {
  double pairs = 0;  // visible (query, key) pairs per (batch, head)
  for (int64_t i = 0; i < S; ++i) pairs += static_cast<double>(causal ? std::min(T, q_offset + i + 1) : T);
  return 4.0 * static_cast<double>(D) * pairs * static_cast<double>(B * Hq);
}

double AttentionCase::bytes() const {
  const double q_elems = static_cast<double>(B * Hq * S * D), kv_elems = static_cast<double>(B * Hkv * T * D);
  return q_elems * static_cast<double>(elem_bytes(q)) + 2 * kv_elems * static_cast<double>(elem_bytes(kv)) +
         q_elems * sizeof(float);
}

ShapeSet shape_set_for(const std::string& device_api, const std::string& device_name) {
  if (device_api == "sim") return ShapeSet::Small;
  if (device_name == "cpu-ref") return ShapeSet::SmallPlusM512;
  return ShapeSet::Full;
}

const char* name(ShapeSet s) {
  switch (s) {
    case ShapeSet::Small:
      return "small";
    case ShapeSet::SmallPlusM512:
      return "small+m512";
    case ShapeSet::Full:
      return "full";
  }
  return "?";
}

std::vector<MatmulCase> matmul_cases(ShapeSet set) {
  std::vector<Shape> shapes;
  if (set == ShapeSet::Full) {
    shapes.assign(std::begin(kFullShapes), std::end(kFullShapes));
  } else {
    shapes.assign(std::begin(kSmallShapes), std::end(kSmallShapes));
    if (set == ShapeSet::SmallPlusM512) shapes.push_back(kM512Shape);
  }
  std::vector<MatmulCase> out;
  for (const PrecisionRow& row : kPrecisionRows)
    for (const Shape& s : shapes) {
      const int64_t block = traits(row.w).block_elems;
      const int64_t K = (s.K + block - 1) / block * block;
      out.push_back({row.w, row.x, row.act, s.M, s.N, K});
    }
  return out;
}

std::vector<AttentionCase> attention_cases(ShapeSet set) {
  if (set == ShapeSet::Full) return {std::begin(kFullAttention), std::end(kFullAttention)};
  return {std::begin(kSmallAttention), std::end(kSmallAttention)};
}

}  // namespace xk::harness
