// The depthwise algorithm (groups == in_channels == out_channels): a direct
// NHWC kernel vectorized over channels, where the GEMM per group would have
// N = 1. Re-included once per target.

#if defined(CONVKIT_LIB_CONV_DEPTHWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVKIT_LIB_CONV_DEPTHWISE_INL_H_
#undef CONVKIT_LIB_CONV_DEPTHWISE_INL_H_
#else
#define CONVKIT_LIB_CONV_DEPTHWISE_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "hwy/highway.h"
#include "lib/common/geometry.h"
#include "lib/conv/plan.h"
#include "lib/gemm/tile-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// Channel vectors per step: 4 accumulators, each fed by one input and one
// weight load per tap (the kernel is load-bound, not FMA-bound).
constexpr size_t kDwVecs = 4;

// One input vector of a pixel, never reading past its last channel.
template <class D>
HWY_INLINE hn::Vec<D> LoadPixel(D d, const float* HWY_RESTRICT p, size_t count) {
  return count == hn::Lanes(d) ? hn::LoadU(d, p) : LoadTail(d, p, count);
}

// One output pixel, channels [c, c + n) with n in ((kVecs-1)*L, kVecs*L]:
//   y[c..] = b[c..] + sum over valid (kh, kw) of x[ih][iw][c..] * Wd[t][c..]
// x_img: image n; taps outside the input are skipped (their range is
// computed analytically by the caller).
template <size_t kVecs>
HWY_INLINE void DepthwisePixel(const ConvGeometry& geo,
                               const float* HWY_RESTRICT x_img, int64_t ih0,
                               int64_t iw0, int64_t kh_lo, int64_t kh_hi,
                               int64_t kw_lo, int64_t kw_hi,
                               const float* HWY_RESTRICT wd, int64_t cpad,
                               const TileOps& ops, int64_t c,
                               int64_t n, float* HWY_RESTRICT y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);
  size_t count[4] = {L, L, L, L};
  count[kVecs - 1] = static_cast<size_t>(n) - (kVecs - 1) * L;

  const float* HWY_RESTRICT b = ops.bias != nullptr ? ops.bias + c : nullptr;
  V a0 = InitAcc(d, y + c, count[0], b, ops);
  V a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
  if constexpr (kVecs > 1) a1 = InitAcc(d, y + c + L, count[1], b ? b + L : b, ops);
  if constexpr (kVecs > 2) a2 = InitAcc(d, y + c + 2 * L, count[2], b ? b + 2 * L : b, ops);
  if constexpr (kVecs > 3) a3 = InitAcc(d, y + c + 3 * L, count[3], b ? b + 3 * L : b, ops);

  for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
    const int64_t ih = ih0 + kh * geo.dh;
    const float* HWY_RESTRICT xrow = x_img + ih * geo.w * geo.xs + c;
    const float* HWY_RESTRICT wrow = wd + kh * geo.kw * cpad + c;
    for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
      const float* HWY_RESTRICT xp = xrow + (iw0 + kw * geo.dw) * geo.xs;
      const float* HWY_RESTRICT wp = wrow + kw * cpad;
      a0 = hn::MulAdd(LoadPixel(d, xp, count[0]), hn::Load(d, wp), a0);
      if constexpr (kVecs > 1) a1 = hn::MulAdd(LoadPixel(d, xp + L, count[1]), hn::Load(d, wp + L), a1);
      if constexpr (kVecs > 2) a2 = hn::MulAdd(LoadPixel(d, xp + 2 * L, count[2]), hn::Load(d, wp + 2 * L), a2);
      if constexpr (kVecs > 3) a3 = hn::MulAdd(LoadPixel(d, xp + 3 * L, count[3]), hn::Load(d, wp + 3 * L), a3);
    }
  }
  if (ops.clamp) {
    const V lo = hn::Set(d, ops.lo), hi = hn::Set(d, ops.hi);
    a0 = ClampV(d, a0, lo, hi);
    if constexpr (kVecs > 1) a1 = ClampV(d, a1, lo, hi);
    if constexpr (kVecs > 2) a2 = ClampV(d, a2, lo, hi);
    if constexpr (kVecs > 3) a3 = ClampV(d, a3, lo, hi);
  }
  StoreTail(d, a0, y + c, count[0]);
  if constexpr (kVecs > 1) StoreTail(d, a1, y + c + L, count[1]);
  if constexpr (kVecs > 2) StoreTail(d, a2, y + c + 2 * L, count[2]);
  if constexpr (kVecs > 3) StoreTail(d, a3, y + c + 3 * L, count[3]);
}

