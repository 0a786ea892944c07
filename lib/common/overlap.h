// Whether two tensors given by the caller share a float, checked before a
// call writes anything. A tensor is `pixels` runs of `channels` floats,
// `stride` floats apart (a dense tensor: one run); the floats between runs
// belong to someone else (the pixel strides of Conv2dDesc).
#ifndef CONVKIT_LIB_COMMON_OVERLAP_H_
#define CONVKIT_LIB_COMMON_OVERLAP_H_

#include <cstdint>

#include "lib/common/geometry.h"

namespace convkit {

struct FloatRuns {
  const void* p = nullptr;
  int64_t pixels = 0, channels = 0, stride = 0;
};

inline FloatRuns Dense(const void* p, int64_t floats) { return {p, 1, floats, floats}; }

// Exact when both are dense, or when both step by the same stride from
// addresses a whole number of floats apart (two channel slices of one
// tensor, e.g. a concatenation written in place); otherwise any
// intersection of their address ranges counts.
inline bool Overlaps(const FloatRuns& a, const FloatRuns& b) {
  if (a.p == nullptr || b.p == nullptr || a.pixels <= 0 || b.pixels <= 0 || a.channels <= 0 ||
      b.channels <= 0) {
    return false;
  }
  const uint64_t pa = reinterpret_cast<uintptr_t>(a.p), pb = reinterpret_cast<uintptr_t>(b.p);
  const uint64_t na = static_cast<uint64_t>((a.pixels - 1) * a.stride + a.channels) * 4;
  const uint64_t nb = static_cast<uint64_t>((b.pixels - 1) * b.stride + b.channels) * 4;
  if (!(pa < pb + nb && pb < pa + na)) return false;
  const bool a_gaps = a.pixels > 1 && a.stride > a.channels;
  const bool b_gaps = b.pixels > 1 && b.stride > b.channels;
  if (!a_gaps || !b_gaps || a.stride != b.stride) return true;
  const uint64_t diff = pb >= pa ? pb - pa : pa - pb;
  if (diff % 4 != 0) return true;
  // Offsets within one stride period: the run of the later tensor starts r
  // floats after a run of the earlier one.
  const uint64_t s = static_cast<uint64_t>(a.stride);
  const uint64_t r = (diff / 4) % s;
  const uint64_t first = static_cast<uint64_t>(pb >= pa ? a.channels : b.channels);
  const uint64_t second = static_cast<uint64_t>(pb >= pa ? b.channels : a.channels);
  return r < first || r + second > s;
}

// The activations of a convolution (NHWC: pixels at their strides; NCHW:
// dense, one run).
inline FloatRuns InputRuns(const ConvGeometry& g, const void* p) {
  const int64_t pixels = g.n * g.h * g.w;
  if (g.nchw) return Dense(p, pixels * g.cin);
  return {p, pixels, g.cin, g.xs};
}
inline FloatRuns OutputRuns(const ConvGeometry& g, const void* p) {
  if (g.nchw) return Dense(p, g.m * g.cout);
  return {p, g.m, g.cout, g.ys};
}

}  // namespace convkit

#endif  // CONVKIT_LIB_COMMON_OVERLAP_H_
