// The direct GEMM's per-thread workspace (no SIMD; shared by planning and
// direct_gemm-inl.h): for one MC x KC block, each MR-row tile's A as the
// indirect tile reads it (IgemmA, lib/gemm/tile.h: runs of contiguous k and
// row pointers), after the run list of interior tiles (every tap inside the
// input), which depends only on the K block. With R = MaxRuns(geo, kc) and
// T tiles, from ws:
//
//   int64 [0]                    interior runs count
//   int64 [1 + r], [1 + R + r]   interior run r: offset from the row's tap
//                                (0, 0) element, and length
//   int64 [1 + 2R]               0 (offset of tiles with a pointer set per run)
//   int64 [2 + 2R + r]           run r's offset in a border window (below)
//   IgemmA [T]                   each tile's A
//   int64 [T][R]                 run lengths of tiles that touch the padding
//   int64 [T][R]                 their runs' first B rows in the K block
//                                (runs wholly in the padding are left out)
//   int64 [T][R]                 their runs' rows to skip (IgemmA::skip)
//   const float* [T][R][MR]      their row pointers per run (interior
//                                tiles: [t][0][i] = row i's tap (0, 0))
//   float [T][window floats]     each tile's border windows (BorderWindow)
#ifndef CONVKIT_LIB_CONV_DIRECT_GEMM_H_
#define CONVKIT_LIB_CONV_DIRECT_GEMM_H_

#include <algorithm>
#include <cstdint>

#include "lib/common/checked.h"
#include "lib/common/geometry.h"
#include "lib/gemm/tile.h"

