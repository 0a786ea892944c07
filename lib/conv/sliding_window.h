// The sliding-window algorithm's limits and per-thread workspace (no SIMD;
// shared by planning and sliding_window-inl.h, which explains the kernel).
// With K = the layer's kernel rows, S = kSwMaxRows + kSwMaxKw - 1, from
// ws:
//
//   int64 [K]              input row of each kernel row the output row
//                          reads (-1: a padding row, all zeros)
//   int64 [K]              that kernel row's index
//   const float* [K]       its input row (null: padding)
//   const float* [K]       row q of the window
//   float [K][S][cin]      the window: zero-padded copies of the input rows
#ifndef CONVKIT_LIB_CONV_SLIDING_WINDOW_H_
#define CONVKIT_LIB_CONV_SLIDING_WINDOW_H_

#include <cstdint>

#include "lib/common/geometry.h"

namespace convkit {

// Widest kernel row: its KW weight vectors stay in registers beside the
// accumulators (AVX2's 16 registers: 7 weights, a broadcast, 8 rows). Only
// the widths networks use, 3, 5 and 7, are compiled: each width is two
// unrolled tiles per target, and 14 of them took 5.5 minutes to compile
// under ASan+UBSan (1x1 and even widths go to the direct GEMM: with one
// input channel a 1x1 sliding window ran 25% faster, with 2-4 the same).
constexpr int64_t kSwMaxKw = 7;
// Most input channels: each reloads the KW weights once per tile and kernel
// row; first layers have 1 to 4.
constexpr int64_t kSwMaxCin = 4;
// Most kernel rows (bounds the workspace: about 600 bytes per row).
constexpr int64_t kSwMaxKh = 64;
// Most output pixels per tile on any target (the tile macros' 28 rows).
constexpr int64_t kSwMaxRows = 28;

// One group, horizontal stride and dilation 1, the limits above.
inline bool SlidingWindowApplies(const ConvGeometry& g) {
  return !g.nchw && g.groups == 1 && g.sw == 1 && g.dw == 1 && g.cin <= kSwMaxCin &&
         (g.kw == 3 || g.kw == 5 || g.kw == kSwMaxKw) && g.kh <= kSwMaxKh;
}

struct SlidingWindowWorkspace {
  int64_t* ih = nullptr;
  int64_t* kh = nullptr;
  const float** x_row = nullptr;
  float** win_row = nullptr;
  float* window = nullptr;
};

inline int64_t SlidingWindowWorkspaceBytes(const ConvGeometry& g) {
  const int64_t span = kSwMaxRows + kSwMaxKw - 1;
  const int64_t header = 4 * g.kh * 8;  // two int64 and two pointer arrays
  return ((header + 63) / 64 * 64) +
         g.kh * span * g.cin * static_cast<int64_t>(sizeof(float));
}

// ws: at least SlidingWindowWorkspaceBytes, 64-byte aligned.
inline SlidingWindowWorkspace SlidingWindowLayout(const ConvGeometry& g, void* ws) {
  SlidingWindowWorkspace s;
  char* p = static_cast<char*>(ws);
  s.ih = reinterpret_cast<int64_t*>(p);
  s.kh = s.ih + g.kh;
  s.x_row = reinterpret_cast<const float**>(s.kh + g.kh);
  s.win_row = reinterpret_cast<float**>(p + 3 * g.kh * 8);
  s.window = reinterpret_cast<float*>(p + (4 * g.kh * 8 + 63) / 64 * 64);
  return s;
}

}  // namespace convkit

#endif  // CONVKIT_LIB_CONV_SLIDING_WINDOW_H_
