// xk::Error — every bad input or unavailable resource surfaces as one of these.
// The message always names the op (or subsystem), the argument and the reason:
//   "matmul: argument 'W': K=100 is not a multiple of the Q4_0 block size 32"
#pragma once
#include <stdexcept>
#include <string>

namespace xk {

class Error : public std::runtime_error {
 public:
  Error(std::string op, std::string arg, std::string reason)
      : std::runtime_error(op + ": argument '" + arg + "': " + reason),
        op_(std::move(op)),
        arg_(std::move(arg)),
        reason_(std::move(reason)) {}
  // For failures that are not about one argument (driver errors, missing device).
  Error(std::string op, std::string reason)
      : std::runtime_error(op + ": " + reason), op_(std::move(op)), reason_(std::move(reason)) {}

  const std::string& op() const { return op_; }
  const std::string& arg() const { return arg_; }  // empty when not about an argument
  const std::string& reason() const { return reason_; }

 private:
  std::string op_, arg_, reason_;
};

}  // namespace xk
