// Emulation of the warp collectives of cuda-sim: shuffles, votes, mma.sync, ldmatrix,
// cp.async. Lane layouts come from kernels/cuda/mma_layouts.h (the one place they live).
//
// Numerics of the MMA emulation (state of knowledge, not a claim about every GPU):
//  - f16/bf16 and e2m1 products are exact; the block scales (powers of two for ue8m0,
//    3-bit-mantissa values for ue4m3) keep them exact. The K products and C are summed in
//    FP64 and rounded once to FP32 (round to nearest even). Hardware adds in a fixed-point
//    tree with its own truncation, so results may differ from a GPU in the last few FP32
//    ulps; kernels are compared with the harness's NMSE threshold, not bit-exactly.
//  - integer MMA: exact products, 32-bit two's-complement wrap-around (no .satfinite).
//  - ue4m3 scale: the 7 low bits are an E4M3 value (bias 7, subnormals, 0x7f = NaN); the
//    sign bit is ignored. ue8m0: 2^(e-127), 0xff = NaN.
#include <cmath>
#include <cstring>
#include <vector>

#include "backends/sim/cuda_sim.h"
#include "kernels/cuda/mma_layouts.h"

namespace xk::sim {

namespace ml = xk::mma_layout;

// ---- Shared collectives (declared in simt_dialect.h) -------------------------------------

namespace {
struct ShflOp {
  uint64_t value;
  int src;
  uint64_t result;
};
struct VoteOp {
  bool pred;
  uint32_t result;
};
struct ReduceOp {
  int64_t value, result;
};
}  // namespace

void syncwarp(uint32_t mask) {
  warp_collective(kSyncwarp << 24, mask, nullptr, [](void* const*, uint32_t) {});
}

uint64_t shfl(uint32_t mask, uint64_t value, int src_lane) {
  ShflOp op{value, src_lane, 0};
  warp_collective(kShfl << 24, mask, &op, [](void* const* ops, uint32_t lanes) {
    for (int l = 0; l < 32; ++l) {
      if (!((lanes >> l) & 1)) continue;
      auto* me = static_cast<ShflOp*>(ops[l]);
      const int s = me->src;
      // A source lane outside the mask is undefined (CUDA Programming Guide, "Warp Shuffle
      // Functions"); strict mode makes that visible as all-ones (NaN), not the own value.
      const bool in_mask = s >= 0 && s < 32 && ((lanes >> s) & 1);
      me->result = in_mask             ? static_cast<ShflOp*>(ops[s])->value
                   : strict_shuffles() ? ~uint64_t(0)
                                       : me->value;
    }
  });
  return op.result;
}

uint32_t ballot(uint32_t mask, bool pred) {
  VoteOp op{pred, 0};
  warp_collective(kVote << 24, mask, &op, [](void* const* ops, uint32_t lanes) {
    uint32_t bits = 0;
    for (int l = 0; l < 32; ++l)
      if (((lanes >> l) & 1) && static_cast<VoteOp*>(ops[l])->pred) bits |= 1u << l;
    for (int l = 0; l < 32; ++l)
      if ((lanes >> l) & 1) static_cast<VoteOp*>(ops[l])->result = bits;
  });
  return op.result;
}

int64_t reduce_add(uint32_t mask, int64_t v) {
  ReduceOp op{v, 0};
  warp_collective(kReduce << 24, mask, &op, [](void* const* ops, uint32_t lanes) {
    int64_t sum = 0;
    for (int l = 0; l < 32; ++l)
      if ((lanes >> l) & 1) sum += static_cast<ReduceOp*>(ops[l])->value;
    for (int l = 0; l < 32; ++l)
      if ((lanes >> l) & 1) static_cast<ReduceOp*>(ops[l])->result = sum;
  });
  return op.result;
}

// ---- Hardware-like accumulation (XK_SIM_ACCUM=truncate) -----------------------------------
// Fasi, Higham, Mikaitis, Pranesh, "Numerical behavior of NVIDIA tensor cores", PeerJ Comput.
// Sci. 7:e330 (2021): products are exact; each step adds a few products and the running
// sum, with all significands aligned to the largest exponent and the bits below FP32's 24
// truncated (no guard, round or sticky bit), and the result normalised with round toward
// zero. They measured 4 products per step on V100/T4 and 8 on A100; 8 is used here for
// every shape (newer tensor cores and RDNA3's WMMA are undocumented, so this is a model of
// "not round-to-nearest FP64", not a bit-exact prediction of a given GPU).
constexpr int kTensorCoreChunk = 8;

float truncated_dot(float c, const double* products, int n, int chunk) {
  float acc = c;
  for (int k0 = 0; k0 < n; k0 += chunk) {
    const int k1 = k0 + chunk < n ? k0 + chunk : n;
    int emax = INT32_MIN;
    auto see = [&](double v) {
      if (v == 0 || !std::isfinite(v)) return;
      int e;
      std::frexp(v, &e);
      emax = e > emax ? e : emax;
    };
    see(acc);
    for (int k = k0; k < k1; ++k) see(products[k]);
    double s = 0;
    bool special = !std::isfinite(acc);
    for (int k = k0; k < k1; ++k) special |= !std::isfinite(products[k]);
    if (special) {  // NaN / Inf propagate as in IEEE arithmetic
      s = acc;
      for (int k = k0; k < k1; ++k) s += products[k];
      acc = static_cast<float>(s);
      continue;
    }
    if (emax != INT32_MIN) {
      // Keep 24 bits below the leading bit of the largest addend: lsb weight 2^(emax-24).
      const double lsb = std::ldexp(1.0, emax - 24);
      s = std::trunc(acc / lsb) * lsb;
      for (int k = k0; k < k1; ++k) s += std::trunc(products[k] / lsb) * lsb;  // exact in FP64
    }
    float f = static_cast<float>(s);  // nearest; step back toward zero if it rounded away
    if (std::fabs(static_cast<double>(f)) > std::fabs(s)) f = std::nextafter(f, 0.0f);
    acc = f;
  }
  return acc;
}

// ---- mma.sync ------------------------------------------------------------------------------

const char* counter_name(MmaKind k) {
  switch (k) {
    case MmaKind::F16_M16N8K16:
      return "mma.m16n8k16.f16";
    case MmaKind::BF16_M16N8K16:
      return "mma.m16n8k16.bf16";
    case MmaKind::S8_M16N8K32:
      return "mma.m16n8k32.s8";
    case MmaKind::U8_M16N8K32:
      return "mma.m16n8k32.u8";
    case MmaKind::NVF4_UE4M3_4X:
      return "mma.m16n8k64.mxf4nvf4.4x.ue4m3";
    case MmaKind::MXF4NVF4_UE8M0_2X:
      return "mma.m16n8k64.mxf4nvf4.2x.ue8m0";
    case MmaKind::MXF4_UE8M0_2X:
      return "mma.m16n8k64.mxf4.2x.ue8m0";
  }
  return "mma.unknown";
}

namespace {

struct MmaOp {
  MmaKind kind;
  uint32_t sel;
  void* d;
  const uint32_t* a;
  const uint32_t* b;
  const void* c;
  uint32_t scale_a, scale_b;
};

double e2m1(uint32_t nibble) {  // OCP MX spec: E2M1 codes 0..7 = 0, .5, 1, 1.5, 2, 3, 4, 6
  static const double mag[8] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0};
  return (nibble & 8) ? -mag[nibble & 7] : mag[nibble & 7];
}
double ue8m0(uint32_t byte) { return byte == 0xff ? NAN : std::ldexp(1.0, int(byte) - 127); }
double ue4m3(uint32_t byte) {
  byte &= 0x7f;
  if (byte == 0x7f) return NAN;
  const int e = int(byte >> 3), m = int(byte & 7);
  return e == 0 ? std::ldexp(m, -9) : std::ldexp(8 + m, e - 10);  // bias 7, 3 mantissa bits
}

// Reads C of every lane, computes D = A*B + C with the operand decoders, writes D.
template <class Acc, class LoadA, class LoadB, class Sum>
void mma_core(void* const* ops, int K, LoadA load_a, LoadB load_b, Sum sum) {
  double A[16][64], B[64][8];
  Acc C[16][8];
  for (int l = 0; l < 32; ++l) {
    auto* op = static_cast<MmaOp*>(ops[l]);
    load_a(A, l, op->a);
    load_b(B, l, op->b);
    for (int i = 0; i < 4; ++i) {
      const auto rc = ml::cd_m16n8(l, i);
      C[rc.row][rc.col] = static_cast<const Acc*>(op->c)[i];
    }
  }
  Acc D[16][8];
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) D[m][n] = sum(A, B, C[m][n], m, n, K);
  for (int l = 0; l < 32; ++l) {
    auto* op = static_cast<MmaOp*>(ops[l]);
    for (int i = 0; i < 4; ++i) {
      const auto rc = ml::cd_m16n8(l, i);
      static_cast<Acc*>(op->d)[i] = D[rc.row][rc.col];
    }
  }
}

