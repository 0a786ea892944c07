// The reference convolution: the notebooks' 7-deep loop, accumulating in
// double, with the magnitude sum that bounds any float evaluation's rounding
// error. The spec every kernel is tested against; plain loops only.
#include <cmath>
#include <vector>

#include "convkit/convkit.h"
#include "lib/common/geometry.h"

namespace convkit {
namespace {

Status Null(const char* field) {
  return Status(StatusCode::kInvalidArgument, field,
                std::string("convkit: ") + field + " is null");
}

// The post-ops on one output (index i): sum, then clamp (NaN kept).
void PostOps(const Conv2dDesc& desc, const float* sum_input, int64_t i, double* acc,
             double* mag) {
  if (desc.has_sum) {
    const double s = static_cast<double>(desc.sum_scale) * sum_input[i];
    *acc += s;
    *mag += std::fabs(s);
  }
  if (*acc < desc.output_min) *acc = desc.output_min;
  if (*acc > desc.output_max) *acc = desc.output_max;
}

}  // namespace

void ReferenceConv2dAt(const Conv2dDesc& desc, const float* input,
                       const float* weights, const float* bias, int64_t n,
                       int64_t oh, int64_t ow, int64_t o, double* value,
                       double* abs_sum, const float* sum_input) {
  const ConvGeometry g = MakeGeometry(desc);
  const int64_t grp = o / g.ng;
  double acc = bias != nullptr ? bias[o] : 0.0;
  double mag = std::fabs(acc);
  for (int64_t kh = 0; kh < g.kh; ++kh) {
    const int64_t ih = oh * g.sh + kh * g.dh - g.pt;
    if (ih < 0 || ih >= g.h) continue;
    for (int64_t kw = 0; kw < g.kw; ++kw) {
      const int64_t iw = ow * g.sw + kw * g.dw - g.pl;
      if (iw < 0 || iw >= g.w) continue;
      const float* xp = input + ((n * g.h + ih) * g.w + iw) * g.cin + grp * g.cg;
      const float* wp = weights + (kh * g.kw + kw) * g.cg * g.cout + o;
      for (int64_t ci = 0; ci < g.cg; ++ci) {
        const double p = static_cast<double>(xp[ci]) * wp[ci * g.cout];
        acc += p;
        mag += std::fabs(p);
      }
    }
  }
  PostOps(desc, sum_input, ((n * g.oh + oh) * g.ow + ow) * g.cout + o, &acc, &mag);
  *value = acc;
  if (abs_sum != nullptr) *abs_sum = mag;
}

Status ReferenceConv2d(const Conv2dDesc& desc, const float* input,
                       const float* weights, const float* bias, double* output,
                       double* abs_sum, const float* sum_input) {
  Status s = Validate(desc);
  if (!s.ok()) return s;
  if (desc.batch == 0) return Status();
  if (input == nullptr) return Null("input");
  if (weights == nullptr) return Null("weights");
  if (desc.has_bias && bias == nullptr) return Null("bias");
  if (!desc.has_bias && bias != nullptr) {
    return Status(StatusCode::kInvalidArgument, "bias",
                  "convkit: bias is given but has_bias is false");
  }
  if (desc.has_sum && sum_input == nullptr) return Null("sum_input");
  if (output == nullptr) return Null("output");
  const ConvGeometry g = MakeGeometry(desc);
  const int64_t rows = g.n * g.oh;
  // Loop order n, oh | ow | kh, kw | ci | co: the inner loop runs along the
  // HWIO weights' contiguous Cout axis.
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1)
#endif
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / g.oh, oh = r % g.oh;
    std::vector<double> acc(static_cast<size_t>(g.cout));
    std::vector<double> mag(static_cast<size_t>(g.cout));
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      for (int64_t o = 0; o < g.cout; ++o) {
        acc[o] = desc.has_bias ? bias[o] : 0.0;
        mag[o] = std::fabs(acc[o]);
      }
      for (int64_t kh = 0; kh < g.kh; ++kh) {
        const int64_t ih = oh * g.sh + kh * g.dh - g.pt;
        if (ih < 0 || ih >= g.h) continue;
        for (int64_t kw = 0; kw < g.kw; ++kw) {
          const int64_t iw = ow * g.sw + kw * g.dw - g.pl;
          if (iw < 0 || iw >= g.w) continue;
          const float* xp = input + ((n * g.h + ih) * g.w + iw) * g.cin;
          const float* wt = weights + (kh * g.kw + kw) * g.cg * g.cout;
          for (int64_t grp = 0; grp < g.groups; ++grp) {
            double* a = acc.data() + grp * g.ng;
            double* m = mag.data() + grp * g.ng;
            for (int64_t ci = 0; ci < g.cg; ++ci) {
              const double xv = xp[grp * g.cg + ci];
              const double xa = std::fabs(xv);
              const float* wrow = wt + ci * g.cout + grp * g.ng;
              for (int64_t j = 0; j < g.ng; ++j) {
                a[j] += xv * wrow[j];
                m[j] += xa * std::fabs(static_cast<double>(wrow[j]));
              }
            }
          }
        }
      }
      const int64_t base = (r * g.ow + ow) * g.cout;
      for (int64_t o = 0; o < g.cout; ++o) PostOps(desc, sum_input, base + o, &acc[o], &mag[o]);
      double* yp = output + base;
      for (int64_t o = 0; o < g.cout; ++o) yp[o] = acc[o];
      if (abs_sum != nullptr) {
        double* bp = abs_sum + (r * g.ow + ow) * g.cout;
        for (int64_t o = 0; o < g.cout; ++o) bp[o] = mag[o];
      }
    }
  }
  return Status();
}

}  // namespace convkit
