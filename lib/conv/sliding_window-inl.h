// The sliding-window algorithm: first layers with one to four input channels,
// one group, horizontal stride and dilation 1 (CosmicTagger's 7x7 layer over
// one channel). Included once per target by sliding_window.cc, which
// defines the task the kernel tables point at.
//
// With stride 1, input pixel j of an output row's input row serves outputs
// j - kw for every kernel column kw. The GEMM tiles broadcast A[i][p] once
// per FMA row (Cout = 16 on AVX3 is one vector: one broadcast per FMA, a
// load-bound loop at ~90% of the FMA peak); here a tile of R output pixels
// by one channel vector keeps the KW weight vectors of one (kernel row,
// input channel) in registers and broadcasts each of the R + KW - 1 input
// floats once, for up to KW FMAs:
//
//   for each kernel row kh (inside the input) and channel ci:
//     w[kw] = W[kh][kw][ci][c0 .. c0 + L)                 (KW vector loads)
//     for j in 0 .. R + KW - 2:
//       b = broadcast x[ih][ow0 - pl + j][ci]
//       acc[j - kw] += b * w[kw]   for kw with 0 <= j - kw < R
//
// R = registers - KW - 1 (- 1 without FMA): AVX3 7x7 24 rows, AVX2 8. (At
// 24 rows GCC keeps one accumulator of the 32 zmm on the stack for a few
// FMAs per kernel row; 23 rows spill nothing but ran 1-3% slower, the
// rows' last tiles wasting more.) CosmicTagger's 640x1024 7x7 layer, one
// input channel, 16 outputs, ran at 225 GFLOP/s on Zen 5 against the direct
// GEMM's 182 (its 28 x 1v tile broadcasts once per FMA); 256 columns
// without padding, in L2, at 89% of the FMA peak. Each
// output gets its products in (kh, ci, kw) order, the same whatever the
// tile or thread it falls in. Tiles that reach into the left or right
// padding or past the row's end (a row's last tile, when narrower than R,
// still computes R outputs, into the workspace), or into vertical padding
// with non-finite weights, read a zero-padded copy of their inputs (the
// window); the others read the input in place.
// Vertical padding rows are left out (their products are zeros) unless a
// weight is NaN or infinite, whose product with the padding's zeros is NaN.

#if defined(CONVKIT_LIB_CONV_SLIDING_WINDOW_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVKIT_LIB_CONV_SLIDING_WINDOW_INL_H_
#undef CONVKIT_LIB_CONV_SLIDING_WINDOW_INL_H_
#else
#define CONVKIT_LIB_CONV_SLIDING_WINDOW_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#include "hwy/highway.h"
#include "lib/common/cache.h"
#include "lib/common/geometry.h"
#include "lib/conv/plan.h"
#include "lib/conv/sliding_window.h"
#include "lib/gemm/tile-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// Vector registers, and whether MulAdd needs a temporary (no FMA).
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_ARCH_ARM
constexpr size_t kSwRegs = 32;
#else
constexpr size_t kSwRegs = 16;
#endif
#if HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3 || HWY_TARGET == HWY_SCALAR || \
    HWY_TARGET == HWY_EMU128
constexpr size_t kSwTemps = 2;
#else
constexpr size_t kSwTemps = 1;
#endif

// Output pixels per tile for a kernel width: the rest of the registers
// after KW weights and the broadcast (the tile macros cover 28 rows).
template <size_t kKW>
constexpr size_t SwRows() {
  return std::min<size_t>(28, kSwRegs - kKW - kSwTemps);
}
static_assert(SwRows<static_cast<size_t>(kSwMaxKw)>() >= 1, "registers for the widest kernel");

// Calls f(integral_constant<I>) for I in the sequence, in order.
template <class F, size_t... I>
HWY_INLINE void SwUnroll(F&& f, std::index_sequence<I...>) {
  (f(std::integral_constant<size_t, I>{}), ...);
}

// Row r's initial accumulator when the tile stores only rows r < m.
#define CONVKIT_SW_INIT(r)                                                   \
  if constexpr (kRows > r) {                                                 \
    if (r < m) c##r##_0 = InitAcc(d, c + r * ldc, count[0], bias, ops);      \
  }