float fsum(const double (&A)[16][64], const double (&B)[64][8], float c, int m, int n, int K) {
  if (accumulation() == Accumulation::Truncated) {
    double p[64];
    for (int k = 0; k < K; ++k) p[k] = A[m][k] * B[k][n];
    return truncated_dot(c, p, K, kTensorCoreChunk);
  }
  double s = c;
  for (int k = 0; k < K; ++k) s += A[m][k] * B[k][n];
  return static_cast<float>(s);
}
int32_t isum(const double (&A)[16][64], const double (&B)[64][8], int32_t c, int m, int n, int K) {
  int64_t s = c;
  for (int k = 0; k < K; ++k) s += int64_t(A[m][k]) * int64_t(B[k][n]);
  return static_cast<int32_t>(static_cast<uint32_t>(s));  // wraps like the .s32 accumulator
}

// f16 -> f32 for all 65536 codes: libgcc's soft conversion dominated the emulation's time.
const float* f16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t u = 0; u < 65536; ++u) t[u] = f16_to_f32(uint16_t(u));
    return t;
  }();
  return table.data();
}

void mma_16bit(void* const* ops, bool bf16) {
  const float* f16 = f16_table();
  auto half = [bf16, f16](uint32_t reg, int h) {
    const uint16_t bits = uint16_t(reg >> (16 * h));
    return double(bf16 ? bf16_to_f32(bits) : f16[bits]);
  };
  mma_core<float>(
      ops, 16,
      [&](double(&A)[16][64], int l, const uint32_t* a) {
        for (int i = 0; i < 4; ++i)
          for (int h = 0; h < 2; ++h) {
            const auto rc = ml::a_m16n8k16(l, i, h);
            A[rc.row][rc.col] = half(a[i], h);
          }
      },
      [&](double(&B)[64][8], int l, const uint32_t* b) {
        for (int i = 0; i < 2; ++i)
          for (int h = 0; h < 2; ++h) {
            const auto rc = ml::b_m16n8k16(l, i, h);
            B[rc.row][rc.col] = half(b[i], h);
          }
      },
      fsum);
}

