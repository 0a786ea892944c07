// The direct GEMM (oneDNN's brgemm convolution, XNNPACK's indirect GEMM): the
// loop nest jc -> pc -> ic -> ir -> jr around the register tile, A never
// copied. Per MC x KC block the task builds, for each MR-row tile, its
// indirection (direct_gemm.h): row pointers into the NHWC input, one set per
// run of contiguous k, padding taps pointing at a zero row; the indirect tile
// (igemm-inl.h) then reads A in place. Re-included once per target.

#if defined(CONVKIT_LIB_CONV_DIRECT_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVKIT_LIB_CONV_DIRECT_GEMM_INL_H_
#undef CONVKIT_LIB_CONV_DIRECT_GEMM_INL_H_
#else
#define CONVKIT_LIB_CONV_DIRECT_GEMM_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <cstring>

#include "hwy/highway.h"
#include "lib/common/geometry.h"
#include "lib/common/threads.h"
#include "lib/conv/direct_gemm.h"
#include "lib/conv/plan.h"
#include "lib/gemm/igemm-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// Runs of one K block [k0, k0 + kc) for rows whose taps all lie inside the
// input: (offset from the row's tap (0, 0) element, length) each, and the
// offset in a border window (BorderWindow) where tiles have them. With one
// group, no horizontal dilation and dense pixels a run is a whole kernel row
// (its taps are adjacent in NHWC); else one tap. Runs are capped at kMaxRun.
HWY_INLINE void BuildInteriorRuns(const ConvGeometry& geo, int64_t k0, int64_t kc,
                                  int64_t* HWY_RESTRICT header) {
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  const int64_t max_runs = MaxRuns(geo, kc);
  int64_t* HWY_RESTRICT off = header + 1;
  int64_t* HWY_RESTRICT len = header + 1 + max_runs;
  int64_t* HWY_RESTRICT window_off = header + 2 + 2 * max_runs;
  const int64_t pitch = BorderWindowOf(geo, kMR).pitch;
  const bool merge_kw = geo.groups == 1 && geo.dw == 1 && geo.xs == geo.cin;
  int64_t runs = 0, p = 0, t = k0 / geo.cg, c = k0 % geo.cg;
  while (p < kc) {
    const int64_t kh = t / geo.kw, kw = t % geo.kw;
    const int64_t span = merge_kw ? (geo.kw - kw) * geo.cg - c : geo.cg - c;
    const int64_t l = std::min(std::min(span, kc - p), kMaxRun);
    off[runs] = (kh * geo.dh * geo.w + kw * geo.dw) * geo.xs + c;
    window_off[runs] = (kh * geo.dh * pitch + kw * geo.dw) * geo.xs + c;
    len[runs] = l;
    ++runs;
    AdvanceColumns(geo, l, &p, &t, &c);
  }
  header[0] = runs;
  header[1 + 2 * max_runs] = 0;
}

// An interior tile's A: one pointer set (its rows' first taps, at rows),
// the K block's run list from the header; row_step when the rows are evenly
// spaced (IgemmA), else 0.
HWY_INLINE void SetInteriorA(const float* const* rows, const int64_t* header,
                             int64_t max_runs, int64_t row_step, IgemmA* a) {
  a->rows = rows;
  a->row_stride = 0;
  a->off = header + 1;
  a->off_stride = 1;
  a->len = header + 1 + max_runs;
  a->runs = header[0];
  a->b_off = nullptr;
  a->skip = nullptr;
  a->row_step = row_step;
}

