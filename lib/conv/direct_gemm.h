// The direct GEMM's per-thread workspace (no SIMD; shared by planning and
// direct_gemm-inl.h): for one MC x KC block, the indirection of each MR-row
// tile, i.e. its runs of contiguous k and their row pointers.
//
//   runs[t]            = number of runs of tile t              (int64)
//   len[t][r]          = length of run r, r < runs[t]          (int64)
//   ptr[t][r][i]       = row i's first float of run r          (const float*)
//
// at ws + t * (1 + R) int64 for runs/len and, after all tiles' lengths,
// + (t * R + r) * MR + i pointers, with R = MaxRuns(geo, kc).
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
  return tiles * (1 + runs + runs * mr) * 8;
}

// What padding taps point at: as long as any run.
alignas(64) inline constexpr float kZeroRow[kMaxRun] = {};

}  // namespace convkit

#endif  // CONVKIT_LIB_CONV_DIRECT_GEMM_H_
