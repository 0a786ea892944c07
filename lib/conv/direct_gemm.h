// The direct GEMM's per-thread workspace (no SIMD; shared by planning and
// direct_gemm-inl.h): for one MC x KC block, the indirection of each MR-row
// tile (its runs of contiguous k and their row pointers, the IgemmA of
// lib/gemm/tile.h), after the run list of interior tiles (every tap inside
// the input), which depends only on the K block. With R = MaxRuns(geo, kc),
// in int64 slots from ws:
//
//   [0]                    interior runs count
//   [1 + r], [1 + R + r]   interior run r: offset from the row's tap (0, 0)
//                          element, and length
//   [1 + 2R]               0 (the offset of tiles with a pointer set per run)
//   [2 + 2R + t(2 + R)]    tile t: runs, interior (1) or not (0), then the
//                          run lengths (not interior)
// then, after all tiles' records, pointers, R * MR per tile:
//   not interior: ptr[(t * R + r) * MR + i] = row i's first float of run r
//   interior:     ptr[t * R * MR + i] = row i's tap (0, 0) element
#ifndef CONVKIT_LIB_CONV_DIRECT_GEMM_H_
#define CONVKIT_LIB_CONV_DIRECT_GEMM_H_

#include <algorithm>
#include <cstdint>

#include "lib/common/checked.h"
#include "lib/common/geometry.h"
#include "lib/gemm/tile.h"

namespace convkit {

// Longest run: longer runs of channels are split (so the zero row below
// covers any run).
constexpr int64_t kMaxRun = 1024;

// Runs of one tile within a K block of depth kc: each run is (part of) one
// tap or one kernel row, a block of kc columns touches at most kc + 1 taps,
// and runs split at kMaxRun add at most kc / kMaxRun.
inline int64_t MaxRuns(const ConvGeometry& geo, int64_t kc) {
  return std::min(geo.taps, kc) + 1 + kc / kMaxRun;
}

inline int64_t DirectWorkspaceBytes(const ConvGeometry& geo, int64_t mr, int64_t mc,
                                    int64_t kc) {
  const int64_t tiles = DivCeil(mc, mr);
  const int64_t runs = MaxRuns(geo, kc);
  return (2 + 2 * runs + tiles * (2 + runs + runs * mr)) * 8;
}

// What padding taps point at: as long as any run.
alignas(64) inline constexpr float kZeroRow[kMaxRun] = {};

}  // namespace convkit

#endif  // CONVKIT_LIB_CONV_DIRECT_GEMM_H_
