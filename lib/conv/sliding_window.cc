// The sliding-window algorithm's entry points, compiled once per target in
// a translation unit of their own (sliding_window-inl.h has the kernel):
// its 6 tile variants per target then build beside conv_dispatch.cc, whose
// kernel tables point at the functions below, rather than inside it (that
// file took 63 s instead of 37 with them).

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "lib/conv/sliding_window.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "lib/conv/sliding_window-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// One task: output rows (n, oh) [m0, m1), channels [n0, n1) (n0 a multiple
// of the vector).
HWY_NOINLINE void SlidingWindowTask(const Plan& plan, const Task& task, const float* x,
                                    float* y, void* ws) {
  switch (plan.geo.kw) {
    case 3: return SlidingWindowRows<3>(plan, task, x, y, ws);
    case 5: return SlidingWindowRows<5>(plan, task, x, y, ws);
    default: return SlidingWindowRows<7>(plan, task, x, y, ws);  // 7 (SlidingWindowApplies)
  }
}

// Output pixels per tile for this target and kernel width (planning).
int64_t SlidingWindowTileRows(int64_t kw) {
  switch (kw) {
    case 3: return SwRows<3>();
    case 5: return SwRows<5>();
    default: return SwRows<7>();
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();
