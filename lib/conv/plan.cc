// Planning: the ordered algorithm list, the target, the work split. Compiled
// once (no SIMD); the per-target code only executes what is decided here.
#include "lib/conv/plan.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "lib/common/aligned.h"
#include "lib/common/checked.h"
#include "lib/common/threads.h"
#include "lib/dispatch/targets.h"

namespace convkit {
namespace {

bool IsDepthwise(const ConvGeometry& g) {
  return g.groups == g.cin && g.groups == g.cout;
}
bool Is1x1Dense(const ConvGeometry& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 &&
         g.pb == 0 && g.pl == 0 && g.pr == 0;
}
bool Always(const ConvGeometry&) { return true; }

struct AlgorithmEntry {
  Algorithm id;
  bool (*applies)(const ConvGeometry&);
  bool automatic;  // may kAuto pick it?
};

// In priority order (oneDNN's convolution list style): the first automatic
// entry that applies wins; the reference-like entries close the list.
constexpr AlgorithmEntry kAlgorithms[] = {
    {Algorithm::kDepthwise, IsDepthwise, true},
    {Algorithm::kGemm1x1, Is1x1Dense, true},
    {Algorithm::kIm2colGemm, Always, true},
    {Algorithm::kShiftedGemm, Always, false},
    {Algorithm::kNaive, Always, false},
};

}  // namespace

bool IsGemmAlgorithm(Algorithm a) {
  return a == Algorithm::kGemm1x1 || a == Algorithm::kIm2colGemm ||
         a == Algorithm::kShiftedGemm;
}

const char* AlgorithmName(Algorithm a) {
  switch (a) {
    case Algorithm::kAuto:
      return "auto";
    case Algorithm::kDepthwise:
      return "depthwise";
    case Algorithm::kGemm1x1:
      return "gemm_1x1";
    case Algorithm::kIm2colGemm:
      return "im2col_gemm";
    case Algorithm::kShiftedGemm:
      return "shifted_gemm";
    case Algorithm::kNaive:
      return "naive";
  }
  return "unknown";
}

bool ParseAlgorithm(const std::string& name, Algorithm* algorithm) {
  for (Algorithm a : {Algorithm::kAuto, Algorithm::kDepthwise, Algorithm::kGemm1x1,
                      Algorithm::kIm2colGemm, Algorithm::kShiftedGemm,
                      Algorithm::kNaive}) {
    if (name == AlgorithmName(a)) {
      *algorithm = a;
      return true;
    }
  }
  return false;
}

Status ChooseAlgorithm(const ConvGeometry& geo, Algorithm requested, Plan* plan) {
  for (const AlgorithmEntry& e : kAlgorithms) {
    if (requested == Algorithm::kAuto) {
      if (e.automatic && e.applies(geo)) {
        plan->algorithm = e.id;
        return Status();
      }
    } else if (requested == e.id) {
      if (!e.applies(geo)) {
        return Status(StatusCode::kUnsupported, "algorithm",
                      std::string("convkit: algorithm ") + AlgorithmName(e.id) +
                          " does not apply to this shape (" +
                          (e.id == Algorithm::kDepthwise
                               ? "needs groups == in_channels == out_channels"
                               : "needs a 1x1 kernel, stride 1, no padding") +
                          ")");
      }
      plan->algorithm = e.id;
      return Status();
    }
  }
  return Status(StatusCode::kInvalidArgument, "algorithm",
                "convkit: algorithm " + std::to_string(static_cast<int>(requested)) +
                    " is not a known Algorithm value");
}

Status ChooseTarget(const std::string& max_target, Plan* plan) {
  Status s = dispatch::SelectTarget(max_target, &plan->target);
  if (!s.ok()) return s;
  QueryTarget(plan->target, &plan->tile, plan->dw_kernel, sizeof(plan->dw_kernel));
  const ConvGeometry& g = plan->geo;
  if (IsGemmAlgorithm(plan->algorithm)) {
    const TileConfig& t = plan->tile;
    // One packed A block: at most MC rows (rounded to MR) by KC columns (or
    // by one tap's Cg for the shifted GEMMs, whose blocks never span taps).
    const int64_t rows = RoundUp(std::min(t.mc, std::max<int64_t>(g.m, 1)), t.mr);
    const int64_t depth = std::min(
        t.kc, plan->algorithm == Algorithm::kShiftedGemm ? g.cg : g.k);
    plan->ws_floats = RoundUp(rows * RoundUp(depth, t.ku), 16);
  } else {
    plan->ws_floats = 0;
  }
  return Status();
}

Partition MakePartition(const Plan& plan, int requested) {
  const ConvGeometry& g = plan.geo;
  Partition p;
  // Threads the call could use; the final count is bounded by the tasks.
  const double flops = 2.0 * static_cast<double>(g.m) * static_cast<double>(g.cout) *
                       static_cast<double>(g.k);
  const int want = ResolveThreads(requested, INT64_MAX, flops);
  if (g.m == 0) {  // batch 0: nothing to do
    p.threads = 1;
    return p;
  }
  if (IsGemmAlgorithm(plan.algorithm)) {
    const TileConfig& t = plan.tile;
    // Rows first (batch and output rows: M is (n, oh, ow)), in MC blocks,
    // smaller (down to MR) when that leaves threads idle.
    p.m_chunk = std::min(t.mc, RoundUp(g.m, t.mr));
    p.m_tasks = DivCeil(g.m, p.m_chunk);
    if (g.groups * p.m_tasks < 2 * want) {
      const int64_t per_group = DivCeil(2 * want, g.groups);
      p.m_chunk = std::max(t.mr, RoundUp(DivCeil(g.m, per_group), t.mr));
      p.m_tasks = DivCeil(g.m, p.m_chunk);
    }
    // Then output channels, in NR multiples, when rows are too few.
    p.n_chunk = RoundUp(g.ng, t.nr);
    p.n_tasks = 1;
    if (g.groups * p.m_tasks < want && g.ng > t.nr) {
      const int64_t split = DivCeil(want, g.groups * p.m_tasks);
      p.n_chunk = RoundUp(DivCeil(g.ng, split), t.nr);
      p.n_tasks = DivCeil(g.ng, p.n_chunk);
    }
    p.tasks = g.groups * p.m_tasks * p.n_tasks;
  } else {
    // Depthwise and naive: output rows (n, oh), then channel blocks.
    const int64_t rows = g.n * g.oh;
    const int64_t target_tasks = 4 * static_cast<int64_t>(want);
    p.m_chunk = std::max<int64_t>(1, DivCeil(rows, target_tasks));
    p.m_tasks = DivCeil(rows, p.m_chunk);
    const int64_t unit = plan.algorithm == Algorithm::kDepthwise ? plan.tile.lanes : 1;
    p.n_chunk = RoundUp(g.cout, unit);
    p.n_tasks = 1;
    if (p.m_tasks < want && g.cout > unit) {
      const int64_t split = DivCeil(want, p.m_tasks);
      p.n_chunk = RoundUp(DivCeil(g.cout, split), unit);
      p.n_tasks = DivCeil(g.cout, p.n_chunk);
    }
    p.tasks = p.m_tasks * p.n_tasks;
  }
  p.threads = ResolveThreads(requested, p.tasks, flops);
  return p;
}

size_t WorkspaceBytesFor(const Plan& plan, int threads) {
  if (plan.ws_floats == 0) return 0;
  return static_cast<size_t>(threads) * static_cast<size_t>(plan.ws_floats) *
             sizeof(float) +
         kAlignment;
}

PlanInfo MakePlanInfo(const Plan& plan, int requested_threads) {
  PlanInfo info;
  info.algorithm = AlgorithmName(plan.algorithm);
  info.target = dispatch::TargetName(plan.target);
  info.out_h = plan.geo.oh;
  info.out_w = plan.geo.ow;
  if (IsGemmAlgorithm(plan.algorithm)) {
    info.kernel = plan.tile.kernel;
    info.mr = plan.tile.mr;
    info.nr = plan.tile.nr;
    info.mc = plan.tile.mc;
    info.kc = plan.tile.kc;
    info.nc = plan.tile.nc;
  } else if (plan.algorithm == Algorithm::kDepthwise) {
    info.kernel = plan.dw_kernel;
  } else {
    info.kernel = "f32_conv_naive";
  }
  const Partition part = MakePartition(plan, requested_threads);
  info.threads = part.threads;
  info.workspace_bytes = WorkspaceBytesFor(plan, part.threads);
  return info;
}

}  // namespace convkit
