// 64-bit arithmetic with overflow detection, for sizes computed from user
// input. Every tensor size is checked here before any pointer arithmetic.
#ifndef CONVKIT_LIB_COMMON_CHECKED_H_
#define CONVKIT_LIB_COMMON_CHECKED_H_

#include <cstdint>

namespace convkit {

// *out = a * b; false on int64 overflow (inputs must be >= 0).
inline bool CheckedMul(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
inline bool CheckedAdd(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

inline int64_t DivCeil(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t RoundUp(int64_t a, int64_t b) { return DivCeil(a, b) * b; }

}  // namespace convkit

#endif  // CONVKIT_LIB_COMMON_CHECKED_H_