#define CONVKIT_SW_STORE(r)                                                  \
  if constexpr (kRows > r) {                                                 \
    if (r < m) StoreTail(d, c##r##_0, c + r * ldc, count[0]);                \
  }

// One tile: outputs c[r][0:n] for r < m <= SwRows<kKW>() (rows ldc apart),
// one vector of channels. For q < rows: xrow[q] + xoff is the input of
// kernel row q at the tile's first input pixel (pixels xs floats apart, 1
// when kUnit, channels adjacent); its weights are w + kh[q] * tap_row, tap
// kw and channel ci at + (kw * cin + ci) * nr. ops as tile.h's (one K
// block: bias or sum, then clamp). Rows r >= m are computed from inputs
// that must be readable (the window) and not stored.
template <size_t kKW, bool kUnit>
HWY_NOINLINE void SlidingWindowTile(const float* const* HWY_RESTRICT xrow, int64_t xoff,
                                    int64_t rows, int64_t cin, int64_t xs,
                                    const float* HWY_RESTRICT w, const int64_t* HWY_RESTRICT kh,
                                    int64_t tap_row, int64_t nr, float* HWY_RESTRICT c,
                                    int64_t ldc, int64_t n, int64_t m, const TileOps& ops) {
  constexpr size_t kRows = SwRows<kKW>();
  constexpr size_t kVecs = 1;
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);
  size_t count[4] = {static_cast<size_t>(n), L, L, L};
  const float* HWY_RESTRICT bias = ops.bias;
  const V zero = hn::Zero(d);
  CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_DECL)
  if (m == static_cast<int64_t>(kRows)) {
    CONVKIT_TILE_INIT_ALL()
  } else {
    CONVKIT_TILE_FOR_ROWS(CONVKIT_SW_INIT)
  }
  // kUnit: one channel, pixels adjacent. (A channel loop around the
  // compile-time offsets let GCC's predictive commoning carry input floats
  // from one channel to the next in registers, spilling the accumulators.)
  if constexpr (kUnit) {
    xs = 1;
    cin = 1;
  }
  const int64_t tap = cin * nr;  // weights of one kernel column

  for (int64_t q = 0; q < rows; ++q) {
    const float* HWY_RESTRICT xq = xrow[q] + xoff;
    const float* HWY_RESTRICT wq = w + kh[q] * tap_row;
    for (int64_t ci = 0; ci < cin; ++ci) {
      const float* HWY_RESTRICT xp = xq + ci;
      const float* HWY_RESTRICT wp = wq + ci * nr;
      const V w0 = hn::LoadU(d, wp);
      const V w1 = kKW > 1 ? hn::LoadU(d, wp + 1 * tap) : zero;
      const V w2 = kKW > 2 ? hn::LoadU(d, wp + 2 * tap) : zero;
      const V w3 = kKW > 3 ? hn::LoadU(d, wp + 3 * tap) : zero;
      const V w4 = kKW > 4 ? hn::LoadU(d, wp + 4 * tap) : zero;
      const V w5 = kKW > 5 ? hn::LoadU(d, wp + 5 * tap) : zero;
      const V w6 = kKW > 6 ? hn::LoadU(d, wp + 6 * tap) : zero;
      static_assert(kKW <= 7, "seven weight vectors");
      // Input float j: one broadcast, the FMAs of outputs j - kw.
      SwUnroll(
          [&](auto jc) HWY_ATTR {
            constexpr size_t j = decltype(jc)::value;
            const V b = hn::Set(d, xp[static_cast<int64_t>(j) * xs]);
            SwUnroll(
                [&](auto kc) HWY_ATTR {
                  constexpr size_t kw = decltype(kc)::value;
                  if constexpr (j >= kw && j - kw < kRows) {
                    constexpr size_t r = j - kw;
                    const V wk = kw == 0 ? w0 : kw == 1 ? w1 : kw == 2 ? w2 : kw == 3 ? w3
                               : kw == 4 ? w4 : kw == 5 ? w5 : w6;
#define CONVKIT_SW_FMA(R) \
  if constexpr (r == R) c##R##_0 = hn::MulAdd(b, wk, c##R##_0);
                    CONVKIT_TILE_FOR_ROWS(CONVKIT_SW_FMA)
#undef CONVKIT_SW_FMA
                  }
                },
                std::make_index_sequence<kKW>());
          },
          std::make_index_sequence<kRows + kKW - 1>());
    }
  }
  if (ops.clamp) {
    const V lo = hn::Set(d, ops.lo), hi = hn::Set(d, ops.hi);
    CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_CLAMP)
  }
  if (m == static_cast<int64_t>(kRows)) {
    CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_STORE)
  } else {
    CONVKIT_TILE_FOR_ROWS(CONVKIT_SW_STORE)
  }
}
#undef CONVKIT_SW_INIT
#undef CONVKIT_SW_STORE

