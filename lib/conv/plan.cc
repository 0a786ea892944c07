// Planning: the algorithm table, the blocking, the work split, and the one
// loop that runs a partition. Compiled once (no SIMD); per-target code only
// executes what is decided here.
#include "lib/conv/plan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "lib/common/aligned.h"
#include "lib/common/cache.h"
#include "lib/common/checked.h"
#include "lib/common/threads.h"
#include "lib/conv/direct_gemm.h"
#include "lib/conv/pixel_lanes.h"
#include "lib/conv/sliding_window.h"
#include "lib/dispatch/targets.h"
#include "lib/pack/panels.h"

namespace convkit {
namespace {

// ---------------------------------------------------------------------------
// Shape tests

bool IsDepthwise(const ConvGeometry& g) {
  return !g.nchw && g.groups == g.cin && g.groups == g.cout;
}
bool IsNhwc(const ConvGeometry& g) { return !g.nchw; }
bool IsNchw(const ConvGeometry& g) { return g.nchw; }
bool Always(const ConvGeometry&) { return true; }

// ---------------------------------------------------------------------------
// Cost model for kAuto, in units of one FMA lane (one multiply-add of one
// float in a vector register), so costs compare across algorithms of one
// target; kAuto takes the cheapest automatic row that applies. The automatic
// rows are depthwise and direct_gemm: im2col_gemm measured slower than
// direct_gemm on every layer of the suites and of the shapes probed from the
// corpus (first layers by 1.5-1.7x, grouped layers by 1.5-3.7x, large 3x3 and 1x1
// by 4-22%; convkit-perf --algos, docs/perf/), so it runs only when asked for.
// A future row (Winograd, say) adds its cost here.

// Multiply-adds the register tiles execute: every output column is padded to
// whole vectors.
double TileLanes(const ConvGeometry& g, const TileShape& t) {
  return static_cast<double>(g.groups) * static_cast<double>(g.m) *
         static_cast<double>(g.k) * static_cast<double>(RoundUp(g.ng, t.lanes));
}

// Starting one run of contiguous channels in an MR-row tile of the indirect
// GEMM: load MR pointers, restart the k loop.
constexpr double kRunStart = 24.0;

// Runs of contiguous channels per tile: a tap each, or a whole kernel row
// when the taps of a kernel row are adjacent in memory (one group, no
// horizontal dilation; most tiles of large images are not cut by padding).
double RunsPerTile(const ConvGeometry& g) {
  const bool merge = g.groups == 1 && g.dw == 1 && g.kw > 1;
  return static_cast<double>(merge ? g.kh : g.taps);
}

double DirectCost(const ConvGeometry& g, const KernelTable& kt) {
  const TileShape& t = kt.gemm;
  const double tiles = static_cast<double>(g.groups) *
                       static_cast<double>(DivCeil(g.m, t.mr)) *
                       static_cast<double>(DivCeil(g.ng, t.nr));
  return TileLanes(g, t) + tiles * RunsPerTile(g) * kRunStart;
}

double DepthwiseCost(const ConvGeometry& g, const KernelTable& kt) {
  // One FMA per output channel vector per tap.
  return static_cast<double>(g.m) * static_cast<double>(RoundUp(g.cout, kt.dw_lanes)) *
         static_cast<double>(g.taps);
}

// The sliding window (sliding_window-inl.h): where the output channels fit
// one vector, it measured 5-60% faster than the direct GEMM on 112x112
// layers with 1-4 input channels and 3x3 to 7x7 kernels (AVX2 25-60%
// faster), the GEMM tiles there being bound
// by one broadcast per FMA; with 2-4 vectors, 0-50% slower (the GEMM tiles
// then reuse each broadcast, the window loads it again per vector). Taken
// as 0.8x the direct GEMM's cost with one vector, scaled by the outputs it
// computes (every row's last tile is whole), else never automatic.
double SlidingWindowCost(const ConvGeometry& g, const KernelTable& kt) {
  if (g.ng > kt.gemm.lanes) return INFINITY;
  const int64_t rows = kt.sw_rows(g.kw);
  return 0.8 * DirectCost(g, kt) * static_cast<double>(RoundUp(g.ow, rows)) /
         static_cast<double>(g.ow);
}

// The pixel lanes (pixel_lanes-inl.h): every lane computes an output pixel
// (rows narrower than a vector waste the rest of their last vector, or at
// stride 1 the padding columns between rows; a tile of fewer than NV
// vectors, bound by its broadcasts, costs a whole one), each tile row one
// output channel; plus the transposed copy of the input rows, per block,
// and the outputs stored a float at a time.
constexpr double kPixelLanesCopy = 12.0;
constexpr double kPixelLanesStore = 16.0;
// Restarting the channel loop (per tile, panel and tap), in cycles of two
// vector FMAs: fitted to a 7x7 layer with one input channel and 17
// outputs (AVX3: 0.066 ms against the direct GEMM's 0.058, one FMA step per
// tap).
constexpr double kPixelLanesTapCycles = 8.0;
double PixelLanesCost(const ConvGeometry& g, const KernelTable& kt) {
  const int64_t L = kt.gemm.lanes, nv = kt.gemm.nv;
  const int64_t rows_out = PixelLanesRowsOut(g, L, GetCacheSizes().l2);
  const PixelLanesBlock b = PixelLanesBlockOf(g, L, rows_out);
  // One block of r output rows: its lanes (whole tiles) and copied floats.
  const auto block = [&](int64_t r, double* lanes, double* copied) {
    const int64_t slots = b.flat ? DivCeil((r - 1) * b.pitch + g.ow, L) : r * DivCeil(g.ow, L);
    *lanes += static_cast<double>(RoundUp(slots, nv) * L);
    *copied += static_cast<double>(g.cin) *
               static_cast<double>((r - 1) * g.sh + (g.kh - 1) * g.dh + 1) *
               static_cast<double>(b.pitch);
  };
  double lanes = 0.0, copied = 0.0;
  if (g.oh >= rows_out) block(rows_out, &lanes, &copied);
  lanes *= static_cast<double>(g.oh / rows_out);
  copied *= static_cast<double>(g.oh / rows_out);
  if (g.oh % rows_out != 0) block(g.oh % rows_out, &lanes, &copied);
  const double images = static_cast<double>(g.n);
  // Each tile restarts its channel loop per tap and panel.
  const double panels = static_cast<double>(DivCeil(g.cout, kt.gemm.mr));
  const double tap_starts = lanes / static_cast<double>(nv * L) * panels *
                            static_cast<double>(g.taps) * kPixelLanesTapCycles * 2.0 *
                            static_cast<double>(L);
  return images * (lanes * static_cast<double>(g.k) * static_cast<double>(g.cout) +
                   kPixelLanesCopy * copied + tap_starts) +
         kPixelLanesStore * static_cast<double>(g.m * g.cout);
}

double NotAutomatic(const ConvGeometry&, const KernelTable&) { return INFINITY; }

// ---------------------------------------------------------------------------
// Workspaces (bytes per thread, multiples of 64)

int64_t Bytes64(int64_t bytes) { return RoundUp(bytes, 64); }

// One packed A block: MC rows (rounded to MR) by KC (rounded to KU).
int64_t PackedBlockBytes(const Plan& p, int64_t depth) {
  const TileShape& t = p.kernels->gemm;
  const int64_t rows = RoundUp(std::min(p.blocks.mc, std::max<int64_t>(p.geo.m, 1)), t.mr);
  return Bytes64(rows * RoundUp(std::min(p.blocks.kc, depth), t.ku) *
                 static_cast<int64_t>(sizeof(float)));
}
int64_t Im2colWorkspace(const Plan& p) { return PackedBlockBytes(p, p.geo.k); }
// The shifted GEMMs' blocks never span taps.
int64_t ShiftedWorkspace(const Plan& p) { return PackedBlockBytes(p, p.geo.cg); }
int64_t DirectWorkspace(const Plan& p) {
  const int64_t mr = p.kernels->gemm.mr;
  const int64_t tr = p.blocks.mr > 0 ? p.blocks.mr : mr;
  const int64_t tiles = DivCeil(std::min(p.blocks.mc, RoundUp(p.geo.m, tr)), tr);
  // Group slices: the slice first, then the indirection (DirectGemmTask).
  ConvGeometry slice;
  const int64_t slice_bytes =
      p.blocks.group_slices && GroupSliceGeometry(p.geo, &slice) ? GroupSliceBytes(slice) : 0;
  return slice_bytes + Bytes64(DirectWorkspaceBytes(p.geo, mr, tiles * mr, p.blocks.kc));
}
// One packed B block of the NCHW GEMM: KC (rounded to KU) x NC pixels
// (rounded to NR).
int64_t NchwWorkspace(const Plan& p) {
  const TileShape& t = p.kernels->gemm;
  const int64_t cols = RoundUp(std::min(p.blocks.nc, std::max<int64_t>(p.geo.oh * p.geo.ow, 1)),
                               t.nr);
  return Bytes64(cols * RoundUp(std::min(p.blocks.kc, p.geo.k), t.ku) *
                 static_cast<int64_t>(sizeof(float)));
}
// Packing one float of an im2col block, in FMA lanes: the NCHW GEMM's B
// rows, vectors of one input row at stride 1 or every other float at stride
// 2 (more for other strides), or the pixel GEMM's A columns, one element per
// plane; storing one output through a scatter. Fitted to which of the two
// NCHW GEMMs runs faster on each ResNet-50 layer, each timed alone
// (convkit-perf --suite resnet50 --layout nchw --impls convkit:<algorithm>,
// AVX3 on Zen 5): the choice is then right on every layer (the wrong one
// costs 3-40%).
constexpr double kPackCopy = 2.0;
constexpr double kPackStrided = 4.0;
constexpr double kPackGather = 12.0;
constexpr double kStoreScatter = 16.0;

// The NCHW GEMM reads B in place (nchw_gemm-inl.h): 1x1, stride 1, no
// padding.
bool NchwReadsInPlace(const ConvGeometry& g) {
  return g.taps == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pb == 0 && g.pl == 0 &&
         g.pr == 0;
}

// The NCHW GEMM's tiles: each image's pixels padded to whole vectors (its
// last panel), plus packing B (all of it but the whole panels of 1x1
// stride-1 unpadded layers, which read the input in place).
double NchwCost(const ConvGeometry& g, const KernelTable& kt) {
  const double pixels = static_cast<double>(g.oh * g.ow);
  const double padded = static_cast<double>(g.n * RoundUp(g.oh * g.ow, kt.gemm.lanes));
  const double packed =
      NchwReadsInPlace(g) ? static_cast<double>(g.n) * (pixels - static_cast<double>(
                                                          (g.oh * g.ow) / kt.gemm.nr * kt.gemm.nr))
               : static_cast<double>(g.m);
  return static_cast<double>(g.groups) * static_cast<double>(g.k) *
         (padded * static_cast<double>(g.ng) + (g.sw == 1 ? kPackCopy : kPackStrided) * packed);
}
// The pixel GEMM's tiles: output channels padded to whole vectors, pixels
// not at all (rows remainders take smaller tiles); plus packing A once per
// task and storing through scatters.
double NchwPixelCost(const ConvGeometry& g, const KernelTable& kt) {
  return TileLanes(g, kt.gemm) +
         kPackGather * static_cast<double>(g.groups) * static_cast<double>(g.m) *
             static_cast<double>(g.k) +
         kStoreScatter * static_cast<double>(g.m) * static_cast<double>(g.cout);
}
// The pixel GEMM: one packed A block (MC x KC) and the C block it
// accumulates (MC x NR when K is one block, else MC x the group's channels,
// each rounded to the tile).
int64_t NchwPixelWorkspace(const Plan& p) {
  const TileShape& t = p.kernels->gemm;
  const int64_t rows = RoundUp(p.blocks.mc, t.mr);
  const int64_t c_cols = p.geo.k > p.blocks.kc ? RoundUp(p.geo.ng, t.nr) : t.nr;
  return Bytes64(rows * (RoundUp(p.blocks.kc, t.ku) + c_cols) *
                 static_cast<int64_t>(sizeof(float)));
}
int64_t NoWorkspace(const Plan&) { return 0; }
// Outputs of at least 4x L2 (BlockHints::prefetch_c).
bool PrefetchOutput(const ConvGeometry& geo) {
  const int64_t out_bytes = geo.m * geo.cout * static_cast<int64_t>(sizeof(float));
  return out_bytes >= 4 * GetCacheSizes().l2;
}

int64_t SlidingWindowWorkspaceOf(const Plan& p) {
  return Bytes64(SlidingWindowWorkspaceBytes(p.geo));
}
Blocking SlidingWindowBlocking(const ConvGeometry& geo, const TileShape&) {
  Blocking b;
  b.hints.prefetch_c = PrefetchOutput(geo);
  return b;
}

int64_t PixelLanesWorkspaceOf(const Plan& p) {
  return Bytes64(PixelLanesWorkspaceBytes(p.geo, p.kernels->gemm.lanes, p.blocks.mc));
}
Blocking PixelLanesBlocking(const ConvGeometry& geo, const TileShape& t) {
  Blocking b;
  b.mc = PixelLanesRowsOut(geo, t.lanes, GetCacheSizes().l2);
  return b;
}

// {id, name, automatic, applies, needs, cost, weights, split, flop_weight,
//  blocking, workspace, task, kernel_id}, in kAuto's tie-break order.
const std::vector<AlgorithmRow> kTable = {
    {Algorithm::kDepthwise, "depthwise", true, IsDepthwise,
     "layout == kNhwc and groups == in_channels == out_channels", DepthwiseCost, WeightLayout::kDepthwise,
     Split::kRows, 2.0, nullptr, NoWorkspace, &KernelTable::depthwise, &KernelTable::dw_id},
    {Algorithm::kDirectGemm, "direct_gemm", true, IsNhwc, "layout == kNhwc", DirectCost,
     WeightLayout::kGemmPanels, Split::kGemm, 1.0, DirectBlocking, DirectWorkspace,
     &KernelTable::direct_gemm, &KernelTable::igemm_id},
    {Algorithm::kIm2colGemm, "im2col_gemm", false, IsNhwc, "layout == kNhwc", NotAutomatic,
     WeightLayout::kGemmPanels, Split::kGemm, 1.0, PackedBlocking, Im2colWorkspace,
     &KernelTable::im2col_gemm, &KernelTable::gemm_id},
    {Algorithm::kShiftedGemm, "shifted_gemm", false, IsNhwc, "layout == kNhwc", NotAutomatic,
     WeightLayout::kGemmPanels, Split::kGemm, 1.5, PackedBlocking, ShiftedWorkspace,
     &KernelTable::shifted_gemm, &KernelTable::gemm_id},
    {Algorithm::kNchwGemm, "nchw_gemm", true, IsNchw, "layout == kNchw", NchwCost,
     WeightLayout::kRowPanels, Split::kGemmNchw, 1.0, PackedBlocking, NchwWorkspace,
     &KernelTable::nchw_gemm, &KernelTable::gemm_id},
    {Algorithm::kNchwPixelGemm, "nchw_pixel_gemm", true, IsNchw, "layout == kNchw",
     NchwPixelCost, WeightLayout::kGemmPanels, Split::kGemm, 1.0, NchwPixelBlocking,
     NchwPixelWorkspace, &KernelTable::nchw_pixel_gemm, &KernelTable::gemm_id},
    {Algorithm::kSlidingWindow, "sliding_window", true, SlidingWindowApplies,
     "layout == kNhwc, groups == 1, stride_w == dilation_w == 1, in_channels <= 4, "
     "kernel_w in {3, 5, 7} and kernel_h <= 64",
     SlidingWindowCost, WeightLayout::kGemmPanels, Split::kRows, 1.0, SlidingWindowBlocking,
     SlidingWindowWorkspaceOf, &KernelTable::sliding_window, &KernelTable::sw_id},
    {Algorithm::kPixelLanes, "pixel_lanes", true, PixelLanesApplies,
     "layout == kNhwc, groups == 1, stride_w == 1", PixelLanesCost, WeightLayout::kTapPanels,
     Split::kRows, 1.0, PixelLanesBlocking, PixelLanesWorkspaceOf, &KernelTable::pixel_lanes,
     &KernelTable::pl_id},
    {Algorithm::kNaive, "naive", false, Always, "", NotAutomatic, WeightLayout::kHwio,
     Split::kRows, 50.0, nullptr, NoWorkspace, &KernelTable::naive, &KernelTable::naive_id},
};

Status Invalid(const std::string& field, const std::string& why) {
  return Status(StatusCode::kInvalidArgument, field, "convkit: " + field + " " + why);
}

}  // namespace

const std::vector<AlgorithmRow>& AlgorithmTable() { return kTable; }

const AlgorithmRow* FindAlgorithm(Algorithm id) {
  for (const AlgorithmRow& r : kTable) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

const char* AlgorithmName(Algorithm a) {
  if (a == Algorithm::kAuto) return "auto";
  const AlgorithmRow* row = FindAlgorithm(a);
  return row != nullptr ? row->name : "unknown";
}

bool ParseAlgorithm(const std::string& name, Algorithm* algorithm) {
  if (name == "auto") {
    *algorithm = Algorithm::kAuto;
    return true;
  }
  for (const AlgorithmRow& r : kTable) {
    if (name == r.name) {
      *algorithm = r.id;
      return true;
    }
  }
  return false;
}

std::vector<Algorithm> ApplicableAlgorithms(const Conv2dDesc& desc) {
  std::vector<Algorithm> out;
  if (!Validate(desc).ok()) return out;
  const ConvGeometry g = MakeGeometry(desc);
  for (const AlgorithmRow& r : kTable) {
    if (r.applies(g)) out.push_back(r.id);
  }
  return out;
}

// Depthwise channels per pass over a task's rows: the KH input rows of a
// chunk and its weights in half of L1 (a row of 960 channels is 27 KB at
// W = 7; without chunks its KH input rows come from L2 again for every
// output row, and the weights for every pixel block). Whole vectors.
int64_t DepthwiseChunk(const ConvGeometry& geo, int64_t lanes) {
  const int64_t per_channel =
      static_cast<int64_t>(sizeof(float)) * geo.kh * (geo.w + geo.kw);
  const int64_t l = std::max<int64_t>(lanes, 1);
  return std::max(l, GetCacheSizes().l1d / 2 / per_channel / l * l);
}

Blocking PackedBlocking(const ConvGeometry& geo, const TileShape& t) {
  return PackedBlockingForK(geo.k, t);
}

Blocking PackedBlockingForK(int64_t depth, const TileShape& t) {
  const CacheSizes c = GetCacheSizes();
  const int64_t f = static_cast<int64_t>(sizeof(float));
  // KC: the B micro-panel (KC x NR) in half of L1, the other half for the
  // A rows and C tile streaming past it; then K in equal blocks.
  int64_t kc_max = c.l1d / 2 / (t.nr * f) / t.ku * t.ku;
  kc_max = std::min<int64_t>(std::max<int64_t>(kc_max, 64), kMaxBlockKC);
  const int64_t k = std::max<int64_t>(depth, 1);
  const int64_t k_blocks = DivCeil(k, kc_max);
  Blocking b;
  b.kc = std::min(RoundUp(DivCeil(k, k_blocks), t.ku), kc_max);
  // MC: the packed A block (MC x KC) in a quarter of L2; NC: the B block
  // (KC x NC) in half of it.
  b.mc = std::max<int64_t>(t.mr, c.l2 / 4 / (b.kc * f) / t.mr * t.mr);
  b.nc = std::max<int64_t>(t.nr, c.l2 / 2 / (b.kc * f) / t.nr * t.nr);
  return b;
}

// Tile rows for a 1x1 layer whose tile's input rows would crowd a few L1d
// sets, else 0 (MR). A 1x1 tile reads its MR input rows side by side, a line
// of each at a time; rows a multiple of the way size apart (L1dWayBytes: 4
// KiB on x86, so 1024 or 2048 input channels, or 512 at stride 2) all map to
// one set, and 14 rows overflow its 12 ways (Zen 5; Zen 4 has 8). At most
// ways - 2 rows per set group leaves room for the weight and output lines:
// ResNet-50's layer4.1.conv1 (7x7, 2048 -> 512) ran 282 GFLOP/s in tiles
// of 10 rows against 262 in tiles of 14 (12 rows: 265), layer4.0.conv1 and
// layer3.1.conv1 (1024 channels, 14x14) 282 against 272, layer3.0 and
// layer4.0's downsampling (stride 2) 2-3% faster; 1x1 layers whose rows do
// not alias (1000 or 512 channels) ran fastest at 14, and 3x3 layers with
// 8 KiB pixels (ResNeXt, 64 channels per group) gained nothing. Rows go in
// equal tiles (49 pixels: 10, 10, 10, 10, 9), at least 4.
int64_t SetConflictRows(const ConvGeometry& geo, const TileShape& t, const CacheSizes& c) {
  const int64_t way = L1dWayBytes(c);
  if (way == 0 || geo.taps != 1) return 0;
  // Bytes between adjacent rows of a tile, modulo the way size; its rows
  // then fall into way / gcd(step, way) groups of sets (lines count as one).
  const int64_t f = static_cast<int64_t>(sizeof(float));
  const int64_t step = (geo.sw % way) * (geo.xs % way * f % way) % way;
  const int64_t groups = way / std::max<int64_t>(std::gcd(step == 0 ? way : step, way), 64);
  const int64_t cap = std::max<int64_t>((c.l1d_ways - 2) * groups, 4);
  if (cap >= t.mr) return 0;
  const int64_t m = std::max<int64_t>(geo.m, 1);
  return std::min(cap, DivCeil(m, DivCeil(m, cap)));
}

Blocking DirectBlocking(const ConvGeometry& geo, const TileShape& t) {
  Blocking b = DirectBlockingForK(geo.k, t);
  b.hints.prefetch_c = PrefetchOutput(geo);
  const CacheSizes caches = GetCacheSizes();
  // Narrow tiles (Blocking::mr): one per output row, or two per row of an
  // even width between MR and 2 MR, where the halves keep at least 8 rows
  // (AVX2's halves of 4 rows, 8x8 layers, measured 10% slower).
  const bool vertical_padding = geo.pt > 0 || geo.pb > 0;
  if (geo.ow < t.mr && 2 * geo.ow >= t.mr && vertical_padding) {
    b.mr = geo.ow;
  } else if (geo.ow > t.mr && geo.ow < 2 * t.mr && geo.ow % 2 == 0 && geo.ow >= 16 &&
             vertical_padding) {
    b.mr = geo.ow / 2;
  }
  if (b.mr == 0) b.mr = SetConflictRows(geo, t, caches);
  if (b.mr > 0) b.mc = std::max(b.mr, b.mc / b.mr * b.mr);
  // Kernels of several taps on inputs of 16x L2 and more, with more output
  // channels than one column block: every column block streams the whole
  // input again, from beyond the caches; one block of all the columns
  // reads it once, its weights then coming from L3 per tile. Interleaved
  // with oneDNN's and XNNPACK's calls (convkit-perf's suites), SSD's
  // 150x150 3x3 stride-3 layer (22 MB in, 256 -> 324) took 17.0-17.3 ms
  // against 17.7-19.2 at one thread, 8.5-8.7 against 9.0 at two. Not 1x1
  // layers (50x50, 2304 -> 324, the same GEMM: even at one thread, 2-3%
  // slower at two, its rows' single runs stream well) nor inputs of
  // 5.5-12.8 MB (-5% to +2%; SSD's 75x75 stride-2 256 -> 512 slower).
  const double input_bytes = static_cast<double>(geo.n) * static_cast<double>(geo.h) *
                             static_cast<double>(geo.w) * static_cast<double>(geo.xs) *
                             static_cast<double>(sizeof(float));
  if (geo.taps > 1 && input_bytes >= 16.0 * static_cast<double>(caches.l2) && geo.ng > b.nc) {
    b.nc = RoundUp(geo.ng, t.nr);
  }
  // Estimates, in double: valid descriptors with extreme strides and pixel
  // strides overflow int64 here (errors_test), and only the comparisons
  // with the cache sizes matter.
  // Input bytes a paired tile's 2 MR rows read per K block: per kernel row,
  // the rows' spread (sw * xs apart) plus one row's kernel-row span, or
  // without overlap 2 MR x KC.
  const double f = static_cast<double>(sizeof(float));
  const double l1_budget = 0.75 * static_cast<double>(caches.l1d);
  const double span = (2.0 * static_cast<double>(t.mr) - 1.0) * static_cast<double>(geo.sw) *
                          static_cast<double>(geo.xs) +
                      static_cast<double>(geo.kw - 1) * static_cast<double>(geo.dw) *
                          static_cast<double>(geo.xs) +
                      static_cast<double>(geo.cg);
  const double pair_rows = 2.0 * static_cast<double>(t.mr) * static_cast<double>(b.kc);
  const double pair_floats = std::min(static_cast<double>(geo.kh) * span, pair_rows);
  // C one vector wide, or with tiles of fewer than 8 rows also a last
  // panel one vector wide: MR < 8 accumulators of one vector do not cover
  // the FMA latency of two pipes (AVX2's 6 x 1v tile for 8 of 24 outputs:
  // 1x1 layers with 24 outputs 8-10% faster paired, 8 outputs 20%; AVX3's
  // 14 rows measured 1% slower paired there).
  const int64_t last_panel = geo.ng - (DivCeil(geo.ng, t.nr) - 1) * t.nr;
  b.hints.pair_tiles = b.mr == 0 && (geo.ng <= t.lanes || (t.mr < 8 && last_panel <= t.lanes)) &&
                       pair_floats * f <= l1_budget;
  // 1x1: this tile's and the next one's A rows plus the B block's columns
  // of one K block (BlockHints::prefetch_a).
  const double b_cols = static_cast<double>(std::min(b.nc, RoundUp(std::min(geo.ng, b.nc), t.nr)));
  const double a_b_floats = pair_rows + static_cast<double>(b.kc) * b_cols;
  // Weights beyond L2 used by few pixels, K of 1024 or more (ResNet-50's
  // 7x7 stage: each weight feeds at most 64 outputs, and the call streams
  // its weights from L3 or memory): prefetch the next weight block during a
  // block's later tiles (BlockHints::prefetch_b). Interleaved with oneDNN's
  // and XNNPACK's calls (convkit-perf's suites), layer4.0.downsample (8 MB
  // of weights, 49 pixels, K = 1024) went from 0.85x to 0.93-0.99x of
  // oneDNN and layer4.1.conv1 (K = 2048) from 0.89x to 0.92-0.95x; with K =
  // 512 (layer4.0.conv3, 16 KB per panel) 1.02x -> 0.96x, and 14x14 layers
  // (196 pixels, blocks of 12 tiles) 2-4% slower, whose last tiles then
  // fetched a whole block at once. One thread only (DirectGemmTask): with
  // two threads streaming at once, layer4.0.downsample ran 0.90x with it
  // against 0.95-0.97x without.
  const double weight_bytes = static_cast<double>(geo.k) * static_cast<double>(geo.cout) * f;
  b.hints.prefetch_b =
      weight_bytes >= static_cast<double>(caches.l2) && geo.m <= 64 && geo.k >= 1024;
  ConvGeometry slice;
  const bool strided = geo.sh > 1 || geo.sw > 1;
  b.group_slices = GroupSliceGeometry(geo, &slice) &&
                   (!strided || (geo.cg <= kSliceMaxCgStrided && t.mr >= kSliceMinRowsStrided));
  b.hints.prefetch_a = geo.taps == 1 && input_bytes >= 4.0 * static_cast<double>(caches.l2) &&
                       a_b_floats * f <= l1_budget;
  return b;
}

Blocking DirectBlockingForK(int64_t depth, const TileShape& t) {
  const CacheSizes c = GetCacheSizes();
  const int64_t f = static_cast<int64_t>(sizeof(float));
  const int64_t kc_max = std::max<int64_t>(256, c.l2 / 4 / (t.nr * f));
  const int64_t k = std::max<int64_t>(depth, 1);
  Blocking b;
  b.kc = DivCeil(k, DivCeil(k, kc_max));
  // MC bounds the indirection (and the A rows a block revisits per column
  // block); past 32 tiles a block gains nothing and only takes memory.
  b.mc = std::min(32 * t.mr, std::max<int64_t>(t.mr, c.l2 / 4 / (b.kc * f) / t.mr * t.mr));
  b.nc = std::max<int64_t>(t.nr, c.l2 / 2 / (b.kc * f) / t.nr * t.nr);
  return b;
}

Blocking NchwPixelBlocking(const ConvGeometry& geo, const TileShape& t) {
  const CacheSizes c = GetCacheSizes();
  const int64_t f = static_cast<int64_t>(sizeof(float));
  Blocking b = DirectBlockingForK(geo.k, t);
  b.nc = RoundUp(geo.ng, t.nr);
  // MC: the packed A block (MC x KC) and the C rows it accumulates (one
  // panel, NR wide, when K is one block; every channel otherwise) in half of
  // L2, at least one tile; M in equal blocks.
  const int64_t width = b.kc + (geo.k > b.kc ? b.nc : t.nr);
  const int64_t rows = std::max<int64_t>(t.mr, c.l2 / 2 / (width * f) / t.mr * t.mr);
  const int64_t m = std::max<int64_t>(geo.m, 1);
  b.mc = RoundUp(DivCeil(m, DivCeil(m, rows)), t.mr);
  return b;
}

Status CheckThreads(int threads) {
  if (threads >= 0 && threads <= kMaxThreads) return Status();
  return Invalid("threads", "= " + std::to_string(threads) + ": must be in [0, " +
                                std::to_string(kMaxThreads) + "] (0 = OpenMP's default)");
}

Status MakePlan(const Conv2dDesc& desc, const Options& options, Plan* plan) {
  Status s = Validate(desc);
  if (!s.ok()) return s;
  if (!(s = CheckThreads(options.threads)).ok()) return s;
  Plan p;
  p.geo = MakeGeometry(desc);
  p.post.sum = desc.has_sum;
  p.post.sum_scale = desc.sum_scale;
  p.post.clamp = desc.output_min > -std::numeric_limits<float>::infinity() ||
                 desc.output_max < std::numeric_limits<float>::infinity();
  p.post.lo = desc.output_min;
  p.post.hi = desc.output_max;
  if (!(s = dispatch::SelectTarget(options.max_target, &p.target)).ok()) return s;
  p.kernels = &GetKernelTable(p.target);
  const ConvGeometry& g = p.geo;
  if (options.algorithm == Algorithm::kAuto) {
    double best = INFINITY;
    for (const AlgorithmRow& r : kTable) {
      if (!r.automatic || !r.applies(g)) continue;
      const double cost = r.cost(g, *p.kernels);
      if (p.row == nullptr || cost < best) {
        p.row = &r;
        best = cost;
      }
    }
  } else {
    p.row = FindAlgorithm(options.algorithm);
    if (p.row == nullptr) {
      return Invalid("algorithm", "= " + std::to_string(static_cast<int>(options.algorithm)) +
                                      ": not a known Algorithm value");
    }
    if (!p.row->applies(g)) {
      return Status(StatusCode::kUnsupported, "algorithm",
                    std::string("convkit: algorithm ") + p.row->name +
                        " does not apply to this shape (needs " + p.row->needs + ")");
    }
  }
  if (p.row->blocking != nullptr) p.blocks = p.row->blocking(g, p.kernels->gemm);
  p.b_panels = DivCeil(g.ng, p.kernels->gemm.nr);
  p.dw_cpad = DepthwisePaddedChannels(g, p.kernels->dw_lanes);
  p.dw_chunk = DepthwiseChunk(g, p.kernels->dw_lanes);
  // Stride 2: columns 2 * xs floats apart (reduced first: xs may be huge).
  const int64_t way = L1dWayBytes(GetCacheSizes());
  p.dw_columns_alias =
      g.sw == 2 && (g.xs % way) * 2 * static_cast<int64_t>(sizeof(float)) % way == 0;
  p.ws_bytes = p.row->workspace(p);
  *plan = p;
  return Status();
}

Status PackedSizes(const Plan& p, int64_t* weight_floats, int64_t* bias_floats) {
  const ConvGeometry& g = p.geo;
  int64_t w = 0, b = 0;
  switch (p.row->weights) {
    case WeightLayout::kGemmPanels: {
      const int64_t nr = p.kernels->gemm.nr;
      int64_t per_group = 0;
      if (!CheckedMul(p.b_panels * nr, g.k, &per_group) ||
          !CheckedMul(per_group, g.groups, &w) || w > INT64_MAX / 8) {
        return Invalid("weights", "are too large once padded to the register tile");
      }
      b = g.has_bias ? PackedBiasFloats(g, nr) : 0;
      break;
    }
    case WeightLayout::kDepthwise:
      w = p.dw_cpad * g.taps;
      b = g.has_bias ? p.dw_cpad : 0;
      break;
    case WeightLayout::kHwio:
      w = g.taps * g.cg * g.cout;
      b = g.has_bias ? g.cout : 0;
      break;
    case WeightLayout::kTapPanels: {
      const int64_t mr = PixelLanesPanelRows(g, p.kernels->gemm.mr);
      if (!CheckedMul(DivCeil(g.cout, mr) * mr, g.k, &w) || w > INT64_MAX / 8) {
        return Invalid("weights", "are too large once padded to the register tile");
      }
      b = g.has_bias ? g.cout : 0;
      break;
    }
    case WeightLayout::kRowPanels: {
      const TileShape& t = p.kernels->gemm;
      int64_t per_panel = 0;
      if (!CheckedMul(RoundUp(g.k, t.ku), t.mr, &per_panel) ||
          !CheckedMul(per_panel, DivCeil(g.ng, t.mr) * g.groups, &w) || w > INT64_MAX / 8) {
        return Invalid("weights", "are too large once padded to the register tile");
      }
      b = g.has_bias ? g.cout : 0;
      break;
    }
  }
  *weight_floats = w;
  *bias_floats = b;
  return Status();
}

void PackParameters(const Plan& p, const float* weights, const float* bias,
                    float* packed_weights, float* packed_bias) {
  const ConvGeometry& g = p.geo;
  switch (p.row->weights) {
    case WeightLayout::kGemmPanels:
      PackWeightsHwioToPanels(g, p.kernels->gemm.nr, weights, packed_weights);
      if (g.has_bias) PackBiasToPanels(g, p.kernels->gemm.nr, bias, packed_bias);
      break;
    case WeightLayout::kDepthwise:
      PackDepthwiseWeights(g, p.kernels->dw_lanes, weights, packed_weights);
      if (g.has_bias) PackDepthwiseBias(g, p.kernels->dw_lanes, bias, packed_bias);
      break;
    case WeightLayout::kHwio:
      std::memcpy(packed_weights, weights,
                  static_cast<size_t>(g.taps * g.cg * g.cout) * sizeof(float));
      if (g.has_bias) {
        std::memcpy(packed_bias, bias, static_cast<size_t>(g.cout) * sizeof(float));
      }
      break;
    case WeightLayout::kTapPanels:
      PackWeightsHwioToTapPanels(g, PixelLanesPanelRows(g, p.kernels->gemm.mr), weights,
                                 packed_weights);
      if (g.has_bias) {
        std::memcpy(packed_bias, bias, static_cast<size_t>(g.cout) * sizeof(float));
      }
      break;
    case WeightLayout::kRowPanels:
      PackWeightsHwioToRowPanels(g, p.kernels->gemm.mr, p.kernels->gemm.ku, weights,
                                 packed_weights);
      if (g.has_bias) {
        std::memcpy(packed_bias, bias, static_cast<size_t>(g.cout) * sizeof(float));
      }
      break;
  }
}

namespace {

// Automatic thread count (Options::threads = 0): one thread per this many
// flops (times the row's flop_weight) per vector lane of the target, about
// 0.6 us of one thread's work: 0.16 MFLOP on AVX-512, 0.08 on AVX2. With the
// workers awake (back-to-back calls) a fork and join costs about that much:
// two threads against one, 3x3-pixel 1x1 layers 128 -> 128 (0.3 MFLOP)
// 1.23 -> 1.28 us on AVX-512 and 2.5 -> 1.9 on AVX2, 256 -> 128 (0.6
// MFLOP) 2.3 -> 1.9 and 5.0 -> 3.2 (oneDNN, two threads: 3.7); 7x7
// depthwise with 160 channels (0.14 MFLOP) 1.0 -> 1.2 and 2.0 -> 1.5; 2x2
// pixels 128 -> 128 0.64 -> 0.92 and 1.18 -> 1.17. A flat 0.5 MFLOP per
// thread (kMinFlopsPerThread) kept the 0.6 MFLOP layer on one thread (0.74x
// oneDNN on AVX2 at two threads).
constexpr double kForwardFlopsPerLane = 10.0 * 1024;

// Relative cost of one task of rows x cols outputs (per unit of K): the
// multiply-adds plus the A rows and B columns it has to bring into its core's
// caches, which tasks sharing neither read again, plus the im2col packing
// that each task does for its own pixels (the NCHW GEMMs: pack_per_pixel
// FMA lanes per float, as in their cost models), which a split along the
// channels repeats.
double TaskCost(int64_t rows, int64_t cols, double pack_per_pixel) {
  return static_cast<double>(rows) * static_cast<double>(cols) +
         8.0 * static_cast<double>(rows + cols) + pack_per_pixel * static_cast<double>(rows);
}

}  // namespace

Partition MakePartition(const Plan& plan, int requested) {
  const ConvGeometry& g = plan.geo;
  Partition p;
  if (g.m == 0) {  // batch 0: nothing to do
    p.threads = 1;
    return p;
  }
  const double flops = 2.0 * static_cast<double>(g.m) * static_cast<double>(g.cout) *
                       static_cast<double>(g.k) * plan.row->flop_weight;
  const double min_flops = kForwardFlopsPerLane * static_cast<double>(plan.kernels->gemm.lanes);
  const int want = ResolveThreads(requested, INT64_MAX, flops, min_flops);
  if (plan.row->split == Split::kGemm || plan.row->split == Split::kGemmNchw) {
    // Whole tiles: M (pixels) in MR rows and N (channels) in NR columns, or
    // for the NCHW GEMM pixels in NR columns and channels in MR rows.
    const TileShape& t = plan.kernels->gemm;
    const bool nchw = plan.row->split == Split::kGemmNchw;
    // The direct GEMM's tiles may be narrower than MR (Blocking::mr: one
    // output row each); chunks of whole tiles keep them on output rows and
    // let 2 threads split DenseNet's 8x8 layers 4 + 4 tiles, not 6 + 3.
    const int64_t tile_m = plan.blocks.mr > 0 ? plan.blocks.mr : t.mr;
    const int64_t um = nchw ? t.nr : tile_m, un = nchw ? t.mr : t.nr;
    const int64_t units_m = DivCeil(g.m, um), units_n = DivCeil(g.ng, un);
    // Packing per pixel and unit of K: the pixel GEMM packs A, the NCHW GEMM
    // B (unless it reads the input in place); the NHWC direct GEMM nothing.
    const double pack_per_pixel = plan.row->id == Algorithm::kNchwPixelGemm ? kPackGather
                                  : !nchw                                  ? 0.0
                                  : NchwReadsInPlace(g)                    ? 0.0
                                  : g.sw == 1                              ? kPackCopy
                                                                           : kPackStrided;
    // Candidate splits of each group's M x N into pm x pn chunks of whole
    // tiles; the cheapest makespan wins, fewer tasks on ties. One thread (or
    // enough groups to go round): one task per group.
    int64_t best_pm = 1, best_pn = 1;
    if (want > 1 && g.groups < 4 * static_cast<int64_t>(want)) {
      double best = INFINITY;
      const int64_t limit = 4 * static_cast<int64_t>(want);
      for (int64_t pm = 1; pm <= std::min(units_m, limit); ++pm) {
        for (int64_t pn = 1; pn <= std::min(units_n, limit); ++pn) {
          if (pm * pn > limit) break;
          const int64_t mc = DivCeil(units_m, pm) * um, nc = DivCeil(units_n, pn) * un;
          const int64_t am = DivCeil(g.m, mc), an = DivCeil(g.ng, nc);
          if (am != pm || an != pn) continue;  // same as a smaller split
          // Dynamic scheduling hands whole tasks to free threads: the call
          // lasts about ceil(tasks / threads) full tasks.
          const int64_t tasks = g.groups * am * an;
          const double span =
              static_cast<double>(DivCeil(tasks, want)) * TaskCost(mc, nc, pack_per_pixel);
          if (span < best * (1.0 - 1e-9)) {
            best = span;
            best_pm = pm;
            best_pn = pn;
          }
        }
      }
    }
    p.m_chunk = DivCeil(units_m, best_pm) * um;
    p.m_tasks = DivCeil(g.m, p.m_chunk);
    p.n_chunk = DivCeil(units_n, best_pn) * un;
    p.n_tasks = DivCeil(g.ng, p.n_chunk);
    p.tasks = g.groups * p.m_tasks * p.n_tasks;
  } else {
    // Output rows (n, oh) in one even block per thread, then channel blocks
    // when rows are too few. (Four tasks per thread, dynamically scheduled,
    // measured twice as slow on MobileNetV2's 28x28 depthwise layer at two
    // threads: 0.11 ms against 0.05.)
    const int64_t rows = g.n * g.oh;
    // Channel blocks of whole vectors (depthwise, sliding window).
    const int64_t unit = plan.row->weights == WeightLayout::kDepthwise    ? plan.kernels->dw_lanes
                         : plan.row->weights == WeightLayout::kGemmPanels ? plan.kernels->gemm.lanes
                         : plan.row->weights == WeightLayout::kTapPanels
                             ? PixelLanesPanelRows(g, plan.kernels->gemm.mr)
                                                                          : 1;
    const int64_t target_tasks = want;
    p.m_chunk = DivCeil(rows, std::min(rows, target_tasks));
    p.m_tasks = DivCeil(rows, p.m_chunk);
    p.n_chunk = RoundUp(g.cout, unit);
    p.n_tasks = 1;
    if (p.m_tasks < target_tasks && g.cout > unit) {
      const int64_t split = DivCeil(target_tasks, p.m_tasks);
      p.n_chunk = RoundUp(DivCeil(g.cout, split), unit);
      p.n_tasks = DivCeil(g.cout, p.n_chunk);
    }
    p.tasks = p.m_tasks * p.n_tasks;
  }
  p.threads = ResolveThreads(requested, p.tasks, flops, min_flops);
  return p;
}

Task TaskAt(const Plan& plan, const Partition& part, int64_t t) {
  const ConvGeometry& g = plan.geo;
  Task task;
  const int64_t ni = t % part.n_tasks;
  const int64_t rest = t / part.n_tasks;
  const int64_t mi = rest % part.m_tasks;
  task.g = rest / part.m_tasks;
  task.m0 = mi * part.m_chunk;
  task.n0 = ni * part.n_chunk;
  if (plan.row->split == Split::kGemm || plan.row->split == Split::kGemmNchw) {
    task.m1 = std::min(task.m0 + part.m_chunk, g.m);
    task.n1 = std::min(task.n0 + part.n_chunk, g.ng);
  } else {
    task.m1 = std::min(task.m0 + part.m_chunk, g.n * g.oh);
    task.n1 = std::min(task.n0 + part.n_chunk, g.cout);
  }
  return task;
}

size_t WorkspaceBytesFor(const Plan& plan, int threads) {
  if (plan.ws_bytes == 0) return 0;
  return static_cast<size_t>(threads) * static_cast<size_t>(plan.ws_bytes) + kAlignment;
}

void RunPlan(const Plan& plan, const Partition& part, const float* x, float* y, void* ws) {
  const TaskFn task = plan.kernels->*(plan.row->task);
  char* base = ws == nullptr ? nullptr : reinterpret_cast<char*>(AlignUp(ws));
  if (part.threads <= 1) {
    for (int64_t t = 0; t < part.tasks; ++t) task(plan, TaskAt(plan, part, t), x, y, base);
    return;
  }
  // Every task exactly once; tasks write disjoint outputs and never split K,
  // so the result does not depend on the thread count or the schedule.
#if defined(_OPENMP)
#pragma omp parallel for num_threads(part.threads) schedule(dynamic, 1)
#endif
  for (int64_t t = 0; t < part.tasks; ++t) {
    char* mine = base == nullptr ? nullptr : base + ThreadIndex() * plan.ws_bytes;
    task(plan, TaskAt(plan, part, t), x, y, mine);
  }
}

PlanInfo MakePlanInfo(const Plan& plan, int requested_threads) {
  PlanInfo info;
  info.algorithm = plan.row->name;
  info.kernel = plan.kernel_id();
  info.target = dispatch::TargetName(plan.target);
  info.out_h = plan.geo.oh;
  info.out_w = plan.geo.ow;
  if (plan.row->split == Split::kGemm || plan.row->split == Split::kGemmNchw) {
    const TileShape& t = plan.kernels->gemm;
    info.mr = t.mr;
    info.nr = t.nr;
    info.tile_rows = plan.blocks.mr > 0 ? plan.blocks.mr : t.mr;
    info.mc = plan.blocks.mc;
    info.kc = plan.blocks.kc;
    info.nc = plan.blocks.nc;
  } else if (plan.row->id == Algorithm::kSlidingWindow) {
    info.mr = plan.kernels->sw_rows(plan.geo.kw);
    info.nr = plan.kernels->gemm.lanes;
  } else if (plan.row->id == Algorithm::kPixelLanes) {
    info.mr = PixelLanesPanelRows(plan.geo, plan.kernels->gemm.mr);
    info.nr = plan.kernels->gemm.nr;
    info.mc = plan.blocks.mc;
  }
  const Partition part = MakePartition(plan, requested_threads);
  info.threads = part.threads;
  info.workspace_bytes = WorkspaceBytesFor(plan, part.threads);
  return info;
}

}  // namespace convkit
