// Sizes derived once from a validated descriptor and shared by the planner,
// the packers and the kernels. Everything is int64 (element counts); the
// validator has already checked that every product below fits, and that
// each padded extent (in + pads) is at most kMaxExtent, so coordinates
// (o * stride + tap * dilation - pad) and their sums stay far from overflow.
#ifndef CONVKIT_LIB_COMMON_GEOMETRY_H_
#define CONVKIT_LIB_COMMON_GEOMETRY_H_

#include <algorithm>
#include <cstdint>

#include "convkit/convkit.h"

namespace convkit {

// Largest padded input extent (in + pad_a + pad_b) per spatial axis: 2^60.
constexpr int64_t kMaxExtent = int64_t{1} << 60;

struct ConvGeometry {
  // Descriptor fields, copied.
  int64_t n = 0, h = 0, w = 0, cin = 0, cout = 0;
  int64_t kh = 0, kw = 0, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pb = 0, pl = 0, pr = 0;
  int64_t groups = 1;
  bool has_bias = false;
  bool nchw = false;  // activations NCHW (else NHWC)
  // NHWC pixel strides in floats (the descriptor's, 0 resolved to cin and
  // cout): every pixel address is a multiple of these, never of cin/cout.
  int64_t xs = 0, ys = 0;
  // Derived.
  int64_t oh = 0, ow = 0;  // output height and width
  int64_t cg = 0;          // input channels per group (Cin / G)
  int64_t ng = 0;          // output channels per group: the GEMM's N
  int64_t m = 0;           // output pixels: the GEMM's M (= n * oh * ow)
  int64_t k = 0;           // the GEMM's K (= kh * kw * cg)
  int64_t taps = 0;        // kh * kw
};

// desc must be valid (Validate() returned OK).
inline ConvGeometry MakeGeometry(const Conv2dDesc& d) {
  ConvGeometry g;
  g.n = d.batch;
  g.h = d.in_h;
  g.w = d.in_w;
  g.cin = d.in_channels;
  g.cout = d.out_channels;
  g.kh = d.kernel_h;
  g.kw = d.kernel_w;
  g.sh = d.stride_h;
  g.sw = d.stride_w;
  g.dh = d.dilation_h;
  g.dw = d.dilation_w;
  g.pt = d.pad_top;
  g.pb = d.pad_bottom;
  g.pl = d.pad_left;
  g.pr = d.pad_right;
  g.groups = d.groups;
  g.has_bias = d.has_bias;
  g.nchw = d.layout == Layout::kNchw;
  g.xs = d.in_pixel_stride != 0 ? d.in_pixel_stride : d.in_channels;
  g.ys = d.out_pixel_stride != 0 ? d.out_pixel_stride : d.out_channels;
  g.oh = (g.h + g.pt + g.pb - ((g.kh - 1) * g.dh + 1)) / g.sh + 1;
  g.ow = (g.w + g.pl + g.pr - ((g.kw - 1) * g.dw + 1)) / g.sw + 1;
  // A dilation with one tap and a stride with one output never move a
  // coordinate, so the kernels' coordinate arithmetic need never meet a
  // caller's INT64_MAX (tap * dilation, (pad + stride - 1) / stride): a
  // one-tap dilation becomes 1, and a one-output stride larger than the
  // padded extent (Validate bounds it by 2^60) becomes that extent + 1.
  // Not 1: with stride 1 the kernels may assume an output row as long as
  // the input row (the 1x1 direct GEMM reads A as the input itself).
  if (g.kh == 1) g.dh = 1;
  if (g.kw == 1) g.dw = 1;
  if (g.oh == 1 && g.sh > g.h + g.pt + g.pb) g.sh = g.h + g.pt + g.pb + 1;
  if (g.ow == 1 && g.sw > g.w + g.pl + g.pr) g.sw = g.w + g.pl + g.pr + 1;
  g.cg = g.cin / g.groups;
  g.ng = g.cout / g.groups;
  g.m = g.n * g.oh * g.ow;
  g.taps = g.kh * g.kw;
  g.k = g.taps * g.cg;
  return g;
}

// A walk over GEMM rows (output pixels m = (n, oh, ow)) from row m: the
// packers take a tile's rows one after another.
struct PixelWalk {
  int64_t n, oh, ow;
  PixelWalk(const ConvGeometry& g, int64_t m)
      : n(m / (g.oh * g.ow)), oh(m % (g.oh * g.ow) / g.ow), ow(m % g.ow) {}
  // Input coordinates of this pixel's tap (0, 0).
  int64_t ih0(const ConvGeometry& g) const { return oh * g.sh - g.pt; }
  int64_t iw0(const ConvGeometry& g) const { return ow * g.sw - g.pl; }
  void Next(const ConvGeometry& g) {
    if (++ow == g.ow) {
      ow = 0;
      if (++oh == g.oh) {
        oh = 0;
        ++n;
      }
    }
  }
};

// The taps of one kernel row/column that land inside the input for an output
// coordinate: o * s + t * d - pad in [0, size) for t in [*lo, *hi).
inline void ValidTaps(int64_t o, int64_t s, int64_t d, int64_t pad,
                      int64_t size, int64_t taps, int64_t* lo, int64_t* hi) {
  const int64_t start = o * s - pad;  // input coordinate of tap 0
  // smallest t with start + t*d >= 0 (ceil(-start / d), written so that
  // -start + d cannot overflow)
  int64_t l = start >= 0 ? 0 : (-(start + 1)) / d + 1;
  // largest t with start + t*d <= size - 1, plus one
  int64_t h = start > size - 1 ? 0 : (size - 1 - start) / d + 1;
  if (h > taps) h = taps;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

// Moves a walk over A's columns (column p of a K block, at tap t, channel c
// of that tap) forward by len columns.
inline void AdvanceColumns(const ConvGeometry& geo, int64_t len, int64_t* p, int64_t* t,
                           int64_t* c) {
  *p += len;
  *c += len;
  *t += *c / geo.cg;
  *c %= geo.cg;
}

// RunLength's end of the taps [kw, end) over which every one of `rows` rows
// (any positions) keeps its status, for kernel row offset dy.
inline int64_t RunEndAnyRows(const ConvGeometry& geo, const int64_t* ih0, const int64_t* iw0,
                             int64_t rows, int64_t kw, int64_t dy) {
  int64_t end = geo.kw;
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t ih = ih0[i] + dy;
    if (static_cast<uint64_t>(ih) >= static_cast<uint64_t>(geo.h)) continue;  // row out
    const int64_t iw = iw0[i] + kw;  // column of tap kw
    // The tap where row i's status changes: entering the input from the
    // left, or leaving it on the right (past the right edge it stays out).
    const int64_t change = iw < 0 ? kw - iw : iw < geo.w ? kw + geo.w - iw : geo.kw;
    end = change < end ? change : end;
  }
  return end;
}

// The run of A's columns that starts at tap t, channel c (with `left`
// columns of the K block to go), for `rows` rows of A whose tap (0, 0) lies
// at input (ih0[i], iw0[i]): A row's columns are contiguous in NHWC for one
// tap's channels, and, with one group, no horizontal dilation and dense
// pixels (no pixel stride), across the taps of a kernel row; such a longer
// run spans the taps kw.. over which every row stays wholly inside the input
// or wholly in the padding (so the im2col packer copies or zeroes it at
// once, and the direct GEMM points at it or at the zero row): up to the
// first tap where some row crosses the input's left or right edge. Small
// Cin (3-channel first layers) would otherwise run 3 columns at a time, and
// a tile at the left edge of a 7x7 layer now runs 3 spans per kernel row
// instead of 7 taps.
inline int64_t RunLength(const ConvGeometry& geo, const int64_t* ih0, const int64_t* iw0,
                         int64_t rows, int64_t t, int64_t c, int64_t left) {
  const int64_t kh = t / geo.kw, kw = t % geo.kw;
  const int64_t one_tap = geo.cg - c < left ? geo.cg - c : left;
  if (geo.groups != 1 || geo.dw != 1 || geo.xs != geo.cin || kw + 1 >= geo.kw) return one_tap;
  const int64_t dy = kh * geo.dh;
  int64_t end = geo.kw;  // taps [kw, end) keep every row's status
  const int64_t last = rows - 1;
  if (ih0[0] == ih0[last] && iw0[last] - iw0[0] == last * geo.sw) {
    // Rows of one output row (tiles along it; no wrap, or the columns
    // would not span last * sw): tap kw of row i at column a + i * sw, one
    // input row for all. The status changes first for the last row left of
    // the input (entering it) or the last row inside (leaving it).
    const int64_t ih = ih0[0] + dy;
    const int64_t a = iw0[0] + kw, sw = geo.sw;
    if (static_cast<uint64_t>(ih) < static_cast<uint64_t>(geo.h)) {  // else all out
      if (a < 0) {
        const int64_t i = std::min(last, (-a - 1) / sw);  // last row left of it
        end = std::min(end, kw - (a + i * sw));
      }
      if (a < geo.w) {
        const int64_t i = std::min(last, (geo.w - 1 - a) / sw);  // last row not past it
        if (a + i * sw >= 0) end = std::min(end, kw + geo.w - (a + i * sw));  // inside
      }
    }
  } else {
    end = RunEndAnyRows(geo, ih0, iw0, rows, kw, dy);
  }
  const int64_t span = (end - kw) * geo.cg - c;
  return span > one_tap ? (span < left ? span : left) : one_tap;
}

}  // namespace convkit

#endif  // CONVKIT_LIB_COMMON_GEOMETRY_H_
