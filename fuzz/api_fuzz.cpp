// Fuzz target: the public API's argument validation on cpu-ref. Every call either succeeds
// or throws xk::Error naming its op; anything else (another exception, a sanitizer report, a
// crash) is a finding.
//
// The input picks an op (make_tensor, matmul, attention, download, tensor size queries) and
// its arguments: dtypes, shapes from small values and edge values (negative, 0, block +-1,
// 2^31, 2^32, 2^62+1, INT64_MAX), activation precisions, variant names, attention scale,
// causal flag and q_offset. A tensor is either honest (make_tensor of a small shape) or
// lying: a small buffer whose public `shape` field was then set to the fuzzed shape, which
// is what a hostile caller can do. Valid shapes too large to allocate here (> 16 KiB) are
// not allocated: the fuzzer's job is validation, not out-of-memory.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "backends/core/checked.h"
#include "fuzz/fuzz_input.h"
#include "xk/xk.h"

namespace xk::fuzz {
namespace {

constexpr size_t kMaxRealBytes = 16 * 1024;

int64_t dim(Input& in) {
  static constexpr int64_t kEdges[] = {-1,
                                       0,
                                       1,
                                       31,
                                       32,
                                       33,
                                       64,
                                       128,
                                       int64_t{1} << 31,
                                       int64_t{1} << 32,
                                       (int64_t{1} << 62) + 1,
                                       std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min(),
                                       std::numeric_limits<int64_t>::max() - 31};
  const uint8_t b = in.u8();
  if (b < 224) return b % 72;
  return kEdges[(b - 224) % std::size(kEdges)];
}

std::vector<int64_t> shape(Input& in, size_t rank_hint) {
  const size_t rank = in.u8() % 8 == 0 ? in.pick(6) : rank_hint;  // mostly the rank the op wants
  std::vector<int64_t> s(rank);
  for (auto& d : s) d = dim(in);
  return s;
}

DType dtype(Input& in) { return kAllDTypes[in.pick(std::size(kAllDTypes))]; }

// An honest small tensor when the shape allows, else a lying one (or make_tensor's own error).
Tensor tensor(Device& dev, Input& in, size_t rank_hint) {
  const DType t = dtype(in);
  std::vector<int64_t> s = shape(in, rank_hint);
  bool cheap_to_make = false;
  try {
    cheap_to_make = checked::tensor_bytes(t, s, "fuzz", "shape") <= kMaxRealBytes;
  } catch (const Error&) {
    cheap_to_make = true;  // make_tensor must reject it the same way
  }
  // Contents are zeros (upload), not make_tensor's uninitialised memory: a run must be
  // reproducible, and values are not what this target explores.
  static const std::vector<uint8_t> zeros(kMaxRealBytes);
  if (cheap_to_make && !in.flag()) return upload(dev, t, s, zeros.data());
  const int64_t block = traits(t).block_elems;
  Tensor r =
      upload(dev, t, {static_cast<int64_t>(1 + in.pick(4)), block * static_cast<int64_t>(1 + in.pick(2))},
             zeros.data());
  r.shape = std::move(s);
  return r;
}

std::string variant(Device& dev, Input& in) {
  const uint8_t b = in.u8();
  if (b < 192) return "";
  const auto& vs = dev.variants();
  if (b < 250 && !vs.empty()) return vs[b % vs.size()].name;
  return "no_such_variant";
}

float scale(Input& in) {
  static constexpr float kScales[] = {0.0f,
                                      0.125f,
                                      1.0f,
                                      -1.0f,
                                      1e-45f,
                                      3e38f,
                                      std::numeric_limits<float>::infinity(),
                                      std::numeric_limits<float>::quiet_NaN()};
  return kScales[in.pick(std::size(kScales))];
}

void run_one(Device& dev, Input& in) {
  switch (in.pick(5)) {
    case 0: {
      const DType t = dtype(in);
      std::vector<int64_t> s = shape(in, 2);
      size_t need = 0;
      try {
        need = checked::tensor_bytes(t, s, "fuzz", "shape");
      } catch (const Error&) {
      }
      if (need <= kMaxRealBytes) make_tensor(dev, t, s);
      break;
    }
    case 1: {
      Tensor W = tensor(dev, in, 2), X = tensor(dev, in, 2), Y = tensor(dev, in, 2);
      MatmulOptions opt;
      opt.act = static_cast<ActPrecision>(in.pick(6));
      opt.variant = variant(dev, in);
      if (in.flag()) {
        matmul(dev, W, X, Y, opt);
      } else if (int64_t y_elems = 0;
                 X.shape.size() == 2 && W.shape.size() == 2 && X.shape[0] >= 0 && W.shape[0] >= 0 &&
                 !__builtin_mul_overflow(X.shape[0], W.shape[0], &y_elems) && y_elems <= 4096) {
        matmul(dev, W, X, opt);  // allocates Y itself: only for a small product
      }
      break;
    }
    case 2: {
      Tensor Q = tensor(dev, in, 4), K = tensor(dev, in, 4), V = tensor(dev, in, 4), O = tensor(dev, in, 4);
      AttentionOptions opt;
      opt.scale = scale(in);
      opt.causal = in.flag();
      opt.q_offset = dim(in);
      opt.variant = variant(dev, in);
      attention(dev, Q, K, V, O, opt);
      break;
    }
    case 3: {
      Tensor x = tensor(dev, in, 2);
      std::vector<uint8_t> host(kMaxRealBytes);
      const size_t dst_bytes = in.flag() ? host.size() : in.pick(256);
      if (in.flag())
        download(x, host.data(), dst_bytes);
      else if (x.dtype == DType::F32)
        download_f32(x);
      break;
    }
    default: {
      Tensor x = tensor(dev, in, 2);
      (void)x.numel();
      (void)x.bytes();
      break;
    }
  }
}

}  // namespace
}  // namespace xk::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<xk::Device> dev = xk::open_device("cpu-ref");
  xk::fuzz::Input in(data, size);
  try {
    xk::fuzz::run_one(*dev, in);
  } catch (const xk::Error& e) {
    if (e.op().empty() || e.reason().empty()) {
      std::fprintf(stderr, "xk::Error without op or reason: %s\n", e.what());
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "a std:: exception escaped the API: %s\n", e.what());
    std::abort();
  }
  return 0;
}