// Fills one border window (BorderWindow) for an output row whose first
// row (of the tile) has its tap (0, 0) at input (ih0, iw0) of image `img`:
// window row kh * dh, pixel j holds input (ih0 + kh * dh, iw0 + j), zero
// outside the input. Rows between dilated kernel rows are never read and
// stay unwritten.
HWY_INLINE void FillBorderWindow(const ConvGeometry& geo, const BorderWindow& win,
                                 const float* HWY_RESTRICT img, int64_t ih0, int64_t iw0,
                                 float* HWY_RESTRICT w) {
  const int64_t xs = geo.xs, pitch = win.pitch;
  // Window pixels [j0, j1) lie inside the input.
  const int64_t j0 = std::min(pitch, std::max<int64_t>(0, -iw0));
  const int64_t j1 = std::max(j0, std::min(pitch, geo.w - iw0));
  const size_t f = sizeof(float);
  for (int64_t kh = 0; kh < geo.kh; ++kh) {
    const int64_t ih = ih0 + kh * geo.dh;
    float* HWY_RESTRICT dst = w + kh * geo.dh * pitch * xs;
    if (static_cast<uint64_t>(ih) >= static_cast<uint64_t>(geo.h) || j1 == j0) {
      std::memset(dst, 0, static_cast<size_t>(pitch * xs) * f);
      continue;
    }
    std::memset(dst, 0, static_cast<size_t>(j0 * xs) * f);
    std::memcpy(dst + j0 * xs, img + (ih * geo.w + iw0 + j0) * xs,
                static_cast<size_t>((j1 - j0) * xs) * f);
    std::memset(dst + j1 * xs, 0, static_cast<size_t>((pitch - j1) * xs) * f);
  }
}

// Shortest run whose border rows a tile leaves out (IgemmA::skip): a row
// saves about len cycles, a mispredicted switch of loops costs ~20.
constexpr int64_t kMinSkipRun = 32;

