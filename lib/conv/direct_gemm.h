// The direct GEMM's per-thread workspace (no SIMD; shared by planning and
// direct_gemm-inl.h): for one MC x KC block, each MR-row tile's A as the
// indirect tile reads it (IgemmA, lib/gemm/tile.h: runs of contiguous k and
// row pointers), after the run list of interior tiles (every tap inside the
// input), which depends only on the K block. With R = MaxRuns(geo, kc) and
// T tiles, from ws:
//
//   int64 [0]                    interior runs count
//   int64 [1 + r], [1 + R + r]   interior run r: offset from the row's tap
//                                (0, 0) element, and length
//   int64 [1 + 2R]               0 (offset of tiles with a pointer set per run)
//   IgemmA [T]                   each tile's A
//   int64 [T][R]                 run lengths of tiles that touch the padding
//   int64 [T][R]                 their runs' first B rows in the K block
//                                (runs wholly in the padding are left out)
//   int64 [T][R]                 their runs' rows to skip (IgemmA::skip)
//   const float* [T][R][MR]      their row pointers per run (interior
//                                tiles: [t][0][i] = row i's tap (0, 0))
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
  return (2 + 2 * runs) * 8 + tiles * static_cast<int64_t>(sizeof(IgemmA)) +
         tiles * (3 * runs + runs * mr) * 8;
}

// The parts of the workspace above.
struct DirectLayout {
  int64_t* header;
  IgemmA* tiles;
  int64_t* lens;
  int64_t* b_offs;
  int64_t* skips;
  const float** ptrs;
};
inline DirectLayout LayoutOf(void* ws, const ConvGeometry& geo, int64_t mr, int64_t mc,
                             int64_t kc) {
  const int64_t runs = MaxRuns(geo, kc);
  const int64_t tiles = DivCeil(mc, mr);
  DirectLayout l;
  l.header = static_cast<int64_t*>(ws);
  l.tiles = reinterpret_cast<IgemmA*>(l.header + 2 + 2 * runs);
  l.lens = reinterpret_cast<int64_t*>(l.tiles + tiles);
  l.b_offs = l.lens + tiles * runs;
  l.skips = l.b_offs + tiles * runs;
  l.ptrs = reinterpret_cast<const float**>(l.skips + tiles * runs);
  return l;
}

// What padding taps point at: as long as any run.
alignas(64) inline constexpr float kZeroRow[kMaxRun] = {};

}  // namespace convkit

#endif  // CONVKIT_LIB_CONV_DIRECT_GEMM_H_
