// validate -> plan -> run. A Plan is everything decided once per operator:
// the algorithm (one row of the table below), the target's kernel table, the
// cache blocking and the packed parameters. A Partition is decided once per
// call: how the work splits into tasks for a thread count. Forward does
// nothing but partition and call the row's task per task.
#ifndef CONVKIT_LIB_CONV_PLAN_H_
#define CONVKIT_LIB_CONV_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "lib/common/geometry.h"
#include "lib/conv/kernel_table.h"

namespace convkit {

struct Plan;

// How an algorithm keeps its weights (lib/pack/panels.h).
enum class WeightLayout {
  kGemmPanels,  // B panels of NR columns (+ bias panels)
  kDepthwise,   // Wd[tap][channel], channels padded to the vector
  kHwio,        // HWIO (OIHW weights are converted)
  kRowPanels,   // A panels of MR output channels (NCHW GEMM) + plain bias
  kTapPanels,   // panels of MR output channels, [taps][Cin][MR] each + plain bias
};

// How an algorithm's work splits into tasks (MakePartition).
enum class Split {
  kGemm,  // groups x M (output pixels) x N (output channels), MR/NR aligned
  kRows,  // output rows (n, oh) x channel blocks
  kGemmNchw,  // groups x pixels (NR aligned) x output channels (MR aligned)
};

// One algorithm: everything about it in one place (oneDNN's implementation
// list). Adding an algorithm is one row here plus one task per target.
// GEMM cache blocks (BLIS letters): KC deep blocks of K, MC rows of A per
// block, NC columns of B per block.
struct Blocking {
  int64_t mc = 0, kc = 0, nc = 0;
  // Direct GEMM: rows per register tile (<= the kernel's MR; 0: MR). With
  // vertical padding, output rows narrower than MR but at least MR / 2 wide
  // get one tile each, and rows of an even width between MR and 2 MR two
  // (DirectBlocking), so that no tile straddles two output rows and a tile
  // along the top or bottom row leaves out the taps in the padding
  // (BuildIndirection). On 16x16 layers the halves measured 4-7% faster
  // than tiles of 14 (256 -> 256 channels 1.10 -> 1.05 ms, DenseNet's 280
  // -> 12 0.094 -> 0.088): no kernel row multiplied by the padding's zeros,
  // and tiles of one output row take fewer registers for their rows. On
  // 1x1 layers whose input rows would crowd one L1d set, at most L1d ways
  // - 2 rows (SetConflictRows).
  int64_t mr = 0;
  // Direct GEMM: prefetches and paired tiles (lib/gemm/tile.h).
  BlockHints hints;
  // Direct GEMM, grouped layers with few channels per group: each task
  // first copies its group's channels into a dense zero-padded image
  // (GroupSliceGeometry, lib/conv/direct_gemm.h) and reads A from there.
  bool group_slices = false;
};

struct AlgorithmRow {
  Algorithm id;
  const char* name;     // AlgorithmName()
  bool automatic;       // may kAuto choose it?
  bool (*applies)(const ConvGeometry&);
  const char* needs;    // what applies() requires, for the error message
  // Estimated seconds at one thread (kAuto picks the lowest among the
  // automatic rows that apply; see plan.cc for the model).
  double (*cost)(const ConvGeometry&, const KernelTable&);
  WeightLayout weights;
  Split split;
  // Seconds per flop relative to the GEMM tiles (depthwise is load-bound,
  // about half their speed on AVX-512 and AVX2; the naive loop scalar):
  // scales the work an automatic thread count is judged by
  // (kForwardFlopsPerLane, plan.cc).
  double flop_weight;
  // GEMM cache blocks for this row (null: none).
  Blocking (*blocking)(const ConvGeometry&, const TileShape&);
  // Workspace bytes per thread (a multiple of 64) for a plan of this row.
  int64_t (*workspace)(const Plan&);
  TaskFn KernelTable::*task;
  const char* KernelTable::*kernel_id;
};

// The table, in kAuto's tie-break order; the reference-like rows close it.
const std::vector<AlgorithmRow>& AlgorithmTable();
const AlgorithmRow* FindAlgorithm(Algorithm id);

// Packed A (im2col_gemm, shifted_gemm), BLIS's blocking: the B micro-panel
// (KC x NR) in L1, the packed A block (MC x KC) in L2, the B block (KC x NC)
// in L2. From the tile and the cache sizes read at run time; kc also from K
// (balanced blocks, so the last one is not a sliver).
Blocking PackedBlocking(const ConvGeometry& geo, const TileShape& tile);
// The same for a GEMM of reduction depth `depth` (the backward passes).
Blocking PackedBlockingForK(int64_t depth, const TileShape& tile);
// Indirect (direct_gemm): K whole where the B micro-panel fits in a quarter
// of L2, so each output is loaded and stored once; the B block (KC x NC) in
// half of L2; MC bounds the indirection and the A rows a block revisits.
Blocking DirectBlocking(const ConvGeometry& geo, const TileShape& tile);
// The same for a reduction of depth (the backward-data pass's indirect GEMM).
Blocking DirectBlockingForK(int64_t depth, const TileShape& tile);
// nchw_pixel_gemm: the direct GEMM's KC; MC rows so that the packed A block
// and the C block (MC x Ng) each fit in a quarter of L2; NC = Ng.
Blocking NchwPixelBlocking(const ConvGeometry& geo, const TileShape& tile);
// Depthwise channels per pass over a task's rows (whole vectors of lanes).
int64_t DepthwiseChunk(const ConvGeometry& geo, int64_t lanes);

// The descriptor's fused post-ops as the kernels apply them (tile.h).
struct PostOps {
  bool sum = false;
  float sum_scale = 1.0f;
  bool clamp = false;  // a bound is finite
  float lo = 0.0f, hi = 0.0f;
};

struct Plan {
  ConvGeometry geo;
  PostOps post;
  const AlgorithmRow* row = nullptr;     // never kAuto's
  const KernelTable* kernels = nullptr;  // of the chosen target
  int64_t target = 0;                    // Highway target bit
  Blocking blocks;                       // GEMM algorithms
  // Parameters in the row's WeightLayout, owned by the operator (bias null
  // if none).
  const float* weights = nullptr;
  const float* bias = nullptr;
  int64_t b_panels = 0;  // GEMM: panels per group, ceil(Ng / NR)
  int64_t dw_cpad = 0;   // depthwise: padded channels
  int64_t dw_chunk = 0;  // depthwise: channels per pass over the rows
  // Depthwise: the input columns a stride-2 row reads are a multiple of the
  // L1d way size apart (DepthwiseRowPairs' kShort).
  bool dw_columns_alias = false;
  // Some weight is NaN or infinite. Padding is zeros that join the sum, and
  // 0 * NaN = 0 * Inf = NaN: the GEMM algorithms multiply the padding's
  // zeros; the depthwise kernel skips padded taps, so it then marks the
  // outputs whose skipped taps hold such a weight (PoisonPaddedTaps).
  bool nonfinite_weights = false;
  int64_t ws_bytes = 0;  // workspace per thread (multiple of 64)