namespace convkit {

// Longest run: longer runs of channels are split (so the zero row below
// covers any run).
constexpr int64_t kMaxRun = 1024;

// Runs of one tile within a K block of depth kc: each run is (part of) one
// tap or one kernel row, a block of kc columns touches at most kc + 1 taps,
// and runs split at kMaxRun add at most kc / kMaxRun.
inline int64_t MaxRuns(const ConvGeometry& geo, int64_t kc) {
  return std::min(geo.taps, kc) + 1 + kc / kMaxRun;
}

// Border windows. A tile that touches the padding and whose runs would be
// short (few input channels: first layers) reads, instead of the input, a
// zero-padded copy of the input its rows cover: per output row among its
// rows, the kernel's input rows over the columns of up to mr rows, `pitch`
// pixels wide. Its rows are then evenly spaced (or at least share their
// runs), its runs whole kernel rows at offsets from the window's rows, as
// for an interior tile: no pointer set per run, no run cut at the edge of
// the input. A 7x7 layer with one input channel ran its border tiles in 28
// runs of 1 to 4 floats, each loading 14 pointers (128x1024 padded ran at
// 160 GFLOP/s, unpadded at 186); a window costs a copy of
// kh x pitch pixels. Only with one group and dense pixels (a window's pixel
// is cin floats), fewer than kWindowMaxCin channels and at most
// kWindowMaxBytes per tile; else per_tile = 0 and no tile has windows.
// With windows, ResNet-50's 7x7 first layer took 7% less time, VGG's 3x3
// 3 -> 64 7%, MobileNetV2's 3x3 s2 5%, CosmicTagger's 9%; 3x3 layers with
// 8 and 16 channels 4-10% less, 24 the same, and 32 to 128 channels 4-11%
// more (their runs are long enough; the copies are not free).
constexpr int64_t kWindowMaxCin = 32;
constexpr int64_t kWindowMaxBytes = 16 * 1024;
struct BorderWindow {
  int64_t pitch = 0;     // pixels per window row: (mr - 1) * sw + (kw - 1) * dw + 1
  int64_t size = 0;      // floats per window: ((kh - 1) * dh + 1) rows x pitch x cin
  int64_t per_tile = 0;  // floats per tile: windows for every output row it may touch
};
inline BorderWindow BorderWindowOf(const ConvGeometry& geo, int64_t mr) {
  BorderWindow w;
  const bool padded = geo.pt > 0 || geo.pb > 0 || geo.pl > 0 || geo.pr > 0;
  if (!padded || geo.groups != 1 || geo.xs != geo.cin || geo.cin >= kWindowMaxCin ||
      geo.ow < 1) {
    return w;
  }
  // Estimates in double (extreme valid strides overflow int64); the sizes
  // used are then small.
  const double pitch = static_cast<double>(mr - 1) * static_cast<double>(geo.sw) +
                       static_cast<double>(geo.kw - 1) * static_cast<double>(geo.dw) + 1.0;
  const double size = (static_cast<double>(geo.kh - 1) * static_cast<double>(geo.dh) + 1.0) *
                      pitch * static_cast<double>(geo.cin);
  // mr consecutive pixels span at most this many output rows.
  const int64_t rows = std::min(mr, DivCeil(mr - 1, geo.ow) + 1);
  const double bytes = size * static_cast<double>(rows) * static_cast<double>(sizeof(float));
  if (bytes > static_cast<double>(kWindowMaxBytes)) return w;
  w.pitch = static_cast<int64_t>(pitch);
  w.size = static_cast<int64_t>(size);
  w.per_tile = w.size * rows;
  return w;
}

inline int64_t DirectWorkspaceBytes(const ConvGeometry& geo, int64_t mr, int64_t mc,
                                    int64_t kc) {
  const int64_t tiles = DivCeil(mc, mr);
  const int64_t runs = MaxRuns(geo, kc);
  return (2 + 3 * runs) * 8 + tiles * static_cast<int64_t>(sizeof(IgemmA)) +
         tiles * (3 * runs + runs * mr) * 8 +
         tiles * BorderWindowOf(geo, mr).per_tile * static_cast<int64_t>(sizeof(float));
}

// The parts of the workspace above.
struct DirectLayout {
  int64_t* header;
  IgemmA* tiles;
  int64_t* lens;
  int64_t* b_offs;
  int64_t* skips;
  const float** ptrs;
  float* windows;
};
inline DirectLayout LayoutOf(void* ws, const ConvGeometry& geo, int64_t mr, int64_t mc,
                             int64_t kc) {
  const int64_t runs = MaxRuns(geo, kc);
  const int64_t tiles = DivCeil(mc, mr);
  DirectLayout l;
  l.header = static_cast<int64_t*>(ws);
  l.tiles = reinterpret_cast<IgemmA*>(l.header + 2 + 3 * runs);
  l.lens = reinterpret_cast<int64_t*>(l.tiles + tiles);
  l.b_offs = l.lens + tiles * runs;
  l.skips = l.b_offs + tiles * runs;
  l.ptrs = reinterpret_cast<const float**>(l.skips + tiles * runs);
  l.windows = reinterpret_cast<float*>(l.ptrs + tiles * runs * mr);
  return l;
}

// Group slices (Blocking::group_slices). A grouped layer's A reads, per
// pixel and tap, the group's cg channels: with cg = 16, one 64-byte line
// per pixel, pixels xs floats apart. Where xs * 4 bytes is a multiple of
// the L1d way size (512 or 1024 channels), a tile's input rows share a few
// L1d sets and keep missing; and every tile along the padding builds its
// own run list (a tile per output row on 14x14: all of them), per group.
// A task instead copies its group's channels into a dense image padded
// with zeros, cg floats per pixel: every tile is then interior, its rows
// evenly spaced, and the taps of a kernel row one run (no horizontal
// dilation). Measured on AVX-512, one thread, as one dense layer per group:
// ResNeXt's 56x56 512 -> 512 (32 groups of 16) 3.6 ms grouped against
// 32 x 0.062 dense, 56x56 256 -> 256 (groups of 8) 1.8 against 32 x 0.027,
// 28x28 1024 -> 1024 (groups of 32) 2.4 against 32 x 0.057, 14x14 1024 ->
// 1024 (64 groups of 16) 0.54 against 64 x 0.0053; 14x14 2048 -> 2048
// (groups of 64) 1.87 against 32 x 0.055, no gain, so only up to
// kSliceMaxCg channels per group. The copy is n x (h + pt + pb) x (w + pl
// + pr) x cg floats per task, at most kSliceMaxBytes (else no slices).
// Strided layers copy 4 input pixels per output: on AVX-512 (tiles of 14
// rows) with groups of 16 and fewer they still gained (56x56 512 -> 512
// stride 2, 1.09 -> 0.70 ms; 256 -> 256 0.52 -> 0.46), with 32 they did
// not (56x56 1024 -> 1024 stride 2 6-9% slower, 28x28 even); on AVX2
// (tiles of 6 rows) stride 2 ran 4-13% slower, where stride 1 gained
// 7-14% (groups of 8 and 16 on 28x28 and 14x14; 56x56 512 -> 512 even).
// So strided layers only with groups of at most kSliceMaxCgStrided and
// tiles of at least kSliceMinRowsStrided rows (DirectBlocking).
constexpr int64_t kSliceMaxCg = 32;
constexpr int64_t kSliceMaxCgStrided = 16;
constexpr int64_t kSliceMinRowsStrided = 8;
constexpr int64_t kSliceMaxBytes = int64_t{2} << 20;

// The geometry of a group's slice: the same convolution over a dense,
// already padded input of cg channels, one group (output side unchanged:
// ng = cout, ys). False where slices do not apply.
inline bool GroupSliceGeometry(const ConvGeometry& geo, ConvGeometry* s) {
  if (geo.groups <= 1 || geo.nchw || geo.cg > kSliceMaxCg || geo.cg == geo.xs) return false;
  const double bytes = static_cast<double>(geo.n) * static_cast<double>(geo.h + geo.pt + geo.pb) *
                       static_cast<double>(geo.w + geo.pl + geo.pr) *
                       static_cast<double>(geo.cg) * static_cast<double>(sizeof(float));
  if (bytes > static_cast<double>(kSliceMaxBytes)) return false;
  *s = geo;
  s->h = geo.h + geo.pt + geo.pb;
  s->w = geo.w + geo.pl + geo.pr;
  s->pt = s->pb = s->pl = s->pr = 0;
  s->cin = geo.cg;
  s->xs = geo.cg;
  s->cout = geo.ng;
  s->groups = 1;
  return true;
}

inline int64_t GroupSliceBytes(const ConvGeometry& s) {
  return RoundUp(s.n * s.h * s.w * s.cin * static_cast<int64_t>(sizeof(float)), 64);
}

// What padding taps point at: as long as any run.
alignas(64) inline constexpr float kZeroRow[kMaxRun] = {};

}  // namespace convkit

#endif  // CONVKIT_LIB_CONV_DIRECT_GEMM_H_
