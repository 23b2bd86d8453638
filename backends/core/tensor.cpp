#include <cmath>
#include <map>
#include <cstring>
#include <sstream>

#include "backends/core/buffer_impl.h"
#include "backends/core/variant_row.h"
#include "backends/core/checked.h"
#include "xk/device.h"
#include "xk/variant.h"

namespace xk {

// A weight tensor's repacked copies, by layout key.
struct PackedCopies {
  std::map<std::string, Buffer> by_key;
};

const Buffer& packed(
    const Tensor& w, const std::string& key,
    const std::function<std::vector<uint8_t>(const std::vector<uint8_t>& canonical)>& repack) {
  if (!w.packed) w.packed = std::make_shared<PackedCopies>();
  auto it = w.packed->by_key.find(key);
  if (it != w.packed->by_key.end()) return it->second;
  Device& dev = *w.device();
  std::vector<uint8_t> canonical(w.bytes());
  dev.read(w.buf, 0, canonical.data(), canonical.size());
  const std::vector<uint8_t> bytes = repack(canonical);
  Buffer b = dev.alloc(bytes.size());
  dev.write(b, 0, bytes.data(), bytes.size());
  return w.packed->by_key.emplace(key, std::move(b)).first->second;
}

// ---- buffers and their device ------------------------------------------------------------

Buffer::Buffer() noexcept = default;
Buffer::~Buffer() = default;
Buffer::Buffer(Buffer&&) noexcept = default;
Buffer& Buffer::operator=(Buffer&&) noexcept = default;
size_t Buffer::size() const { return impl_ ? impl_->bytes : 0; }

namespace {
std::string destroyed(const BufferImpl& b, const char* what) {
  return "device '" + b.owner_name + "' was destroyed before this " + what;
}
}  // namespace

Device* Buffer::device() const {
  if (!impl_) return nullptr;
  if (!*impl_->owner) throw Error("buffer", "device", destroyed(*impl_, "buffer"));
  return *impl_->owner;
}

Device* Tensor::device() const {
  check_device_alive("tensor", "device", buf, "tensor");
  return buf.device();
}

void check_device_alive(const char* op, const char* arg, const Buffer& b, const char* what) {
  const BufferImpl* impl = BufferAccess::impl(b);
  if (impl && !*impl->owner) throw Error(op, arg, destroyed(*impl, what));
}

Buffer Device::alloc(size_t bytes) {
  std::unique_ptr<BufferImpl> impl = allocate(bytes);
  impl->owner = token_;
  impl->owner_name = info().name;
  return BufferAccess::wrap(std::move(impl));
}

void Device::check_own(const char* op, const char* arg, const Buffer& b, size_t offset, size_t bytes) const {
  if (!b.valid()) throw Error(op, arg, "has no buffer");
  check_device_alive(op, arg, b);
  const Device* owner = b.device();
  if (owner != this)
    throw Error(op, arg,
                "buffer belongs to another device (" + owner->info().name + "), not this " + info().name);
  if (offset > b.size() || bytes > b.size() - offset)
    throw Error(op, arg,
                "range [" + std::to_string(offset) + ", " + std::to_string(offset) + " + " +
                    std::to_string(bytes) + ") is outside the buffer of " + std::to_string(b.size()) +
                    " bytes");
}

void Device::write(Buffer& dst, size_t offset, const void* src, size_t bytes) {
  check_own("write", "dst", dst, offset, bytes);
  if (bytes && !src) throw Error("write", "src", "null pointer for a non-empty copy");
  write_bytes(dst, offset, src, bytes);
}

void Device::read(const Buffer& src, size_t offset, void* dst, size_t bytes) {
  check_own("read", "src", src, offset, bytes);
  if (bytes && !dst) throw Error("read", "dst", "null pointer for a non-empty copy");
  read_bytes(src, offset, dst, bytes);
}

LaunchRecord Device::last_launch() const {
  std::lock_guard<std::mutex> lock(last_mutex_);
  return last_;
}

bool DeviceInfo::has(const std::string& f) const {
  for (const auto& x : features)
    if (x == f) return true;
  return false;
}

bool Variant::handles(DType f) const {
  for (DType x : formats)
    if (x == f) return true;
  return false;
}
bool Variant::handles(ActPrecision a) const {
  for (ActPrecision x : acts)
    if (x == a) return true;
  return false;
}

const char* name(Op op) { return op == Op::Matmul ? "matmul" : "attention"; }

// The public shape field can be edited after creation, so these re-check it every time.
int64_t Tensor::numel() const { return checked::numel(shape, "tensor", "shape"); }

size_t Tensor::bytes() const { return checked::tensor_bytes(dtype, shape, "tensor", "shape"); }

std::string Tensor::shape_str() const {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

namespace {
void check_shape(const char* op, DType dtype, const std::vector<int64_t>& shape) {
  if (shape.empty()) throw Error(op, "shape", "must have at least one dimension");
  for (int64_t d : shape)
    if (d < 0)
      throw Error(op, "shape", "negative dimension in " + Tensor{dtype, shape, {}, 1.0f, {}}.shape_str());
  const auto& tr = traits(dtype);
  if (shape.back() % tr.block_elems != 0)
    throw Error(op, "shape",
                "last dimension " + std::to_string(shape.back()) + " is not a multiple of the " + tr.name +
                    " block size " + std::to_string(tr.block_elems));
  checked::tensor_bytes(dtype, shape, op, "shape");
}

// A tensor's shape against the buffer behind it (the shape is a public field).
size_t checked_tensor_bytes(const char* op, const Tensor& t) {
  const size_t need = checked::tensor_bytes(t.dtype, t.shape, op, "tensor");
  if (t.buf.size() < need)
    throw Error(op, "tensor",
                "shape " + t.shape_str() + " needs " + std::to_string(need) + " bytes in " + name(t.dtype) +
                    ", its buffer holds " + std::to_string(t.buf.size()));
  return need;
}
}  // namespace

Tensor make_tensor(Device& dev, DType dtype, std::vector<int64_t> shape) try {
  check_shape("make_tensor", dtype, shape);
  Tensor t{dtype, std::move(shape), {}, 1.0f, {}};
  t.buf = dev.alloc(t.bytes());
  checked_tensor_bytes("make_tensor", t);  // a backend must not hand back less than asked
  return t;
} catch (...) {
  checked::rethrow_as_error("make_tensor");
}

Tensor upload(Device& dev, DType dtype, std::vector<int64_t> shape, const void* data) try {
  check_shape("upload", dtype, shape);
  Tensor t{dtype, std::move(shape), {}, 1.0f, {}};
  if (t.bytes() && !data) throw Error("upload", "data", "null pointer for a non-empty tensor");
  t.buf = dev.alloc(t.bytes());
  checked_tensor_bytes("upload", t);
  if (t.bytes()) dev.write(t.buf, 0, data, t.bytes());
  return t;
} catch (...) {
  checked::rethrow_as_error("upload");
}

Tensor upload_weights(Device& dev, DType dtype, int64_t n, int64_t k, const void* data,
                      float tensor_scale) try {
  if (!(tensor_scale > 0.0f) || !std::isfinite(tensor_scale))
    throw Error("upload_weights", "tensor_scale",
                "must be finite and > 0, got " + std::to_string(tensor_scale));
  if (dtype != DType::NVFP4 && tensor_scale != 1.0f)
    throw Error("upload_weights", "tensor_scale",
                std::string("only NVFP4 carries a per-tensor scale, format is ") + name(dtype));
  Tensor t = upload(dev, dtype, {n, k}, data);
  t.tensor_scale = tensor_scale;
  DeviceAccess::prepare_weights(dev, t);
  return t;
} catch (...) {
  checked::rethrow_as_error("upload_weights");
}

void download(const Tensor& t, void* dst, size_t dst_bytes) try {
  if (!t.buf.valid()) throw Error("download", "tensor", "has no buffer");
  check_device_alive("download", "tensor", t);
  const size_t bytes = checked_tensor_bytes("download", t);
  if (dst_bytes < bytes)
    throw Error("download", "dst_bytes",
                std::to_string(dst_bytes) + " bytes is smaller than the tensor's " + std::to_string(bytes));
  if (bytes && !dst) throw Error("download", "dst", "null pointer for a non-empty tensor");
  if (bytes) t.device()->read(t.buf, 0, dst, bytes);
} catch (...) {
  checked::rethrow_as_error("download");
}

std::vector<float> download_f32(const Tensor& t) try {
  if (t.dtype != DType::F32)
    throw Error("download_f32", "tensor", std::string("dtype is ") + name(t.dtype) + ", expected f32");
  if (!t.buf.valid()) throw Error("download_f32", "tensor", "has no buffer");
  check_device_alive("download_f32", "tensor", t);
  checked_tensor_bytes("download_f32", t);  // before sizing the host vector from the shape
  std::vector<float> out(static_cast<size_t>(t.numel()));
  download(t, out.data(), out.size() * sizeof(float));
  return out;
} catch (...) {
  checked::rethrow_as_error("download_f32");
}

}  // namespace xk
