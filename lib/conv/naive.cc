// The naive algorithm: the notebooks' direct loop, in float, parallel over the
// partition's tasks. The last entry of the algorithm list; a baseline for
// convkit-perf and a cross-check for the tests, never chosen automatically.
#include <algorithm>

#include "lib/common/threads.h"
#include "lib/conv/plan.h"

namespace convkit {
namespace {

// Output rows [r0, r1) of the N * OH, channels [c0, c1). Weights are HWIO.
void NaiveRows(const ConvGeometry& g, const float* x, const float* w,
               const float* bias, float* y, int64_t r0, int64_t r1, int64_t c0,
               int64_t c1) {
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / g.oh, oh = r % g.oh;
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      for (int64_t o = c0; o < c1; ++o) {
        const int64_t grp = o / g.ng;
        float acc = bias != nullptr ? bias[o] : 0.0f;
        for (int64_t kh = 0; kh < g.kh; ++kh) {
          const int64_t ih = oh * g.sh + kh * g.dh - g.pt;
          if (ih < 0 || ih >= g.h) continue;
          for (int64_t kw = 0; kw < g.kw; ++kw) {
            const int64_t iw = ow * g.sw + kw * g.dw - g.pl;
            if (iw < 0 || iw >= g.w) continue;
            const float* xp = x + ((n * g.h + ih) * g.w + iw) * g.cin + grp * g.cg;
            const float* wp = w + (kh * g.kw + kw) * g.cg * g.cout + o;
            for (int64_t ci = 0; ci < g.cg; ++ci) acc += xp[ci] * wp[ci * g.cout];
          }
        }
        y[(r * g.ow + ow) * g.cout + o] = acc;
      }
    }
  }
}

}  // namespace

void RunNaive(const Plan& plan, const Partition& part, const float* x, float* y) {
  const ConvGeometry& g = plan.geo;
#if defined(_OPENMP)
#pragma omp parallel for num_threads(part.threads) schedule(dynamic, 1) if (part.threads > 1)
#endif
  for (int64_t t = 0; t < part.tasks; ++t) {
    const int64_t mi = t / part.n_tasks, ni = t % part.n_tasks;
    const int64_t r0 = mi * part.m_chunk;
    const int64_t r1 = std::min(r0 + part.m_chunk, g.n * g.oh);
    const int64_t c0 = ni * part.n_chunk;
    const int64_t c1 = std::min(c0 + part.n_chunk, g.cout);
    NaiveRows(g, x, plan.weights, plan.bias, y, r0, r1, c0, c1);
  }
}

}  // namespace convkit
