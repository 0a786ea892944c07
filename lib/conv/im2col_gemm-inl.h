// The packed-A GEMM algorithms: im2col_gemm (the BLIS loop nest jc -> pc ->
// ic -> pack A -> jr -> ir around the register tile, one MC x KC block of the
// virtual im2col matrix packed at a time) and shifted_gemm (the notebooks'
// second method: one GEMM per kernel tap on the shifted input, accumulated).
// Re-included once per target.

#if defined(CONVKIT_LIB_CONV_IM2COL_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVKIT_LIB_CONV_IM2COL_GEMM_INL_H_
#undef CONVKIT_LIB_CONV_IM2COL_GEMM_INL_H_
#else
#define CONVKIT_LIB_CONV_IM2COL_GEMM_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <algorithm>

#include "hwy/highway.h"
#include "lib/conv/plan.h"
#include "lib/gemm/tile-inl.h"
#include "lib/pack/im2col-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// jr -> ir over one packed A block: C[m0 : m0+mc, n0 : n1] of group g
// (+)= Ablock * B[k0 : k0+kc, n0 : n1].
HWY_INLINE void MacroKernel(const Plan& plan, const float* ws, int64_t g,
                            int64_t m0, int64_t mc, int64_t n0, int64_t n1,
                            int64_t k0, int64_t kc, float* y) {
  const ConvGeometry& geo = plan.geo;
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  constexpr int64_t kKU = static_cast<int64_t>(kTileKU);
  const int64_t nr = plan.kernels->gemm.nr;
  // Stride between MR-row panels of the packed block (kc rounded up to KU).
  const int64_t panel_stride = RoundUp(kc, kKU) * kMR;
  for (int64_t jr = n0; jr < n1; jr += nr) {
    const int64_t n = std::min(nr, n1 - jr);
    const int64_t panel = g * plan.b_panels + jr / nr;
    const float* b = plan.weights + (panel * geo.k + k0) * nr;
    const TileOps ops =
        BlockOps(plan, plan.bias != nullptr ? plan.bias + panel * nr : nullptr, k0, kc);
    const int64_t tiles = DivCeil(mc, kMR);
    GetGemmPanel(n)(ws, panel_stride, tiles, mc - (tiles - 1) * kMR, b, kc, nr,
                    y + m0 * geo.ys + g * geo.ng + jr, geo.ys, n, ops);
  }
}

// One task: group g, rows [m0, m1), columns [n0, n1).
inline HWY_NOINLINE void Im2colGemmTask(const Plan& plan, const Task& task, const float* x,
                                 float* y, void* ws) {
  const Blocking& blk = plan.blocks;
  float* a = static_cast<float*>(ws);
  const int64_t K = plan.geo.k;
  for (int64_t jc = task.n0; jc < task.n1; jc += blk.nc) {
    const int64_t jc_end = std::min(jc + blk.nc, task.n1);
    for (int64_t pc = 0; pc < K; pc += blk.kc) {
      const int64_t kc = std::min(blk.kc, K - pc);
      for (int64_t ic = task.m0; ic < task.m1; ic += blk.mc) {
        const int64_t mc = std::min(blk.mc, task.m1 - ic);
        PackIm2colNhwcToPanels<kTileRows, kTileKU>(plan.geo, x, task.g, ic, mc, pc, kc, a);
        MacroKernel(plan, a, task.g, ic, mc, jc, jc_end, pc, kc, y);
      }
    }
  }
}

// For each kernel tap, the shifted input slice (rows of A restricted to that
// tap's Cg columns) times that tap's Cg x N weights, accumulated into the
// output. The tap loop is outermost, so the task's output block is revisited
// once per tap.
inline HWY_NOINLINE void ShiftedGemmTask(const Plan& plan, const Task& task, const float* x,
                                  float* y, void* ws) {
  const Blocking& blk = plan.blocks;
  float* a = static_cast<float*>(ws);
  const int64_t cg = plan.geo.cg;
  for (int64_t tap = 0; tap < plan.geo.taps; ++tap) {
    for (int64_t c0 = 0; c0 < cg; c0 += blk.kc) {
      const int64_t kc = std::min(blk.kc, cg - c0);
      const int64_t k0 = tap * cg + c0;
      for (int64_t ic = task.m0; ic < task.m1; ic += blk.mc) {
        const int64_t mc = std::min(blk.mc, task.m1 - ic);
        PackIm2colNhwcToPanels<kTileRows, kTileKU>(plan.geo, x, task.g, ic, mc, k0, kc, a);
        MacroKernel(plan, a, task.g, ic, mc, task.n0, task.n1, k0, kc, y);
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_CONV_IM2COL_GEMM_INL_H_
