// The backend side of xk::Buffer (internal: backends and ops.cpp only; users see Buffer).
//
// Lifetime rule: a Buffer may outlive the Device that allocated it. Two things make that safe:
//   - `owner` (set by Device::alloc), a token the Device shares with every buffer it
//     allocates and clears in its destructor, so any later use of the buffer is an xk::Error
//     naming the dead device instead of a call through a dangling pointer;
//   - `keep_alive` (set by the backend's allocate()), whatever the backend's buffer
//     destructor still needs (the Vulkan context, the CUDA stream): the buffer shares
//     ownership of it, so the last buffer to go frees it, after its own memory, and nothing
//     is freed twice or leaked. Host and HIP memory need none; the simulator's buffers share
//     their device's live-buffer set the same way (backends/sim/sim_device.h).
#pragma once
#include <memory>
#include <string>

#include "xk/device.h"
#include "xk/tensor.h"

namespace xk {

class BufferImpl {
 public:
  virtual ~BufferImpl() = default;  // the backend frees its memory in its override
  size_t bytes = 0;
  // Set by Device::alloc, never by the backend: the allocating device, nullptr once it is
  // destroyed (under the thread contract in device.h no thread uses a buffer while another
  // destroys its device, so a plain pointer suffices), and its name for the messages after.
  std::shared_ptr<Device* const> owner;
  std::string owner_name;
  // Set by the backend's allocate() when its destructor needs device state. Declared in the
  // base, so it is released after the derived class has freed the memory it keeps usable.
  std::shared_ptr<const void> keep_alive;
};

// What backends and ops.cpp reach inside a Buffer.
struct BufferAccess {
  static Buffer wrap(std::unique_ptr<BufferImpl> impl) {
    Buffer b;
    b.impl_ = std::move(impl);
    return b;
  }
  static BufferImpl* impl(const Buffer& b) { return b.impl_.get(); }
};

// The backend's storage behind `b` (nullptr for an empty Buffer); T is that backend's type.
template <class T>
T* impl_as(const Buffer& b) {
  return static_cast<T*>(BufferAccess::impl(b));
}

// Throws xk::Error(op, arg, "device 'NAME' was destroyed before this <what>") when the
// device that allocated `b` is gone; an empty buffer passes (callers check emptiness).
void check_device_alive(const char* op, const char* arg, const Buffer& b, const char* what = "buffer");
inline void check_device_alive(const char* op, const char* arg, const Tensor& t) {
  check_device_alive(op, arg, t.buf, "tensor");
}

}  // namespace xk