// Four horizontally adjacent output pixels whose taps all lie inside the
// input row range [kh_lo, kh_hi) and every kw: one full channel vector at c.
// Each weight vector feeds four FMAs (1.25 loads per FMA instead of 2).
// Same operation order per output as DepthwisePixel.
HWY_INLINE void DepthwisePixels4(const ConvGeometry& geo,
                                 const float* HWY_RESTRICT x_img, int64_t ih0,
                                 int64_t iw0, int64_t kh_lo, int64_t kh_hi,
                                 const float* HWY_RESTRICT wd, int64_t cpad,
                                 const TileOps& ops, int64_t c,
                                 float* HWY_RESTRICT y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);
  const float* HWY_RESTRICT b = ops.bias != nullptr ? ops.bias + c : nullptr;
  V a0, a1, a2, a3;
  if (!ops.sum) {  // one bias vector for all four pixels (the common case)
    a0 = a1 = a2 = a3 = b != nullptr ? hn::Load(d, b) : hn::Zero(d);
  } else {
    a0 = InitAcc(d, y + c, L, b, ops);
    a1 = InitAcc(d, y + geo.ys + c, L, b, ops);
    a2 = InitAcc(d, y + 2 * geo.ys + c, L, b, ops);
    a3 = InitAcc(d, y + 3 * geo.ys + c, L, b, ops);
  }
  const int64_t step = geo.sw * geo.xs;  // next output pixel's input
  for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
    const int64_t ih = ih0 + kh * geo.dh;
    const float* HWY_RESTRICT xrow = x_img + (ih * geo.w + iw0) * geo.xs + c;
    const float* HWY_RESTRICT wrow = wd + kh * geo.kw * cpad + c;
    for (int64_t kw = 0; kw < geo.kw; ++kw) {
      const float* HWY_RESTRICT xp = xrow + kw * geo.dw * geo.xs;
      const V w = hn::Load(d, wrow + kw * cpad);
      a0 = hn::MulAdd(hn::LoadU(d, xp), w, a0);
      a1 = hn::MulAdd(hn::LoadU(d, xp + step), w, a1);
      a2 = hn::MulAdd(hn::LoadU(d, xp + 2 * step), w, a2);
      a3 = hn::MulAdd(hn::LoadU(d, xp + 3 * step), w, a3);
    }
  }
  if (ops.clamp) {
    const V lo = hn::Set(d, ops.lo), hi = hn::Set(d, ops.hi);
    a0 = ClampV(d, a0, lo, hi);
    a1 = ClampV(d, a1, lo, hi);
    a2 = ClampV(d, a2, lo, hi);
    a3 = ClampV(d, a3, lo, hi);
  }
  hn::StoreU(a0, d, y + c);
  hn::StoreU(a1, d, y + geo.ys + c);
  hn::StoreU(a2, d, y + 2 * geo.ys + c);
  hn::StoreU(a3, d, y + 3 * geo.ys + c);
}

// One output pixel, channels [c0, c1), through DepthwisePixel.
HWY_INLINE void DepthwisePixelChannels(const ConvGeometry& geo,
                                       const float* HWY_RESTRICT x_img,
                                       int64_t ih0, int64_t kh_lo,
                                       int64_t kh_hi, int64_t ow,
                                       const float* HWY_RESTRICT wd,
                                       int64_t cpad,
                                       const TileOps& ops,
                                       int64_t c0, int64_t c1, float* ypix) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const int64_t step = static_cast<int64_t>(kDwVecs) * L;
  int64_t kw_lo, kw_hi;
  ValidTaps(ow, geo.sw, geo.dw, geo.pl, geo.w, geo.kw, &kw_lo, &kw_hi);
  const int64_t iw0 = ow * geo.sw - geo.pl;
  for (int64_t c = c0; c < c1; c += step) {
    const int64_t n_ch = std::min(step, c1 - c);
    const int64_t vecs = (n_ch + L - 1) / L;
    if (vecs == 4) {
      DepthwisePixel<4>(geo, x_img, ih0, iw0, kh_lo, kh_hi, kw_lo, kw_hi, wd, cpad,
                        ops, c, n_ch, ypix);
    } else if (vecs == 3) {
      DepthwisePixel<3>(geo, x_img, ih0, iw0, kh_lo, kh_hi, kw_lo, kw_hi, wd, cpad,
                        ops, c, n_ch, ypix);
    } else if (vecs == 2) {
      DepthwisePixel<2>(geo, x_img, ih0, iw0, kh_lo, kh_hi, kw_lo, kw_hi, wd, cpad,
                        ops, c, n_ch, ypix);
    } else {
      DepthwisePixel<1>(geo, x_img, ih0, iw0, kh_lo, kh_hi, kw_lo, kw_hi, wd, cpad,
                        ops, c, n_ch, ypix);
    }
  }
}

#if !HWY_HAVE_SCALABLE
// One kernel row of DepthwiseBlock: input row xr (at the block's first
// channel vector), the row's weight vectors w[v * kKW + kw] for the kV
// adjacent channel vectors, accumulators acc[v * kR + j].
template <int kKW, int kSW, int kR, bool kClip, bool kTail, int kV, class D>
HWY_INLINE void DepthwiseBlockRow(D d, const float* HWY_RESTRICT xr, int64_t iw0, int64_t C,
                                  int64_t q_lo, int64_t q_hi, const hn::Vec<D>* w, size_t L,
                                  hn::Vec<D>* acc) {
  static_assert(kV == 1 || !kTail, "a channel tail is one vector");
  constexpr int kCols = (kR - 1) * kSW + kKW;  // input columns read
  const size_t lanes = hn::Lanes(d);
#pragma GCC unroll 64
  for (int q = 0; q < kCols; ++q) {
    if (kClip && (q < q_lo || q >= q_hi)) continue;
    const float* HWY_RESTRICT xp = xr + (iw0 + q) * C;
#pragma GCC unroll 2
    for (int v = 0; v < kV; ++v) {
      const hn::Vec<D> xq = kTail ? LoadTail(d, xp, L) : hn::LoadU(d, xp + v * lanes);
#pragma GCC unroll 16
      for (int kw = 0; kw < kKW; ++kw) {
        const int t = q - kw;  // = j * kSW for the output j this tap feeds
        if (t >= 0 && t % kSW == 0 && t / kSW < kR) {
          acc[v * kR + t / kSW] = hn::MulAdd(xq, w[v * kKW + kw], acc[v * kR + t / kSW]);
        }
      }
    }
  }
}

