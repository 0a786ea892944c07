// Checking a float convolution output against the double reference, shared by
// the tests and convkit-perf --check so both apply the same rule.
//
// Tolerance, for each output, with r = bias + sum x*w and M = |bias| +
// sum |x|*|w| in double and K = KH*KW*Cin/G (the sum post-op adds its term
// to r and M, and one to K; the clamp is applied to r and cannot add error):
//   |y - r| <= min(gamma(K+1), 8 * sqrt(K+1) * u) * M + u * |r|,
//   u = 2^-24, gamma(n) = n*u / (1 - n*u):
// the fp32 dot-product error bound (deterministic for small K, the
// probabilistic 8 sqrt(n) u form for large K), never a loose constant.
#ifndef CONVKIT_LIB_REF_CHECK_H_
#define CONVKIT_LIB_REF_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "convkit/convkit.h"

namespace convkit {
namespace ref {

double Tolerance(double ref, double abs_sum, int64_t k);

// Reference values of a whole output, or, when the output has more than
// kMaxFullCheck elements, of a documented sample of output pixels (all
// channels of each): every pixel in the first and last two rows and columns
// of the first and last image, plus 4096 pseudo-random pixels (fixed seed).
struct ReferenceOutputs {
  static constexpr int64_t kMaxFullCheck = int64_t{1} << 26;  // 256 MiB fp32
  bool sampled = false;
  std::vector<int64_t> pixels;         // sampled (n*OH + oh)*OW + ow, sorted
  std::vector<double> value, abs_sum;  // per output (or per sampled output)
};
// sum_input: the output's previous values, required iff desc.has_sum.
Status ComputeReference(const Conv2dDesc& desc, const float* input,
                        const float* weights, const float* bias,
                        ReferenceOutputs* ref, const float* sum_input = nullptr);

// "" if every checked output is within tolerance (exact: bit-identical, +0
// and -0 equal; NaN matches NaN); else the count and the first positions. With a sampled
// reference, every other output must still have been written (not NaN).
std::string CompareWithReference(const Conv2dDesc& desc, const ReferenceOutputs& ref,
                                 const float* output, bool exact);

}  // namespace ref
}  // namespace convkit

#endif  // CONVKIT_LIB_REF_CHECK_H_
