// The SIMT engine of cuda-sim / hip-sim: a grid of blocks, each block's threads are fibers.
//
// Execution model (DESIGN.md "The simulator"):
//  - one block runs on one OS worker thread; its threads are Boost.Context fibers with
//    64 KiB stacks (XK_SIM_STACK_KB) behind a PROT_NONE guard page, pooled per worker;
//  - blocks are spread over a small pool of workers (XK_SIM_THREADS, default 2);
//  - a fiber runs until it reaches a meeting point: __syncthreads (block barrier) or a warp
//    collective (shuffle, vote, __syncwarp, mma, ldmatrix, wmma). Each lane deposits a
//    pointer to its operands and yields; the last lane of the warp computes every lane's
//    result (its operands and destinations are still alive on the waiting lanes' stacks);
//  - the order in which ready fibers run is round-robin by thread index, or shuffled with
//    XK_SIM_SEED=<n> (n != 0). A kernel missing a __syncthreads reads another thread's
//    shared-memory value before or after it was written depending on that order.
//
// Detected and reported as xk::Error naming kernel, block and thread:
//  - a barrier that not all threads of the block reach (some exited, or wait elsewhere);
//  - a thread exiting while others wait for it at a barrier or a warp collective;
//  - lanes of one warp meeting at different kinds of collective, or with different masks;
//  - a lane in a collective's mask that does not exist in the block;
//  - WMMA A/B operands of lanes 16-31 that do not replicate lanes 0-15;
//  - the strict rules below: an ldmatrix reading bytes a cp.async has not made visible, or
//    that another warp wrote (cp.async retired) with no __syncthreads in between; a cp.async
//    refilling bytes another warp read since the last barrier; misaligned cp.async, ldmatrix
//    and counted vector global accesses; counted global accesses outside an allocation;
//  - shared-memory races of plain loads and stores, and plain reads of a cp.async destination
//    before its wait (XK_SIM_RACECHECK below).
// Not detected: plain (uncounted) global loads outside an allocation. Dynamic shared memory and the static
// __shared__ arrays of non-template functions are 0xFF-filled before every block (an uninitialised read shows
// as NaN / -1 in the result); g++ ignores the section attribute on static locals of function templates:
// templated kernels name their arrays at entry (static_shared below) and the first thread of each block to
// arrive poisons them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

// The TLS section holding every static __shared__ array of the kernel sources (simt_dialect.h).
#define XK_SIM_SHARED_SECTION "xk_sim_shared_tls"

