// Plain-loop twins of the packers and the register tile: the spec the SIMD
// versions are tested against (packers bit for bit, tiles within the fp32
// dot-product bound). No SIMD, no blocking, no cleverness.
#ifndef CONVKIT_LIB_REF_REF_KERNELS_H_
#define CONVKIT_LIB_REF_REF_KERNELS_H_

#include <cstdint>

#include "lib/common/geometry.h"
#include "lib/gemm/tile.h"

namespace convkit {
namespace ref {

// A[m = (n, oh, ow)][k = (kh, kw, c)]
//     = x[n][oh*sh + kh*dh - pt][ow*sw + kw*dw - pl][g*Cg + c], 0 outside.
float Im2colAt(const ConvGeometry& geo, const float* x, int64_t g, int64_t m,
               int64_t k);

// Index of A[i][p] in a packed block of panels of mr rows, k-interleaved by
// ku, for a block kc deep (tile.h): (i / mr) * mr * kcp + (p / ku) * mr * ku
// + (i % mr) * ku + p % ku, with kcp = kc rounded up to ku.
int64_t PanelIndex(int64_t mr, int64_t ku, int64_t kc, int64_t i, int64_t p);

// Packs A[m0 + i][k0 + p] for i < mc, p < kc at PanelIndex(...); other
// entries are not written.
void PackIm2colNhwcToPanels(const ConvGeometry& geo, int64_t mr, int64_t ku, const float* x,
                            int64_t g, int64_t m0, int64_t mc, int64_t k0,
                            int64_t kc, float* out);

// The tile contract (tile.h) evaluated in double: for i < m, j < n,
//   value[i * n + j] = init + sum_p A[i][p] * b[p * b_stride + j]
// with A[i][p] = a[PanelIndex(mr, ku, k, i, p)]
//   abs_sum[i * n + j] = |init| + sum_p |a| * |b|
// with init = accumulate ? c[i * ldc + j]
//            : (bias ? bias[bias_rows ? i : j] : 0)
//              + (sum ? sum_scale * c[i * ldc + j] : 0),
// then value clamped to [lo, hi] if ops.clamp (NaN kept).
void GemmTile(int64_t mr, int64_t ku, const float* a, const float* b, int64_t k,
              int64_t b_stride, const float* c, int64_t ldc, int64_t m,
              int64_t n, const TileOps& ops, double* value, double* abs_sum);

}  // namespace ref
}  // namespace convkit

#endif  // CONVKIT_LIB_REF_REF_KERNELS_H_
