// Cache-line aligned buffers owned by operators and calls. Allocation
// failure is reported (null), never thrown, so callers can return
// kOutOfMemory before touching the output. Every internal allocation of
// convkit goes through Allocate / NewNothrow, which is what the test hooks
// below (debug::) rely on.
#ifndef CONVKIT_LIB_COMMON_ALIGNED_H_
#define CONVKIT_LIB_COMMON_ALIGNED_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>

namespace convkit {

// 64 bytes: a cache line and an AVX-512 vector; larger than any x86 vector.
// (SVE vectors may be longer; packed panels only need element alignment
// there, since the kernels load B with Load only where NR*4 is a multiple of
// the vector size.)
constexpr size_t kAlignment = 64;

// Frees what AllocateBytes returned; `guarded` says whether it was made with
// guard zones (debug::SetGuardedAllocations), checked here.
struct FreeDeleter {
  bool guarded = false;
  void operator()(void* p) const;
};
template <class T>
using AlignedArray = std::unique_ptr<T[], FreeDeleter>;
using AlignedFloats = AlignedArray<float>;

// bytes, 64-byte aligned, uninitialized; null on failure, on bytes 0 or on a
// size the address space cannot hold. *guarded tells the deleter.
void* AllocateBytes(size_t bytes, bool* guarded);

// count elements of T (trivial), 64-byte aligned, uninitialized.
template <class T>
AlignedArray<T> Allocate(size_t count) {
  if (count > (SIZE_MAX - 4 * kAlignment) / sizeof(T)) return AlignedArray<T>();
  bool guarded = false;
  T* p = static_cast<T*>(AllocateBytes(count * sizeof(T), &guarded));
  return AlignedArray<T>(p, FreeDeleter{guarded});
}
inline AlignedFloats AllocateFloats(size_t count) { return Allocate<float>(count); }

namespace debug {
// Consulted by every internal allocation: true if the test hook says this
// one must fail (also counts it).
bool FailNextAllocation();
}  // namespace debug

// new T(args...) that returns null on failure (or when the test hook fails it).
template <class T, class... Args>
std::unique_ptr<T> NewNothrow(Args&&... args) {
  if (debug::FailNextAllocation()) return nullptr;
  return std::unique_ptr<T>(new (std::nothrow) T(std::forward<Args>(args)...));
}

// The first 64-byte aligned address at or after p.
inline float* AlignUp(void* p) {
  const uintptr_t u = reinterpret_cast<uintptr_t>(p);
  return reinterpret_cast<float*>((u + kAlignment - 1) & ~(uintptr_t{kAlignment} - 1));
}

// Test hooks (tests/memory_test.cc and every ConvTester run). Not part of the
// public API; process-wide; cheap when off (one relaxed atomic load per
// allocation).
namespace debug {
// The n-th internal allocation from now fails (n >= 1); 0 turns it off.
void FailAllocationAt(int64_t n);
// Allocations counted since the last FailAllocationAt.
int64_t AllocationsSinceArm();
// While on, each allocation gets 64 guard bytes on both sides, checked when
// it is freed; a damaged guard counts as a violation. Also makes Forward take
// its workspace from the heap, so that it is guarded too.
void SetGuardedAllocations(bool on);
bool GuardedAllocations();
int64_t GuardViolations();
// For the test of the hooks themselves.
void ResetGuardViolationsForTest(int64_t value);
// Allocations made minus allocations freed (AllocateBytes only).
int64_t LiveAllocations();
}  // namespace debug

}  // namespace convkit

#endif  // CONVKIT_LIB_COMMON_ALIGNED_H_
