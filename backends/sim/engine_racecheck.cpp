// XK_SIM_RACECHECK: shared-memory races between barriers (compute-sanitizer's racecheck is the
// model). Two implementations, chosen at build time:
//
//  - access hooks (XK_SIM_ACCESS_HOOKS, the normal build): the translation units holding kernel
//    sources are compiled with g++'s -fsanitize=thread, so every plain load and store calls
//    __tsan_{read,write}{1,2,4,8,16} or __tsan_{read,write}_range, which this file defines (no
//    sanitizer runtime is linked). ThreadSanitizer's instrumentation, unlike AddressSanitizer's
//    (checked with g++ 12 -S), also instruments constant-offset accesses of thread_local
//    variables, which is what a static __shared__ array is in the simulator (simt_dialect.h).
//    An access that falls in the running block's shared memory is logged per byte: the last
//    write and the recent reads of the current barrier interval. A read of a byte another thread
//    wrote, or a write of a byte another thread read or wrote, in the same interval is a race
//    unless the two threads are in one warp and a warp collective (__syncwarp, shuffle, vote,
//    mma, ...) completed in between. A cp.async destination is in flight until the issuing
//    thread's wait retires it: any access before is reported, the retirement is a write;
//  - snapshots (sanitizer builds, where -fsanitize=address and thread cannot be mixed): the
//    shared memory a thread changes between two meeting points are its writes; only write/write
//    races of a changed value are seen.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/sim/engine_state.h"
#include "xk/error.h"

namespace xk::sim {

namespace {

std::string thread_str(const ThreadState& t) {
  return dim_str(t.tid) + " (warp " + std::to_string(t.warp) + ", lane " + std::to_string(t.lane) + ")";
}

// What orders two accesses of different threads in one barrier interval: only a warp collective
// of their common warp; across warps nothing but the next __syncthreads.
std::string missing_order(const ThreadState& a, const ThreadState& b) {
  return a.warp == b.warp ? "__syncwarp or shuffle" : "__syncthreads";
}

// "static shared byte 40 (address 0x7f..)": the offset in the part of the block's shared memory
// that holds it (the static section, the dynamic buffer, or a template's array).
std::string shared_byte(const BlockState& b, uintptr_t a) {
  char addr[32];
  std::snprintf(addr, sizeof addr, " (address 0x%zx)", size_t(a));
  for (size_t i = 0; i < b.shared_regions.size(); ++i) {
    const auto lo = reinterpret_cast<uintptr_t>(b.shared_regions[i].first);
    if (a < lo || a >= lo + b.shared_regions[i].second) continue;
    const std::string offset = std::to_string(a - lo);
    if (i == 0) return "static shared byte " + offset + addr;
    if (i == 1) return "dynamic shared byte " + offset + addr;
    return "shared byte " + offset + " of a template's __shared__ array" + addr;
  }
  return std::string("shared memory") + addr;
}

void report(BlockState& b, const std::string& what) {
  if (!b.error) b.error = std::make_exception_ptr(Error("sim", what));
}

}  // namespace
}  // namespace xk::sim

#ifdef XK_SIM_ACCESS_HOOKS

namespace xk::sim {
namespace {

// The log of one byte of shared memory. Intervals are numbered per worker and never reused, so
// logs from earlier blocks and launches never match the current one and are never cleared.
// Warp generations are the low 16 bits of the warp's completed collectives (only compared for
// equality: "no collective since"). Threads are 1 + linear index, 0 = none.
struct ByteLog {
  uint32_t w_interval;  // interval of the last write
  uint32_t r_interval;  // interval of the reads below
  uint32_t r_warps;     // warps that read it in r_interval (bit w; at most 32 warps of 32)
  uint16_t w_thread, w_gen;
  uint16_t r_thread[2], r_gen[2];  // the latest reader and the latest other reader, with generations
};
static_assert(sizeof(ByteLog) == 24, "one log entry per shared-memory byte: keep it small");

// One region of shared memory and its log (calloc'd: untouched pages stay unmapped; the static
// section holds every kernel's arrays, about 1 MiB).
struct Region {
  uintptr_t lo, hi;
  ByteLog* log;
};

// What every access consults, as plain thread_locals (no TLS initialisation call per access):
// the block being logged on this worker (null when off), its regions, the current interval.
struct Hot {
  BlockState* block;
  const Region* begin;
  const Region* end;
  uint32_t interval;
  uint32_t block_start;  // the block's first interval: older in-flight marks are stale
};
thread_local Hot t_hot;

// The logs of one worker, kept across blocks and launches (keyed by region start).
struct Logs {
  std::vector<Region> regions;  // of the current block
  struct Free {
    void operator()(ByteLog* p) const { std::free(p); }
  };
  std::unordered_map<uintptr_t, std::pair<size_t, std::unique_ptr<ByteLog, Free>>> by_start;

