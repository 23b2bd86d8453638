// Fuzz target: the GGUF block decoders and encoders (dequantize_row / quantize_row, the code
// behind upload and the cpu-ref oracle) on arbitrary block bytes: any scale bits (f16 NaN/inf,
// E8M0 0xFF, UE4M3 0x7F), any codes, any NVFP4 tensor scale. A decoder must not read past
// the row or trip a sanitizer; the encoder must accept what the decoder produced when it is
// finite (unless a block's scale would overflow FP16), and throw xk::Error (never anything
// else) for non-finite input.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "xk/dtype.h"
#include "xk/error.h"
#include "xk/formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xk::fuzz::Input in(data, size);
  const xk::DType t = xk::kAllDTypes[in.pick(std::size(xk::kAllDTypes))];
  const float tensor_scale = in.raw<float>();
  const auto& tr = xk::traits(t);
  size_t left = 0;
  const uint8_t* rest = in.rest(&left);
  const size_t blocks = left / static_cast<size_t>(tr.block_bytes);
  const int64_t n = static_cast<int64_t>(blocks) * tr.block_elems;
  // A copy, so the decoder sees the alignment a caller's buffer has (new[] is suitably
  // aligned for every block struct), and exactly the row's bytes: ASan flags any over-read.
  std::vector<uint8_t> src(rest, rest + blocks * static_cast<size_t>(tr.block_bytes));
  std::vector<float> y(static_cast<size_t>(n));
  try {
    xk::dequantize_row(t, src.data(), y.data(), n, t == xk::DType::NVFP4 ? tensor_scale : 1.0f);
    std::vector<uint8_t> back(src.size());
    bool finite = true;
    for (float v : y) finite &= std::isfinite(v);
    try {
      xk::quantize_row(t, y.data(), back.data(), n);
    } catch (const xk::Error& e) {
      // A Q8_0 code of -128 at a scale near FP16's top decodes to a magnitude whose new scale
      // (amax / 127) overflows FP16: refusing that block is the documented policy.
      const bool scale_overflow = e.reason().find("overflows FP16") != std::string::npos;
      if (finite && !scale_overflow && t != xk::DType::F32 && t != xk::DType::F16 && t != xk::DType::BF16) {
        std::fprintf(stderr, "quantize_row rejected finite values that %s decoding produced\n", tr.name);
        std::abort();
      }
    }
  } catch (const xk::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "a std:: exception escaped the format code: %s\n", e.what());
    std::abort();
  }
  return 0;
}
