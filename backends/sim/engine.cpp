// Fiber scheduler, block barrier, warp meeting points and the worker pool (engine.h).
#include "backends/sim/engine.h"

#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/context/fiber.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "backends/sim/engine_state.h"
#include "xk/error.h"

#if defined(__SANITIZE_ADDRESS__)
#define XK_SIM_ASAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XK_SIM_ASAN_FIBERS 1
#endif
#endif
#ifdef XK_SIM_ASAN_FIBERS
#include <sanitizer/common_interface_defs.h>
#endif

namespace xk::sim {

namespace ctx = boost::context;

// Under AddressSanitizer every switch between the scheduler's stack and a fiber's is
// announced (start before the jump, finish on arrival), so that ASan knows which stack is
// live: exceptions thrown on fiber stacks and the reuse of pooled stacks otherwise produce
// false reports. No-ops in other builds.
namespace asan {
inline void start_switch([[maybe_unused]] void** fake_stack, [[maybe_unused]] const void* bottom,
                         [[maybe_unused]] size_t size) {
#ifdef XK_SIM_ASAN_FIBERS
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#endif
}
inline void finish_switch([[maybe_unused]] void* fake_stack, [[maybe_unused]] const void** bottom_old,
                          [[maybe_unused]] size_t* size_old) {
#ifdef XK_SIM_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(fake_stack, bottom_old, size_old);
#endif
}
}  // namespace asan

void Counters::add(const Counters& o) {
  for (const auto& [k, v] : o.mma_by_kind) mma_by_kind[k] += v;
  global_bytes_read += o.global_bytes_read;
  global_bytes_written += o.global_bytes_written;
  shared_bytes += o.shared_bytes;
  barriers += o.barriers;
}

namespace {

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return static_cast<size_t>(std::strtoull(v, nullptr, 10));
}

// Fiber stacks of one worker: slots of (guard page | stack), mapped once and reused by
// every block the worker runs, so a launch costs no mmap per thread.
class StackPool {
 public:
  StackPool() : page_(static_cast<size_t>(sysconf(_SC_PAGESIZE))) {
    stack_bytes_ = std::max<size_t>(env_size("XK_SIM_STACK_KB", 64), 16) * 1024;
    stack_bytes_ = (stack_bytes_ + page_ - 1) / page_ * page_;
  }
  ~StackPool() {
    for (auto& r : regions_) munmap(r.first, r.second);
  }
  // The stack of slot i (grows the pool on demand).
  ctx::stack_context slot(size_t i) {
    while (i >= slots_.size()) grow();
    return slots_[i];
  }

 private:
  void grow() {
    const size_t n = 64, slot_bytes = page_ + stack_bytes_;
    void* base = mmap(nullptr, n * slot_bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) throw Error("cuda-sim", "cannot map fiber stacks");
    regions_.emplace_back(base, n * slot_bytes);
    for (size_t s = 0; s < n; ++s) {
      char* lo = static_cast<char*>(base) + s * slot_bytes;
      mprotect(lo, page_, PROT_NONE);  // guard page below the stack: overflow faults
      ctx::stack_context sc;
      sc.size = stack_bytes_;
      sc.sp = lo + slot_bytes;  // stacks grow down
      slots_.push_back(sc);
    }
  }
  size_t page_, stack_bytes_;
  std::vector<ctx::stack_context> slots_;
  std::vector<std::pair<void*, size_t>> regions_;
};

// Hands a pooled stack to boost::context::fiber (StackAllocator concept).
struct PooledStack {
  ctx::stack_context sc;
  ctx::stack_context allocate() { return sc; }
  void deallocate(ctx::stack_context&) noexcept {}
};

std::string collective_name(uint32_t kind) {
  static const char* names[] = {"?",        "__syncwarp", "a shuffle", "a vote",
                                "mma.sync", "ldmatrix",   "WMMA",      "__reduce_*_sync"};
  const uint32_t tag = kind >> 24;
  return std::string(tag < 8 ? names[tag] : "?") + " (code 0x" + [&] {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", kind);
    return std::string(buf);
  }() + ")";
}

}  // namespace