  ByteLog* log_for(uintptr_t lo, size_t bytes) {
    auto& slot = by_start[lo];
    if (slot.first < bytes) {
      slot.second.reset(static_cast<ByteLog*>(std::calloc(bytes, sizeof(ByteLog))));
      if (!slot.second)
        throw Error("sim", "cannot allocate the race log of " + std::to_string(bytes) + " bytes");
      slot.first = bytes;
    }
    return slot.second.get();
  }
  void add(unsigned char* p, size_t bytes) {
    if (bytes == 0) return;
    const auto lo = reinterpret_cast<uintptr_t>(p);
    regions.push_back({lo, lo + bytes, log_for(lo, bytes)});
    t_hot.begin = regions.data();
    t_hot.end = regions.data() + regions.size();
  }
};
thread_local Logs t_logs;

inline uint16_t gen16(const BlockState& b, unsigned warp) { return uint16_t(b.warps[warp].completed); }

// A prior access of thread `other` (1 + linear) at generation `gen` is unordered with the
// current thread's access: another warp, or the same warp with no collective completed since.
inline bool unordered(const BlockState& b, const ThreadState& t, uint16_t other, uint16_t gen) {
  if (other == 0 || other == t.linear + 1) return false;
  const ThreadState& o = b.threads[other - 1u];
  return o.warp != t.warp || gen16(b, t.warp) == gen;
}

// How a byte is accessed. A cp.async writes its destination from issue until the wait that
// retires it: the byte is "in flight" (kInFlight on its writer) and any other access of it is a
// race; the retirement is the write the other threads must then be ordered with.
enum class Access : uint8_t { Read, Write, LaneRead, CopyIssue, CopyRetire };
constexpr uint16_t kInFlight = 0x8000;  // on ByteLog::w_thread (threads need 11 bits)

const char* verb(Access k) {
  switch (k) {
    case Access::Read:
      return "reads ";
    case Access::LaneRead:
      return "reads (ldmatrix) ";
    case Access::CopyIssue:
      return "cp.async writes ";
    default:
      return "writes ";
  }
}

void race(BlockState& b, const ThreadState& t, uintptr_t a, Access k, bool other_wrote, uint16_t other) {
  const ThreadState& o = b.threads[other - 1u];
  const bool write = k != Access::Read && k != Access::LaneRead;
  const char* kind = write && other_wrote ? "write/write race" : "read/write race";
  report(b, where(t) + ": " + verb(k) + shared_byte(b, a) + ", which thread " + thread_str(o) +
                (other_wrote ? " wrote" : " read") + " in the same barrier interval with no " +
                missing_order(t, o) + " between them (" + kind + ")");
}

// A read of another warp's thread that is no longer in the two reader slots.
void race_with_warp(BlockState& b, const ThreadState& t, uintptr_t a, Access k, unsigned warp) {
  report(b, where(t) + ": " + verb(k) + shared_byte(b, a) + ", which a thread of warp " +
                std::to_string(warp) +
                " read in the same barrier interval with no __syncthreads between them (read/write race)");
}

void in_flight(BlockState& b, const ThreadState& t, uintptr_t a, Access k, uint16_t issuer) {
  const std::string copy = "the cp.async of thread " + thread_str(b.threads[issuer - 1u]) + " to it";
  if (k == Access::Read || k == Access::LaneRead)
    return report(b, where(t) + ": " + verb(k) + shared_byte(b, a) + " before " + copy +
                         " was retired by cp.async.wait_group (missing or too weak wait)");
  report(b, where(t) + ": " + verb(k) + shared_byte(b, a) + " while " + copy +
                " is in flight (write/write race)");
}

// Logs an access of bytes [a, a + n) of region r by thread t. A lane's read by a collective
// (ldmatrix) is ordered with its own warp's accesses by the collective itself.
void log_access(BlockState& b, const ThreadState& t, const Region& r, uintptr_t a, size_t n, Access k) {
  const uint32_t now = t_hot.interval;
  const uint16_t me = uint16_t(t.linear + 1), gen = gen16(b, t.warp);
  const uint32_t my_warp = 1u << t.warp;
  const bool write = k != Access::Read && k != Access::LaneRead;
  const uintptr_t lo = a < r.lo ? r.lo : a, hi = a + n > r.hi ? r.hi : a + n;
  for (uintptr_t p = lo; p < hi; ++p) {
    ByteLog& e = r.log[p - r.lo];
    const uint16_t writer = e.w_thread & ~kInFlight;
    if ((e.w_thread & kInFlight) && e.w_interval >= t_hot.block_start) {
      if (k == Access::CopyRetire || (k == Access::CopyIssue && writer == me)) {
        // the thread's own copy: retired now, or refilled before its wait
      } else {
        return in_flight(b, t, p, k, writer);
      }
    } else if (e.w_interval == now && unordered(b, t, writer, e.w_gen) &&
               !(k == Access::LaneRead && b.threads[writer - 1u].warp == t.warp)) {
      return race(b, t, p, k, true, writer);
    }
    if (write) {
      if (e.r_interval == now && k != Access::CopyRetire) {
        for (int s = 0; s < 2; ++s)
          if (unordered(b, t, e.r_thread[s], e.r_gen[s])) return race(b, t, p, k, false, e.r_thread[s]);
        if (const uint32_t others = e.r_warps & ~my_warp)
          return race_with_warp(b, t, p, k, unsigned(__builtin_ctz(others)));
      }
      e.w_interval = now;
      e.w_thread = k == Access::CopyIssue ? uint16_t(me | kInFlight) : me;
      e.w_gen = gen;
      continue;
    }
    if (e.r_interval != now) {
      e.r_interval = now;
      e.r_warps = 0;
      e.r_thread[0] = e.r_thread[1] = 0;
    }
    e.r_warps |= my_warp;
    if (e.r_thread[0] != me) {
      e.r_thread[1] = e.r_thread[0];
      e.r_gen[1] = e.r_gen[0];
      e.r_thread[0] = me;
    }
    // A collective's read is logged before its warp's generation advances, so the warp's
    // accesses after the collective are ordered with it.
    e.r_gen[0] = gen;
  }
}

// Plain global loads and stores are checked against the simulator's allocations like the
// counted ones (engine_rules.cpp check_global), from a copy of the table taken per block (it
// changes only between launches) and a [lo, hi) range that skips stack and engine accesses.
struct Globals {
  BlockState* block = nullptr;
  uint64_t generation = ~uint64_t(0);
  std::vector<std::pair<uintptr_t, size_t>> allocs;  // sorted by base
  uintptr_t lo = 0, hi = 0;
};
thread_local Globals t_globals;

void refresh_globals(BlockState& b) {
  Globals& g = t_globals;
  g.block = &b;
  const uint64_t now = allocation_generation();
  if (now == g.generation) return;
  g.generation = now;
  copy_allocations(g.allocs);
  g.lo = g.hi = 0;
  if (g.allocs.empty()) return;
  constexpr uintptr_t kGuard = 256;
  g.lo = g.allocs.front().first > kGuard ? g.allocs.front().first - kGuard : 0;
  for (const auto& [base, size] : g.allocs) g.hi = std::max(g.hi, base + size + kGuard);
}

void check_plain_global(uintptr_t a, size_t n, bool write) {
  const Globals& g = t_globals;
  const ThreadState* t = t_thread;
  if (!g.block || g.block->error || !t) return;
  auto it = std::upper_bound(g.allocs.begin(), g.allocs.end(), a,
                             [](uintptr_t v, const std::pair<uintptr_t, size_t>& e) { return v < e.first; });
  const auto* above = it != g.allocs.end() ? &*it : nullptr;
  const auto* below = it != g.allocs.begin() ? &*std::prev(it) : nullptr;
  const std::string oob = global_oob(a, n, below, above);
  if (!oob.empty())
    report(*g.block,
           where(*t) + ": out-of-bounds plain global " + (write ? "store (write) " : "load (read) ") + oob);
}

inline void on_access(uintptr_t a, size_t n, bool write) {
  if (a < t_globals.hi && a + n > t_globals.lo) check_plain_global(a, n, write);
  BlockState* b = t_hot.block;
  if (!b || b->error) return;
  const ThreadState* t = t_thread;
  if (!t) return;
  for (const Region* r = t_hot.begin; r != t_hot.end; ++r)
    if (a < r->hi && a + n > r->lo) log_access(*b, *t, *r, a, n, write ? Access::Write : Access::Read);
}

}  // namespace

const bool kRacecheckSeesReads = true;

void racecheck_block_begin(BlockState& b) {
  refresh_globals(b);
  t_hot = {nullptr, nullptr, nullptr, t_hot.interval, 0};  // intervals count on, never reused
  t_logs.regions.clear();
  if (!g_rules.racecheck) return;
  t_hot.block_start = ++t_hot.interval;
  for (size_t i = 0; i < b.shared_regions.size(); ++i)
    t_logs.add(b.shared_regions[i].first, b.shared_regions[i].second);
  t_hot.block = &b;
}

void racecheck_block_end() {
  t_hot.block = nullptr;
  t_globals.block = nullptr;
}

void racecheck_region_added(BlockState& b, unsigned char* p, size_t bytes) {
  if (t_hot.block == &b) t_logs.add(p, bytes);
}

void racecheck_barrier() { ++t_hot.interval; }

namespace {
void log_for_engine(BlockState& b, const ThreadState& t, const void* p, size_t bytes, Access k) {
  if (t_hot.block != &b || b.error) return;
  const auto a = reinterpret_cast<uintptr_t>(p);
  for (const Region* r = t_hot.begin; r != t_hot.end; ++r)
    if (a < r->hi && a + bytes > r->lo) log_access(b, t, *r, a, bytes, k);
}
}  // namespace

void racecheck_async_issued(BlockState& b, const ThreadState& t, const void* dst, size_t bytes) {
  log_for_engine(b, t, dst, bytes, Access::CopyIssue);
}

void racecheck_async_retired(BlockState& b, const ThreadState& t, const void* dst, size_t bytes) {
  log_for_engine(b, t, dst, bytes, Access::CopyRetire);
}

void racecheck_collective_read(BlockState& b, const ThreadState& reader, const void* p, size_t bytes) {
  log_for_engine(b, reader, p, bytes, Access::LaneRead);
}

void racecheck_before_run(BlockState&, const ThreadState&) {}
void racecheck_after_run(BlockState&, const ThreadState&) {}

}  // namespace xk::sim

