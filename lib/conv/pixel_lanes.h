// The pixel-lanes algorithm's limits, blocking and per-thread workspace (no
// SIMD; shared by planning and pixel_lanes-inl.h, which explains the kernel).
//
// A block of up to `rows_out` output rows of one image reads `rows_in`
// input rows; the task copies them, transposed and zero-padded, into the
// workspace: per input channel ci, `rows_in` rows of `pitch` = PL + W + PR
// floats (input column iw at PL + iw, zeros in the padding and for rows
// outside the input), then zeros up to the channel stride `cs`. With
// horizontal stride 1 the output (oh, ow) and tap (kh, kw) read channel ci's
// float at (oh - oh0) * SH * pitch + kh * DH * pitch + ow + kw * DW, so a
// vector of output pixels along a row is one vector load per tap and
// channel. From ws:
//
//   float [cin][cs]     the transposed block
//   int64 [taps]        each tap's offset, kh * DH * pitch + kw * DW
#ifndef CONVKIT_LIB_CONV_PIXEL_LANES_H_
#define CONVKIT_LIB_CONV_PIXEL_LANES_H_

#include <algorithm>
#include <cstdint>

#include "lib/common/checked.h"
#include "lib/common/geometry.h"

namespace convkit {

// Largest transposed block of one output row (a row of a very wide or very
// deep layer), so that the workspace stays a few MiB per thread.
constexpr int64_t kPixelLanesMaxBytes = 8 << 20;

struct PixelLanesBlock {
  int64_t pitch = 0;     // floats per transposed input row: PL + W + PR
  int64_t rows_out = 0;  // output rows per block
  int64_t rows_in = 0;   // input rows they read: (rows_out - 1) * SH + (KH - 1) * DH + 1
  int64_t cs = 0;        // floats per channel: rows_in * pitch + lanes, rounded to lanes
  // Vectors of output pixels run on across output rows (stride 1, rows
  // narrower than a vector, where pitch < RoundUp(OW, lanes)); else each
  // output row starts its own vectors.
  bool flat = false;
};

// The block of `rows_out` output rows (estimates in double: only a valid
// size is returned by the functions below).
inline double PixelLanesBlockFloats(const ConvGeometry& g, int64_t lanes, double rows_out) {
  const double pitch = static_cast<double>(g.w) + static_cast<double>(g.pl) +
                       static_cast<double>(g.pr);
  const double rows_in = (rows_out - 1.0) * static_cast<double>(g.sh) +
                         static_cast<double>(g.kh - 1) * static_cast<double>(g.dh) + 1.0;
  return static_cast<double>(g.cin) * (rows_in * pitch + 2.0 * static_cast<double>(lanes));
}

// Most lanes of any target (SVE's 2048-bit vectors), for the bound below.
constexpr int64_t kPixelLanesMaxLanes = 64;

// NHWC, one group, horizontal stride 1, one output row's block within
// kPixelLanesMaxBytes.
inline bool PixelLanesApplies(const ConvGeometry& g) {
  return !g.nchw && g.groups == 1 && g.sw == 1 && g.oh >= 1 && g.ow >= 1 &&
         PixelLanesBlockFloats(g, kPixelLanesMaxLanes, 1.0) * 4.0 <=
             static_cast<double>(kPixelLanesMaxBytes);
}

// The block for rows_out output rows (PixelLanesApplies holds).
inline PixelLanesBlock PixelLanesBlockOf(const ConvGeometry& g, int64_t lanes,
                                         int64_t rows_out) {
  PixelLanesBlock b;
  b.pitch = g.w + g.pl + g.pr;
  b.rows_out = rows_out;
  b.rows_in = (rows_out - 1) * g.sh + (g.kh - 1) * g.dh + 1;
  b.cs = RoundUp(b.rows_in * b.pitch + lanes, lanes);
  // Channel strides of a multiple of 4 KiB alias in L1.
  if ((b.cs * 4) % 4096 == 0) b.cs += lanes;
  b.flat = g.sh == 1 && b.pitch < RoundUp(g.ow, lanes);
  return b;
}

// Output channels per weight panel (tile rows): at most the target's MR,
// the panels of equal height (17 channels as 9 + 8, not 14 + 3, whose
// 3 x NV accumulators would not cover the FMA latency).
inline int64_t PixelLanesPanelRows(const ConvGeometry& g, int64_t mr) {
  return DivCeil(g.cout, DivCeil(g.cout, mr));
}

// Output rows per block: the transposed block in half of L2 (at least one
// row, at most the image's).
inline int64_t PixelLanesRowsOut(const ConvGeometry& g, int64_t lanes, int64_t l2) {
  int64_t rows = 1;
  while (rows < g.oh &&
         PixelLanesBlockFloats(g, lanes, static_cast<double>(rows + 1)) * 4.0 <=
             static_cast<double>(l2) / 2.0) {
    ++rows;
  }
  return rows;
}

inline int64_t PixelLanesWorkspaceBytes(const ConvGeometry& g, int64_t lanes, int64_t rows_out) {
  const PixelLanesBlock b = PixelLanesBlockOf(g, lanes, rows_out);
  return RoundUp(g.cin * b.cs * 4, 64) + RoundUp(g.taps * 8, 64);
}

}  // namespace convkit

#endif  // CONVKIT_LIB_CONV_PIXEL_LANES_H_