// One kernel row of DepthwiseBlock in tap order, as oneDNN's brdgmm kernel
// runs it: per tap, its kV weight vectors, then each pixel's kV input
// vectors as FMA operands (no input vector held across taps: kV weights
// and kV x kR accumulators only). The FMAs per output keep their order.
template <int kKW, int kSW, int kR, bool kClip, int kV, class D>
HWY_INLINE void DepthwiseBlockRowTaps(D d, const float* HWY_RESTRICT xr, int64_t iw0, int64_t C,
                                      int64_t q_lo, int64_t q_hi,
                                      const float* HWY_RESTRICT wr, int64_t cpad,
                                      hn::Vec<D>* acc) {
  const size_t lanes = hn::Lanes(d);
#pragma GCC unroll 16
  for (int kw = 0; kw < kKW; ++kw) {
    hn::Vec<D> w[kV];
#pragma GCC unroll 4
    for (int v = 0; v < kV; ++v) w[v] = hn::Load(d, wr + kw * cpad + v * lanes);
#pragma GCC unroll 16
    for (int j = 0; j < kR; ++j) {
      const int q = j * kSW + kw;
      if (kClip && (q < q_lo || q >= q_hi)) continue;
      const float* HWY_RESTRICT xp = xr + (iw0 + q) * C;
#pragma GCC unroll 4
      for (int v = 0; v < kV; ++v) {
        acc[v * kR + j] = hn::MulAdd(hn::LoadU(d, xp + v * lanes), w[v], acc[v * kR + j]);
      }
    }
  }
}

// kR horizontally adjacent output pixels, the first one's tap 0 at input
// column iw0, one whole channel vector at c, for a kernel kKW wide with
// stride kSW and no horizontal dilation: each input column is loaded once
// per kernel row and feeds every tap that reads it, the kernel row's kKW
// weight vectors stay in registers, and stride 2 loads only columns it uses.
// kKH = 0: kernel rows [kh_lo, kh_hi) with their weights loaded from wd;
// kKH > 0: a kernel of kKH rows whose kKH x kKW weight vectors the caller
// holds in registers (wv, DepthwiseRowVectors), rows outside [kh_lo,
// kh_hi) skipped.
// With kClip, columns outside [0, W) (the left and right padding) are
// skipped, neither loaded nor multiplied, as DepthwisePixel skips their
// taps. Per output the FMAs run kh, then kw, ascending over the taps inside:
// the same sequence as DepthwisePixel, so results do not depend on which
// path an output takes. (Arrays of vectors: not for sizeless SVE/RVV
// vectors, which take the generic path.) With kTail, the vector holds the
// `count` < Lanes channels of the channel tail (masked loads and stores;
// weights and bias are padded to whole vectors). kV = 2: two adjacent
// whole channel vectors, c and c + Lanes, with the kernel row's weights
// loaded per row (kDwPairs); kTaps: those rows in tap order
// (DepthwiseBlockRowTaps). Plain inline, not HWY_INLINE:
// DepthwiseRowBlocks calls it through pointers, which g++ -O3 inlines once
// it has propagated them but -O2 does not, and an always-inline function
// called through a pointer does not compile. (Forced inline everywhere, the
// 14x14x576 stride-2 row ran 12% slower on AVX2: its clipped blocks spilled;
// the pairs' rows are flattened instead, DepthwiseRowPairs.)
template <int kKW, int kSW, int kR, bool kClip, bool kTail = false, int kKH = 0, int kV = 1,
          bool kTaps = false>
inline void DepthwiseBlock(const ConvGeometry& geo, const float* HWY_RESTRICT x_img,
                           int64_t ih0, int64_t iw0, int64_t kh_lo, int64_t kh_hi,
                           const float* HWY_RESTRICT wd, int64_t cpad, const TileOps& ops,
                           int64_t c, float* HWY_RESTRICT y, size_t count = 0,
                           const hn::Vec<hn::ScalableTag<float>>* wv = nullptr) {
  static_assert(kV == 1 || kKH == 0, "paired vectors load their weights per row");
  static_assert(!kTaps || (kKH == 0 && !kTail), "tap order: whole vectors, weights per tap");
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  constexpr int kCols = (kR - 1) * kSW + kKW;  // input columns read
  const int64_t C = geo.xs;
  const size_t lanes = hn::Lanes(d);
  // Columns [q_lo, q_hi) of the kCols lie inside the input.
  const int64_t q_lo = kClip ? std::max<int64_t>(0, -iw0) : 0;
  const int64_t q_hi = kClip ? std::min<int64_t>(kCols, geo.w - iw0) : kCols;
  V acc[kV * kR];
  const size_t L = kTail ? count : lanes;
  const float* HWY_RESTRICT b = ops.bias != nullptr ? ops.bias + c : nullptr;
  for (int v = 0; v < kV; ++v) {
    const float* HWY_RESTRICT bv = b != nullptr ? b + v * lanes : nullptr;
    if (!ops.sum) {  // one bias vector for every pixel (the common case)
      const V init = bv != nullptr ? hn::Load(d, bv) : hn::Zero(d);
      for (int j = 0; j < kR; ++j) acc[v * kR + j] = init;
    } else {
      for (int j = 0; j < kR; ++j) {
        acc[v * kR + j] = InitAcc(d, y + j * geo.ys + c + v * lanes, L, bv, ops);
      }
    }
  }
  // Row kh's input at column iw0 + q is xr + (iw0 + q) * C (formed only
  // for columns inside).
  if constexpr (kKH == 0) {
    for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
      const float* HWY_RESTRICT xr = x_img + (ih0 + kh * geo.dh) * geo.w * C + c;
      const float* HWY_RESTRICT wr = wd + kh * kKW * cpad + c;
      if constexpr (kTaps) {
        DepthwiseBlockRowTaps<kKW, kSW, kR, kClip, kV>(d, xr, iw0, C, q_lo, q_hi, wr, cpad, acc);
        continue;
      }
      V w[kV * kKW];
      for (int v = 0; v < kV; ++v) {
        for (int kw = 0; kw < kKW; ++kw) w[v * kKW + kw] = hn::Load(d, wr + kw * cpad + v * lanes);
      }
      DepthwiseBlockRow<kKW, kSW, kR, kClip, kTail, kV>(d, xr, iw0, C, q_lo, q_hi, w, L, acc);
    }
  } else {
    (void)wd;
    (void)cpad;
#pragma GCC unroll 8
    for (int kh = 0; kh < kKH; ++kh) {
      if (kh < kh_lo || kh >= kh_hi) continue;
      const float* HWY_RESTRICT xr = x_img + (ih0 + kh * geo.dh) * geo.w * C + c;
      DepthwiseBlockRow<kKW, kSW, kR, kClip, kTail, 1>(d, xr, iw0, C, q_lo, q_hi,
                                                       wv + kh * kKW, L, acc);
    }
  }
  if (ops.clamp) {
    const V lo = hn::Set(d, ops.lo), hi = hn::Set(d, ops.hi);
    for (int j = 0; j < kV * kR; ++j) acc[j] = ClampV(d, acc[j], lo, hi);
  }
  for (int v = 0; v < kV; ++v) {
    for (int j = 0; j < kR; ++j) {
      if constexpr (kTail) {
        StoreTail(d, acc[j], y + j * geo.ys + c, L);
      } else {
        hn::StoreU(acc[v * kR + j], d, y + j * geo.ys + c + v * lanes);
      }
    }
  }
}