// The instrumentation's entry points (GCC's ThreadSanitizer ABI). Plain accesses are logged;
// they are called from kernel code on fiber stacks and never throw (a race is recorded in the
// block and reported when the thread next yields). Atomics are performed, not logged: atomic
// accesses of different threads do not race.
extern "C" {
#define XK_SIM_HOOK(n)                                                                   \
  void __tsan_read##n(void* a) { xk::sim::on_access(uintptr_t(a), n, false); }           \
  void __tsan_write##n(void* a) { xk::sim::on_access(uintptr_t(a), n, true); }           \
  void __tsan_unaligned_read##n(void* a) { xk::sim::on_access(uintptr_t(a), n, false); } \
  void __tsan_unaligned_write##n(void* a) { xk::sim::on_access(uintptr_t(a), n, true); }
XK_SIM_HOOK(1)
XK_SIM_HOOK(2)
XK_SIM_HOOK(4)
XK_SIM_HOOK(8)
XK_SIM_HOOK(16)
#undef XK_SIM_HOOK
void __tsan_read_range(void* a, size_t n) { xk::sim::on_access(uintptr_t(a), n, false); }
void __tsan_write_range(void* a, size_t n) { xk::sim::on_access(uintptr_t(a), n, true); }
// Also emitted, with nothing for the simulator to do: the module constructor and the store of
// an object's vtable pointer.
void __tsan_init() {}
void __tsan_vptr_update(void**, void*) {}

// std::atomic / std::atomic_ref / __atomic builtins in instrumented code. The memory-order
// argument (ThreadSanitizer numbers them as __ATOMIC_*) is ignored: every operation is
// sequentially consistent, which is stronger than any order asked for.
#define XK_SIM_ATOMICS(bits, T)                                                                           \
  T __tsan_atomic##bits##_load(const volatile T* a, int) { return __atomic_load_n(a, __ATOMIC_SEQ_CST); } \
  void __tsan_atomic##bits##_store(volatile T* a, T v, int) { __atomic_store_n(a, v, __ATOMIC_SEQ_CST); } \
  T __tsan_atomic##bits##_exchange(volatile T* a, T v, int) {                                             \
    return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);                                                   \
  }                                                                                                       \
  T __tsan_atomic##bits##_fetch_add(volatile T* a, T v, int) {                                            \
    return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST);                                                    \
  }                                                                                                       \
  T __tsan_atomic##bits##_fetch_sub(volatile T* a, T v, int) {                                            \
    return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST);                                                    \
  }                                                                                                       \
  T __tsan_atomic##bits##_fetch_and(volatile T* a, T v, int) {                                            \
    return __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST);                                                    \
  }                                                                                                       \
  T __tsan_atomic##bits##_fetch_or(volatile T* a, T v, int) {                                             \
    return __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST);                                                     \
  }                                                                                                       \
  T __tsan_atomic##bits##_fetch_xor(volatile T* a, T v, int) {                                            \
    return __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST);                                                    \
  }                                                                                                       \
  T __tsan_atomic##bits##_fetch_nand(volatile T* a, T v, int) {                                           \
    return __atomic_fetch_nand(a, v, __ATOMIC_SEQ_CST);                                                   \
  }                                                                                                       \
  int __tsan_atomic##bits##_compare_exchange_strong(volatile T* a, T* expected, T v, int, int) {          \
    return __atomic_compare_exchange_n(a, expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);        \
  }                                                                                                       \
  int __tsan_atomic##bits##_compare_exchange_weak(volatile T* a, T* expected, T v, int, int) {            \
    return __atomic_compare_exchange_n(a, expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);        \
  }                                                                                                       \
  T __tsan_atomic##bits##_compare_exchange_val(volatile T* a, T expected, T v, int, int) {                \
    __atomic_compare_exchange_n(a, &expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);              \
    return expected;                                                                                      \
  }