  const char* kernel_id() const { return kernels->*(row->kernel_id); }
};

// OK for a thread count in [0, kMaxThreads], else an error naming "threads".
Status CheckThreads(int threads);

// The tile ops of K block [k0, k0 + kc) of a K-deep reduction: bias (the
// block's panel, or null) and the sum on the first block, accumulate on the
// others, the clamp on the last.
inline TileOps BlockOps(const Plan& plan, const float* bias, int64_t k0, int64_t kc) {
  TileOps ops;
  if (k0 == 0) {
    ops.bias = bias;
    ops.sum = plan.post.sum;
    ops.sum_scale = plan.post.sum_scale;
  } else {
    ops.accumulate = true;
  }
  if (k0 + kc == plan.geo.k && plan.post.clamp) {
    ops.clamp = true;
    ops.lo = plan.post.lo;
    ops.hi = plan.post.hi;
  }
  return ops;
}

// Validated descriptor and options -> plan without parameters (no
// allocation): the algorithm, target, blocking and workspace.
Status MakePlan(const Conv2dDesc& desc, const Options& options, Plan* plan);

// Floats of the packed weights and bias of a plan (0 bias floats if none).
Status PackedSizes(const Plan& plan, int64_t* weight_floats, int64_t* bias_floats);
// Packs weights (HWIO) and bias into the row's layout.
void PackParameters(const Plan& plan, const float* weights, const float* bias,
                    float* packed_weights, float* packed_bias);

// How one call's work splits: task t is TaskAt(plan, part, t).
struct Partition {
  int threads = 1;
  int64_t tasks = 0;
  int64_t m_chunk = 0, m_tasks = 0;
  int64_t n_chunk = 0, n_tasks = 0;
};
// Splits the work for `requested` threads (0 = OpenMP's default, scaled
// down for small work); never more threads than tasks.
Partition MakePartition(const Plan& plan, int requested);
Task TaskAt(const Plan& plan, const Partition& part, int64_t t);

// Bytes a call needs for `threads` threads (including alignment slack).
size_t WorkspaceBytesFor(const Plan& plan, int threads);

// Runs every task of the partition: on the calling thread alone when
// part.threads == 1 (no OpenMP region), else in one OpenMP parallel loop.
// ws: WorkspaceBytesFor(plan, part.threads) bytes, any alignment (null if
// that is 0).
void RunPlan(const Plan& plan, const Partition& part, const float* x, float* y,
             void* ws);

PlanInfo MakePlanInfo(const Plan& plan, int requested_threads);

// The naive algorithm's task (naive.cc): the same function on every target.
void NaiveTask(const Plan& plan, const Task& task, const float* x, float* y, void* ws);

}  // namespace convkit

#endif  // CONVKIT_LIB_CONV_PLAN_H_