// 32 vector registers (AVX-512): stride 1 keeps 8 accumulators beside the
// 9 held weights (DepthwiseRowVectors), stride 2's held weights stay ahead
// of the pairs below (DwStride2Rows), and pairs of channel vectors take 6
// pixels per block (DepthwiseRowPairs).
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr bool kDw32Regs = true;
#else
constexpr bool kDw32Regs = false;
#endif

// Blocks of two adjacent channel vectors (kV = 2: 2 x 4 accumulators and
// the kernel row's 6 weight vectors, 14 of AVX2's 16 registers): twice the
// independent FMA chains of a 4-pixel block, and the two loads of a column
// share one 64-byte line with AVX2 and SSE4 vectors. Measured on x86 only
// (convkit-perf, best of 3 sweeps, 1 thread, Zen 5), so only there:
// - 3x3 stride 1, rows narrower than 16 pixels (the 8-pixel blocks, 8
//   chains, rarely fit): 7x7x1024 0.013 -> 0.011 ms on AVX3, 0.020 ->
//   0.017 on AVX2, 0.041 -> 0.032 on SSE4; MobileNetV2's 7x7x960 9-15%
//   faster, 14x14 layers 0-15%. Wider rows keep the 8-pixel blocks (pairs
//   7-25% slower on 112x112 and 56x56). With 32 registers, blocks of 6
//   pixels (12 chains) first, and rows narrower than 32: 14x14x576 and
//   14x14x512 13-15% faster, 7x7x960 17%, 28x28x256 30% (28x28x192 even;
//   AVX2 rows of 16 to 31 pixels measured even or slower with pairs, and
//   6-pixel stride-2 blocks even on AVX3).
// - 3x3 stride 2 with output rows of 8 pixels and more, where the weights
//   are not held in registers (16-register targets, or AVX3 chunks wider
//   than two vectors), with the channels of a block inner and the whole
//   row's channels per pass (DwStride2Rows): 19x19x512 (n = 8) 0.186 ->
//   0.152 ms on AVX2, 0.138 -> 0.128 on AVX3, 0.34 -> 0.27 on SSE4; at
//   n = 1 0.020 -> 0.018 on AVX2; MobileNetV2's 112x112x96 and 56x56x144
//   0-10%. With L1 chunks, pairs measured 5% slower to 5% faster.
// - Not 5x5: 20-25% slower on AVX2 (28x28x240, 56x56x144 s2).
#if HWY_ARCH_X86 && !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_EMU128 && HWY_TARGET != HWY_SCALAR
constexpr bool kDwPairs = true;
#else
constexpr bool kDwPairs = false;
#endif

// AVX2's stride-2 rows of pairs (DwStride2Rows) start with blocks of 6
// pixels in tap order (DepthwiseBlockRowTaps): 12 accumulators, where the
// column order's 8 (4 pixels, with the kernel row's 6 weights held) left
// the FMA chains too few. Column order saves loads that stride 2 barely
// reuses (9 columns for 12 pixel-taps of a 4-pixel row). convkit-perf,
// 1 thread, best of 3-5 alternated runs: MobileNetV2's 112x112x96
// 49-50 -> 54-56 GFLOP/s, 56x56x144 49-51 -> 53-55, 28x28x192 52 -> 57;
// 38x38x128 +9%; 19x19x512 and 28x28x256 even. Not elsewhere: SSE4 (no
// FMA, no unaligned memory operands: 12 accumulators spill) 25% slower,
// stride 1 (column order reuses each input for 3 taps) 5-10% slower, AVX3
// 4-10% slower or faster by layer; 7-pixel blocks spill.
#if HWY_TARGET == HWY_AVX2
constexpr bool kDwStride2Taps = true;
#else
constexpr bool kDwStride2Taps = false;
#endif

