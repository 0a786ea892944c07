// validate -> plan -> dispatch. A Plan is everything target-independent code
// decides once per operator: the algorithm (first applicable entry of the
// ordered list), the target and its tile, the packed parameters. A Partition
// is decided once per call: how the work splits into OpenMP tasks.
#ifndef CONVKIT_LIB_CONV_PLAN_H_
#define CONVKIT_LIB_CONV_PLAN_H_

#include <cstdint>

#include "convkit/convkit.h"
#include "lib/common/geometry.h"
#include "lib/gemm/tile.h"

namespace convkit {

struct Plan {
  ConvGeometry geo;
  Algorithm algorithm = Algorithm::kAuto;  // resolved: never kAuto
  int64_t target = 0;                      // Highway target bit
  TileConfig tile;                         // that target's GEMM tile
  char dw_kernel[40] = {};                 // that target's depthwise kernel id

  // Parameters in the algorithm's layout (panels.h), owned by the operator.
  // GEMM algorithms: packed B panels and bias panels (bias null if none).
  // Depthwise: Wd and padded bias. Naive: HWIO weights and bias as given.
  const float* weights = nullptr;
  const float* bias = nullptr;
  int64_t b_panels = 0;  // GEMM: panels per group, ceil(Ng / NR)
  int64_t dw_cpad = 0;   // depthwise: padded channels

  // Workspace floats per thread (a multiple of 16 floats, 64 bytes).
  int64_t ws_floats = 0;
};

// How one call's work splits into tasks. GEMM algorithms: task t covers group
// g, rows [mi * m_chunk, ...) and columns [ni * n_chunk, ...) with
// t = (g * m_tasks + mi) * n_tasks + ni. Depthwise and naive: "rows" are the
// N * OH output rows and "columns" the channels.
struct Partition {
  int threads = 1;
  int64_t tasks = 0;
  int64_t m_chunk = 0, m_tasks = 0;
  int64_t n_chunk = 0, n_tasks = 0;
};

bool IsGemmAlgorithm(Algorithm a);

// The ordered algorithm list: with kAuto the first entry that applies and is
// automatic wins; a requested algorithm must apply. Fills plan->algorithm.
Status ChooseAlgorithm(const ConvGeometry& geo, Algorithm requested, Plan* plan);

// Fills target, tile and ws_floats (after ChooseAlgorithm).
Status ChooseTarget(const std::string& max_target, Plan* plan);

// Splits the work for `requested` threads (0 = OpenMP default).
Partition MakePartition(const Plan& plan, int requested);

// Bytes a call needs for `threads` threads (including alignment slack).
size_t WorkspaceBytesFor(const Plan& plan, int threads);

// PlanInfo for the public API.
PlanInfo MakePlanInfo(const Plan& plan, int requested_threads);

// Runs the plan on the chosen target (conv_dispatch.cc). ws: Plan::ws_floats
// per thread, 64-byte aligned.
void RunPlan(const Plan& plan, const Partition& part, const float* x, float* y,
             float* ws);

// The per-target query behind ChooseTarget (conv_dispatch.cc).
void QueryTarget(int64_t target, TileConfig* tile, char* dw_kernel, size_t size);

// The naive algorithm (float, direct loops; naive.cc).
void RunNaive(const Plan& plan, const Partition& part, const float* x, float* y);

}  // namespace convkit

#endif  // CONVKIT_LIB_CONV_PLAN_H_