void mma_8bit(void* const* ops, bool is_signed) {
  auto byte = [is_signed](uint32_t reg, int j) {
    const uint32_t v = (reg >> (8 * j)) & 0xff;
    return is_signed ? double(int8_t(v)) : double(v);
  };
  mma_core<int32_t>(
      ops, 32,
      [&](double(&A)[16][64], int l, const uint32_t* a) {
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) {
            const auto rc = ml::a_m16n8k32(l, i, j);
            A[rc.row][rc.col] = byte(a[i], j);
          }
      },
      [&](double(&B)[64][8], int l, const uint32_t* b) {
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 4; ++j) {
            const auto rc = ml::b_m16n8k32(l, i, j);
            B[rc.row][rc.col] = byte(b[i], j);
          }
      },
      isum);
}

// Block-scaled e2m1: the scales are folded into A's rows and B's columns per K-block.
void mma_fp4(void* const* ops, int scale_vec, bool ue4m3_scales) {
  const auto* op0 = static_cast<MmaOp*>(ops[0]);
  const int byte_a = op0->sel & 15, tid_a = (op0->sel >> 4) & 15, byte_b = (op0->sel >> 8) & 15,
            tid_b = (op0->sel >> 12) & 15;
  const int kb = ml::scale_block_k(scale_vec);
  auto scale = [&](uint32_t reg, int byte) {
    const uint32_t v = (reg >> (8 * byte)) & 0xff;
    return ue4m3_scales ? ue4m3(v) : ue8m0(v);
  };
  mma_core<float>(
      ops, 64,
      [&](double(&A)[16][64], int l, const uint32_t* a) {
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 8; ++j) {
            const auto rc = ml::a_m16n8k64(l, i, j);
            const auto* sop = static_cast<MmaOp*>(ops[ml::scale_a_lane(rc.row, tid_a)]);
            A[rc.row][rc.col] = e2m1((a[i] >> (4 * j)) & 15) * scale(sop->scale_a, byte_a + rc.col / kb);
          }
      },
      [&](double(&B)[64][8], int l, const uint32_t* b) {
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 8; ++j) {
            const auto rc = ml::b_m16n8k64(l, i, j);
            const auto* sop = static_cast<MmaOp*>(ops[ml::scale_b_lane(rc.col, tid_b)]);
            B[rc.row][rc.col] = e2m1((b[i] >> (4 * j)) & 15) * scale(sop->scale_b, byte_b + rc.row / kb);
          }
      },
      fsum);
}