// Stride-2 3x3 rows of pairs over every channel of the task per pass
// (chunk = the task's channels), each pixel block running over all its
// channel vectors in turn, as oneDNN's brdgmm depthwise kernel orders its
// loops, where DepthwiseChunk's L1 chunks read each pixel's lines in as
// many passes as chunks, with a stride of the whole pixel. Output rows of
// 8 pixels and more (measured above): 10-15% faster on 19x19 and 20x20
// inputs with 512 channels and 38x38 with 128 on AVX2, within L2 or not;
// rows of 7 (14x14x576, 13x13x960) 10-50% slower, so those keep the
// chunks. Where the weights are held in registers (32-register AVX3,
// chunks of at most two vectors), the L1 chunks stay.
HWY_INLINE bool DwStride2Rows(const ConvGeometry& geo, int64_t chunk, int64_t channels) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  if (!kDwPairs || geo.kh != 3 || geo.kw != 3 || geo.sw != 2 || geo.dw != 1) return false;
  if (channels < 2 * L || (kDw32Regs && chunk <= 2 * L)) return false;
  return geo.ow >= 8;
}

// A whole output row for a kK x kK kernel whose kK * kK weight vectors
// and kR + 1 more fit the target's registers: per channel vector, the
// weights are loaded once and the blocks of the row follow (kR pixels,
// then 2, 1; kClip at the borders), where DepthwiseRowBlocks reloads a
// kernel row's weights per block and kernel row (a quarter of the loads
// of a 3x3 stride-2 block of 4). The caller's channel chunk keeps the
// input rows in L1 across its vectors. Same operations per output.
template <int kK, int kSW, int kR>
HWY_INLINE void DepthwiseRowVectors(const ConvGeometry& geo, const float* HWY_RESTRICT x_img,
                                    int64_t ih0, int64_t kh_lo, int64_t kh_hi,
                                    const float* HWY_RESTRICT wd, int64_t cpad,
                                    const TileOps& ops, int64_t c0, int64_t c_full, int64_t c1,
                                    float* HWY_RESTRICT yrow) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  for (int64_t c = c0; c < c1; c += L) {
    const bool tail = c >= c_full;
    const size_t count = static_cast<size_t>(std::min(L, c1 - c));
    V w[kK * kK];  // padded to whole vectors: the tail's loads stay inside
    for (int t = 0; t < kK * kK; ++t) w[t] = hn::Load(d, wd + t * cpad + c);
    int64_t ow = 0;
#define CONVKIT_DW_VEC_RUN(R)                                                                   \
  for (constexpr int64_t cols = (R - 1) * kSW + kK; ow + R <= geo.ow; ow += R) {                \
    const int64_t iw0 = ow * kSW - geo.pl;                                                      \
    float* HWY_RESTRICT y = yrow + ow * geo.ys;                                                 \
    const bool clip = iw0 < 0 || iw0 + cols > geo.w;                                            \
    if (!tail && !clip) {                                                                       \
      DepthwiseBlock<kK, kSW, R, false, false, kK>(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd,      \
                                                   cpad, ops, c, y, 0, w);                      \
    } else if (!tail) {                                                                         \
      DepthwiseBlock<kK, kSW, R, true, false, kK>(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd, cpad, \
                                                  ops, c, y, 0, w);                             \
    } else if (!clip) {                                                                         \
      DepthwiseBlock<kK, kSW, R, false, true, kK>(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd,       \
                                                  cpad, ops, c, y, count, w);                   \
    } else {                                                                                    \
      DepthwiseBlock<kK, kSW, R, true, true, kK>(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd, cpad,  \
                                                 ops, c, y, count, w);                          \
    }                                                                                           \
  }
    CONVKIT_DW_VEC_RUN(kR)
    if constexpr (kR > 2) CONVKIT_DW_VEC_RUN(2)
    CONVKIT_DW_VEC_RUN(1)
#undef CONVKIT_DW_VEC_RUN
  }
}

// Blocks of kR pixels of DepthwiseRowPairs from output column ow while
// they fit; returns the next column. Pairs of vectors over [c0, c_pair)
// (kTaps: in tap order), single vectors to c_full, then the channel tail
// (`tail` channels).
template <int kKW, int kSW, int kR, bool kTaps = false>
HWY_INLINE int64_t DepthwiseRowRun(const ConvGeometry& geo, const float* HWY_RESTRICT x_img,
                                   int64_t ih0, int64_t kh_lo, int64_t kh_hi,
                                   const float* HWY_RESTRICT wd, int64_t cpad,
                                   const TileOps& ops, int64_t c0, int64_t c_pair,
                                   int64_t c_full, size_t tail, float* HWY_RESTRICT yrow,
                                   int64_t ow) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  constexpr int64_t cols = (kR - 1) * kSW + kKW;
  for (; ow + kR <= geo.ow; ow += kR) {
    const int64_t iw0 = ow * kSW - geo.pl;
    float* HWY_RESTRICT y = yrow + ow * geo.ys;
    if (iw0 < 0 || iw0 + cols > geo.w) {
      for (int64_t c = c0; c < c_pair; c += 2 * L) {
        DepthwiseBlock<kKW, kSW, kR, true, false, 0, 2, kTaps>(geo, x_img, ih0, iw0, kh_lo,
                                                               kh_hi, wd, cpad, ops, c, y);
      }
      for (int64_t c = c_pair; c < c_full; c += L) {
        DepthwiseBlock<kKW, kSW, kR, true>(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd, cpad, ops, c,
                                           y);
      }
      if (tail != 0) {
        DepthwiseBlock<kKW, kSW, kR, true, true>(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd, cpad,
                                                 ops, c_full, y, tail);
      }
    } else {
      for (int64_t c = c0; c < c_pair; c += 2 * L) {
        DepthwiseBlock<kKW, kSW, kR, false, false, 0, 2, kTaps>(geo, x_img, ih0, iw0, kh_lo,
                                                                kh_hi, wd, cpad, ops, c, y);
      }
      for (int64_t c = c_pair; c < c_full; c += L) {
        DepthwiseBlock<kKW, kSW, kR, false>(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd, cpad, ops,
                                            c, y);
      }
      if (tail != 0) {
        DepthwiseBlock<kKW, kSW, kR, false, true>(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd, cpad,
                                                  ops, c_full, y, tail);
      }
    }
  }
  return ow;
}

