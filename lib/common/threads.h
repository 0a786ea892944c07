// The only place convkit talks to OpenMP directly; everything else asks here,
// so that a build without OpenMP (-Dopenmp=disabled) runs serially.
#ifndef CONVKIT_LIB_COMMON_THREADS_H_
#define CONVKIT_LIB_COMMON_THREADS_H_

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {

// Threads a call may use when the caller asked for `requested` (0 = OpenMP's
// default) and the work splits into `tasks` independent pieces: never more
// than the tasks, and 1 inside an active parallel region, so that calling
// convkit from an OpenMP loop does not oversubscribe the machine.
inline int ResolveThreads(int requested, long long tasks) {
#if defined(_OPENMP)
  if (omp_in_parallel()) return 1;
  int threads = requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  int threads = 1;
#endif
  if (tasks < threads) threads = tasks < 1 ? 1 : static_cast<int>(tasks);
  return threads < 1 ? 1 : threads;
}

// The caller's requested count, resolved without a task bound (for reporting).
inline int DefaultThreads(int requested) {
  return ResolveThreads(requested, 1LL << 40);
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