Rules g_rules;

std::string dim_str(const Dim3& d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

std::string where(const ThreadState& t) {
  return "kernel '" + t.block->cfg->kernel + "' block " + dim_str(t.block->idx) + " thread " +
         dim_str(t.tid) + " (warp " + std::to_string(t.warp) + ", lane " + std::to_string(t.lane) + ")";
}

void land(PendingCopy& p) {
  if (p.landed) return;
  p.landed = true;
  std::memcpy(p.dst, p.data, p.bytes);
}

thread_local ThreadState* t_thread = nullptr;

namespace {

// Under a schedule seed, a committed cp.async group may complete at any meeting point
// before its wait: land the oldest one with probability 1/4.
void maybe_land_early(ThreadState& t) {
  if (!t.block->shuffled || t.pending.empty() || t.pending.front().group >= t.open_group) return;
  if (t.block->rng() % 4 != 0) return;
  const uint64_t g = t.pending.front().group;
  for (auto& p : t.pending)
    if (p.group == g) land(p);
}

void yield_to_scheduler() {
  ThreadState* t = t_thread;
  maybe_land_early(*t);
  void* fake_stack = nullptr;
  asan::start_switch(&fake_stack, t->block->scheduler_stack_bottom, t->block->scheduler_stack_size);
  // Also when resume() throws forced_unwind (the fiber is being destroyed): we are back here.
  struct Arrived {
    void*& fake_stack;
    ~Arrived() { asan::finish_switch(fake_stack, nullptr, nullptr); }
  } arrived{fake_stack};
  t->sink = std::move(t->sink).resume();
}

void wake(BlockState& b, ThreadState* t) {
  t->wait = Wait::Ready;
  b.ready.push_back(t);
}

// Describes every thread not yet finished, for deadlock reports.
std::string waiting_summary(const BlockState& b) {
  std::string s;
  int shown = 0;
  for (const auto& t : b.threads) {
    if (t.wait == Wait::Exited || t.wait == Wait::Ready) continue;
    if (shown++ == 6) {
      s += "; ...";
      break;
    }
    s += std::string(shown > 1 ? "; " : "") + "thread " + dim_str(t.tid) +
         (t.wait == Wait::Barrier ? " waits at __syncthreads" : " waits at a warp collective");
  }
  return s;
}

void run_block(BlockState& b, StackPool& stacks, const std::function<void()>& body) {
  const Dim3 bd = b.cfg->block;
  const unsigned n = bd.x * bd.y * bd.z;
  b.threads.clear();
  b.threads.resize(n);  // no reallocation after this: fibers and the ready queue hold pointers
  b.warps.assign((n + 31) / 32, WarpMeeting{});
  for (unsigned i = 0; i < n; ++i) b.warps[i / 32].present |= 1u << (i % 32);
  b.ready.clear();
  b.live = n;
  b.at_barrier = 0;
  for (unsigned i = 0; i < n; ++i) {
    ThreadState& t = b.threads[i];
    t.tid = {i % bd.x, (i / bd.x) % bd.y, i / (bd.x * bd.y)};
    t.linear = i;
    t.lane = i % 32;
    t.warp = i / 32;
    t.block = &b;
    const ctx::stack_context sc = stacks.slot(i);
    t.stack_bottom = static_cast<const char*>(sc.sp) - sc.size;
    t.stack_size = sc.size;
    t.entered = false;
    t.fiber = ctx::fiber(std::allocator_arg, PooledStack{sc}, [&t, &body](ctx::fiber&& sink) {
      BlockState& blk = *t.block;
      asan::finish_switch(nullptr, &blk.scheduler_stack_bottom, &blk.scheduler_stack_size);
      t.entered = true;
      t.sink = std::move(sink);
      try {
        body();
      } catch (const ctx::detail::forced_unwind&) {
        asan::start_switch(nullptr, blk.scheduler_stack_bottom, blk.scheduler_stack_size);
        throw;  // the fiber is being destroyed: let Boost unwind it (this stack ends)
      } catch (...) {
        if (!t.block->error) t.block->error = std::current_exception();
      }
      t.wait = Wait::Exited;
      asan::start_switch(nullptr, blk.scheduler_stack_bottom, blk.scheduler_stack_size);  // this stack ends
      return std::move(t.sink);
    });
    b.ready.push_back(&t);
  }

  while (b.live > 0 && !b.error) {
    if (b.ready.empty()) {
      if (b.at_barrier == b.live && b.live == n) {
        for (auto& t : b.threads) wake(b, &t);  // every thread reached the barrier
        b.at_barrier = 0;
        ++b.barrier_epoch;
        ++b.counters.barriers;
        if (g_rules.racecheck) racecheck_barrier();
        continue;
      }
      // Nobody can run: find the culprit for the message.
      const ThreadState* exited = nullptr;
      for (const auto& t : b.threads)
        if (t.wait == Wait::Exited) {
          exited = &t;
          break;
        }
      std::string msg = "deadlock: ";
      if (exited && b.at_barrier > 0)
        msg += "__syncthreads #" + std::to_string(b.barrier_epoch + 1) +
               " is not reached by every thread: " + where(*exited) + " exited without reaching it";
      else if (exited)
        msg += where(*exited) + " exited while others wait for it";
      else
        msg += "kernel '" + b.cfg->kernel + "' block " + dim_str(b.idx) +
               ": threads wait at different meeting points";
      msg += " [" + waiting_summary(b) + "]";
      b.error = std::make_exception_ptr(Error("sim", msg));
      break;
    }
    ThreadState* t;
    if (b.shuffled && b.ready.size() > 1) {
      const size_t k = b.rng() % b.ready.size();
      std::swap(b.ready[0], b.ready[k]);
    }
    t = b.ready.front();
    b.ready.pop_front();
    t_thread = t;
    void* fake_stack = nullptr;
    asan::start_switch(&fake_stack, t->stack_bottom, t->stack_size);
    if (g_rules.racecheck) racecheck_before_run(b, *t);
    t->fiber = std::move(t->fiber).resume();
    asan::finish_switch(fake_stack, nullptr, nullptr);
    if (g_rules.racecheck) racecheck_after_run(b, *t);
    t_thread = nullptr;
    if (t->wait == Wait::Exited) {
      --b.live;
      // Lanes of its warp already waiting for it at a collective can never complete.
      const WarpMeeting& w = b.warps[t->warp];
      if (w.arrived && (w.mask & (1u << t->lane)) && !b.error)
        b.error = std::make_exception_ptr(Error(
            "sim",
            "deadlock: " + where(*t) + " exited while lanes of its warp wait for it at a warp collective"));
    }
  }
  // Destroying suspended fibers unwinds their stacks (forced_unwind) before we report; the
  // kernel's destructors may still ask who they are.
  for (auto& t : b.threads) {
    t_thread = &t;
    void* fake_stack = nullptr;
    const bool switches = t.fiber && t.entered;  // a never-entered fiber unwinds inside Boost alone
    if (switches) asan::start_switch(&fake_stack, t.stack_bottom, t.stack_size);
    t.fiber = ctx::fiber();
    if (switches) asan::finish_switch(fake_stack, nullptr, nullptr);
  }
  t_thread = nullptr;
  if (b.error) std::rethrow_exception(b.error);
}

// A small persistent pool of OS workers; each runs whole blocks, one at a time.
class WorkerPool {
 public:
  explicit WorkerPool(unsigned n) {
    for (unsigned i = 0; i < n; ++i) workers_.emplace_back([this] { loop(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> g(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  unsigned size() const { return static_cast<unsigned>(workers_.size()); }
  // Runs job() on every worker and waits for all of them.
  void run(const std::function<void()>& job) {
    std::unique_lock<std::mutex> g(m_);
    job_ = &job;
    pending_ = size();
    ++generation_;
    cv_.notify_all();
    done_cv_.wait(g, [this] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void()>* job;
      {
        std::unique_lock<std::mutex> g(m_);
        cv_.wait(g, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      (*job)();
      std::lock_guard<std::mutex> g(m_);
      if (--pending_ == 0) done_cv_.notify_all();
    }
  }
  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_, done_cv_;
  const std::function<void()>* job_ = nullptr;
  unsigned pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

// Static __shared__ arrays (simt_dialect.h) are thread_locals in the TLS section
// XK_SIM_SHARED_SECTION, which the linker keeps contiguous and brackets with __start_/__stop_
// symbols. Those symbols give the section's place in the TLS initialisation image; a probe
// in the same section with a unique value, found once in that image, gives the distance
// from image to the calling worker's copy.
extern "C" char __start_xk_sim_shared_tls[], __stop_xk_sim_shared_tls[];
constexpr uint64_t kProbe[2] = {0x786b5f73696d5f73ull, 0x6861726564707262ull};
__attribute__((section(XK_SIM_SHARED_SECTION))) thread_local uint64_t t_shared_probe[2] = {kProbe[0],
                                                                                           kProbe[1]};

uintptr_t find_probe_image() {
  uintptr_t found = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const auto& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_TLS) continue;
          const uintptr_t lo = info->dlpi_addr + ph.p_vaddr, hi = lo + ph.p_filesz;
          for (uintptr_t p = lo; p + 16 <= hi; p += 8)
            if (std::memcmp(reinterpret_cast<const void*>(p), kProbe, 16) == 0) {
              *static_cast<uintptr_t*>(out) = p;
              return 1;
            }
        }
        return 0;
      },
      &found);
  return found;
}

// Fills the calling worker's copy of the section with 0xFF; returns where it is.
std::pair<unsigned char*, size_t> poison_static_shared() {
  static const uintptr_t image = find_probe_image();
  if (!image) throw Error("sim", "cannot locate the static __shared__ section in the TLS image");
  const intptr_t delta = reinterpret_cast<intptr_t>(&t_shared_probe[0]) - static_cast<intptr_t>(image);
  auto* copy = reinterpret_cast<unsigned char*>(__start_xk_sim_shared_tls + delta);
  const size_t bytes = size_t(__stop_xk_sim_shared_tls - __start_xk_sim_shared_tls);
  std::memset(copy, 0xFF, bytes);
  return {copy, bytes};
}

std::mutex g_launch_mutex;  // one launch at a time: the pool serves one grid
std::atomic<uint64_t> g_launch_counter{0};

}  // namespace

Counters run_grid(const LaunchConfig& cfg, const std::function<void()>& body) {
  const Dim3 g = cfg.grid, bd = cfg.block;
  const uint64_t blocks = uint64_t(g.x) * g.y * g.z;
  const uint64_t threads_per_block = uint64_t(bd.x) * bd.y * bd.z;
  if (threads_per_block == 0 || threads_per_block > 1024)
    throw Error("sim", "block",
                "kernel '" + cfg.kernel + "': block " + dim_str(bd) + " must have 1..1024 threads");
  Counters total;
  if (blocks == 0) return total;

  std::lock_guard<std::mutex> launch_lock(g_launch_mutex);
  static WorkerPool pool(static_cast<unsigned>(std::max<size_t>(1, env_size("XK_SIM_THREADS", 2))));
  const uint64_t seed = env_size("XK_SIM_SEED", 0);
  g_rules.seed = seed;
  g_rules.strict = env_size("XK_SIM_STRICT", 0) != 0;
  // On by default where loads and stores are instrumented (it costs little there); the
  // snapshot fallback of sanitizer builds copies shared memory at every switch: opt-in.
  g_rules.racecheck = env_size("XK_SIM_RACECHECK", kRacecheckSeesReads ? 1 : 0) != 0;
  const char* accum = std::getenv("XK_SIM_ACCUM");
  g_rules.accum = accum && std::string(accum) == "truncate" ? Accumulation::Truncated : Accumulation::Exact;
  const uint64_t launch_no = g_launch_counter++;

  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex merge;
  std::exception_ptr first_error;
  const std::function<void()> job = [&] {
    thread_local StackPool stacks;
    thread_local std::vector<unsigned char> smem;
    BlockState b;
    b.cfg = &cfg;
    for (;;) {
      const uint64_t i = next++;
      if (i >= blocks || failed) break;
      b.idx = {unsigned(i % g.x), unsigned((i / g.x) % g.y), unsigned(i / (uint64_t(g.x) * g.y))};
      // Dynamic shared memory is poisoned per block: a read before any write sees NaN / 0xFF.
      smem.assign(cfg.dyn_smem_bytes + 16, 0xFF);
      b.granules.clear();
      b.static_arrays.clear();
      b.dyn_smem = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(smem.data()) + 15) & ~uintptr_t(15));
      b.shuffled = seed != 0;
      if (b.shuffled) b.rng.seed(seed * 0x9E3779B97F4A7C15ull ^ (launch_no << 32) ^ i);
      b.counters = Counters{};
      b.error = nullptr;
      try {
        b.shared_regions.assign(1, poison_static_shared());  // static __shared__ too: NaN, -1
        b.shared_regions.emplace_back(static_cast<unsigned char*>(b.dyn_smem), cfg.dyn_smem_bytes);
        racecheck_block_begin(b);
        run_block(b, stacks, body);
        racecheck_block_end();
      } catch (...) {
        racecheck_block_end();
        std::lock_guard<std::mutex> l(merge);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
      std::lock_guard<std::mutex> l(merge);
      total.add(b.counters);
    }
  };
  pool.run(job);
  if (first_error) std::rethrow_exception(first_error);
  return total;
}

// ---- Thread-side API ---------------------------------------------------------------------

const Dim3& thread_idx() { return t_thread->tid; }
const Dim3& block_idx() { return t_thread->block->idx; }
const Dim3& block_dim() { return t_thread->block->cfg->block; }
const Dim3& grid_dim() { return t_thread->block->cfg->grid; }
unsigned lane_id() { return t_thread->lane; }
unsigned warp_id() { return t_thread->warp; }
void* dynamic_smem() { return t_thread->block->dyn_smem; }
Counters& block_counters() { return t_thread->block->counters; }
uint32_t warp_present_mask() { return t_thread->block->warps[t_thread->warp].present; }

void fail(const std::string& what) { throw Error("sim", where(*t_thread) + ": " + what); }
void thread_fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

void syncthreads() {
  ThreadState* t = t_thread;
  BlockState& b = *t->block;
  const WarpMeeting& w = b.warps[t->warp];
  if (w.arrived && (w.mask & (1u << t->lane)))
    fail("reached __syncthreads while lanes of its warp wait for it at a warp collective");
  t->wait = Wait::Barrier;
  ++b.at_barrier;
  yield_to_scheduler();
}

void warp_collective(uint32_t kind, uint32_t mask, void* op, CollectiveFn fn) {
  ThreadState* t = t_thread;
  BlockState& b = *t->block;
  WarpMeeting& w = b.warps[t->warp];
  const uint32_t me = 1u << t->lane;
  if (!(mask & me)) fail("calls a warp collective whose mask does not include its own lane");
  if ((mask & ~w.present) != 0)
    fail("warp collective mask names lanes that do not exist in this block (mask 0x" + [&] {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%08x", mask);
      return std::string(buf);
    }() + ")");
  if (w.arrived == 0) {
    w.kind = kind;
    w.mask = mask;
  } else if (w.kind != kind) {
    fail("lanes of one warp reached different warp collectives: this lane " + collective_name(kind) +
         ", lanes already waiting " + collective_name(w.kind));
  } else if (w.mask != mask) {
    fail("warp collective mask differs between lanes");
  }
  w.ops[t->lane] = op;
  w.arrived |= me;
  if (w.arrived == mask) {
    void* ops[32];
    for (int l = 0; l < 32; ++l) ops[l] = (mask >> l) & 1 ? w.ops[l] : nullptr;
    fn(ops, mask);
    w.arrived = 0;
    ++w.completed;
    for (int l = 0; l < 32; ++l)
      if (((mask >> l) & 1) && l != int(t->lane)) wake(b, &b.threads[t->warp * 32 + l]);
    return;
  }
  t->wait = Wait::Warp;
  yield_to_scheduler();
}

}  // namespace xk::sim
