// The naive algorithm: the notebooks' direct loop, in float, one task of the
// partition at a time. The last row of the algorithm table; a baseline for
// convkit-perf and a cross-check for the tests, never chosen automatically.
// Plain C++: every target's kernel table points at the same function.
#include <cmath>

#include "lib/conv/plan.h"

namespace convkit {
namespace {

// Output rows [r0, r1) of the N * OH, channels [c0, c1), NHWC or NCHW.
// Weights are HWIO (the plan converted OIHW).
// Post-ops as the tiles apply them (tile.h): sum in the initial value, clamp
// on store.
void NaiveRows(const ConvGeometry& g, const PostOps& post, const float* x, const float* w,
               const float* bias, float* y, int64_t r0, int64_t r1, int64_t c0,
               int64_t c1) {
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.oh, oh = r % g.oh;
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      for (int64_t o = c0; o < c1; ++o) {
        const int64_t grp = o / g.ng;
        float* out = g.nchw ? y + ((n * g.cout + o) * g.oh + oh) * g.ow + ow
                            : y + (r * g.ow + ow) * g.ys + o;
        float acc = bias != nullptr ? bias[o] : 0.0f;
        if (post.sum) acc = std::fma(post.sum_scale, *out, acc);
        for (int64_t kh = 0; kh < g.kh; ++kh) {
          const int64_t ih = oh * g.sh + kh * g.dh - g.pt;
          const bool row_in = ih >= 0 && ih < g.h;
          for (int64_t kw = 0; kw < g.kw; ++kw) {
            const int64_t iw = ow * g.sw + kw * g.dw - g.pl;
            if (!row_in || iw < 0 || iw >= g.w) {
              // Padding: zeros, which join the sum (0 * NaN = NaN).
              const float* wp = w + (kh * g.kw + kw) * g.cg * g.cout + o;
              for (int64_t ci = 0; ci < g.cg; ++ci) acc += 0.0f * wp[ci * g.cout];
              continue;
            }
            // Channel ci of this pixel: NHWC adjacent, NCHW a plane apart.
            const float* xp = g.nchw ? x + ((n * g.cin + grp * g.cg) * g.h + ih) * g.w + iw
                                     : x + ((n * g.h + ih) * g.w + iw) * g.xs + grp * g.cg;
            const int64_t xc = g.nchw ? g.h * g.w : 1;
            const float* wp = w + (kh * g.kw + kw) * g.cg * g.cout + o;
            for (int64_t ci = 0; ci < g.cg; ++ci) acc += xp[ci * xc] * wp[ci * g.cout];
          }
        }
        if (post.clamp) {
          if (acc < post.lo) acc = post.lo;
          if (acc > post.hi) acc = post.hi;
        }
        *out = acc;
      }
    }
  }
}

}  // namespace

void NaiveTask(const Plan& plan, const Task& task, const float* x, float* y, void* /*ws*/) {
  NaiveRows(plan.geo, plan.post, x, plan.weights, plan.bias, y, task.m0, task.m1, task.n0,
            task.n1);
}

}  // namespace convkit
