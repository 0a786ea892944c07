// The one dispatch file of the forward convolution: compiled once per target
// through foreach_target.h. Per target, Run's OpenMP loop hands tasks to
// HWY_NOINLINE task functions (pointers and indices only), which run the GEMM
// loop nest jc -> pc -> ic -> jr -> ir around the register tiles, or the
// depthwise kernel. Dispatch happens once per call, in RunPlan below.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "lib/conv/conv_dispatch.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "lib/common/threads.h"
#include "lib/conv/depthwise-inl.h"
#include "lib/conv/plan.h"
#include "lib/gemm/tile-inl.h"
#include "lib/pack/im2col-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// Rows [m0, m0 + mc) of the group's A, K block [k0, k0 + kc), into ws.
HWY_INLINE void PackA(const Plan& plan, const float* x, int64_t g, int64_t m0,
                      int64_t mc, int64_t k0, int64_t kc, float* ws) {
  if (plan.algorithm == Algorithm::kGemm1x1) {
    PackRowsToPanels<kTileRows, kTileKU>(plan.geo, x, g, m0, mc, k0, kc, ws);
  } else {
    PackIm2colNhwcToPanels<kTileRows, kTileKU>(plan.geo, x, g, m0, mc, k0, kc, ws);
  }
}

// jr -> ir over one packed A block: C[m0 : m0+mc, n0 : n1] of group g
// (+)= Ablock * B[k0 : k0+kc, n0 : n1].
HWY_INLINE void MacroKernel(const Plan& plan, const float* ws, int64_t g,
                            int64_t m0, int64_t mc, int64_t n0, int64_t n1,
                            int64_t k0, int64_t kc, bool accumulate, float* y) {
  const ConvGeometry& geo = plan.geo;
  const int64_t mr = static_cast<int64_t>(kTileRows);
  const int64_t nr = plan.tile.nr;
  const bool with_bias = !accumulate && plan.bias != nullptr;
  // Stride between MR-row panels of the packed block (kc rounded up to KU).
  const int64_t panel_stride =
      (kc + static_cast<int64_t>(kTileKU) - 1) / static_cast<int64_t>(kTileKU) *
      static_cast<int64_t>(kTileKU) * mr;
  for (int64_t jr = n0; jr < n1; jr += nr) {
    const int64_t n = std::min(nr, n1 - jr);
    const int64_t panel = g * plan.b_panels + jr / nr;
    const float* b = plan.weights + (panel * geo.k + k0) * nr;
    const float* bias = with_bias ? plan.bias + panel * nr : nullptr;
    const TileFn full = GetTile(mr, n);
    for (int64_t ir = 0; ir < mc; ir += mr) {
      const int64_t m = std::min(mr, mc - ir);
      const TileFn tile = m == mr ? full : GetTile(m, n);
      float* c = y + (m0 + ir) * geo.cout + g * geo.ng + jr;
      tile(ws + ir / mr * panel_stride, b, kc, nr, c, geo.cout, n, bias, accumulate);
    }
  }
}

// One GEMM task: group g, rows [m0, m1), columns [n0, n1); loops
// jc (NC) -> pc (KC) -> ic (MC) -> pack A -> jr -> ir.
HWY_NOINLINE void GemmTask(const Plan& plan, const float* x, float* y,
                           float* ws, int64_t g, int64_t m0, int64_t m1,
                           int64_t n0, int64_t n1) {
  const TileConfig& t = plan.tile;
  const int64_t K = plan.geo.k;
  for (int64_t jc = n0; jc < n1; jc += t.nc) {
    const int64_t jc_end = std::min(jc + t.nc, n1);
    for (int64_t pc = 0; pc < K; pc += t.kc) {
      const int64_t kc = std::min(t.kc, K - pc);
      for (int64_t ic = m0; ic < m1; ic += t.mc) {
        const int64_t mc = std::min(t.mc, m1 - ic);
        PackA(plan, x, g, ic, mc, pc, kc, ws);
        MacroKernel(plan, ws, g, ic, mc, jc, jc_end, pc, kc, pc > 0, y);
      }
    }
  }
}

