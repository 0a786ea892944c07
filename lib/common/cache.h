// The data-cache sizes the GEMM blocking is derived from (KC from L1, MC and
// NC from L2), read from the running machine once per process: Zen 4 has a
// 32 KiB L1d and a 1 MiB L2 per core, Sapphire Rapids 48 KiB and 2 MiB, and a
// constant tuned on one would be wrong on the other.
#ifndef CONVKIT_LIB_COMMON_CACHE_H_
#define CONVKIT_LIB_COMMON_CACHE_H_

#include <cstdint>

namespace convkit {

struct CacheSizes {
  int64_t l1d = 0;  // bytes of level-1 data cache per core
  int64_t l2 = 0;   // bytes of level-2 cache per core
  int64_t l1d_ways = 0;  // L1d associativity: 12 on Zen 5 and Sapphire
                         // Rapids, 8 on Zen 4
};

// Read once (sysconf, else /sys/devices/system/cpu/cpu0/cache), then cached.
// Values the system does not report, or reports outside [8 KiB, 64 MiB],
// fall back to 32 KiB and 512 KiB, the smallest of current x86 and Arm cores;
// the associativity outside [1, 64] to 8. The environment variable
// CONVKIT_CACHE="L1D,L2[,WAYS]" (bytes, or with a K or M suffix, e.g.
// "48K,2M,12") overrides them, for testing blockings of other machines (the
// ways then default to 8, not the machine's).
CacheSizes GetCacheSizes();

// Bytes between addresses that share an L1d set: L1d size / ways (4 KiB on
// current x86 cores), or 0 if that is not a power of two of at least a line.
int64_t L1dWayBytes(const CacheSizes& c);

// The hints below are always inlined: GCC's interprocedural analysis finds
// a call to them free of side effects and deletes it, hints and all (the
// prefetch of the direct GEMM's input rows vanished that way).
#if defined(__GNUC__) || defined(__clang__)
#define CONVKIT_PREFETCH_INLINE inline __attribute__((always_inline))
#else
#define CONVKIT_PREFETCH_INLINE inline
#endif

// Asks for rows [0, rows) x columns [0, cols) of a row-major float matrix
// (rows ld floats apart) to be brought into the cache for writing: one hint
// per 64 bytes, plus each row's last float (rows need not start on a line).
// A hint never faults and changes no value; without GCC/clang builtins it
// does nothing.
CONVKIT_PREFETCH_INLINE void PrefetchForWrite(const float* p, int64_t rows, int64_t cols, int64_t ld) {
#if defined(__GNUC__) || defined(__clang__)
  constexpr int64_t kStep = 64 / static_cast<int64_t>(sizeof(float));
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = p + i * ld;
    for (int64_t j = 0; j < cols; j += kStep) __builtin_prefetch(row + j, 1, 3);
    __builtin_prefetch(row + cols - 1, 1, 3);
  }
#else
  (void)p;
  (void)rows;
  (void)cols;
  (void)ld;
#endif
}

// Asks for floats [p, p + count) to be brought into L1 for reading: one
// hint per 64 bytes, plus the last float. Never faults; changes no value.
CONVKIT_PREFETCH_INLINE void PrefetchForRead(const float* p, int64_t count) {
#if defined(__GNUC__) || defined(__clang__)
  constexpr int64_t kStep = 64 / static_cast<int64_t>(sizeof(float));
  for (int64_t j = 0; j < count; j += kStep) __builtin_prefetch(p + j, 0, 3);
  __builtin_prefetch(p + count - 1, 0, 3);
#else
  (void)p;
  (void)count;
#endif
}

// Asks for the 64-byte lines [first, last) of floats p .. p + count into
// L2 (not L1) for reading; never faults, changes no value.
CONVKIT_PREFETCH_INLINE void PrefetchLinesToL2(const float* p, int64_t first, int64_t last) {
#if defined(__GNUC__) || defined(__clang__)
  constexpr int64_t kStep = 64 / static_cast<int64_t>(sizeof(float));
  for (int64_t j = first; j < last; ++j) __builtin_prefetch(p + j * kStep, 0, 2);
#else
  (void)p;
  (void)first;
  (void)last;
#endif
}

}  // namespace convkit

#endif  // CONVKIT_LIB_COMMON_CACHE_H_