void mma_compute(void* const* ops, uint32_t) {
  const MmaKind kind = static_cast<MmaOp*>(ops[0])->kind;
  switch (kind) {
    case MmaKind::F16_M16N8K16:
      return mma_16bit(ops, false);
    case MmaKind::BF16_M16N8K16:
      return mma_16bit(ops, true);
    case MmaKind::S8_M16N8K32:
      return mma_8bit(ops, true);
    case MmaKind::U8_M16N8K32:
      return mma_8bit(ops, false);
    case MmaKind::NVF4_UE4M3_4X:
      return mma_fp4(ops, 4, true);
    case MmaKind::MXF4NVF4_UE8M0_2X:
    case MmaKind::MXF4_UE8M0_2X:
      return mma_fp4(ops, 2, false);
  }
}

}  // namespace

void mma(MmaKind kind, void* d, const uint32_t* a, const uint32_t* b, const void* c, uint32_t scale_a,
         uint32_t scale_b, uint32_t sel) {
  MmaOp op{kind, sel, d, a, b, c, scale_a, scale_b};
  // mma.sync.aligned: all 32 lanes, same instruction (kind and selectors are part of it).
  warp_collective(kMma << 24 | uint32_t(kind) << 16 | sel, 0xffffffffu, &op, mma_compute);
  if (lane_id() == 0) ++block_counters().mma_by_kind[counter_name(kind)];
}

// ---- ldmatrix and cp.async -------------------------------------------------------------------

namespace {
struct LdmatrixOp {
  uint32_t* r;
  int count;
  bool trans;
  const void* row;
};
}  // namespace

void ldmatrix(uint32_t* r, int count, bool trans, const void* smem_row) {
  // PTX ISA ldmatrix: lanes 0..8*count-1 supply row addresses, each 16-byte aligned.
  if (lane_id() < unsigned(8 * count)) check_aligned(smem_row, 16, "ldmatrix row address");
  LdmatrixOp op{r, count, trans, smem_row};
  warp_collective(kLdmatrix << 24 | uint32_t(count) << 1 | uint32_t(trans), 0xffffffffu, &op,
                  [](void* const* ops, uint32_t) {
                    const auto* op0 = static_cast<LdmatrixOp*>(ops[0]);
                    for (int l = 0; l < 8 * op0->count; ++l)
                      shared_read(static_cast<LdmatrixOp*>(ops[l])->row, 16, unsigned(l));
                    uint32_t out[32][4] = {};
                    for (int l = 0; l < 32; ++l)
                      for (int i = 0; i < op0->count; ++i)
                        for (int h = 0; h < 2; ++h) {
                          const auto rc = ml::ldmatrix_elem(l, h, op0->trans);
                          const auto* src = static_cast<LdmatrixOp*>(ops[8 * i + rc.row]);
                          uint16_t v;
                          std::memcpy(&v, static_cast<const char*>(src->row) + 2 * rc.col, 2);
                          out[l][i] |= uint32_t(v) << (16 * h);
                        }
                    for (int l = 0; l < 32; ++l)
                      for (int i = 0; i < op0->count; ++i) static_cast<LdmatrixOp*>(ops[l])->r[i] = out[l][i];
                  });
  if (lane_id() == 0) block_counters().shared_bytes += uint64_t(count) * 128;  // count 8x8 b16 matrices
}

void cp_async(void* smem_dst, const void* gmem_src, int bytes, int src_bytes) {
  async_copy(smem_dst, gmem_src, bytes, src_bytes);
}

}  // namespace xk::sim