// A[m = (n, oh, ow)][k = (kh, kw, c)]
//     = x[n][oh*sh + kh*dh - pt][ow*sw + kw*dw - pl][g*Cg + c], 0 outside.
// Writes the indirection of rows [m0, m0 + mc) and columns [k0, k0 + kc) of
// group g's A in tiles of tr <= MR rows (layout in direct_gemm.h, for
// DivCeil(mc, tr) tiles; pointer sets stay MR wide, rows past tr at the
// zero row; its interior run list must be built). A tile whose rows all
// have every tap inside the input only records its rows' first taps.
// Elsewhere a run is one tap's channels, or, with one group and no
// horizontal dilation, the channels of adjacent taps of one kernel row,
// which are contiguous in NHWC, as far as every row of the tile stays
// wholly inside the input or wholly in the padding (RunLength; first layers
// with 3 input channels would otherwise run 3 k at a time). Padding points
// at the zero row, and so do rows past mc (never stored). With skip_padding
// (every weight finite), a run whose rows all read the padding is left out
// and the runs kept name their B rows (b_off), and a run of kMinSkipRun or
// more whose only rows in the padding are the first and/or the last marks
// them (IgemmA::skip): their products are zeros, which change no sum (at
// most a zero's sign; a non-finite weight must still turn them into NaN,
// nonfinite_test.cc). A tile along the top or bottom output row of a 3x3
// layer skips a third of its work, one at the left or right edge a ninth
// of its first or last row's. Layers with border windows (BorderWindow,
// few input channels) give every such tile windows instead: one pointer
// set into them, the padding's zeros multiplied.
HWY_INLINE void BuildIndirection(const ConvGeometry& geo, const float* HWY_RESTRICT x,
                                 int64_t g, int64_t m0, int64_t mc, int64_t k0,
                                 int64_t kc, bool skip_padding, int64_t tr, void* ws) {
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  const int64_t max_runs = MaxRuns(geo, kc);
  const int64_t tiles = DivCeil(mc, tr);
  const DirectLayout layout = LayoutOf(ws, geo, kMR, tiles * kMR, kc);
  const int64_t* HWY_RESTRICT header = layout.header;
  // Locals: the stores below would otherwise make the compiler reload geo.
  const int64_t H = geo.h, W = geo.w, xs = geo.xs, OW = geo.ow, OH = geo.oh;
  const int64_t sh = geo.sh, sw = geo.sw, pt = geo.pt, pl = geo.pl;
  const int64_t image = H * W * xs;
  const BorderWindow window = BorderWindowOf(geo, kMR);
  // Interior: taps all inside, for output rows [oh_in0, oh_in1) and columns
  // [ow_in0, ow_in1).
  const int64_t span_h = (geo.kh - 1) * geo.dh, span_w = (geo.kw - 1) * geo.dw;
  const int64_t oh_in0 = DivCeil(pt, sh), ow_in0 = DivCeil(pl, sw);
  const int64_t oh_in1 = H - 1 - span_h + pt < 0 ? 0 : (H - 1 - span_h + pt) / sh + 1;
  const int64_t ow_in1 = W - 1 - span_w + pl < 0 ? 0 : (W - 1 - span_w + pl) / sw + 1;

  // 1x1, stride 1, unpadded: A is the input itself, row m at x + m * xs,
  // every tile interior.
  if (geo.taps == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && geo.pb == 0 && geo.pr == 0) {
    for (int64_t tile = 0; tile < tiles; ++tile) {
      const float** HWY_RESTRICT tile_ptr = layout.ptrs + tile * max_runs * kMR;
      const float* row0 = x + (m0 + tile * tr) * xs + g * geo.cg;
      tile_ptr[0] = row0;  // rows[i] = rows[0] + i * xs (row_step)
      SetInteriorA(tile_ptr, header, max_runs, xs, &layout.tiles[tile]);
    }
    return;
  }

  // Output coordinates of the first row, then advanced incrementally.
  int64_t n = m0 / (OH * OW);
  int64_t oh = (m0 % (OH * OW)) / OW;
  int64_t ow = m0 % OW;
  const float* img = x + n * image + g * geo.cg;  // image n, channel g*Cg
  bool row_in = oh >= oh_in0 && oh < oh_in1;

  // Every tap of every output inside the input (unpadded layers): tiles
  // across output rows need no test per row, only each row's first tap
  // (the notebook's 4x8x8x3 layer, 6-pixel rows in 14-row tiles, spent a
  // quarter of its 1.1 us in the general loop below).
  if (oh_in0 == 0 && oh_in1 == OH && ow_in0 == 0 && ow_in1 == OW) {
    const int64_t pixel = sw * xs, line = sh * W * xs;
    // (No top or left padding here: oh_in0 = ow_in0 = 0.)
    const float* tap0 = img + oh * line + ow * pixel;
    for (int64_t tile = 0; tile < tiles; ++tile) {
      const int64_t rows = std::min(tr, mc - tile * tr);
      const float** HWY_RESTRICT tile_ptr = layout.ptrs + tile * max_runs * kMR;
      IgemmA& a = layout.tiles[tile];
      // All rows in one output row: rows[i] = rows[0] + i * sw * xs.
      const bool one_row = ow + rows <= OW;
      for (int64_t i = 0; i < rows; ++i) {
        tile_ptr[i] = tap0;
        tap0 += pixel;
        if (++ow == OW) {
          ow = 0;
          if (++oh == OH) {
            oh = 0;
            img += image;
          }
          tap0 = img + oh * line;
        }
      }
      for (int64_t i = rows; i < kMR; ++i) tile_ptr[i] = kZeroRow;
      SetInteriorA(tile_ptr, header, max_runs, one_row ? pixel : 0, &a);
    }
    return;
  }

  const float* row_base[kMR];
  int64_t ih0[kMR], iw0[kMR];  // input coordinates of tap (0, 0)

  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t rows = std::min(tr, mc - tile * tr);
    int64_t* HWY_RESTRICT tile_len = layout.lens + tile * max_runs;
    int64_t* HWY_RESTRICT tile_b_off = layout.b_offs + tile * max_runs;
    int64_t* HWY_RESTRICT tile_skip = layout.skips + tile * max_runs;
    const float** HWY_RESTRICT tile_ptr = layout.ptrs + tile * max_runs * kMR;
    IgemmA& a = layout.tiles[tile];
    a.rows = tile_ptr;
    // Most tiles of large images: all rows in one output row, all interior;
    // their first taps are sw * xs apart.
    if (row_in && ow >= ow_in0 && ow + rows <= ow_in1) {
      const float* tap0 = img + ((oh * sh - pt) * W + (ow * sw - pl)) * xs;
      tile_ptr[0] = tap0;  // rows[i] = rows[0] + i * sw * xs (row_step)
      SetInteriorA(tile_ptr, header, max_runs, sw * xs, &a);
      ow += rows;
      if (ow == OW) {
        ow = 0;
        if (++oh == OH) {
          oh = 0;
          img += image;
        }
        row_in = oh >= oh_in0 && oh < oh_in1;
      }
      continue;
    }
    bool interior_tile = true;
    for (int64_t i = 0; i < rows; ++i) {
      row_base[i] = img;
      ih0[i] = oh * sh - pt;
      iw0[i] = ow * sw - pl;
      interior_tile &= row_in & (ow >= ow_in0) & (ow < ow_in1);
      if (++ow == OW) {
        ow = 0;
        if (++oh == OH) {
          oh = 0;
          img += image;
        }
        row_in = oh >= oh_in0 && oh < oh_in1;
      }
    }
    if (interior_tile) {  // one pointer set, the block's runs
      for (int64_t i = 0; i < kMR; ++i) {
        tile_ptr[i] = i < rows ? row_base[i] + (ih0[i] * W + iw0[i]) * xs : kZeroRow;
      }
      SetInteriorA(tile_ptr, header, max_runs, 0, &a);
      continue;
    }
    if (window.per_tile > 0) {
      // Border windows: one per output row among the tile's rows (rows of
      // one output row share image and input row), then the block's runs
      // at their window offsets.
      float* HWY_RESTRICT w = layout.windows + tile * window.per_tile;
      int64_t i = 0;
      while (i < rows) {
        int64_t j = i + 1;
        while (j < rows && row_base[j] == row_base[i] && ih0[j] == ih0[i]) ++j;
        FillBorderWindow(geo, window, row_base[i], ih0[i], iw0[i], w);
        for (int64_t r = i; r < j; ++r) tile_ptr[r] = w + (r - i) * sw * xs;
        w += window.size;
        i = j;
      }
      for (int64_t r = rows; r < kMR; ++r) tile_ptr[r] = kZeroRow;  // never read
      const bool one_row = row_base[0] == row_base[rows - 1] && ih0[0] == ih0[rows - 1];
      SetInteriorA(tile_ptr, header, max_runs, one_row ? sw * xs : 0, &a);
      a.off = header + 2 + 2 * max_runs;
      continue;
    }
    int64_t runs = 0;
    int64_t p = 0;
    int64_t t = k0 / geo.cg;
    int64_t c = k0 % geo.cg;
    bool left_out = false, skips = false;
    while (p < kc) {
      const int64_t dy = t / geo.kw * geo.dh;
      const int64_t dx = t % geo.kw * geo.dw;
      int64_t len = RunLength(geo, ih0, iw0, rows, t, c, kc - p);
      len = std::min(len, kMaxRun);
      const float** HWY_RESTRICT run_ptr = tile_ptr + runs * kMR;
      int64_t inside_rows = 0;
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t ih = ih0[i] + dy;
        const int64_t iw = iw0[i] + dx;
        const bool inside = static_cast<uint64_t>(ih) < static_cast<uint64_t>(H) &&
                            static_cast<uint64_t>(iw) < static_cast<uint64_t>(W);
        run_ptr[i] = inside ? row_base[i] + (ih * W + iw) * xs + c : kZeroRow;
        inside_rows += inside;
      }
      if (skip_padding && inside_rows == 0) {  // every row reads zeros: leave it out
        left_out = true;
      } else {
        for (int64_t i = rows; i < kMR; ++i) run_ptr[i] = kZeroRow;
        tile_len[runs] = len;
        tile_b_off[runs] = p;
        // Only the first and/or the last row in the padding (left or right
        // border, rows >= 3): the tile may leave their FMAs out, where the
        // run is long enough to repay a switch of loops (first layers' runs
        // of 3 channels measured 10% slower with it).
        const bool first_out = run_ptr[0] == kZeroRow, last_out = run_ptr[rows - 1] == kZeroRow;
        const bool middle_in = inside_rows + first_out + last_out == rows;
        tile_skip[runs] = skip_padding && rows >= 3 && middle_in && len >= kMinSkipRun
                              ? (first_out ? 1 : 0) + (last_out ? 16 : 0)
                              : kSkipNone;
        skips |= tile_skip[runs] != kSkipNone;
        ++runs;
      }
      AdvanceColumns(geo, len, &p, &t, &c);
    }
    a.row_stride = kMR;
    a.off = header + 1 + 2 * max_runs;  // 0
    a.off_stride = 0;
    a.len = tile_len;
    a.runs = runs;
    a.b_off = left_out ? tile_b_off : nullptr;
    a.skip = skips ? tile_skip : nullptr;
    a.row_step = 0;
  }
}