// A whole output row, whole channel vectors [c0, c_full): blocks of 8
// pixels (stride 1) or 4 (stride 2), then 2, 1; blocks that reach into the
// left or right padding skip its columns (kClip). A block touches KH x ((R -
// 1) * stride + KW) input pixels per channel vector, all at the same offset
// in their pixel; with stride 2 and 8 pixels that is 51 lines, which in NHWC
// with a power-of-two channel count fall into a few L1 sets and evict each
// other (measured, best of 3 sweeps on MobileNetV2's and SSD's stride-2
// layers: 4 pixels 5-55% faster than 8).
// Channels [c_full, c1), fewer than a vector (Xception's 728 channels end
// in 8), go through the same blocks with masked loads and stores: one pixel
// at a time they took 10% of Xception's 37x37 depthwise layer for 1% of its
// channels.
template <int kKW, int kSW>
HWY_INLINE void DepthwiseRowBlocks(const ConvGeometry& geo, const float* HWY_RESTRICT x_img,
                                   int64_t ih0, int64_t kh_lo, int64_t kh_hi,
                                   const float* HWY_RESTRICT wd, int64_t cpad,
                                   const TileOps& ops, int64_t c0, int64_t c_full,
                                   int64_t c1, float* HWY_RESTRICT yrow) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  const size_t tail = static_cast<size_t>(c1 - c_full);
  int64_t ow = 0;
  auto run = [&](auto block, auto clipped, auto block_tail, auto clipped_tail,
                 int64_t pixels) {
    const int64_t cols = (pixels - 1) * kSW + kKW;
    for (; ow + pixels <= geo.ow; ow += pixels) {
      const int64_t iw0 = ow * kSW - geo.pl;
      float* HWY_RESTRICT y = yrow + ow * geo.ys;
      if (iw0 < 0 || iw0 + cols > geo.w) {
        for (int64_t c = c0; c < c_full; c += L) {
          clipped(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd, cpad, ops, c, y, 0, nullptr);
        }
        if (tail != 0) {
          clipped_tail(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd, cpad, ops, c_full, y, tail, nullptr);
        }
      } else {
        for (int64_t c = c0; c < c_full; c += L) {
          block(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd, cpad, ops, c, y, 0, nullptr);
        }
        if (tail != 0) {
          block_tail(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd, cpad, ops, c_full, y, tail, nullptr);
        }
      }
    }
  };
#define CONVKIT_DW_RUN(R)                                                            \
  run(&DepthwiseBlock<kKW, kSW, R, false>, &DepthwiseBlock<kKW, kSW, R, true>,       \
      &DepthwiseBlock<kKW, kSW, R, false, true>, &DepthwiseBlock<kKW, kSW, R, true, true>, R)
  if constexpr (kSW == 1) CONVKIT_DW_RUN(8);
  CONVKIT_DW_RUN(4);
  CONVKIT_DW_RUN(2);
  CONVKIT_DW_RUN(1);
#undef CONVKIT_DW_RUN
}

