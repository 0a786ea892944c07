#include "lib/ref/ref_kernels.h"

#include <cmath>

namespace convkit {
namespace ref {

float Im2colAt(const ConvGeometry& geo, const float* x, int64_t g, int64_t m,
               int64_t k) {
  const int64_t n = m / (geo.oh * geo.ow);
  const int64_t oh = m / geo.ow % geo.oh;
  const int64_t ow = m % geo.ow;
  const int64_t tap = k / geo.cg, c = k % geo.cg;
  const int64_t kh = tap / geo.kw, kw = tap % geo.kw;
  const int64_t ih = oh * geo.sh + kh * geo.dh - geo.pt;
  const int64_t iw = ow * geo.sw + kw * geo.dw - geo.pl;
  if (ih < 0 || ih >= geo.h || iw < 0 || iw >= geo.w) return 0.0f;
  return x[((n * geo.h + ih) * geo.w + iw) * geo.xs + g * geo.cg + c];
}

int64_t PanelIndex(int64_t mr, int64_t ku, int64_t kc, int64_t i, int64_t p) {
  const int64_t kcp = (kc + ku - 1) / ku * ku;
  return (i / mr) * mr * kcp + (p / ku) * mr * ku + (i % mr) * ku + p % ku;
}

void PackIm2colNhwcToPanels(const ConvGeometry& geo, int64_t mr, int64_t ku, const float* x,
                            int64_t g, int64_t m0, int64_t mc, int64_t k0,
                            int64_t kc, float* out) {
  for (int64_t i = 0; i < mc; ++i) {
    for (int64_t p = 0; p < kc; ++p) {
      out[PanelIndex(mr, ku, kc, i, p)] = Im2colAt(geo, x, g, m0 + i, k0 + p);
    }
  }
}

void GemmTile(int64_t mr, int64_t ku, const float* a, const float* b, int64_t k,
              int64_t b_stride, const float* c, int64_t ldc, int64_t m,
              int64_t n, const TileOps& ops, double* value, double* abs_sum) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc, mag;
      if (ops.accumulate) {
        acc = c[i * ldc + j];
        mag = std::fabs(acc);
      } else {
        acc = ops.bias == nullptr ? 0.0 : ops.bias_rows ? ops.bias[i] : ops.bias[j];
        mag = std::fabs(acc);
        if (ops.sum) {
          const double s = static_cast<double>(ops.sum_scale) * c[i * ldc + j];
          acc += s;
          mag += std::fabs(s);
        }
      }
      for (int64_t p = 0; p < k; ++p) {
        const double prod =
            static_cast<double>(a[PanelIndex(mr, ku, k, i, p)]) * b[p * b_stride + j];
        acc += prod;
        mag += std::fabs(prod);
      }
      if (ops.clamp) {
        if (acc < ops.lo) acc = ops.lo;
        if (acc > ops.hi) acc = ops.hi;
      }
      value[i * n + j] = acc;
      abs_sum[i * n + j] = mag;
    }
  }
}

}  // namespace ref
}  // namespace convkit
