// The strict rules of the simulator (engine.h "The strict rules"): alignment, global bounds,
// asynchronous copies held until their wait, and the cross-warp race log of cp.async and
// ldmatrix accesses per barrier interval.
#include <cstdio>
#include <cstring>
#include <atomic>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "backends/sim/engine_state.h"
#include "xk/error.h"

namespace xk::sim {

bool strict_shuffles() { return g_rules.strict; }
Accumulation accumulation() { return g_rules.accum; }

namespace {

std::string hex(uintptr_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%zx", size_t(v));
  return buf;
}

// "shared byte 1040" for dynamic shared memory, the raw address otherwise (static arrays).
std::string smem_where(const BlockState& b, const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(b.dyn_smem);
  if (a >= base && a < base + b.cfg->dyn_smem_bytes) return "dynamic shared byte " + std::to_string(a - base);
  return "shared address " + hex(a);
}

[[noreturn]] void fail_for(const ThreadState& t, const std::string& what) {
  throw Error("sim", where(t) + ": " + what);
}

std::shared_mutex g_alloc_mutex;
std::map<uintptr_t, size_t> g_allocs;  // base -> bytes
std::atomic<uint64_t> g_alloc_generation{0};
constexpr uintptr_t kNear = 256;  // SimBuffer's guard width

}  // namespace

void check_aligned(const void* p, size_t align, const char* what) {
  if (align > 1 && reinterpret_cast<uintptr_t>(p) % align != 0)
    fail(std::string("misaligned ") + what + ": address " + hex(reinterpret_cast<uintptr_t>(p)) +
         " is not a multiple of " + std::to_string(align) + " bytes (a misaligned-address fault on the GPU)");
}

void register_allocation(const void* base, size_t bytes) {
  std::unique_lock<std::shared_mutex> g(g_alloc_mutex);
  g_allocs[reinterpret_cast<uintptr_t>(base)] = bytes;
  ++g_alloc_generation;
}
void unregister_allocation(const void* base) {
  std::unique_lock<std::shared_mutex> g(g_alloc_mutex);
  g_allocs.erase(reinterpret_cast<uintptr_t>(base));
  ++g_alloc_generation;
}

uint64_t allocation_generation() { return g_alloc_generation.load(); }

void copy_allocations(std::vector<std::pair<uintptr_t, size_t>>& out) {
  std::shared_lock<std::shared_mutex> g(g_alloc_mutex);
  out.assign(g_allocs.begin(), g_allocs.end());
}

std::string global_oob(uintptr_t a, size_t bytes, const std::pair<uintptr_t, size_t>* below,
                       const std::pair<uintptr_t, size_t>* above) {
  // The allocation whose guard the access touches: the one at or below it, else the next.
  const std::pair<uintptr_t, size_t>* near = nullptr;
  if (above && above->first - a <= kNear) near = above;
  if (below && a < below->first + below->second + kNear) near = below;
  if (!near) return "";
  const uintptr_t base = near->first, size = near->second;
  if (a >= base && a + bytes <= base + size) return "";
  const long long off = static_cast<long long>(a) - static_cast<long long>(base);
  return "of " + std::to_string(bytes) + " bytes at offset " + std::to_string(off) + " of a buffer of " +
         std::to_string(size) + " bytes";
}

void check_global(const void* p, size_t bytes, bool write, const char* what) {
  if (bytes == 0) return;
  const auto a = reinterpret_cast<uintptr_t>(p);
  std::shared_lock<std::shared_mutex> g(g_alloc_mutex);
  if (g_allocs.empty()) return;
  // The allocation at or below the access, and the one above it (an underrun).
  auto it = g_allocs.upper_bound(a);
  std::pair<uintptr_t, size_t> above, below;
  const bool has_above = it != g_allocs.end(), has_below = it != g_allocs.begin();
  if (has_above) above = *it;
  if (has_below) below = *std::prev(it);
  const std::string oob = global_oob(a, bytes, has_below ? &below : nullptr, has_above ? &above : nullptr);
  if (!oob.empty())
    fail(std::string("out-of-bounds ") + what + " (" + (write ? "write" : "read") + ") " + oob);
}

void async_copy(void* smem_dst, const void* gmem_src, int bytes, int src_bytes) {
  ThreadState& t = *t_thread;
  BlockState& b = *t.block;
  if (bytes != 4 && bytes != 8 && bytes != 16)
    fail("cp.async cp-size must be 4, 8 or 16, got " + std::to_string(bytes));
  if (src_bytes < 0 || src_bytes > bytes)
    fail("cp.async src-size " + std::to_string(src_bytes) + " out of 0.." + std::to_string(bytes));
  // PTX ISA cp.async: both addresses aligned to cp-size.
  check_aligned(smem_dst, size_t(bytes), "cp.async shared destination");
  check_aligned(gmem_src, size_t(bytes), "cp.async global source");
  check_global(gmem_src, size_t(src_bytes), false, "cp.async source");
  const uintptr_t key = reinterpret_cast<uintptr_t>(smem_dst) / 16;
  Granule& gr = b.granules[key];
  if (gr.pending_by && gr.pending_by != t.linear + 1)
    fail_for(t, "cp.async to " + smem_where(b, smem_dst) + " while thread " +
                    dim_str(b.threads[gr.pending_by - 1].tid) +
                    "'s cp.async to it is still in flight (write/write race)");
  const uint64_t epoch = b.barrier_epoch + 1;
  if (gr.read == epoch && (gr.reader_warps & ~(1ull << (t.warp % 64))))
    fail_for(
        t,
        "cp.async overwrites " + smem_where(b, smem_dst) +
            ", which another warp read since the last __syncthreads (read/write race: a barrier is missing "
            "before this stage is refilled)");
  PendingCopy pc{static_cast<char*>(smem_dst), t.open_group, uint8_t(bytes), false, {}};
  if (src_bytes) std::memcpy(pc.data, gmem_src, size_t(src_bytes));
  std::memset(smem_dst, 0xFF, size_t(bytes));  // poison until the copy lands
  if (g_rules.racecheck) racecheck_async_issued(b, t, smem_dst, size_t(bytes));
  t.pending.push_back(pc);
  gr.pending_by = t.linear + 1;
  ++gr.pending;
  b.counters.global_bytes_read += uint64_t(src_bytes);
  b.counters.shared_bytes += uint64_t(bytes);
}

void async_commit() { ++t_thread->open_group; }

void async_wait(int keep_groups) {
  ThreadState& t = *t_thread;
  BlockState& b = *t.block;
  // Groups with id < open_group - keep are retired; uncommitted copies are never waited on.
  const uint64_t limit = t.open_group >= uint64_t(keep_groups) ? t.open_group - uint64_t(keep_groups) : 0;
  size_t kept = 0;
  for (auto& p : t.pending) {
    if (p.group >= limit) {
      t.pending[kept++] = p;
      continue;
    }
    land(p);
    Granule& gr = b.granules[reinterpret_cast<uintptr_t>(p.dst) / 16];
    if (--gr.pending == 0) gr.pending_by = 0;
    gr.written = b.barrier_epoch + 1;
    gr.writer_warp = t.warp;
    if (g_rules.racecheck) racecheck_async_retired(b, t, p.dst, p.bytes);
  }
  t.pending.resize(kept);
}

void static_shared(void* p, size_t bytes) {
  BlockState& b = *t_thread->block;
  for (const void* q : b.static_arrays)
    if (q == p) return;
  b.static_arrays.push_back(p);
  b.shared_regions.emplace_back(static_cast<unsigned char*>(p), bytes);
  std::memset(p, 0xFF, bytes);
  racecheck_region_added(b, static_cast<unsigned char*>(p), bytes);
}

void shared_read(const void* p, size_t bytes, unsigned lane) {
  ThreadState& caller = *t_thread;
  BlockState& b = *caller.block;
  const ThreadState& reader = b.threads[caller.warp * 32 + lane];
  const uint64_t epoch = b.barrier_epoch + 1;
  const auto a = reinterpret_cast<uintptr_t>(p);
  for (uintptr_t key = a / 16; key <= (a + bytes - 1) / 16; ++key) {
    Granule& gr = b.granules[key];
    if (gr.pending_by)
      fail_for(reader, "reads " + smem_where(b, p) + " before the cp.async of thread " +
                           dim_str(b.threads[gr.pending_by - 1].tid) +
                           " to it was retired by cp.async.wait_group (missing or too weak wait)");
    if (gr.written == epoch && gr.writer_warp != reader.warp)
      fail_for(reader, "reads " + smem_where(b, p) + ", written by warp " + std::to_string(gr.writer_warp) +
                           " with no __syncthreads in between (read-after-write race)");
    if (gr.read != epoch) {
      gr.read = epoch;
      gr.reader_warps = 0;
    }
    gr.reader_warps |= 1ull << (reader.warp % 64);
  }
  if (g_rules.racecheck) racecheck_collective_read(b, reader, p, bytes);
}

}  // namespace xk::sim
