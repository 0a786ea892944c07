// Input packers: one cache block of the virtual im2col matrix A into MR-row
// panels (layout in panels.h), called by the GEMM loops once per (ic, pc)
// block. Re-included once per target: MR is a compile-time constant here.

#if defined(CONVKIT_LIB_PACK_IM2COL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVKIT_LIB_PACK_IM2COL_INL_H_
#undef CONVKIT_LIB_PACK_IM2COL_INL_H_
#else
#define CONVKIT_LIB_PACK_IM2COL_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <algorithm>

#include "hwy/highway.h"
#include "lib/common/geometry.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// Writes column q = 0..len-1 of one panel row: dst[q * kMR] = src[q], or
// zeros when src is null (the row's tap falls in the padding).
template <size_t kMR>
HWY_INLINE void PackRowSegment(const float* HWY_RESTRICT src, int64_t len,
                               float* HWY_RESTRICT dst) {
  if (src != nullptr) {
    for (int64_t q = 0; q < len; ++q) dst[q * static_cast<int64_t>(kMR)] = src[q];
  } else {
    for (int64_t q = 0; q < len; ++q) dst[q * static_cast<int64_t>(kMR)] = 0.0f;
  }
}

// A[m = (n, oh, ow)][k = (kh, kw, c)]
//     = x[n][oh*sh + kh*dh - pt][ow*sw + kw*dw - pl][g*Cg + c], 0 outside.
// Packs rows [m0, m0 + mc) and columns [k0, k0 + kc) of group g's A into
// ceil(mc / kMR) panels at out: out[(i / kMR) * kMR * kc + p * kMR + i % kMR]
// = A[m0 + i][k0 + p]. Rows past mc in the last panel are left unwritten (the
// short-row tiles never read them).
//
// Borders are decided once per (row, tap), not per element: a tap of a row is
// either inside the input (a contiguous run of channels, copied) or in the
// padding (zeros).
template <size_t kMR>
HWY_NOINLINE void PackIm2colNhwcToPanels(const ConvGeometry& geo,
                                         const float* HWY_RESTRICT x,
                                         int64_t g, int64_t m0, int64_t mc,
                                         int64_t k0, int64_t kc,
                                         float* HWY_RESTRICT out) {
  const int64_t pixels = geo.oh * geo.ow;
  const int64_t image = geo.h * geo.w * geo.cin;
  const float* HWY_RESTRICT row_base[kMR];  // image n, channel g*Cg
  int64_t ih0[kMR], iw0[kMR];               // input coordinates of tap (0, 0)

  // Output coordinates of the first row, then advanced incrementally.
  int64_t n = m0 / pixels;
  int64_t oh = (m0 % pixels) / geo.ow;
  int64_t ow = m0 % geo.ow;

  for (int64_t i0 = 0; i0 < mc; i0 += static_cast<int64_t>(kMR)) {
    const int64_t rows = std::min<int64_t>(static_cast<int64_t>(kMR), mc - i0);
    for (int64_t i = 0; i < rows; ++i) {
      row_base[i] = x + n * image + g * geo.cg;
      ih0[i] = oh * geo.sh - geo.pt;
      iw0[i] = ow * geo.sw - geo.pl;
      if (++ow == geo.ow) {
        ow = 0;
        if (++oh == geo.oh) {
          oh = 0;
          ++n;
        }
      }
    }
    float* HWY_RESTRICT panel = out + i0 * kc;  // (i0 / kMR) * kMR * kc

    // Walk the k range tap by tap: tap t covers k in [t*Cg, (t+1)*Cg).
    int64_t t = k0 / geo.cg;
    int64_t c = k0 % geo.cg;
    for (int64_t p = 0; p < kc; ++t, c = 0) {
      const int64_t len = std::min(geo.cg - c, kc - p);
      const int64_t dy = (t / geo.kw) * geo.dh;
      const int64_t dx = (t % geo.kw) * geo.dw;
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t ih = ih0[i] + dy;
        const int64_t iw = iw0[i] + dx;
        const bool inside = static_cast<uint64_t>(ih) < static_cast<uint64_t>(geo.h) &&
                            static_cast<uint64_t>(iw) < static_cast<uint64_t>(geo.w);
        const float* src =
            inside ? row_base[i] + (ih * geo.w + iw) * geo.cin + c : nullptr;
        PackRowSegment<kMR>(src, len, panel + p * static_cast<int64_t>(kMR) + i);
      }
      p += len;
    }
  }
}

// The 1x1 / stride 1 / unpadded case needs no im2col: A is the input itself,
// A[m][k] = x[m * Cin + g * Cg + k]. Same panel layout as above.
template <size_t kMR>
HWY_NOINLINE void PackRowsToPanels(const ConvGeometry& geo,
                                   const float* HWY_RESTRICT x, int64_t g,
                                   int64_t m0, int64_t mc, int64_t k0,
                                   int64_t kc, float* HWY_RESTRICT out) {
  for (int64_t i0 = 0; i0 < mc; i0 += static_cast<int64_t>(kMR)) {
    const int64_t rows = std::min<int64_t>(static_cast<int64_t>(kMR), mc - i0);
    float* HWY_RESTRICT panel = out + i0 * kc;
    for (int64_t i = 0; i < rows; ++i) {
      const float* src = x + (m0 + i0 + i) * geo.cin + g * geo.cg + k0;
      PackRowSegment<kMR>(src, kc, panel + i);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_PACK_IM2COL_INL_H_
