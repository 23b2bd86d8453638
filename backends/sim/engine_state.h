// Internal state of the SIMT engine shared by engine.cpp (scheduler, barriers, collectives)
// and engine_rules.cpp (the strict rules). Not part of the simulator's interface (engine.h).
#pragma once
#include <boost/context/fiber.hpp>
#include <cstdint>
#include <deque>
#include <exception>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/sim/engine.h"

namespace xk::sim {

enum class Wait : uint8_t { Ready, Barrier, Warp, Exited };

// One cp.async in flight: its data (read from global at issue) and its commit group.
struct PendingCopy {
  char* dst;
  uint64_t group;  // the thread's open group when issued
  uint8_t bytes;
  bool landed;
  unsigned char data[16];
};

// What the block knows about one 16-byte granule of shared memory in the current barrier
// interval (racecheck's model, for the accesses the simulator sees: cp.async and ldmatrix).
struct Granule {
  unsigned pending_by = 0;  // 1 + thread with a cp.async to it not yet retired
  unsigned pending = 0;     // how many of that thread's copies to it are not retired
  uint64_t written = 0;     // 1 + barrier epoch of the last retired write
  unsigned writer_warp = 0;
  uint64_t read = 0;          // 1 + barrier epoch of the last read
  uint64_t reader_warps = 0;  // warps that read it in that epoch (bit w % 64)
};

struct ThreadState {
  Dim3 tid;
  std::vector<PendingCopy> pending;
  uint64_t open_group = 0;
  unsigned linear = 0, lane = 0, warp = 0;
  Wait wait = Wait::Ready;
  BlockState* block = nullptr;
  boost::context::fiber fiber;         // the suspended thread (held by the scheduler)
  boost::context::fiber sink;          // the scheduler (held by the running thread)
  const void* stack_bottom = nullptr;  // this fiber's stack, for the ASan switch notes
  size_t stack_size = 0;
  bool entered = false;  // has run its body (a never-resumed fiber is destroyed silently)
};

struct WarpMeeting {
  uint32_t kind = 0, mask = 0, arrived = 0, present = 0;
  uint64_t completed = 0;  // collectives this warp completed: each orders its lanes' accesses
  void* ops[32] = {};
};

// XK_SIM_RACECHECK: the last plain write to one shared-memory byte (engine_rules.cpp).
struct ByteWrite {
  unsigned thread = 0;    // 1 + linear thread index
  uint64_t epoch = 0;     // barrier epoch of the write
  uint64_t warp_gen = 0;  // the writer's warp's completed collectives at the write
};

struct BlockState {
  const LaunchConfig* cfg = nullptr;
  Dim3 idx;
  void* dyn_smem = nullptr;
  std::vector<ThreadState> threads;
  std::vector<WarpMeeting> warps;
  std::deque<ThreadState*> ready;
  unsigned live = 0, at_barrier = 0;
  uint64_t barrier_epoch = 0;
  std::mt19937_64 rng;
  bool shuffled = false;
  std::exception_ptr error;
  Counters counters;
  const void* scheduler_stack_bottom = nullptr;  // learned at the first switch into a fiber (ASan)
  size_t scheduler_stack_size = 0;
  std::unordered_map<uintptr_t, Granule> granules;  // key: address / 16
  std::vector<const void*> static_arrays;           // static_shared arrays poisoned in this block
  std::vector<std::pair<unsigned char*, size_t>> shared_regions;  // all of this block's shared memory
  // XK_SIM_RACECHECK: shared memory as the running thread found it, and the last writer of
  // each byte written in the block (key: address).
  std::vector<unsigned char> snapshot;
  uint64_t run_warp_gen = 0;  // the running thread's warp's completed collectives at its start
  std::unordered_map<uintptr_t, ByteWrite> byte_writes;
};

// The rules of the current launch (read from the environment by run_grid).
struct Rules {
  bool strict = false;
  Accumulation accum = Accumulation::Exact;
  uint64_t seed = 0;
  bool racecheck = false;
};
extern Rules g_rules;

std::string dim_str(const Dim3& d);       // "(x,y,z)"
std::string where(const ThreadState& t);  // "kernel 'k' block (..) thread (..) (warp w, lane l)"
void land(PendingCopy& p);                // makes a cp.async's data visible (once)
// XK_SIM_RACECHECK (engine_racecheck.cpp, engine.h kRacecheckSeesReads).
void racecheck_block_begin(BlockState& b);  // b.shared_regions is set; g_rules.racecheck says whether to log
void racecheck_block_end();
void racecheck_region_added(BlockState& b, unsigned char* p, size_t bytes);  // a template's array
void racecheck_barrier();                                                    // a __syncthreads completed
// A cp.async issued by `t`: its destination is in flight (any access of it races) until t's wait
// retires it, which is a write by t at that point.
void racecheck_async_issued(BlockState& b, const ThreadState& t, const void* dst, size_t bytes);
void racecheck_async_retired(BlockState& b, const ThreadState& t, const void* dst, size_t bytes);
// A warp collective (ldmatrix) reading shared memory for `reader`: ordered with its own warp.
void racecheck_collective_read(BlockState& b, const ThreadState& reader, const void* p, size_t bytes);
// The snapshot method's two halves (no-ops with access hooks).
void racecheck_before_run(BlockState& b, const ThreadState& t);
void racecheck_after_run(BlockState& b, const ThreadState& t);

}  // namespace xk::sim
