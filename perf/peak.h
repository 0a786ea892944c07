// The machine's FP32 FMA peak for a convkit target and thread count.
#ifndef CONVKIT_PERF_PEAK_H_
#define CONVKIT_PERF_PEAK_H_

#include <string>

namespace convkit {
namespace perf {

// GFLOP/s of `threads` threads running independent MulAdd chains at once on
// the target a convkit call would use under `target` ("" = best).
double MeasureFmaPeak(const std::string& target, int threads);

}  // namespace perf
}  // namespace convkit

#endif  // CONVKIT_PERF_PEAK_H_
