// The reference convolution: the notebooks' 7-deep loop, accumulating in
// double, with the magnitude sum that bounds any float evaluation's rounding
// error. The spec every kernel is tested against; plain loops only.
#include <cmath>
#include <vector>

#include "convkit/convkit.h"
#include "lib/common/geometry.h"
#include "lib/ref/layout_index.h"

namespace convkit {
using ref::WIndex;
using ref::XIndex;
using ref::YIndex;
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
    const bool row_in = ih >= 0 && ih < g.h;
    for (int64_t kw = 0; kw < g.kw; ++kw) {
      const int64_t iw = ow * g.sw + kw * g.dw - g.pl;
      if (!row_in || iw < 0 || iw >= g.w) {
        // Padding: x = 0, and 0 * w joins the sum (NaN for a NaN or
        // infinite weight, as every float algorithm computes it).
        for (int64_t ci = 0; ci < g.cg; ++ci) {
          acc += 0.0 * weights[WIndex(desc, g, kh, kw, ci, o)];
        }
        continue;
      }
      for (int64_t ci = 0; ci < g.cg; ++ci) {
        const double p = static_cast<double>(input[XIndex(g, n, grp * g.cg + ci, ih, iw)]) *
                         weights[WIndex(desc, g, kh, kw, ci, o)];
        acc += p;
        mag += std::fabs(p);
      }
    }
  }
  PostOps(desc, sum_input, YIndex(g, n, o, oh, ow), &acc, &mag);
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
  if (g.nchw || desc.weights_layout == WeightsLayout::kOihw) {
    // Other layouts: the same loop on NHWC/HWIO copies, output permuted back.
    Conv2dDesc d = desc;
    d.layout = Layout::kNhwc;
    d.weights_layout = WeightsLayout::kHwio;
    const ConvGeometry h = MakeGeometry(d);
    const TensorSizes sz = Sizes(d);
    std::vector<float> x(static_cast<size_t>(sz.input)), w(static_cast<size_t>(sz.weights));
    std::vector<float> prev(desc.has_sum ? static_cast<size_t>(sz.output) : 0);
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t c = 0; c < g.cin; ++c)
        for (int64_t y = 0; y < g.h; ++y)
          for (int64_t x0 = 0; x0 < g.w; ++x0)
            x[XIndex(h, n, c, y, x0)] = input[XIndex(g, n, c, y, x0)];
    for (int64_t kh = 0; kh < g.kh; ++kh)
      for (int64_t kw = 0; kw < g.kw; ++kw)
        for (int64_t ci = 0; ci < g.cg; ++ci)
          for (int64_t o = 0; o < g.cout; ++o)
            w[WIndex(d, h, kh, kw, ci, o)] = weights[WIndex(desc, g, kh, kw, ci, o)];
    auto each_output = [&](auto f) {
      for (int64_t n = 0; n < g.n; ++n)
        for (int64_t o = 0; o < g.cout; ++o)
          for (int64_t y = 0; y < g.oh; ++y)
            for (int64_t x0 = 0; x0 < g.ow; ++x0) f(YIndex(h, n, o, y, x0), YIndex(g, n, o, y, x0));
    };
    if (desc.has_sum) each_output([&](int64_t i, int64_t j) { prev[i] = sum_input[j]; });
    std::vector<double> out(static_cast<size_t>(sz.output));
    std::vector<double> mag(abs_sum != nullptr ? out.size() : 0);
    Status st = ReferenceConv2d(d, x.data(), w.data(), bias, out.data(),
                                abs_sum != nullptr ? mag.data() : nullptr,
                                desc.has_sum ? prev.data() : nullptr);
    if (!st.ok()) return st;
    each_output([&](int64_t i, int64_t j) {
      output[j] = out[i];
      if (abs_sum != nullptr) abs_sum[j] = mag[i];
    });
    return Status();
  }
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
        const bool row_in = ih >= 0 && ih < g.h;
        for (int64_t kw = 0; kw < g.kw; ++kw) {
          const int64_t iw = ow * g.sw + kw * g.dw - g.pl;
          if (!row_in || iw < 0 || iw >= g.w) {
            // Padding: x = 0, and 0 * w joins the sum (ReferenceConv2dAt).
            const float* wt = weights + (kh * g.kw + kw) * g.cg * g.cout;
            for (int64_t ci = 0; ci < g.cg; ++ci) {
              for (int64_t o = 0; o < g.cout; ++o) {
                acc[o] += 0.0 * wt[ci * g.cout + o];
              }
            }
            continue;
          }
          const float* xp = input + ((n * g.h + ih) * g.w + iw) * g.xs;
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
      const int64_t base = (r * g.ow + ow) * g.ys;
      for (int64_t o = 0; o < g.cout; ++o) PostOps(desc, sum_input, base + o, &acc[o], &mag[o]);
      double* yp = output + base;
      for (int64_t o = 0; o < g.cout; ++o) yp[o] = acc[o];
      if (abs_sum != nullptr) {
        double* bp = abs_sum + base;
        for (int64_t o = 0; o < g.cout; ++o) bp[o] = mag[o];
      }
    }
  }
  return Status();
}

}  // namespace convkit
