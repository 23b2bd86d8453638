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
//  - WMMA A/B operands of lanes 16-31 that do not replicate lanes 0-15.
// Not detected: races between barriers that happen to give the same answer in every order
// the scheduler tries (the scheduler never preempts inside straight-line code), reads of
// uninitialised static __shared__ memory (it is per-worker storage that keeps the previous
// block's contents, zero at first use; dynamic shared memory is 0xFF-filled per block),
// out-of-bounds reads of global memory (out-of-bounds writes into the guard regions are
// caught after the launch by the device, see sim_device.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

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
enum CollectiveTag : uint32_t { kSyncwarp = 1, kShfl = 2, kVote = 3, kMma = 4, kLdmatrix = 5, kWmma = 6, kReduce = 7 };
void warp_collective(uint32_t kind, uint32_t mask, void* op, CollectiveFn fn);
// Lanes of the calling thread's warp that exist in the block (partial last warp).
uint32_t warp_present_mask();
[[noreturn]] void fail(const std::string& what);  // xk::Error naming kernel/block/thread

inline void count_global_read(size_t n) { block_counters().global_bytes_read += n; }
inline void count_global_write(size_t n) { block_counters().global_bytes_written += n; }

}  // namespace xk::sim
