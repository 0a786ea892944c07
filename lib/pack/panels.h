// Packed-panel layouts and the weight packers (run once per operator; plain
// C++, no SIMD). The input packers, run per cache block, are in im2col-inl.h.
//
// B panels (GEMM algorithms). HWIO weights are already the GEMM's K x Cout
// matrix: W[k][o] = w[kh][kw][ci][o] with k = (kh * KW + kw) * Cg + ci, row
// stride Cout. Group g uses columns [g * Ng, (g + 1) * Ng). Packed:
//
//   Bp[g][jp][p][j] = W[p][g * Ng + jp * NR + j]   (0 where jp * NR + j >= Ng)
//
// i.e. per group ceil(Ng / NR) panels, each K rows of NR floats, one after
// the other, so that the panel for columns jr and K block pc starts at
//   Bp + ((g * panels + jr / NR) * K + pc) * NR.
// Packed bias: bp[g][jp][j] = bias[g * Ng + jp * NR + j] (0 past Ng).
//
// A panels (per cache block, im2col-inl.h): MR rows x kc, column-major,
//   Ap[i / MR][p][i % MR] = A[m0 + i][k0 + p].
//
// A panels of weights (the NCHW GEMM, nchw_gemm-inl.h, where the weights
// are the GEMM's A = W[o][k] with k = (ci * KH + kh) * KW + kw, OIHW's
// order): per group ceil(Ng / MR) panels of MR rows, each the packed-A
// layout of tile.h over all K (k-interleaved by KU, K rounded up to KU):
//   Ap[g][t][(p / KU) * MR * KU + i * KU + p % KU] = W[g * Ng + t * MR + i][p]
// (0 for rows past Ng and p past K), panel stride RoundUp(K, KU) * MR. A K
// block starting at pc (a multiple of KU) is at panel + pc * MR.
//
// Tap panels of weights (the pixel-lanes algorithm, one group): per panel
// of MR output channels, the HWIO order with the channels innermost:
//   Wt[t][p * MR + i] = W[p][t * MR + i]   (k = (kh * KW + kw) * Cin + ci,
// 0 for channels past Cout), panel stride K * MR.
//
// Depthwise weights: Wd[t][c] = w[kh][kw][0][c] with t = kh * KW + kw, rows
// padded to Cpad = round_up(C, lanes) with zeros; bias likewise.
#ifndef CONVKIT_LIB_PACK_PANELS_H_
#define CONVKIT_LIB_PACK_PANELS_H_

#include <cstdint>

#include "lib/common/geometry.h"

namespace convkit {

// Floats in the packed B of all groups, for tile width nr.
int64_t PackedWeightsFloats(const ConvGeometry& geo, int64_t nr);
// Floats in the packed bias of all groups.
int64_t PackedBiasFloats(const ConvGeometry& geo, int64_t nr);

// Writes PackedWeightsFloats(geo, nr) floats to out (layout above).
void PackWeightsHwioToPanels(const ConvGeometry& geo, int64_t nr,
                             const float* w, float* out);
// Writes PackedBiasFloats(geo, nr) floats; bias may be null (zeros).
void PackBiasToPanels(const ConvGeometry& geo, int64_t nr, const float* bias,
                      float* out);

// The A panels above from HWIO weights.
int64_t RowPanelsFloats(const ConvGeometry& geo, int64_t mr, int64_t ku);
void PackWeightsHwioToRowPanels(const ConvGeometry& geo, int64_t mr, int64_t ku,
                                const float* w, float* out);
int64_t TapPanelsFloats(const ConvGeometry& geo, int64_t mr);
void PackWeightsHwioToTapPanels(const ConvGeometry& geo, int64_t mr, const float* w, float* out);
// OIHW weights to HWIO and back (taps * Cg * Cout floats).
void OihwToHwio(const ConvGeometry& geo, const float* oihw, float* hwio);
void HwioToOihw(const ConvGeometry& geo, const float* hwio, float* oihw);

// Depthwise: padded channel count and packers (layout above).
int64_t DepthwisePaddedChannels(const ConvGeometry& geo, int64_t lanes);
void PackDepthwiseWeights(const ConvGeometry& geo, int64_t lanes,
                          const float* w, float* out);
void PackDepthwiseBias(const ConvGeometry& geo, int64_t lanes,
                       const float* bias, float* out);

}  // namespace convkit

#endif  // CONVKIT_LIB_PACK_PANELS_H_
