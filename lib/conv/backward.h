// The backward passes as GEMMs (no SIMD here; the kernels are in
// backward.cc, compiled per target). Per group g (and, for NCHW backward
// data, per image), with K the reduction:
//
//   data, NHWC:   dX[pixels x Cg]   = A[pixels x (t, o)]  * Wt[(t, o) x Cg]
//                 A[(n, ih, iw)][(t, o)] = dY[n][oh][ow][g*Ng + o] where the
//                 forward conv maps (oh, ow, tap t) to (ih, iw), else 0
//   data, NCHW:   dX[n][Cg x pixels] = Wt[Cg x (o, t)]     * B[(o, t) x pixels]
//   weights:      dW[(t, ci) x Ng]  = A[(t, ci) x P]      * dY[P x Ng],
//                 P = N * OH * OW output pixels, A the transposed im2col;
//                 or, with many pixels, dW^T[Ng x (t, ci)] = dY^T * im2col,
//                 whose im2col rows copy a tap's channels at once;
//                 NHWC with Ng in whole vectors: dW directly, its rows
//                 (t, ci) broadcast from x and its columns loaded from dY
//                 in place per output pixel (pixel_tile-inl.h), no packing
//
// so the reduction is never split across threads (tasks split the outputs'
// rows and columns only) and every output gets its products in ascending
// k, whatever the thread count: results are bit-identical for any count.
// The weights' side is packed once per weights (Wt: transposed weights;
// PackedBackwardData), the activations' side read in place (NHWC data and
// weights) or packed per KC x NC / MC x KC cache block, by row-at-a-time
// gathers that follow the descriptor's layouts.
#ifndef CONVKIT_LIB_CONV_BACKWARD_H_
#define CONVKIT_LIB_CONV_BACKWARD_H_

#include <cstdint>

#include "convkit/convkit.h"
#include "lib/common/aligned.h"
#include "lib/common/geometry.h"

namespace convkit {

enum class BackwardPass { kData, kWeights };

struct BackwardJob {
  BackwardPass pass = BackwardPass::kData;
  ConvGeometry geo;
  // kData: dy, weights (HWIO), bias (per input channel, or null) -> dx.
  // kWeights: x, dy -> dw (HWIO). dbias is computed by the caller.
  const float* x = nullptr;
  const float* dy = nullptr;
  const float* weights = nullptr;
  const float* bias = nullptr;
  float* dx = nullptr;
  float* dw = nullptr;
  int threads = 0;  // Options::threads
};

// Runs a job on the given Highway target; kOutOfMemory if its buffers
// cannot be allocated (nothing written then).
Status RunBackward(const BackwardJob& job, int64_t target);

// The backward-data pass prepared for its weights on one target (the
// prepared Conv2dBackwardDataOp holds one; each one-shot call makes its
// own): the transposed weights in the target's panels, NHWC's bias panels,
// and the tables of which output pixel each tap of an input pixel reads.
struct PackedBackwardData {
  ConvGeometry geo;
  int64_t target = 0;
  AlignedFloats wt, bias;
  const float* bias_rows = nullptr;  // NCHW: the caller's bias, per input channel
  AlignedArray<int64_t> src_row, src_col;
};

// Packs hwio (and bias: per input channel of the convolution, or null;
// NCHW keeps the pointer) for target; threads as Options::threads. On
// error *out is unchanged.
Status PackBackwardData(const ConvGeometry& geo, const float* hwio, const float* bias,
                        int threads, int64_t target, PackedBackwardData* out);
// Workspace RunBackwardData needs for a thread count (Options::threads).
size_t BackwardDataWorkspaceBytes(const PackedBackwardData& p, int threads);
// dx from dy; with a workspace of at least BackwardDataWorkspaceBytes
// bytes it allocates nothing, else it allocates its own.
Status RunBackwardData(const PackedBackwardData& p, const float* dy, float* dx, int threads,
                       void* workspace, size_t workspace_bytes);

}  // namespace convkit

#endif  // CONVKIT_LIB_CONV_BACKWARD_H_
