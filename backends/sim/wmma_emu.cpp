// Emulation of RDNA3 wave32 WMMA 16x16x16 (f16, bf16, iu8, iu4) for hip-sim, with the
// layouts of kernels/hip/wmma_layouts.h.
//
// Numerics: f16/bf16 products are exact; the 16 products and C are summed in FP64 and
// rounded once to FP32 (hardware rounding may differ by a few FP32 ulps). iu8/iu4: exact
// integer products; with clamp the sum saturates to [INT32_MIN, INT32_MAX] (RDNA3 ISA 7.9,
// "CLAMP"), without it wraps. Signedness flags pick int8/uint8 (int4/uint4) decoding.
#include <cstring>
#include <string>
#include <vector>

#include "backends/sim/hip_sim.h"
#include "kernels/hip/wmma_layouts.h"

namespace xk::sim {

namespace wl = xk::wmma_layout;

const char* counter_name(WmmaKind k) {
  switch (k) {
    case WmmaKind::F16:
      return "wmma.f32.16x16x16.f16";
    case WmmaKind::BF16:
      return "wmma.f32.16x16x16.bf16";
    case WmmaKind::IU8:
      return "wmma.i32.16x16x16.iu8";
    case WmmaKind::IU4:
      return "wmma.i32.16x16x16.iu4";
  }
  return "wmma.unknown";
}

namespace {

// f16 -> f32 for all 65536 codes (libgcc's soft conversion is slow).
const float* f16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t u = 0; u < 65536; ++u) t[u] = f16_to_f32(uint16_t(u));
    return t;
  }();
  return table.data();
}

struct WmmaOp {
  WmmaKind kind;
  bool a_signed, b_signed, clamp;
  void* d;
  const void* a;
  const void* b;
  const void* c;
};

int operand_bytes(WmmaKind k) { return k == WmmaKind::IU8 ? 16 : k == WmmaKind::IU4 ? 8 : 32; }

// Element e (0..15) of one lane's A or B operand.
double element(WmmaKind k, const void* v, int e, bool is_signed) {
  const auto* bytes = static_cast<const uint8_t*>(v);
  switch (k) {
    case WmmaKind::F16: {
      uint16_t h;
      std::memcpy(&h, bytes + 2 * e, 2);
      return f16_table()[h];
    }
    case WmmaKind::BF16: {
      uint16_t h;
      std::memcpy(&h, bytes + 2 * e, 2);
      return bf16_to_f32(h);
    }
    case WmmaKind::IU8:
      return is_signed ? double(int8_t(bytes[e])) : double(bytes[e]);
    case WmmaKind::IU4: {
      const int nib = (bytes[e / 2] >> (4 * (e % 2))) & 15;
      return is_signed ? double(nib >= 8 ? nib - 16 : nib) : double(nib);
    }
  }
  return 0;
}

void wmma_compute(void* const* ops, uint32_t) {
  const auto* op0 = static_cast<WmmaOp*>(ops[0]);
  const WmmaKind k = op0->kind;
  const int nbytes = operand_bytes(k);
  for (int l = 16; l < 32; ++l) {
    const auto* hi = static_cast<WmmaOp*>(ops[l]);
    const auto* lo = static_cast<WmmaOp*>(ops[wl::replica_source_lane(l)]);
    if (std::memcmp(hi->a, lo->a, size_t(nbytes)) != 0 || std::memcmp(hi->b, lo->b, size_t(nbytes)) != 0)
      fail("WMMA wave32: A/B operand of lane " + std::to_string(l) + " does not replicate lane " +
           std::to_string(l - 16) + " (RDNA3 ISA 7.9 requires lanes 16-31 to hold copies of lanes 0-15)");
  }
  double A[16][16], B[16][16];
  for (int l = 0; l < 16; ++l) {
    const auto* op = static_cast<WmmaOp*>(ops[l]);
    for (int e = 0; e < 16; ++e) {
      const auto ra = wl::a_16x16x16(l, e), rb = wl::b_16x16x16(l, e);
      A[ra.row][ra.col] = element(k, op->a, e, op0->a_signed);
      B[rb.row][rb.col] = element(k, op->b, e, op0->b_signed);
    }
  }
  const bool integer = k == WmmaKind::IU8 || k == WmmaKind::IU4;
  double C[16][16];
  for (int l = 0; l < 32; ++l)
    for (int e = 0; e < 8; ++e) {
      const auto rc = wl::cd_16x16x16(l, e);
      const auto* op = static_cast<WmmaOp*>(ops[l]);
      C[rc.row][rc.col] = integer ? double(static_cast<const int32_t*>(op->c)[e])
                                  : double(static_cast<const float*>(op->c)[e]);
    }
  for (int l = 0; l < 32; ++l) {
    auto* op = static_cast<WmmaOp*>(ops[l]);
    for (int e = 0; e < 8; ++e) {
      const auto rc = wl::cd_16x16x16(l, e);
      if (integer) {
        int64_t s = int64_t(C[rc.row][rc.col]);
        for (int kk = 0; kk < 16; ++kk) s += int64_t(A[rc.row][kk]) * int64_t(B[kk][rc.col]);
        if (op0->clamp) s = s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : s);
        static_cast<int32_t*>(op->d)[e] = static_cast<int32_t>(static_cast<uint32_t>(s));
      } else {
        double s = C[rc.row][rc.col];
        if (accumulation() == Accumulation::Truncated) {  // the tensor-core model of mma_emu.cpp
          double p[16];
          for (int kk = 0; kk < 16; ++kk) p[kk] = A[rc.row][kk] * B[kk][rc.col];
          static_cast<float*>(op->d)[e] = truncated_dot(static_cast<float>(s), p, 16, 8);
          continue;
        }
        for (int kk = 0; kk < 16; ++kk) s += A[rc.row][kk] * B[kk][rc.col];
        static_cast<float*>(op->d)[e] = static_cast<float>(s);
      }
    }
  }
}

}  // namespace

void wmma(WmmaKind kind, void* d, const void* a, const void* b, const void* c, bool a_signed, bool b_signed,
          bool clamp) {
  WmmaOp op{kind, a_signed, b_signed, clamp, d, a, b, c};
  const uint32_t code =
      kWmma << 24 | uint32_t(kind) << 8 | uint32_t(a_signed) << 2 | uint32_t(b_signed) << 1 | uint32_t(clamp);
  warp_collective(code, 0xffffffffu, &op, wmma_compute);
  if (lane_id() == 0) ++block_counters().mma_by_kind[counter_name(kind)];
}

}  // namespace xk::sim
