// Reads a fuzzer's byte string as a sequence of choices. Past the end every read is 0, so
// any prefix is a valid input and libFuzzer's mutations stay meaningful.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace xk::fuzz {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  uint8_t u8() { return i_ < n_ ? p_[i_++] : 0; }
  bool flag() { return u8() & 1; }
  template <class T>
  T raw() {
    unsigned char b[sizeof(T)] = {};
    for (size_t k = 0; k < sizeof(T); ++k) b[k] = u8();
    T v{};
    std::memcpy(&v, b, sizeof(T));
    return v;
  }
  // Picks one of `n` choices.
  size_t pick(size_t n) { return n ? u8() % n : 0; }
  const uint8_t* rest(size_t* size) {
    *size = i_ < n_ ? n_ - i_ : 0;
    return p_ + (i_ < n_ ? i_ : n_);
  }

 private:
  const uint8_t* p_;
  size_t n_, i_ = 0;
};

}  // namespace xk::fuzz
