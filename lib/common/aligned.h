// Cache-line aligned float buffers owned by operators and calls. Allocation
// failure is reported (null), never thrown, so callers can return
// kOutOfMemory before touching the output.
#ifndef CONVKIT_LIB_COMMON_ALIGNED_H_
#define CONVKIT_LIB_COMMON_ALIGNED_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace convkit {

// 64 bytes: a cache line and an AVX-512 vector; larger than any x86 vector.
// (SVE vectors may be longer; packed panels only need element alignment
// there, since the kernels load B with Load only where NR*4 is a multiple of
// the vector size.)
constexpr size_t kAlignment = 64;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], FreeDeleter>;

// count floats, 64-byte aligned, uninitialized; null on failure or count 0.
inline AlignedFloats AllocateFloats(size_t count) {
  if (count == 0 || count > (SIZE_MAX - kAlignment) / sizeof(float)) {
    return AlignedFloats();
  }
  const size_t bytes = (count * sizeof(float) + kAlignment - 1) / kAlignment * kAlignment;
  return AlignedFloats(static_cast<float*>(std::aligned_alloc(kAlignment, bytes)));
}

// The first 64-byte aligned address at or after p.
inline float* AlignUp(void* p) {
  const uintptr_t u = reinterpret_cast<uintptr_t>(p);
  return reinterpret_cast<float*>((u + kAlignment - 1) & ~(uintptr_t{kAlignment} - 1));
}

}  // namespace convkit

#endif  // CONVKIT_LIB_COMMON_ALIGNED_H_