// One task: group g, rows [m0, m1), columns [n0, n1) of the GEMM, A read
// from x with geometry ageo as its group a_group (the input itself, or a
// group slice).
inline HWY_NOINLINE void DirectGemmTaskOn(const Plan& plan, const ConvGeometry& ageo,
                                          const Task& task, const float* x, int64_t a_group,
                                          float* y, void* ws) {
  const ConvGeometry& geo = plan.geo;
  const Blocking& blk = plan.blocks;
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  const int64_t nr = plan.kernels->gemm.nr;
  const int64_t K = geo.k;
  const int64_t tr = blk.mr > 0 ? blk.mr : kMR;  // rows per tile
  for (int64_t jc = task.n0; jc < task.n1; jc += blk.nc) {
    const int64_t jc_end = std::min(jc + blk.nc, task.n1);
    for (int64_t pc = 0; pc < K; pc += blk.kc) {
      const int64_t kc = std::min(blk.kc, K - pc);
      BuildInteriorRuns(ageo, pc, kc, static_cast<int64_t*>(ws));
      // The weights of the next (jc, pc) block, which the last M block
      // prefetches into L2 (BlockHints::prefetch_b), when no other thread
      // of the call streams its own.
      NextB next;
      if (blk.hints.prefetch_b && TeamSize() == 1) {
        int64_t jn = jc, pn = pc + kc;
        if (pn >= K) {
          jn = jc_end;
          pn = 0;
        }
        if (jn < task.n1) {
          next.base = plan.weights + ((task.g * plan.b_panels + jn / nr) * K + pn) * nr;
          next.panels = DivCeil(std::min(jn + blk.nc, task.n1) - jn, nr);
          next.floats = std::min(blk.kc, K - pn) * nr;
          next.stride = K * nr;
        }
      }
      for (int64_t ic = task.m0; ic < task.m1; ic += blk.mc) {
        const int64_t mc = std::min(blk.mc, task.m1 - ic);
        const int64_t tiles = DivCeil(mc, tr);
        BuildIndirection(ageo, x, a_group, ic, mc, pc, kc, !plan.nonfinite_weights, tr, ws);
        const IgemmA* a = LayoutOf(ws, ageo, kMR, tiles * kMR, kc).tiles;
        // ir outer, jr inner (IgemmBlock): the B block (KC x NC) is sized to
        // stay in L2, each tile's A in L1 across the panels, and rows of C
        // are written whole (measured 5-25% faster than jr outer here, most
        // on layers with small K, whose time goes to storing C).
        const int64_t panel = task.g * plan.b_panels + jc / nr;
        const int64_t panels = DivCeil(jc_end - jc, nr);
        IgemmBlock(a, tiles, tr, mc - (tiles - 1) * tr, plan.weights + (panel * K + pc) * nr,
                   K * nr, panels, jc_end - jc - (panels - 1) * nr,
                   y + ic * geo.ys + task.g * geo.ng + jc, geo.ys,
                   BlockOps(plan, plan.bias != nullptr ? plan.bias + panel * nr : nullptr,
                            pc, kc),
                   blk.hints, ic + blk.mc >= task.m1 && next.base != nullptr ? &next : nullptr);
      }
    }
  }
}

