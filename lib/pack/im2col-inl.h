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
#include <cstring>

#include "hwy/highway.h"
#include "lib/common/geometry.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// Writes A[i][p0 .. p0+len) of one panel row: src[0 .. len), or zeros when
// src is null (the row's tap falls in the padding). row points at the row's
// first element (panel + i * kKU); A[i][p] lives at
// row[(p / kKU) * kMR * kKU + p % kKU] (tile.h). Runs of kKU consecutive k
// are contiguous there, so the body moves kKU floats at a time.
template <size_t kMR, size_t kKU>
HWY_INLINE void PackRowSegment(const float* HWY_RESTRICT src, int64_t p0,
                               int64_t len, float* HWY_RESTRICT row) {
  constexpr int64_t kU = static_cast<int64_t>(kKU);
  constexpr int64_t kGroup = static_cast<int64_t>(kMR * kKU);
  int64_t p = p0, q = 0;
  for (; q < len && p % kU != 0; ++q, ++p) {  // head, up to a group boundary
    row[(p / kU) * kGroup + p % kU] = src != nullptr ? src[q] : 0.0f;
  }
  float* HWY_RESTRICT dst = row + (p / kU) * kGroup;
  if (src != nullptr) {
    for (; q + kU <= len; q += kU, p += kU, dst += kGroup) {
      std::memcpy(dst, src + q, kKU * sizeof(float));
    }
  } else {
    for (; q + kU <= len; q += kU, p += kU, dst += kGroup) {
      std::memset(dst, 0, kKU * sizeof(float));
    }
  }
  for (; q < len; ++q, ++p) {  // tail
    row[(p / kU) * kGroup + p % kU] = src != nullptr ? src[q] : 0.0f;
  }
}

// Writes A[i][p0 .. p0+len) for the panel's rows i < rows, row i from src[i]
// (null: zeros). Whole kKU groups are written row after row, so the panel is
// filled in address order (each group is rows x kKU contiguous floats); the
// partial groups at either end go through PackRowSegment.
template <size_t kMR, size_t kKU>
HWY_INLINE void PackSegment(const float* const* src, int64_t rows, int64_t p0,
                            int64_t len, float* HWY_RESTRICT panel) {
  constexpr int64_t kU = static_cast<int64_t>(kKU);
  constexpr int64_t kGroup = static_cast<int64_t>(kMR * kKU);
  const int64_t head = std::min(len, (kU - p0 % kU) % kU);
  const int64_t body = (len - head) / kU * kU;
  if (head > 0) {
    for (int64_t i = 0; i < rows; ++i) {
      PackRowSegment<kMR, kKU>(src[i], p0, head, panel + i * kU);
    }
  }
  float* HWY_RESTRICT dst = panel + (p0 + head) / kU * kGroup;
  for (int64_t q = head; q < head + body; q += kU, dst += kGroup) {
    for (int64_t i = 0; i < rows; ++i) {
      if (src[i] != nullptr) {
        std::memcpy(dst + i * kU, src[i] + q, kKU * sizeof(float));
      } else {
        std::memset(dst + i * kU, 0, kKU * sizeof(float));
      }
    }
  }
  if (head + body < len) {
    for (int64_t i = 0; i < rows; ++i) {
      PackRowSegment<kMR, kKU>(src[i] != nullptr ? src[i] + head + body : nullptr,
                               p0 + head + body, len - head - body, panel + i * kU);
    }
  }
}

