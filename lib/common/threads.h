// The only place convkit talks to OpenMP directly; everything else asks here,
// so that a build without OpenMP (-Dopenmp=disabled) runs serially.
#ifndef CONVKIT_LIB_COMMON_THREADS_H_
#define CONVKIT_LIB_COMMON_THREADS_H_

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "convkit/convkit.h"

namespace convkit {

// Below this many flops per thread, an automatic thread count (requested 0)
// of the backward passes uses fewer threads (2 MFLOP kept MobileNetV2's
// depthwise layers, 1-3 MFLOP, on one thread while oneDNN took two: 0.07 ms
// against 0.05). The forward pass judges by its target's vector width
// instead, about 0.6 us of work per thread (kForwardFlopsPerLane,
// lib/conv/plan.cc), which this flat figure overstated 2-4x.
constexpr double kMinFlopsPerThread = 0.5 * 1024 * 1024;

// Threads a call may use. requested > 0: exactly that many, but never more
// than the work's independent tasks (nor kMaxThreads). requested == 0 (automatic): OpenMP's
// omp_get_max_threads(), fewer for small work (one per min_flops) and never
// more than the tasks. Always 1 inside an active parallel region, so that
// calling convkit from an OpenMP loop does not oversubscribe the machine.
inline int ResolveThreads(int requested, long long tasks, double flops,
                          double min_flops = kMinFlopsPerThread) {
#if defined(_OPENMP)
  if (omp_in_parallel()) return 1;
  int threads = requested > 0 ? requested : omp_get_max_threads();
  if (threads > kMaxThreads) threads = kMaxThreads;
  if (requested == 0) {
    const double by_work = flops / min_flops;
    if (by_work < threads) threads = by_work < 1.0 ? 1 : static_cast<int>(by_work);
  }
#else
  (void)requested;
  (void)flops;
  (void)min_flops;
  int threads = 1;
#endif
  if (tasks < threads) threads = tasks < 1 ? 1 : static_cast<int>(tasks);
  return threads < 1 ? 1 : threads;
}

// OpenMP runtimes exit the process when they cannot create a thread
// (libgomp prints "Thread creation failed" and calls exit). So before a
// calling thread first asks for more threads than it has had, this creates
// that many minus one POSIX threads at once, with the runtime's stack size,
// and joins them: if the system refuses (memory, process limits), the call
// returns kOutOfMemory naming "threads" and nothing runs. The runtime keeps
// its threads between calls, so each new maximum is probed once per calling
// thread (tens of microseconds).
Status EnsureThreads(int threads);

// Threads of the team running the caller (1 outside a parallel region).
inline int TeamSize() {
#if defined(_OPENMP)
  return omp_get_num_threads();
#else
  return 1;
#endif
}

inline int ThreadIndex() {
#if defined(_OPENMP)
  return omp_get_thread_num();
#else
  return 0;
#endif
}

}  // namespace convkit

#endif  // CONVKIT_LIB_COMMON_THREADS_H_
