// Weight packers: once per operator, so written for clarity, not speed.
#include <algorithm>
#include <cstring>

#include "lib/common/checked.h"
#include "lib/pack/panels.h"

namespace convkit {

int64_t PackedWeightsFloats(const ConvGeometry& geo, int64_t nr) {
  return geo.groups * DivCeil(geo.ng, nr) * geo.k * nr;
}

int64_t PackedBiasFloats(const ConvGeometry& geo, int64_t nr) {
  return geo.groups * DivCeil(geo.ng, nr) * nr;
}

void PackWeightsHwioToPanels(const ConvGeometry& geo, int64_t nr,
                             const float* w, float* out) {
  const int64_t panels = DivCeil(geo.ng, nr);
  for (int64_t g = 0; g < geo.groups; ++g) {
    for (int64_t jp = 0; jp < panels; ++jp) {
      const int64_t j0 = jp * nr;
      const int64_t cols = std::min(nr, geo.ng - j0);
      float* panel = out + (g * panels + jp) * geo.k * nr;
      for (int64_t p = 0; p < geo.k; ++p) {
        const float* src = w + p * geo.cout + g * geo.ng + j0;
        float* dst = panel + p * nr;
        std::memcpy(dst, src, static_cast<size_t>(cols) * sizeof(float));
        std::fill(dst + cols, dst + nr, 0.0f);
      }
    }
  }
}

void PackBiasToPanels(const ConvGeometry& geo, int64_t nr, const float* bias,
                      float* out) {
  const int64_t panels = DivCeil(geo.ng, nr);
  for (int64_t g = 0; g < geo.groups; ++g) {
    for (int64_t j = 0; j < panels * nr; ++j) {
      out[g * panels * nr + j] =
          (bias != nullptr && j < geo.ng) ? bias[g * geo.ng + j] : 0.0f;
    }
  }
}

int64_t RowPanelsFloats(const ConvGeometry& geo, int64_t mr, int64_t ku) {
  return geo.groups * DivCeil(geo.ng, mr) * RoundUp(geo.k, ku) * mr;
}

void PackWeightsHwioToRowPanels(const ConvGeometry& geo, int64_t mr, int64_t ku,
                                const float* w, float* out) {
  const int64_t panels = DivCeil(geo.ng, mr);
  const int64_t stride = RoundUp(geo.k, ku) * mr;
  std::fill(out, out + geo.groups * panels * stride, 0.0f);
  for (int64_t g = 0; g < geo.groups; ++g) {
    for (int64_t j = 0; j < geo.ng; ++j) {
      const int64_t o = g * geo.ng + j;
      float* panel = out + (g * panels + j / mr) * stride;
      const int64_t i = j % mr;
      for (int64_t c = 0; c < geo.cg; ++c) {
        for (int64_t t = 0; t < geo.taps; ++t) {
          const int64_t p = c * geo.taps + t;  // OIHW order
          panel[(p / ku) * mr * ku + i * ku + p % ku] = w[(t * geo.cg + c) * geo.cout + o];
        }
      }
    }
  }
}

int64_t TapPanelsFloats(const ConvGeometry& geo, int64_t mr) {
  return DivCeil(geo.cout, mr) * geo.k * mr;
}

void PackWeightsHwioToTapPanels(const ConvGeometry& geo, int64_t mr, const float* w, float* out) {
  const int64_t panels = DivCeil(geo.cout, mr);
  std::fill(out, out + panels * geo.k * mr, 0.0f);
  for (int64_t p = 0; p < geo.k; ++p) {
    for (int64_t o = 0; o < geo.cout; ++o) {
      out[((o / mr) * geo.k + p) * mr + o % mr] = w[p * geo.cout + o];
    }
  }
}

void OihwToHwio(const ConvGeometry& geo, const float* oihw, float* hwio) {
  for (int64_t o = 0; o < geo.cout; ++o) {
    for (int64_t c = 0; c < geo.cg; ++c) {
      for (int64_t t = 0; t < geo.taps; ++t) {
        hwio[(t * geo.cg + c) * geo.cout + o] = oihw[(o * geo.cg + c) * geo.taps + t];
      }
    }
  }
}

void HwioToOihw(const ConvGeometry& geo, const float* hwio, float* oihw) {
  for (int64_t o = 0; o < geo.cout; ++o) {
    for (int64_t c = 0; c < geo.cg; ++c) {
      for (int64_t t = 0; t < geo.taps; ++t) {
        oihw[(o * geo.cg + c) * geo.taps + t] = hwio[(t * geo.cg + c) * geo.cout + o];
      }
    }
  }
}

int64_t DepthwisePaddedChannels(const ConvGeometry& geo, int64_t lanes) {
  return RoundUp(geo.cout, lanes);
}

void PackDepthwiseWeights(const ConvGeometry& geo, int64_t lanes,
                          const float* w, float* out) {
  const int64_t cpad = DepthwisePaddedChannels(geo, lanes);
  for (int64_t t = 0; t < geo.taps; ++t) {
    std::memcpy(out + t * cpad, w + t * geo.cout,
                static_cast<size_t>(geo.cout) * sizeof(float));
    std::fill(out + t * cpad + geo.cout, out + (t + 1) * cpad, 0.0f);
  }
}

void PackDepthwiseBias(const ConvGeometry& geo, int64_t lanes,
                       const float* bias, float* out) {
  const int64_t cpad = DepthwisePaddedChannels(geo, lanes);
  for (int64_t c = 0; c < cpad; ++c) {
    out[c] = (bias != nullptr && c < geo.cout) ? bias[c] : 0.0f;
  }
}

}  // namespace convkit
