// A counter-based generator for test data and reference sampling: value i of
// a stream depends only on (seed, i), so fills parallelize and repeat exactly.
#ifndef CONVKIT_LIB_COMMON_RANDOM_H_
#define CONVKIT_LIB_COMMON_RANDOM_H_

#include <cstdint>

namespace convkit {

// SplitMix64 (Steele, Lea, Flood 2014): a bijective 64-bit mix.
inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace convkit

#endif  // CONVKIT_LIB_COMMON_RANDOM_H_
