// The pixel-lanes algorithm's entry point, compiled once per target in a
// translation unit of its own (pixel_lanes-inl.h has the kernel), beside
// conv_dispatch.cc, whose kernel tables point at it.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "lib/conv/pixel_lanes.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "lib/conv/pixel_lanes-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// One task: output rows (n, oh) [m0, m1), channels [n0, n1) (n0 a multiple
// of MR).
HWY_NOINLINE void PixelLanesTaskEntry(const Plan& plan, const Task& task, const float* x,
                                      float* y, void* ws) {
  PixelLanesTask(plan, task, x, y, ws);
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();
