// Double-precision references of the backward passes (tests, convkit-perf
// --check), with the magnitude sums that bound any float evaluation (the
// forward reference's rule, check.h): plain loops over the forward
// convolution's index relation, in the descriptor's layouts.
#ifndef CONVKIT_LIB_REF_BACKWARD_REF_H_
#define CONVKIT_LIB_REF_BACKWARD_REF_H_

#include <cstdint>

#include "convkit/convkit.h"

namespace convkit {
namespace ref {

// dx = d(loss)/dx for dy = d(loss)/dy (Sizes(desc).input doubles, and their
// magnitude sums), plus bias[c] per input channel when bias is not null (the
// transposed convolution's bias). Terms per output: KH * KW * Cout / G (+1).
void BackwardData(const Conv2dDesc& desc, const float* dy, const float* weights,
                  const float* bias, double* dx, double* dx_abs);

// dw (desc.weights_layout, Sizes(desc).weights doubles) and, if dbias is not
// null, dbias (out_channels doubles), with magnitude sums. Terms per output:
// N * OH * OW.
void BackwardWeights(const Conv2dDesc& desc, const float* x, const float* dy, double* dw,
                     double* dw_abs, double* dbias, double* dbias_abs);

}  // namespace ref
}  // namespace convkit

#endif  // CONVKIT_LIB_REF_BACKWARD_REF_H_