// A[m = (n, oh, ow)][k = (kh, kw, c)]
//     = x[n][oh*sh + kh*dh - pt][ow*sw + kw*dw - pl][g*Cg + c], 0 outside.
// Packs rows [m0, m0 + mc) and columns [k0, k0 + kc) of group g's A into
// ceil(mc / kMR) panels at out, each kMR x kcp with kcp = kc rounded up to
// kKU: A[m0 + i][k0 + p] at out[(i / kMR) * kMR * kcp + (p / kKU) * kMR * kKU
// + (i % kMR) * kKU + p % kKU] (tile.h). Rows past mc in the last panel and
// columns past kc in the last group are left unwritten (never read).
//
// Borders are decided once per (row, tap), not per element: a tap of a row is
// either inside the input (a contiguous run of channels, copied) or in the
// padding (zeros).
template <size_t kMR, size_t kKU>
HWY_NOINLINE void PackIm2colNhwcToPanels(const ConvGeometry& geo,
                                         const float* HWY_RESTRICT x,
                                         int64_t g, int64_t m0, int64_t mc,
                                         int64_t k0, int64_t kc,
                                         float* HWY_RESTRICT out) {
  const int64_t image = geo.h * geo.w * geo.xs;
  const float* HWY_RESTRICT row_base[kMR];  // image n, channel g*Cg
  int64_t ih0[kMR], iw0[kMR];               // input coordinates of tap (0, 0)
  PixelWalk pix(geo, m0);
  for (int64_t i0 = 0; i0 < mc; i0 += static_cast<int64_t>(kMR)) {
    const int64_t rows = std::min<int64_t>(static_cast<int64_t>(kMR), mc - i0);
    for (int64_t i = 0; i < rows; ++i, pix.Next(geo)) {
      row_base[i] = x + pix.n * image + g * geo.cg;
      ih0[i] = pix.ih0(geo);
      iw0[i] = pix.iw0(geo);
    }
    const int64_t kcp = (kc + static_cast<int64_t>(kKU) - 1) / static_cast<int64_t>(kKU) *
                        static_cast<int64_t>(kKU);
    float* HWY_RESTRICT panel = out + i0 * kcp;  // (i0 / kMR) * kMR * kcp

    // Walk the k range run by run (RunLength: a tap, or a kernel row whose
    // pixels are wholly inside the input or wholly in the padding).
    int64_t p = 0;
    int64_t t = k0 / geo.cg;
    int64_t c = k0 % geo.cg;
    const float* src[kMR];
    while (p < kc) {
      const int64_t kh = t / geo.kw, kw = t % geo.kw;
      const int64_t dy = kh * geo.dh;
      const int64_t dx = kw * geo.dw;
      const int64_t len = RunLength(geo, ih0, iw0, rows, t, c, kc - p);
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t ih = ih0[i] + dy;
        const int64_t iw = iw0[i] + dx;
        const bool inside = static_cast<uint64_t>(ih) < static_cast<uint64_t>(geo.h) &&
                            static_cast<uint64_t>(iw) < static_cast<uint64_t>(geo.w);
        src[i] = inside ? row_base[i] + (ih * geo.w + iw) * geo.xs + c : nullptr;
      }
      PackSegment<kMR, kKU>(src, rows, p, len, panel);
      AdvanceColumns(geo, len, &p, &t, &c);
    }
  }
}

// The same A and panel layout read from NCHW planes (nchw_pixel_gemm):
//   A[m = (n, oh, ow)][k = (kh, kw, c)]
//     = x[n][g*Cg + c][oh*sh + kh*dh - pt][ow*sw + kw*dw - pl], 0 outside.
// A row's columns are one element of each of its tap's Cg planes, so a panel
// is written column after column: per k, the panel's rows are neighbouring
// pixels of one plane (mostly contiguous reads), stored KU apart.
template <size_t kMR, size_t kKU>
HWY_NOINLINE void PackIm2colNchwToPanels(const ConvGeometry& geo,
                                         const float* HWY_RESTRICT x,
                                         int64_t g, int64_t m0, int64_t mc,
                                         int64_t k0, int64_t kc,
                                         float* HWY_RESTRICT out) {
  constexpr int64_t kU = static_cast<int64_t>(kKU);
  constexpr int64_t kGroup = static_cast<int64_t>(kMR * kKU);
  const int64_t plane = geo.h * geo.w;
  const int64_t kcp = (kc + kU - 1) / kU * kU;
  const float* HWY_RESTRICT image[kMR];  // image n, channel g*Cg
  int64_t ih0[kMR], iw0[kMR];
  PixelWalk pix(geo, m0);
  for (int64_t i0 = 0; i0 < mc; i0 += static_cast<int64_t>(kMR)) {
    const int64_t rows = std::min<int64_t>(static_cast<int64_t>(kMR), mc - i0);
    for (int64_t i = 0; i < rows; ++i, pix.Next(geo)) {
      image[i] = x + (pix.n * geo.cin + g * geo.cg) * plane;
      ih0[i] = pix.ih0(geo);
      iw0[i] = pix.iw0(geo);
    }
    float* HWY_RESTRICT panel = out + i0 * kcp;
    int64_t t = k0 / geo.cg, c = k0 % geo.cg, p = 0;
    const float* src[kMR];  // this tap's element in plane 0, or null
    while (p < kc) {
      const int64_t dy = (t / geo.kw) * geo.dh, dx = (t % geo.kw) * geo.dw;
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t ih = ih0[i] + dy, iw = iw0[i] + dx;
        const bool inside = static_cast<uint64_t>(ih) < static_cast<uint64_t>(geo.h) &&
                            static_cast<uint64_t>(iw) < static_cast<uint64_t>(geo.w);
        src[i] = inside ? image[i] + ih * geo.w + iw : nullptr;
      }
      const int64_t len = std::min(geo.cg - c, kc - p);
      for (int64_t q = 0; q < len; ++q) {
        const int64_t col = p + q;
        float* HWY_RESTRICT dst = panel + (col / kU) * kGroup + col % kU;
        const int64_t off = (c + q) * plane;
        for (int64_t i = 0; i < rows; ++i) {
          dst[i * kU] = src[i] != nullptr ? src[i][off] : 0.0f;
        }
      }
      p += len;
      c = 0;
      ++t;
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_PACK_IM2COL_INL_H_
