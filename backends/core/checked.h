// Checked size arithmetic for everything the public API derives from caller-supplied
// numbers: element counts, byte sizes, offsets. An overflow is an xk::Error(op, argument,
// reason), never a wrapped value that later sizes a buffer or indexes past one.
//
// Also the one translation from std:: exceptions to xk::Error at the API boundary
// (rethrow_as_error), so that an allocation failure or a library exception thrown below
// a public function reaches the caller as an xk::Error naming the op.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "xk/dtype.h"
#include "xk/error.h"

namespace xk::checked {

// The largest byte size (and element count) a tensor may have: PTRDIFF_MAX = 2^63-1, so that
// pointer differences and offset + size over any buffer stay representable too.
inline constexpr uint64_t kMaxBytes = static_cast<uint64_t>(std::numeric_limits<std::ptrdiff_t>::max());

inline std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// a + b for a, b >= 0; `what` names the sum in the message ("q_offset + S").
inline int64_t add(int64_t a, int64_t b, const char* op, const char* arg, const char* what) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r))
    throw Error(op, arg,
                std::string(what) + " = " + std::to_string(a) + " + " + std::to_string(b) +
                    " overflows a signed 64-bit integer");
  return r;
}

// a * b for a, b >= 0.
inline int64_t mul(int64_t a, int64_t b, const char* op, const char* arg, const char* what) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
    throw Error(op, arg,
                std::string(what) + " = " + std::to_string(a) + " * " + std::to_string(b) +
                    " overflows a signed 64-bit integer");
  return r;
}

// Product of the dimensions; every dimension must be >= 0.
inline int64_t numel(const std::vector<int64_t>& shape, const char* op, const char* arg) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error(op, arg, "negative dimension in shape " + shape_text(shape));
    if (__builtin_mul_overflow(n, d, &n))
      throw Error(op, arg, "shape " + shape_text(shape) + " has more than 2^63-1 elements");
  }
  return n;
}

// Bytes a row-major tensor of `shape` needs in `dtype` (whole blocks along the last
// dimension), at most kMaxBytes.
inline size_t tensor_bytes(DType dtype, const std::vector<int64_t>& shape, const char* op, const char* arg) {
  const int64_t elems = numel(shape, op, arg);
  if (shape.empty() || elems == 0) return 0;
  const auto& tr = traits(dtype);
  const uint64_t rows = static_cast<uint64_t>(elems / shape.back());
  const uint64_t blocks_per_row = static_cast<uint64_t>(shape.back() / tr.block_elems);
  uint64_t row, total;
  if (__builtin_mul_overflow(blocks_per_row, static_cast<uint64_t>(tr.block_bytes), &row) ||
      __builtin_mul_overflow(rows, row, &total) || total > kMaxBytes)
    throw Error(op, arg, "shape " + shape_text(shape) + " needs more than 2^63-1 bytes in " + tr.name);
  return static_cast<size_t>(total);
}

// Call inside a catch block: rethrows an xk::Error unchanged and any other exception as an
// xk::Error of `op`, so no std:: exception crosses the public API.
[[noreturn]] inline void rethrow_as_error(const char* op) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Error(op, "out of host memory (std::bad_alloc)");
  } catch (const std::exception& e) {
    throw Error(op, std::string("internal error: ") + e.what());
  }
}

}  // namespace xk::checked
