// Element offsets of the descriptor's layouts, for the plain-loop references
// (reference.cc, backward_ref.cc): input x[n][c][h][w], output y[n][o][oh][ow]
// in NHWC (with the pixel strides) or NCHW, weights w[kh][kw][ci][o] in HWIO or OIHW.
#ifndef CONVKIT_LIB_REF_LAYOUT_INDEX_H_
#define CONVKIT_LIB_REF_LAYOUT_INDEX_H_

#include <cstdint>

#include "convkit/convkit.h"
#include "lib/common/geometry.h"

namespace convkit {
namespace ref {

inline int64_t XIndex(const ConvGeometry& g, int64_t n, int64_t c, int64_t h, int64_t w) {
  return g.nchw ? ((n * g.cin + c) * g.h + h) * g.w + w : ((n * g.h + h) * g.w + w) * g.xs + c;
}
inline int64_t YIndex(const ConvGeometry& g, int64_t n, int64_t o, int64_t oh, int64_t ow) {
  return g.nchw ? ((n * g.cout + o) * g.oh + oh) * g.ow + ow
                : ((n * g.oh + oh) * g.ow + ow) * g.ys + o;
}
inline int64_t WIndex(const Conv2dDesc& d, const ConvGeometry& g, int64_t kh, int64_t kw,
                      int64_t ci, int64_t o) {
  return d.weights_layout == WeightsLayout::kOihw ? ((o * g.cg + ci) * g.kh + kh) * g.kw + kw
                                                  : ((kh * g.kw + kw) * g.cg + ci) * g.cout + o;
}

}  // namespace ref
}  // namespace convkit

#endif  // CONVKIT_LIB_REF_LAYOUT_INDEX_H_