XK_SIM_ATOMICS(8, uint8_t)
XK_SIM_ATOMICS(16, uint16_t)
XK_SIM_ATOMICS(32, uint32_t)
XK_SIM_ATOMICS(64, uint64_t)
#undef XK_SIM_ATOMICS
void __tsan_atomic_thread_fence(int) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
void __tsan_atomic_signal_fence(int) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
}

#else  // snapshots

namespace xk::sim {

const bool kRacecheckSeesReads = false;

void racecheck_block_begin(BlockState& b) { b.byte_writes.clear(); }
void racecheck_block_end() {}
void racecheck_region_added(BlockState&, unsigned char*, size_t) {}
void racecheck_barrier() {}
void racecheck_async_issued(BlockState&, const ThreadState&, const void*, size_t) {}
void racecheck_async_retired(BlockState&, const ThreadState&, const void*, size_t) {}
void racecheck_collective_read(BlockState&, const ThreadState&, const void*, size_t) {}

void racecheck_before_run(BlockState& b, const ThreadState& t) {
  // A collective this run completes orders only what follows it: its writes count as before.
  b.run_warp_gen = b.warps[t.warp].completed;
  size_t total = 0;
  for (const auto& r : b.shared_regions) total += r.second;
  b.snapshot.resize(total);
  size_t at = 0;
  for (const auto& r : b.shared_regions) {
    std::memcpy(b.snapshot.data() + at, r.first, r.second);
    at += r.second;
  }
}

void racecheck_after_run(BlockState& b, const ThreadState& t) {
  if (b.error) return;
  const uint64_t epoch = b.barrier_epoch + 1, gen = b.run_warp_gen;
  size_t at = 0;
  // Regions registered during this run (a template's arrays, poisoned at registration) were
  // not in the snapshot: they are compared from the next run on.
  for (const auto& r : b.shared_regions) {
    if (at + r.second > b.snapshot.size()) break;
    const unsigned char* before = b.snapshot.data() + at;
    at += r.second;
    if (std::memcmp(before, r.first, r.second) == 0) continue;
    for (size_t i = 0; i < r.second; ++i) {
      if (before[i] == r.first[i]) continue;
      ByteWrite& w = b.byte_writes[reinterpret_cast<uintptr_t>(r.first + i)];
      if (w.epoch == epoch && w.thread != t.linear + 1) {
        const ThreadState& other = b.threads[w.thread - 1];
        const bool ordered = other.warp == t.warp && b.warps[t.warp].completed != w.warp_gen;
        if (!ordered)
          return report(b, where(t) + ": writes " + shared_byte(b, uintptr_t(r.first + i)) +
                               ", which thread " + thread_str(other) +
                               " wrote in the same barrier interval with no " + missing_order(t, other) +
                               " between them (write/write race)");
      }
      w = {t.linear + 1, epoch, gen};
    }
  }
}

}  // namespace xk::sim

#endif