// Pixels ahead that FillGroupSlice hints into L2 (their lines lie xs
// floats apart, which the hardware prefetchers followed less well: ResNeXt's
// 56x56 512 -> 512 3% slower without).
constexpr int64_t kSlicePrefetch = 8;

// Group g's slice (GroupSliceGeometry: geometry s, n x s.h x s.w pixels of
// cg floats) from the input x (geometry geo), zeros in the padding.
HWY_INLINE void FillGroupSlice(const ConvGeometry& geo, const ConvGeometry& s,
                               const float* HWY_RESTRICT x, int64_t g,
                               float* HWY_RESTRICT slice) {
  const int64_t cg = geo.cg, row = s.w * cg;
  const size_t f = sizeof(float);
  const hn::ScalableTag<float> df;
  const int64_t L = static_cast<int64_t>(hn::Lanes(df));
  for (int64_t n = 0; n < geo.n; ++n) {
    for (int64_t r = 0; r < s.h; ++r) {
      float* HWY_RESTRICT dst = slice + (n * s.h + r) * row;
      const int64_t ih = r - geo.pt;
      if (ih < 0 || ih >= geo.h) {
        std::memset(dst, 0, static_cast<size_t>(row) * f);
        continue;
      }
      std::memset(dst, 0, static_cast<size_t>(geo.pl * cg) * f);
      const float* HWY_RESTRICT src = x + (n * geo.h + ih) * geo.w * geo.xs + g * cg;
      float* HWY_RESTRICT d = dst + geo.pl * cg;
      for (int64_t iw = 0; iw < geo.w; ++iw) {
        const float* HWY_RESTRICT sp = src + iw * geo.xs;
        if (iw + kSlicePrefetch < geo.w) {
          PrefetchLinesToL2(sp + kSlicePrefetch * geo.xs, 0, DivCeil(cg, 16));
        }
        float* HWY_RESTRICT dp = d + iw * cg;
        int64_t c = 0;
        for (; c + L <= cg; c += L) hn::StoreU(hn::LoadU(df, sp + c), df, dp + c);
        if (c < cg) {
          const size_t rest = static_cast<size_t>(cg - c);
          StoreTail(df, LoadTail(df, sp + c, rest), dp + c, rest);
        }
      }
      std::memset(dst + (geo.pl + geo.w) * cg, 0, static_cast<size_t>(geo.pr * cg) * f);
    }
  }
}

inline HWY_NOINLINE void DirectGemmTask(const Plan& plan, const Task& task, const float* x,
                                        float* y, void* ws) {
  // Group slices (Blocking::group_slices): the task's A is its group's
  // dense padded copy at the start of the workspace, read as group 0 of
  // the slice geometry; weights, bias and output stay the group's.
  ConvGeometry slice;
  if (plan.blocks.group_slices && GroupSliceGeometry(plan.geo, &slice)) {
    float* s = static_cast<float*>(ws);
    FillGroupSlice(plan.geo, slice, x, task.g, s);
    DirectGemmTaskOn(plan, slice, task, s, 0, y, static_cast<char*>(ws) + GroupSliceBytes(slice));
  } else {
    DirectGemmTaskOn(plan, plan.geo, task, x, task.g, y, ws);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_CONV_DIRECT_GEMM_INL_H_