// The notebooks' second method on the same tiles: for each kernel tap, the
// shifted input slice (rows of A restricted to that tap's Cg columns) times
// that tap's Cg x N weights, accumulated into the output. The tap loop is
// outermost, so the task's output block is revisited once per tap.
HWY_NOINLINE void ShiftedTask(const Plan& plan, const float* x, float* y,
                              float* ws, int64_t g, int64_t m0, int64_t m1,
                              int64_t n0, int64_t n1) {
  const TileConfig& t = plan.tile;
  const int64_t cg = plan.geo.cg;
  for (int64_t tap = 0; tap < plan.geo.taps; ++tap) {
    for (int64_t c0 = 0; c0 < cg; c0 += t.kc) {
      const int64_t kc = std::min(t.kc, cg - c0);
      const int64_t k0 = tap * cg + c0;
      for (int64_t ic = m0; ic < m1; ic += t.mc) {
        const int64_t mc = std::min(t.mc, m1 - ic);
        PackIm2colNhwcToPanels<kTileRows, kTileKU>(plan.geo, x, g, ic, mc, k0, kc, ws);
        MacroKernel(plan, ws, g, ic, mc, n0, n1, k0, kc, k0 > 0, y);
      }
    }
  }
}

HWY_NOINLINE void DepthwiseTask(const Plan& plan, const float* x, float* y,
                                int64_t r0, int64_t r1, int64_t c0,
                                int64_t c1) {
  DepthwiseRows(plan.geo, x, plan.weights, plan.dw_cpad, plan.bias, y, r0, r1,
                c0, c1);
}

// Task t of the partition (see Partition in plan.h).
HWY_NOINLINE void RunTask(const Plan& plan, const Partition& part,
                          const float* x, float* y, float* ws, int64_t t) {
  const ConvGeometry& geo = plan.geo;
  const int64_t ni = t % part.n_tasks;
  const int64_t rest = t / part.n_tasks;
  const int64_t mi = rest % part.m_tasks;
  const int64_t g = rest / part.m_tasks;
  const int64_t m0 = mi * part.m_chunk;
  const int64_t n0 = ni * part.n_chunk;
  if (plan.algorithm == Algorithm::kDepthwise) {
    const int64_t m1 = std::min(m0 + part.m_chunk, geo.n * geo.oh);
    const int64_t n1 = std::min(n0 + part.n_chunk, geo.cout);
    DepthwiseTask(plan, x, y, m0, m1, n0, n1);
    return;
  }
  const int64_t m1 = std::min(m0 + part.m_chunk, geo.m);
  const int64_t n1 = std::min(n0 + part.n_chunk, geo.ng);
  if (plan.algorithm == Algorithm::kShiftedGemm) {
    ShiftedTask(plan, x, y, ws, g, m0, m1, n0, n1);
  } else {
    GemmTask(plan, x, y, ws, g, m0, m1, n0, n1);
  }
}

// Every task exactly once, on part.threads threads; each thread packs into its
// own slice of ws. Tasks write disjoint outputs and never split K, so the
// result does not depend on the thread count or the schedule.
void Run(const Plan& plan, const Partition& part, const float* x, float* y,
         float* ws) {
#if defined(_OPENMP)
#pragma omp parallel for num_threads(part.threads) schedule(dynamic, 1) if (part.threads > 1)
#endif
  for (int64_t t = 0; t < part.tasks; ++t) {
    float* my_ws = ws == nullptr ? nullptr : ws + ThreadIndex() * plan.ws_floats;
    RunTask(plan, part, x, y, my_ws, t);
  }
}

void Query(TileConfig* tile, char* dw_kernel, size_t size) {
  *tile = GetTileConfig();
  std::snprintf(dw_kernel, size, "f32_dwconv_%zuv__%s", kDwVecs, TargetSuffix());
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "lib/dispatch/targets.h"

namespace convkit {

HWY_EXPORT(Run);
HWY_EXPORT(Query);

void RunPlan(const Plan& plan, const Partition& part, const float* x, float* y,
             float* ws) {
  CONVKIT_DISPATCH(Run, plan.target)(plan, part, x, y, ws);
}

void QueryTarget(int64_t target, TileConfig* tile, char* dw_kernel, size_t size) {
  CONVKIT_DISPATCH(Query, target)(tile, dw_kernel, size);
}

}  // namespace convkit
#endif  // HWY_ONCE
