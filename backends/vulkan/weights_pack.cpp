#include "weights_pack.h"

#include <cstring>

#include "kernels/ref/formats.h"
#include "xk/error.h"

namespace xk::vk {

namespace {

// Element j (0..31) of a group in the 4-bit layout: word (j % 16) / 4, byte j % 4,
// low nibble for j < 16, high nibble for j >= 16 (common.glsl).
void put_nibble(uint32_t* group_words, int j, uint32_t code) {
  const int e = j & 15;
  const int shift = 8 * (e & 3) + (j >= 16 ? 4 : 0);
  group_words[e >> 2] |= (code & 0xFu) << shift;
}

uint32_t f32_word(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

int quant_words_per_group(DType t) { return t == DType::Q8_0 ? 8 : 4; }
int scales_per_group(DType t) { return t == DType::NVFP4 ? 2 : 1; }

uint32_t scale_base(DType t, int64_t n, int64_t k) {
  return static_cast<uint32_t>(n * (k / 32) * quant_words_per_group(t));
}

std::vector<uint32_t> pack_weights(DType t, const uint8_t* gguf, int64_t n, int64_t k) {
  using namespace xk::ref;
  const int64_t groups = k / 32;
  const int qw = quant_words_per_group(t), ns = scales_per_group(t);
  const uint32_t sbase = scale_base(t, n, k);
  std::vector<uint32_t> out(sbase + static_cast<size_t>(n * groups * ns), 0u);
  const size_t rb = row_bytes(t, k);
  for (int64_t r = 0; r < n; ++r) {
    const uint8_t* row = gguf + rb * static_cast<size_t>(r);
    for (int64_t g = 0; g < groups; ++g) {
      const size_t grp = static_cast<size_t>(r * groups + g);
      uint32_t* q = out.data() + grp * qw;
      uint32_t* s = out.data() + sbase + grp * ns;
      switch (t) {
        case DType::Q4_0: {
          const auto& b = reinterpret_cast<const block_q4_0*>(row)[g];
          for (int j = 0; j < 32; ++j) put_nibble(q, j, static_cast<uint32_t>(q4_0_get(b, j) + 8));
          s[0] = f32_word(q4_0_scale(b));
          break;
        }
        case DType::Q8_0: {
          const auto& b = reinterpret_cast<const block_q8_0*>(row)[g];
          for (int j = 0; j < 32; ++j)
            q[j / 4] |= (static_cast<uint32_t>(q8_0_get(b, j)) & 0xFFu) << (8 * (j % 4));
          s[0] = f32_word(q8_0_scale(b));
          break;
        }
        case DType::MXFP4: {
          const auto& b = reinterpret_cast<const block_mxfp4*>(row)[g];
          for (int j = 0; j < 32; ++j) put_nibble(q, j, mxfp4_code(b, j));
          s[0] = f32_word(mxfp4_scale_half(b));
          break;
        }
        case DType::NVFP4: {  // a 64-element block is two groups; h picks the half
          const auto& b = reinterpret_cast<const block_nvfp4*>(row)[g / 2];
          const int h = static_cast<int>(g % 2);
          for (int j = 0; j < 32; ++j) put_nibble(q, j, nvfp4_code(b, 32 * h + j));
          s[0] = f32_word(nvfp4_scale_half(b, 2 * h));
          s[1] = f32_word(nvfp4_scale_half(b, 2 * h + 1));
          break;
        }
        default:
          throw Error("vulkan", "W", std::string("no repacked layout for ") + name(t));
      }
    }
  }
  return out;
}

}  // namespace xk::vk
