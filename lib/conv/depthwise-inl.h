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

#include "hwy/highway.h"
#include "lib/common/geometry.h"
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
                               const float* HWY_RESTRICT bias, int64_t c,
                               int64_t n, float* HWY_RESTRICT y) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);
  size_t count[4] = {L, L, L, L};
  count[kVecs - 1] = static_cast<size_t>(n) - (kVecs - 1) * L;

  V a0 = bias ? hn::Load(d, bias + c) : hn::Zero(d);
  V a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
  if constexpr (kVecs > 1) a1 = bias ? hn::Load(d, bias + c + L) : a1;
  if constexpr (kVecs > 2) a2 = bias ? hn::Load(d, bias + c + 2 * L) : a2;
  if constexpr (kVecs > 3) a3 = bias ? hn::Load(d, bias + c + 3 * L) : a3;

  for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
    const int64_t ih = ih0 + kh * geo.dh;
    const float* HWY_RESTRICT xrow = x_img + ih * geo.w * geo.cin + c;
    const float* HWY_RESTRICT wrow = wd + kh * geo.kw * cpad + c;
    for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
      const float* HWY_RESTRICT xp = xrow + (iw0 + kw * geo.dw) * geo.cin;
      const float* HWY_RESTRICT wp = wrow + kw * cpad;
      a0 = hn::MulAdd(LoadPixel(d, xp, count[0]), hn::Load(d, wp), a0);
      if constexpr (kVecs > 1) a1 = hn::MulAdd(LoadPixel(d, xp + L, count[1]), hn::Load(d, wp + L), a1);
      if constexpr (kVecs > 2) a2 = hn::MulAdd(LoadPixel(d, xp + 2 * L, count[2]), hn::Load(d, wp + 2 * L), a2);
      if constexpr (kVecs > 3) a3 = hn::MulAdd(LoadPixel(d, xp + 3 * L, count[3]), hn::Load(d, wp + 3 * L), a3);
    }
  }
  StoreTail(d, a0, y + c, count[0]);
  if constexpr (kVecs > 1) StoreTail(d, a1, y + c + L, count[1]);
  if constexpr (kVecs > 2) StoreTail(d, a2, y + c + 2 * L, count[2]);
  if constexpr (kVecs > 3) StoreTail(d, a3, y + c + 3 * L, count[3]);
}

// Output rows r in [r0, r1) of the N * OH rows, channels [c0, c1) (c0 a
// multiple of Lanes). wd/bias: packed as in panels.h (bias may be null).
HWY_NOINLINE void DepthwiseRows(const ConvGeometry& geo,
                                const float* HWY_RESTRICT x,
                                const float* HWY_RESTRICT wd, int64_t cpad,
                                const float* HWY_RESTRICT bias, float* y,
                                int64_t r0, int64_t r1, int64_t c0,
                                int64_t c1) {
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const int64_t step = static_cast<int64_t>(kDwVecs) * L;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / geo.oh;
    const int64_t oh = r % geo.oh;
    int64_t kh_lo, kh_hi;
    ValidTaps(oh, geo.sh, geo.dh, geo.pt, geo.h, geo.kh, &kh_lo, &kh_hi);
    const float* x_img = x + n * geo.h * geo.w * geo.cin;
    const int64_t ih0 = oh * geo.sh - geo.pt;
    float* yrow = y + r * geo.ow * geo.cout;
    for (int64_t ow = 0; ow < geo.ow; ++ow) {
      int64_t kw_lo, kw_hi;
      ValidTaps(ow, geo.sw, geo.dw, geo.pl, geo.w, geo.kw, &kw_lo, &kw_hi);
      const int64_t iw0 = ow * geo.sw - geo.pl;
      float* ypix = yrow + ow * geo.cout;
      for (int64_t c = c0; c < c1; c += step) {
        const int64_t n_ch = std::min(step, c1 - c);
        const int64_t vecs = (n_ch + L - 1) / L;
        if (vecs == 4) {
          DepthwisePixel<4>(geo, x_img, ih0, iw0, kh_lo, kh_hi, kw_lo, kw_hi,
                            wd, cpad, bias, c, n_ch, ypix);
        } else if (vecs == 3) {
          DepthwisePixel<3>(geo, x_img, ih0, iw0, kh_lo, kh_hi, kw_lo, kw_hi,
                            wd, cpad, bias, c, n_ch, ypix);
        } else if (vecs == 2) {
          DepthwisePixel<2>(geo, x_img, ih0, iw0, kh_lo, kh_hi, kw_lo, kw_hi,
                            wd, cpad, bias, c, n_ch, ypix);
        } else {
          DepthwisePixel<1>(geo, x_img, ih0, iw0, kh_lo, kh_hi, kw_lo, kw_hi,
                            wd, cpad, bias, c, n_ch, ypix);
        }
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_CONV_DEPTHWISE_INL_H_
