#include "lib/ref/check.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <sstream>

#include "lib/common/geometry.h"
#include "lib/common/random.h"

namespace convkit {
namespace ref {
namespace {

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

std::string Coord(const ConvGeometry& g, int64_t index) {
  std::ostringstream s;
  if (g.nchw) {
    s << "(n=" << index / (g.cout * g.oh * g.ow) << ", o=" << index / (g.oh * g.ow) % g.cout
      << ", oh=" << index / g.ow % g.oh << ", ow=" << index % g.ow << ")";
  } else {
    s << "(n=" << index / g.ys / g.ow / g.oh << ", oh=" << index / g.ys / g.ow % g.oh
      << ", ow=" << index / g.ys % g.ow << ", o=" << index % g.ys << ")";
  }
  return s.str();
}

// Offset of output channel o of output pixel p (= (n * OH + oh) * OW + ow).
int64_t OutputIndex(const ConvGeometry& g, int64_t p, int64_t o) {
  if (!g.nchw) return p * g.ys + o;
  const int64_t plane = g.oh * g.ow;
  return (p / plane * g.cout + o) * plane + p % plane;
}

}  // namespace

double Tolerance(double ref, double abs_sum, int64_t k) {
  const double u = std::ldexp(1.0, -24);
  const double n = static_cast<double>(k + 1);
  const double gamma = n * u / (1.0 - n * u);
  const double factor = std::min(gamma, 8.0 * std::sqrt(n) * u);
  return factor * abs_sum + u * std::fabs(ref);
}

Status ComputeReference(const Conv2dDesc& desc, const float* input,
                        const float* weights, const float* bias,
                        ReferenceOutputs* ref, const float* sum_input) {
  Status s = Validate(desc);
  if (!s.ok()) return s;
  const ConvGeometry g = MakeGeometry(desc);
  const int64_t count = g.m * g.cout;
  *ref = ReferenceOutputs();
  if (count <= ReferenceOutputs::kMaxFullCheck) {
    // As the output (with a pixel stride: its span, gaps unused).
    const int64_t span = Sizes(desc).output;
    ref->value.resize(static_cast<size_t>(span));
    ref->abs_sum.resize(static_cast<size_t>(span));
    return ReferenceConv2d(desc, input, weights, bias, ref->value.data(),
                           ref->abs_sum.data(), sum_input);
  }
  ref->sampled = true;
  std::set<int64_t> pixels;
  for (int64_t n : {int64_t{0}, g.n - 1}) {
    for (int64_t y = 0; y < g.oh; ++y) {
      for (int64_t x = 0; x < g.ow; ++x) {
        if (y < 2 || y >= g.oh - 2 || x < 2 || x >= g.ow - 2) {
          pixels.insert((n * g.oh + y) * g.ow + x);
        }
      }
    }
  }
  for (uint64_t i = 0; i < 4096; ++i) {
    pixels.insert(static_cast<int64_t>(SplitMix64(i + 77) % static_cast<uint64_t>(g.m)));
  }
  ref->pixels.assign(pixels.begin(), pixels.end());
  ref->value.resize(ref->pixels.size() * static_cast<size_t>(g.cout));
  ref->abs_sum.resize(ref->value.size());
  const int64_t np = static_cast<int64_t>(ref->pixels.size());
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 16)
#endif
  for (int64_t i = 0; i < np; ++i) {
    const int64_t p = ref->pixels[i];
    for (int64_t o = 0; o < g.cout; ++o) {
      ReferenceConv2dAt(desc, input, weights, bias, p / (g.oh * g.ow), p / g.ow % g.oh,
                        p % g.ow, o, &ref->value[i * g.cout + o],
                        &ref->abs_sum[i * g.cout + o], sum_input);
    }
  }
  return Status();
}

std::string CompareWithReference(const Conv2dDesc& desc, const ReferenceOutputs& ref,
                                 const float* out, bool exact) {
  const ConvGeometry g = MakeGeometry(desc);
  const int64_t count = g.m * g.cout;
  // The sum post-op adds one term to each output's sum.
  const int64_t terms = g.k + (desc.has_sum ? 1 : 0);
  std::ostringstream msg;
  int64_t failures = 0;
  auto check = [&](int64_t index, double r, double m) {
    const double y = out[index];
    const double tol = exact ? 0.0 : Tolerance(r, m, terms);
    // Equal values match (also infinities, e.g. a clamp to [inf, inf],
    // whose error |y - r| would be NaN); NaN matches NaN.
    const bool ok = y == r || (std::isnan(y) && std::isnan(r)) ||
                    (exact ? (Bits(out[index]) == Bits(static_cast<float>(r)) ||
                              (y == 0.0 && r == 0.0))
                           : std::fabs(y - r) <= tol);
    if (!ok) {
      if (failures < 5) {
        msg << "\n  at " << Coord(g, index) << ": got " << y << " want " << r << " tol "
            << tol << " (|err| " << std::fabs(y - r) << ", K=" << g.k << ")";
      }
      ++failures;
    }
  };
  if (!ref.sampled) {
    for (int64_t p = 0; p < g.m; ++p) {
      for (int64_t o = 0; o < g.cout; ++o) {
        const int64_t i = OutputIndex(g, p, o);
        check(i, ref.value[i], ref.abs_sum[i]);
      }
    }
  } else {
    for (size_t i = 0; i < ref.pixels.size(); ++i) {
      for (int64_t o = 0; o < g.cout; ++o) {
        check(OutputIndex(g, ref.pixels[i], o), ref.value[i * g.cout + o],
              ref.abs_sum[i * g.cout + o]);
      }
    }
    int64_t unwritten = 0, first = -1;
    for (int64_t p = 0; p < g.m; ++p) {
      for (int64_t o = 0; o < g.cout; ++o) {
        const int64_t i = OutputIndex(g, p, o);
        if (std::isnan(out[i])) {
          if (first < 0 || i < first) first = i;
          ++unwritten;
        }
      }
    }
    if (unwritten > 0) {
      msg << "\n  " << unwritten << " outputs left unwritten (NaN), first at "
          << Coord(g, first);
      failures += unwritten;
    }
  }
  if (failures == 0) return "";
  std::ostringstream head;
  head << failures << " of " << count << " outputs wrong"
       << (ref.sampled ? " (sampled check)" : "") << msg.str();
  return head.str();
}

}  // namespace ref
}  // namespace convkit