namespace xk::sim {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

// What a launch did, summed over its blocks (LaunchRecord's counters).
struct Counters {
  std::map<std::string, uint64_t> mma_by_kind;
  uint64_t global_bytes_read = 0, global_bytes_written = 0;
  uint64_t shared_bytes = 0, barriers = 0;
  void add(const Counters& o);
};

struct LaunchConfig {
  std::string kernel;  // name used in error messages and counters
  Dim3 grid, block;
  size_t dyn_smem_bytes = 0;
};

// Runs `body` once per thread of every block; throws xk::Error on deadlock or on an
// exception thrown by a thread. Returns the counters of the launch.
Counters run_grid(const LaunchConfig& cfg, const std::function<void()>& body);

// ---- What the running thread sees (valid only inside run_grid's body) --------------------
struct ThreadState;
struct BlockState;
extern thread_local ThreadState* t_thread;

const Dim3& thread_idx();
const Dim3& block_idx();
const Dim3& block_dim();
const Dim3& grid_dim();
unsigned lane_id();
unsigned warp_id();
void* dynamic_smem();
Counters& block_counters();

void syncthreads();
// A warp meeting point: `kind` identifies the collective (lanes must agree), `mask` the
// participating lanes (must agree too). `op` points at this lane's operands/results. The
// last lane to arrive calls fn(ops, lanes) where ops[l] is lane l's op (null if absent).
using CollectiveFn = void (*)(void* const* ops, uint32_t lanes);
// The top byte of `kind` says which collective it is (for error messages); the rest
// distinguishes variants that must not meet (e.g. mma shapes or scale selectors).
enum CollectiveTag : uint32_t {
  kSyncwarp = 1,
  kShfl = 2,
  kVote = 3,
  kMma = 4,
  kLdmatrix = 5,
  kWmma = 6,
  kReduce = 7
};
void warp_collective(uint32_t kind, uint32_t mask, void* op, CollectiveFn fn);
// Lanes of the calling thread's warp that exist in the block (partial last warp).
uint32_t warp_present_mask();
[[noreturn]] void fail(const std::string& what);  // xk::Error naming kernel/block/thread

inline void count_global_read(size_t n) { block_counters().global_bytes_read += n; }
inline void count_global_write(size_t n) { block_counters().global_bytes_written += n; }

// ---- The strict rules (engine_rules.cpp) -------------------------------------------------
// Read from the environment at the start of every launch:
//  XK_SIM_STRICT=1        shuffles from a lane outside the mask return poison (all ones);
//  XK_SIM_ACCUM=truncate  MMA/WMMA sums align and truncate like tensor cores (mma_emu.cpp);
//  XK_SIM_SEED=<n>        also lands cp.async groups at random meeting points before their wait.
//  XK_SIM_RACECHECK=0|1   shared-memory races (engine_racecheck.cpp): a read of a byte another
//                         thread wrote, or a write of a byte another thread read or wrote, in the
//                         same barrier interval, not ordered by __syncthreads (or, in the same
//                         warp, by a completed warp collective); an access of a cp.async
//                         destination before the wait that retires it. On by default where the kernel
//                         sources are instrumented (kRacecheckSeesReads); sanitizer builds see
//                         only writes that change a byte (snapshots) and run it when asked (=1).
bool strict_shuffles();
// Whether plain loads and stores of the kernel sources reach the race check (the build
// instrumented them); false in sanitizer builds, where it compares snapshots (writes only).
extern const bool kRacecheckSeesReads;
enum class Accumulation : uint8_t { Exact, Truncated };
Accumulation accumulation();
// c + sum(products[0..n)) as tensor cores add (mma_emu.cpp): `chunk` products and the running
// sum at a time, aligned to the largest exponent, truncated, renormalised toward zero.
float truncated_dot(float c, const double* products, int n, int chunk);

// Fails (xk::Error naming kernel, block, thread) unless p is a multiple of `align`.
void check_aligned(const void* p, size_t align, const char* what);

// Global allocations known to the simulator (SimBuffer registers itself). An access that
// starts or ends in the 256 bytes around a known allocation but leaves it is reported;
// memory the simulator does not know (a test's host array) is not checked.
void register_allocation(const void* base, size_t bytes);
void unregister_allocation(const void* base);
void check_global(const void* p, size_t bytes, bool write, const char* what);
// For the access hooks (engine_racecheck.cpp), which check plain loads and stores the same way
// from a per-worker copy of the table: its generation (bumped by every change), a copy, and
// the rule itself given the allocations below and above an access ("" when inside or unknown).
uint64_t allocation_generation();
void copy_allocations(std::vector<std::pair<uintptr_t, size_t>>& out);
std::string global_oob(uintptr_t a, size_t bytes, const std::pair<uintptr_t, size_t>* below,
                       const std::pair<uintptr_t, size_t>* above);
// Counted, checked global access of `bytes` with the alignment the access needs.
inline void global_read(const void* p, size_t bytes, size_t align) {
  check_aligned(p, align, "global load");
  check_global(p, bytes, false, "global load");
  count_global_read(bytes);
}
inline void global_write(void* p, size_t bytes, size_t align) {
  check_aligned(p, align, "global store");
  check_global(p, bytes, true, "global store");
  count_global_write(bytes);
}

// Asynchronous copies (cp.async, PTX ISA "Data Movement: cp.async"): the source is read at
// issue, the destination is poisoned (0xFF) and the data lands when a wait retires its
// group, or earlier at a seeded random meeting point. `src_bytes` of `bytes` come from
// global memory, the rest is zero.
void async_copy(void* smem_dst, const void* gmem_src, int bytes, int src_bytes);
void async_commit();
void async_wait(int keep_groups);  // cp.async.wait_group keep_groups
// A shared-memory read by a warp collective (ldmatrix) on behalf of `lane` of the calling
// warp: reading bytes a cp.async has not yet made visible, or bytes another warp wrote
// since the last __syncthreads, is reported.
void shared_read(const void* p, size_t bytes, unsigned lane);

// A static __shared__ array of a function template (g++ ignores the section attribute there,
// so the block-start poisoning of XK_SIM_SHARED_SECTION misses it): the kernel names it at
// entry (xk::ptx::sim_poison_shared / xk::wmma::sim_poison_shared) and the first call of each
// block fills it with 0xFF; later calls in the same block leave it alone.
void static_shared(void* p, size_t bytes);

}  // namespace xk::sim