// DepthwiseRowBlocks with pairs of channel vectors (kDwPairs) over [c0,
// c_pair), the rest as there: blocks of 4 pixels (6 first at stride 1 with
// 32 registers, and at stride 2 in tap order on AVX2), then 2, 1. Flattened:
// every block inlined (called through pointers as DepthwiseRowBlocks does,
// g++ -O3 left them out of line here, and the AVX2 stride-2 row ran 25%
// slower).
// kShort (AVX3's stride-2 rows whose input columns are a multiple of the
// L1d way apart, Plan::dw_columns_alias: 512 or 1024 channels): blocks of 2
// pixels, whose 3 x 5 input columns share their L1d sets with fewer others
// than a 4-pixel block's 3 x 9 (convkit-perf, 1 thread, best of 3
// alternated runs, two sets: 19x19x512 0.0143 -> 0.0136 ms, 20x20x512 -3
// to -4%, at n = 8 -6%, 28x28x512 -6% and +1%, 14x14x1024 -1 to -2%;
// 19x19x544 and 38x38x256, whose columns spread over the sets, 6-7%
// slower so; two threads -5 to -9% on the 512-channel layers; on AVX2,
// whose stride-2 rows start in tap order, 2-pixel blocks were 1-20% slower
// everywhere).
template <int kKW, int kSW, bool kShort = false>
HWY_NOINLINE HWY_FLATTEN void DepthwiseRowPairs(const ConvGeometry& geo,
                                                const float* HWY_RESTRICT x_img, int64_t ih0,
                                                int64_t kh_lo, int64_t kh_hi,
                                                const float* HWY_RESTRICT wd, int64_t cpad,
                                                const TileOps& ops, int64_t c0, int64_t c_full,
                                                int64_t c1, float* HWY_RESTRICT yrow) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  const size_t tail = static_cast<size_t>(c1 - c_full);
  const int64_t c_pair = c0 + (c_full - c0) / (2 * L) * (2 * L);
  int64_t ow = 0;
  static_assert(!kShort || kSW == 2, "short blocks: stride 2 only");
  if constexpr (kDw32Regs && kSW == 1) {  // 12 accumulators and 6 weights
    ow = DepthwiseRowRun<kKW, kSW, 6>(geo, x_img, ih0, kh_lo, kh_hi, wd, cpad, ops, c0, c_pair,
                                      c_full, tail, yrow, ow);
  }
  if constexpr (kDwStride2Taps && kSW == 2 && !kShort) {  // 12 accumulators and 2 weights
    ow = DepthwiseRowRun<kKW, kSW, 6, true>(geo, x_img, ih0, kh_lo, kh_hi, wd, cpad, ops, c0,
                                            c_pair, c_full, tail, yrow, ow);
  }
  if constexpr (!kShort) {
    ow = DepthwiseRowRun<kKW, kSW, 4>(geo, x_img, ih0, kh_lo, kh_hi, wd, cpad, ops, c0, c_pair,
                                      c_full, tail, yrow, ow);
  }
  ow = DepthwiseRowRun<kKW, kSW, 2>(geo, x_img, ih0, kh_lo, kh_hi, wd, cpad, ops, c0, c_pair,
                                    c_full, tail, yrow, ow);
  DepthwiseRowRun<kKW, kSW, 1>(geo, x_img, ih0, kh_lo, kh_hi, wd, cpad, ops, c0, c_pair, c_full,
                               tail, yrow, ow);
}
#endif  // !HWY_HAVE_SCALABLE

// Output rows r in [r0, r1) of the N * OH rows, channels [c0, c1) (c0 a
// multiple of Lanes). wd: packed as in panels.h; ops: the packed bias (or
// null) and the post-ops.
// With 3- and 5-wide kernels at stride 1 or 2 (no horizontal dilation),
// whole rows go several pixels at a time (DepthwiseRowBlocks, the borders
// included: a 7-wide row is 2 of its 7 pixels there; the channel tail in
// masked blocks); otherwise pixels whose taps are all inside the input
// horizontally go four at a time and the borders one at a time, and the
// channel tail one pixel at a time. columns_alias: Plan::dw_columns_alias.
inline HWY_NOINLINE void DepthwiseRows(const ConvGeometry& geo,
                                const float* HWY_RESTRICT x,
                                const float* HWY_RESTRICT wd, int64_t cpad,
                                const TileOps& ops, float* y,
                                int64_t r0, int64_t r1, int64_t c0,
                                int64_t c1, bool whole_rows, bool columns_alias) {
  (void)whole_rows;  // fixed-width targets only
  (void)columns_alias;
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  // Channels [c0, c_full) are whole vectors; [c_full, c1) the tail.
  const int64_t c_full = c0 + (c1 - c0) / L * L;
  // Output columns whose KW taps are all inside the input: [ow_in0, ow_in1).
  const int64_t span = (geo.kw - 1) * geo.dw;
  const int64_t ow_in0 = std::min(geo.ow, (geo.pl + geo.sw - 1) / geo.sw);
  const int64_t ow_in1 = std::max(
      ow_in0, geo.w - 1 - span + geo.pl < 0
                  ? 0
                  : std::min(geo.ow, (geo.w - 1 - span + geo.pl) / geo.sw + 1));
  using RowFn = void (*)(const ConvGeometry&, const float*, int64_t, int64_t, int64_t,
                         const float*, int64_t, const TileOps&, int64_t, int64_t, int64_t,
                         float*);
  RowFn row_blocks = nullptr;
#if !HWY_HAVE_SCALABLE
  if (geo.dw == 1) {
    // 3x3 chunks of at most two vectors (wide rows: DepthwiseChunk keeps
    // KH input rows of the chunk in half of L1): the weights stay in
    // registers across the row. Wider chunks sweep the rows once per
    // vector with the pixel stride: a 19x19 layer with 512 channels ran 40%
    // slower so (AVX-512; 2x with AVX2).
    const bool hoist = geo.kh == 3 && c1 - c0 <= 2 * L;
    // Pairs of channel vectors (kDwPairs): two whole vectors at least.
    const bool pairs = kDwPairs && geo.kh == 3 && c_full - c0 >= 2 * L;
    if (geo.kw == 3 && geo.sw == 1) {
      // Rows narrower than 16 pixels (32 with 32 registers) take pairs.
      const bool narrow = geo.ow < (kDw32Regs ? 32 : 16);
      row_blocks = pairs && narrow      ? &DepthwiseRowPairs<3, 1>
                   : hoist && kDw32Regs ? &DepthwiseRowVectors<3, 1, 8>
                                        : &DepthwiseRowBlocks<3, 1>;
    }
    if (geo.kw == 3 && geo.sw == 2) {
      row_blocks = hoist                ? &DepthwiseRowVectors<3, 2, 4>
                   : pairs && whole_rows ? &DepthwiseRowPairs<3, 2>
                                         : &DepthwiseRowBlocks<3, 2>;
      if constexpr (kDw32Regs && !kDwStride2Taps) {
        if (!hoist && pairs && whole_rows && columns_alias) {
          row_blocks = &DepthwiseRowPairs<3, 2, true>;
        }
      }
    }
    if (geo.kw == 5 && geo.sw == 1) row_blocks = &DepthwiseRowBlocks<5, 1>;
    if (geo.kw == 5 && geo.sw == 2) row_blocks = &DepthwiseRowBlocks<5, 2>;
  }
#endif
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / geo.oh;
    const int64_t oh = r % geo.oh;
    int64_t kh_lo, kh_hi;
    ValidTaps(oh, geo.sh, geo.dh, geo.pt, geo.h, geo.kh, &kh_lo, &kh_hi);
    const float* x_img = x + n * geo.h * geo.w * geo.xs;
    const int64_t ih0 = oh * geo.sh - geo.pt;
    float* yrow = y + r * geo.ow * geo.ys;
    if (row_blocks != nullptr) {
      row_blocks(geo, x_img, ih0, kh_lo, kh_hi, wd, cpad, ops, c0, c_full, c1, yrow);
      continue;
    }
    for (int64_t ow = 0; ow < ow_in0; ++ow) {
      DepthwisePixelChannels(geo, x_img, ih0, kh_lo, kh_hi, ow, wd, cpad, ops, c0, c1,
                             yrow + ow * geo.ys);
    }
    int64_t ow = ow_in0;
    while (ow < geo.ow) {
      float* ypix = yrow + ow * geo.ys;
      if (ow + 4 <= ow_in1 && c_full > c0) {
        const int64_t iw0 = ow * geo.sw - geo.pl;
        for (int64_t c = c0; c < c_full; c += L) {
          DepthwisePixels4(geo, x_img, ih0, iw0, kh_lo, kh_hi, wd, cpad, ops, c, ypix);
        }
        if (c_full < c1) {
          for (int64_t j = 0; j < 4; ++j) {
            DepthwisePixelChannels(geo, x_img, ih0, kh_lo, kh_hi, ow + j, wd, cpad, ops,
                                   c_full, c1, ypix + j * geo.ys);
          }
        }
        ow += 4;
      } else {
        DepthwisePixelChannels(geo, x_img, ih0, kh_lo, kh_hi, ow, wd, cpad, ops, c0, c1,
                               ypix);
        ow += 1;
      }
    }
  }
}