// The rows of one task for kernel width kKW (SlidingWindowTask below).
template <size_t kKW>
HWY_INLINE void SlidingWindowRows(const Plan& plan, const Task& task, const float* x, float* y,
                                  void* ws) {
  const ConvGeometry& geo = plan.geo;
  constexpr int64_t kR = static_cast<int64_t>(SwRows<kKW>());
  constexpr int64_t kSpan = kR + static_cast<int64_t>(kKW) - 1;  // input pixels per tile
  const int64_t L = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  const int64_t nr = plan.kernels->gemm.nr;
  const int64_t H = geo.h, W = geo.w, OH = geo.oh, OW = geo.ow, cin = geo.cin, xs = geo.xs;
  const int64_t tap_row = static_cast<int64_t>(kKW) * cin * nr;  // weights of one kernel row
  const SlidingWindowWorkspace wsl = SlidingWindowLayout(geo, ws);
  const TileOps base_ops = BlockOps(plan, nullptr, 0, geo.k);
  const bool keep_padding = plan.nonfinite_weights;
  // The next tile's outputs (BlockHints::prefetch_c): CosmicTagger's 7x7
  // layer, 42 MB out, took 6.6 ms without the hint and 4.5 with it; two to
  // four tiles ahead measured the same as one.
  const bool prefetch_c = plan.blocks.hints.prefetch_c;
  // Interior tiles read the input in place (dense pixels only: a window's
  // pixels are cin floats apart, and one stride serves both).
  const bool dense = xs == cin;
  const auto tile = dense && cin == 1 ? &SlidingWindowTile<kKW, true>
                                      : &SlidingWindowTile<kKW, false>;
  for (int64_t q = 0; q < geo.kh; ++q) wsl.win_row[q] = wsl.window + q * kSpan * cin;

  for (int64_t row = task.m0; row < task.m1; ++row) {
    const int64_t img = row / OH, oh = row % OH;
    const float* HWY_RESTRICT x_img = x + img * H * W * xs;
    float* HWY_RESTRICT y_row = y + row * OW * geo.ys;
    // Kernel rows this output row reads: those inside the input, or all
    // (zero rows for the padding) with non-finite weights.
    int64_t rows = 0;
    bool padded_rows = false;
    for (int64_t kh = 0; kh < geo.kh; ++kh) {
      const int64_t ih = oh * geo.sh - geo.pt + kh * geo.dh;
      const bool inside = static_cast<uint64_t>(ih) < static_cast<uint64_t>(H);
      if (!inside && !keep_padding) continue;
      wsl.ih[rows] = inside ? ih : -1;
      wsl.kh[rows] = kh;
      wsl.x_row[rows] = inside ? x_img + ih * W * xs : nullptr;
      padded_rows |= !inside;
      ++rows;
    }
    for (int64_t ow0 = 0; ow0 < OW; ow0 += kR) {
      const int64_t m = std::min(kR, OW - ow0);
      const int64_t iw0 = ow0 - geo.pl;
      const bool in_place = dense && !padded_rows && iw0 >= 0 && iw0 + kSpan <= W;
      const float* const* xrow = wsl.x_row;
      int64_t xoff = 0;  // formed only inside the input (pixel strides may be huge)
      if (in_place) {
        xoff = iw0 * xs;
      } else {
        // The window: each kernel row's kSpan pixels, cin floats each,
        // zeros outside the input.
        const int64_t lo = std::max<int64_t>(iw0, 0), hi = std::min(iw0 + kSpan, W);
        for (int64_t q = 0; q < rows; ++q) {
          float* HWY_RESTRICT win = wsl.win_row[q];
          if (wsl.ih[q] < 0 || hi <= lo) {
            std::memset(win, 0, static_cast<size_t>(kSpan * cin) * sizeof(float));
            continue;
          }
          std::memset(win, 0, static_cast<size_t>((lo - iw0) * cin) * sizeof(float));
          const float* HWY_RESTRICT src = wsl.x_row[q] + lo * xs;
          if (dense) {
            std::memcpy(win + (lo - iw0) * cin, src,
                        static_cast<size_t>((hi - lo) * cin) * sizeof(float));
          } else {
            for (int64_t iw = lo; iw < hi; ++iw) {
              std::memcpy(win + (iw - iw0) * cin, src + (iw - lo) * xs,
                          static_cast<size_t>(cin) * sizeof(float));
            }
          }
          std::memset(win + (hi - iw0) * cin, 0,
                      static_cast<size_t>((iw0 + kSpan - hi) * cin) * sizeof(float));
        }
        xrow = wsl.win_row;
      }
      float* HWY_RESTRICT c = y_row + ow0 * geo.ys;
      if (prefetch_c && ow0 + kR < OW) {
        PrefetchForWrite(c + kR * geo.ys + task.n0, std::min(kR, OW - ow0 - kR),
                         task.n1 - task.n0, geo.ys);
      }
      TileOps ops = base_ops;
      for (int64_t c0 = task.n0; c0 < task.n1; c0 += L) {
        const float* HWY_RESTRICT w = plan.weights + (c0 / nr) * geo.k * nr + c0 % nr;
        if (plan.bias != nullptr) ops.bias = plan.bias + c0;
        tile(xrow, xoff, rows, cin, in_place ? xs : cin, w, wsl.kh, tap_row, nr, c + c0, geo.ys,
             std::min(L, task.n1 - c0), m, ops);
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_CONV_SLIDING_WINDOW_INL_H_
