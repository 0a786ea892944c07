// The one dispatch file of the forward convolution: compiled once per target
// through foreach_target.h, it fills that target's constant KernelTable
// (kernel_table.h) with the target's tile shape, kernel ids and one task
// function per algorithm. Planning fetches the table once per operator;
// nothing here runs per call.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "lib/conv/conv_dispatch.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <cstdio>

#include "hwy/highway.h"
#include "lib/conv/depthwise-inl.h"
#include "lib/conv/direct_gemm-inl.h"
#include "lib/conv/im2col_gemm-inl.h"
#include "lib/conv/kernel_table.h"
#include "lib/conv/nchw_gemm-inl.h"
#include "lib/conv/plan.h"
#include "lib/gemm/tile-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// Defined per target in sliding_window.cc (its own translation unit).
void SlidingWindowTask(const Plan& plan, const Task& task, const float* x, float* y, void* ws);
int64_t SlidingWindowTileRows(int64_t kw);
// Defined per target in pixel_lanes.cc.
void PixelLanesTaskEntry(const Plan& plan, const Task& task, const float* x, float* y, void* ws);

const KernelTable* KernelTableForTarget() {
  static char gemm_id[48], igemm_id[48], dw_id[48], sw_id[48], pl_id[48];
  static const KernelTable table = [] {
    KernelTable t;
    t.target = TargetSuffix();
    t.gemm = GetTileShape();
    t.dw_lanes = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
    TileId("gemm", gemm_id, sizeof(gemm_id));
    TileId("igemm", igemm_id, sizeof(igemm_id));
    TileId("pixlanes", pl_id, sizeof(pl_id));
    std::snprintf(dw_id, sizeof(dw_id), "f32_dwconv_%zuv__%s", kDwVecs, TargetSuffix());
    std::snprintf(sw_id, sizeof(sw_id), "f32_slidewin_1v__%s", TargetSuffix());
    t.gemm_id = gemm_id;
    t.igemm_id = igemm_id;
    t.dw_id = dw_id;
    t.sw_id = sw_id;
    t.pl_id = pl_id;
    t.im2col_gemm = &Im2colGemmTask;
    t.direct_gemm = &DirectGemmTask;
    t.shifted_gemm = &ShiftedGemmTask;
    t.depthwise = &DepthwiseTask;
    t.naive = &NaiveTask;
    t.nchw_gemm = &NchwGemmTask;
    t.nchw_pixel_gemm = &NchwPixelGemmTask;
    t.sliding_window = &SlidingWindowTask;
    t.sw_rows = &SlidingWindowTileRows;
    t.pixel_lanes = &PixelLanesTaskEntry;
    return t;
  }();
  return &table;
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "lib/dispatch/targets.h"

namespace convkit {

HWY_EXPORT(KernelTableForTarget);

const KernelTable& GetKernelTable(int64_t target) {
  return *CONVKIT_DISPATCH(KernelTableForTarget, target)();
}

}  // namespace convkit
#endif  // HWY_ONCE
