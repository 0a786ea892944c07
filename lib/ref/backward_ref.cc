#include "lib/ref/backward_ref.h"

#include <cmath>
#include <vector>

#include "lib/common/geometry.h"
#include "lib/ref/layout_index.h"

namespace convkit {
namespace ref {
namespace {


// Calls f(n, oh, ow, kh, kw, ih, iw) for every (output pixel, tap) whose
// input pixel is inside the input: the forward convolution's index relation.
template <class F>
void ForEachPair(const ConvGeometry& g, F f) {
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oh = 0; oh < g.oh; ++oh)
      for (int64_t ow = 0; ow < g.ow; ++ow)
        for (int64_t kh = 0; kh < g.kh; ++kh) {
          const int64_t ih = oh * g.sh + kh * g.dh - g.pt;
          if (ih < 0 || ih >= g.h) continue;
          for (int64_t kw = 0; kw < g.kw; ++kw) {
            const int64_t iw = ow * g.sw + kw * g.dw - g.pl;
            if (iw < 0 || iw >= g.w) continue;
            f(n, oh, ow, kh, kw, ih, iw);
          }
        }
}

}  // namespace

void BackwardData(const Conv2dDesc& desc, const float* dy, const float* weights,
                  const float* bias, double* dx, double* dx_abs) {
  const ConvGeometry g = MakeGeometry(desc);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.cin; ++c)
      for (int64_t h = 0; h < g.h; ++h)
        for (int64_t w = 0; w < g.w; ++w) {
          const int64_t i = XIndex(g, n, c, h, w);
          dx[i] = bias != nullptr ? bias[c] : 0.0;
          dx_abs[i] = std::fabs(dx[i]);
        }
  ForEachPair(g, [&](int64_t n, int64_t oh, int64_t ow, int64_t kh, int64_t kw, int64_t ih,
                     int64_t iw) {
    for (int64_t grp = 0; grp < g.groups; ++grp)
      for (int64_t ci = 0; ci < g.cg; ++ci) {
        const int64_t i = XIndex(g, n, grp * g.cg + ci, ih, iw);
        for (int64_t j = 0; j < g.ng; ++j) {
          const int64_t o = grp * g.ng + j;
          const double p = static_cast<double>(dy[YIndex(g, n, o, oh, ow)]) *
                           weights[WIndex(desc, g, kh, kw, ci, o)];
          dx[i] += p;
          dx_abs[i] += std::fabs(p);
        }
      }
  });
}

void BackwardWeights(const Conv2dDesc& desc, const float* x, const float* dy, double* dw,
                     double* dw_abs, double* dbias, double* dbias_abs) {
  const ConvGeometry g = MakeGeometry(desc);
  const int64_t count = g.taps * g.cg * g.cout;
  for (int64_t i = 0; i < count; ++i) dw[i] = dw_abs[i] = 0.0;
  ForEachPair(g, [&](int64_t n, int64_t oh, int64_t ow, int64_t kh, int64_t kw, int64_t ih,
                     int64_t iw) {
    for (int64_t o = 0; o < g.cout; ++o) {
      const int64_t grp = o / g.ng;
      const double d = dy[YIndex(g, n, o, oh, ow)];
      for (int64_t ci = 0; ci < g.cg; ++ci) {
        const double p = d * x[XIndex(g, n, grp * g.cg + ci, ih, iw)];
        const int64_t i = WIndex(desc, g, kh, kw, ci, o);
        dw[i] += p;
        dw_abs[i] += std::fabs(p);
      }
    }
  });
  if (dbias == nullptr) return;
  for (int64_t o = 0; o < g.cout; ++o) {
    dbias[o] = dbias_abs[o] = 0.0;
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t oh = 0; oh < g.oh; ++oh)
        for (int64_t ow = 0; ow < g.ow; ++ow) {
          const double v = dy[YIndex(g, n, o, oh, ow)];
          dbias[o] += v;
          dbias_abs[o] += std::fabs(v);
        }
  }
}

}  // namespace ref
}  // namespace convkit