// Padding is zeros that join the sum, and 0 * NaN = 0 * Inf = NaN, but the
// kernels above skip padded taps. When some weight is not finite
// (plan.nonfinite_weights, known at creation; never otherwise), each output
// with a padded tap whose weight is not finite becomes NaN, as in every GEMM
// algorithm (which multiply the padding's zeros). After the clamp, which
// keeps NaN.
inline void PoisonPaddedTaps(const Plan& plan, const Task& task, float* y) {
  const ConvGeometry& geo = plan.geo;
  const float* wd = plan.weights;
  for (int64_t r = task.m0; r < task.m1; ++r) {
    const int64_t oh = r % geo.oh;
    int64_t kh_lo, kh_hi;
    ValidTaps(oh, geo.sh, geo.dh, geo.pt, geo.h, geo.kh, &kh_lo, &kh_hi);
    for (int64_t ow = 0; ow < geo.ow; ++ow) {
      int64_t kw_lo, kw_hi;
      ValidTaps(ow, geo.sw, geo.dw, geo.pl, geo.w, geo.kw, &kw_lo, &kw_hi);
      if (kh_lo == 0 && kh_hi == geo.kh && kw_lo == 0 && kw_hi == geo.kw) continue;
      float* ypix = y + (r * geo.ow + ow) * geo.ys;
      for (int64_t kh = 0; kh < geo.kh; ++kh) {
        for (int64_t kw = 0; kw < geo.kw; ++kw) {
          if (kh >= kh_lo && kh < kh_hi && kw >= kw_lo && kw < kw_hi) continue;
          const float* wt = wd + (kh * geo.kw + kw) * plan.dw_cpad;
          for (int64_t c = task.n0; c < task.n1; ++c) {
            if (!std::isfinite(wt[c])) ypix[c] = std::numeric_limits<float>::quiet_NaN();
          }
        }
      }
    }
  }
}

// One task: output rows [m0, m1) of the N * OH, channels [n0, n1), in
// chunks of plan.dw_chunk channels, each over all the rows (its input rows
// and weights stay in L1; channels are independent, so no result changes),
// or all of them at once for stride-2 rows of pairs (DwStride2Rows).
inline HWY_NOINLINE void DepthwiseTask(const Plan& plan, const Task& task, const float* x,
                                float* y, void* /*ws*/) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
#if !HWY_HAVE_SCALABLE
  const bool whole_rows = DwStride2Rows(plan.geo, plan.dw_chunk, task.n1 - task.n0);
#else
  const bool whole_rows = false;  // no pairs for sizeless vectors
#endif
  const int64_t chunk = whole_rows ? task.n1 - task.n0 : plan.dw_chunk;
  const TileOps ops = BlockOps(plan, plan.bias, 0, plan.geo.k);
  for (int64_t c = task.n0; c < task.n1;) {
    // The last chunk takes a tail shorter than a vector with it.
    const int64_t c_end = task.n1 - c < chunk + L ? task.n1 : c + chunk;
    DepthwiseRows(plan.geo, x, plan.weights, plan.dw_cpad, ops, y, task.m0, task.m1, c, c_end,
                  whole_rows, plan.dw_columns_alias);
    c = c_end;
  }
  if (plan.nonfinite_weights) PoisonPaddedTaps(plan, task, y);
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_CONV_DEPTHWISE_INL_H_
