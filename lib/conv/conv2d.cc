// The public operator and one-shot call: validate -> plan -> pack -> run.
// Everything that can fail is checked before the first write to the output.
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "convkit/convkit.h"
#include "lib/common/aligned.h"
#include "lib/common/checked.h"
#include "lib/conv/plan.h"
#include "lib/pack/panels.h"

namespace convkit {
namespace {

Status Invalid(const std::string& field, const std::string& why) {
  return Status(StatusCode::kInvalidArgument, field, "convkit: " + field + " " + why);
}

Status OutOfMemory(const std::string& what, size_t bytes) {
  return Status(StatusCode::kOutOfMemory, what,
                "convkit: could not allocate " + std::to_string(bytes) +
                    " bytes for the " + what);
}

// Half-open byte ranges [a, a + na) and [b, b + nb) intersect.
bool Overlaps(const void* a, int64_t na, const void* b, int64_t nb) {
  if (a == nullptr || b == nullptr || na <= 0 || nb <= 0) return false;
  const uintptr_t pa = reinterpret_cast<uintptr_t>(a);
  const uintptr_t pb = reinterpret_cast<uintptr_t>(b);
  return pa < pb + static_cast<uintptr_t>(nb) && pb < pa + static_cast<uintptr_t>(na);
}

int64_t Bytes(int64_t floats) { return floats * static_cast<int64_t>(sizeof(float)); }

Status CheckThreads(int threads) {
  if (threads < 0) {
    return Invalid("threads", "= " + std::to_string(threads) +
                                  ": must be >= 0 (0 = OpenMP's default)");
  }
  return Status();
}

// Validated descriptor + options -> plan (algorithm, target, tile).
Status MakePlan(const Conv2dDesc& desc, const Options& options, Plan* plan) {
  Status s = Validate(desc);
  if (!s.ok()) return s;
  if (!(s = CheckThreads(options.threads)).ok()) return s;
  plan->geo = MakeGeometry(desc);
  if (!(s = ChooseAlgorithm(plan->geo, options.algorithm, plan)).ok()) return s;
  return ChooseTarget(options.max_target, plan);
}

}  // namespace

struct Conv2d::Impl {
  Conv2dDesc desc;
  Plan plan;
  int threads = 0;  // Options::threads
  PlanInfo info;
  AlignedFloats weights;
  AlignedFloats bias;

  Status Run(const float* input, float* output, void* workspace,
             size_t workspace_bytes, bool own_workspace, int threads) const;
};

Conv2d::Conv2d(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Conv2d::~Conv2d() = default;

Status Conv2d::Create(const Conv2dDesc& desc, const float* weights,
                      const float* bias, const Options& options,
                      std::unique_ptr<Conv2d>* op) {
  if (op == nullptr) return Invalid("op", "is null");
  std::unique_ptr<Impl> impl(new (std::nothrow) Impl);
  if (!impl) return OutOfMemory("operator", sizeof(Impl));
  Status s = MakePlan(desc, options, &impl->plan);
  if (!s.ok()) return s;
  if (weights == nullptr) return Invalid("weights", "is null");
  if (desc.has_bias && bias == nullptr) {
    return Invalid("bias", "is null but has_bias is true");
  }
  if (!desc.has_bias && bias != nullptr) {
    return Invalid("bias", "is given but has_bias is false");
  }
  impl->desc = desc;
  impl->threads = options.threads;
  Plan& plan = impl->plan;
  const ConvGeometry& g = plan.geo;

  // Pack the parameters into the chosen algorithm's layout.
  int64_t w_floats = 0, b_floats = 0;
  if (IsGemmAlgorithm(plan.algorithm)) {
    const int64_t nr = plan.tile.nr;
    plan.b_panels = DivCeil(g.ng, nr);
    int64_t per_group = 0;
    if (!CheckedMul(plan.b_panels * nr, g.k, &per_group) ||
        !CheckedMul(per_group, g.groups, &w_floats) || w_floats > INT64_MAX / 8) {
      return Invalid("weights", "are too large once padded to the register tile");
    }
    b_floats = g.has_bias ? PackedBiasFloats(g, nr) : 0;
  } else if (plan.algorithm == Algorithm::kDepthwise) {
    plan.dw_cpad = DepthwisePaddedChannels(g, plan.tile.lanes);
    w_floats = plan.dw_cpad * g.taps;
    b_floats = g.has_bias ? plan.dw_cpad : 0;
  } else {
    w_floats = g.taps * g.cg * g.cout;
    b_floats = g.has_bias ? g.cout : 0;
  }
  impl->weights = AllocateFloats(static_cast<size_t>(w_floats));
  if (!impl->weights) return OutOfMemory("packed weights", Bytes(w_floats));
  if (b_floats > 0) {
    impl->bias = AllocateFloats(static_cast<size_t>(b_floats));
    if (!impl->bias) return OutOfMemory("packed bias", Bytes(b_floats));
  }
  if (IsGemmAlgorithm(plan.algorithm)) {
    PackWeightsHwioToPanels(g, plan.tile.nr, weights, impl->weights.get());
    if (g.has_bias) PackBiasToPanels(g, plan.tile.nr, bias, impl->bias.get());
  } else if (plan.algorithm == Algorithm::kDepthwise) {
    PackDepthwiseWeights(g, plan.tile.lanes, weights, impl->weights.get());
    if (g.has_bias) PackDepthwiseBias(g, plan.tile.lanes, bias, impl->bias.get());
  } else {
    std::memcpy(impl->weights.get(), weights, static_cast<size_t>(Bytes(w_floats)));
    if (g.has_bias) {
      std::memcpy(impl->bias.get(), bias, static_cast<size_t>(Bytes(b_floats)));
    }
  }
  plan.weights = impl->weights.get();
  plan.bias = impl->bias.get();
  impl->info = MakePlanInfo(plan, options.threads);
  std::unique_ptr<Conv2d> created(new (std::nothrow) Conv2d(std::move(impl)));
  if (!created) return OutOfMemory("operator", sizeof(Conv2d));
  *op = std::move(created);
  return Status();
}

Status Conv2d::Impl::Run(const float* input, float* output, void* workspace,
                         size_t workspace_bytes, bool own_workspace,
                         int call_threads) const {
  Status s = CheckThreads(call_threads);
  if (!s.ok()) return s;
  if (desc.batch == 0) return Status();  // nothing to read or write
  if (input == nullptr) return Invalid("input", "is null");
  if (output == nullptr) return Invalid("output", "is null");
  const ConvGeometry& g = plan.geo;
  const int64_t in_bytes = Bytes(g.n * g.h * g.w * g.cin);
  const int64_t out_bytes = Bytes(g.m * g.cout);
  if (Overlaps(output, out_bytes, input, in_bytes)) {
    return Invalid("output", "overlaps the input");
  }
  const Partition part = MakePartition(plan, call_threads > 0 ? call_threads : threads);
  const size_t need = WorkspaceBytesFor(plan, part.threads);
  AlignedFloats owned;
  if (own_workspace) {
    if (need > 0) {
      owned = AllocateFloats(need / sizeof(float));
      if (!owned) return OutOfMemory("workspace", need);
      workspace = owned.get();
    }
  } else if (need > 0) {
    if (workspace == nullptr) return Invalid("workspace", "is null");
    if (workspace_bytes < need) {
      return Invalid("workspace_bytes", "= " + std::to_string(workspace_bytes) +
                                            ": the call needs " + std::to_string(need) +
                                            " (WorkspaceBytes)");
    }
    if (Overlaps(workspace, static_cast<int64_t>(need), input, in_bytes) ||
        Overlaps(workspace, static_cast<int64_t>(need), output, out_bytes)) {
      return Invalid("workspace", "overlaps the input or the output");
    }
  }
  if (plan.algorithm == Algorithm::kNaive) {
    RunNaive(plan, part, input, output);
  } else {
    RunPlan(plan, part, input, output, need > 0 ? AlignUp(workspace) : nullptr);
  }
  return Status();
}

Status Conv2d::Forward(const float* input, float* output, int threads) const {
  return impl_->Run(input, output, nullptr, 0, /*own_workspace=*/true, threads);
}

Status Conv2d::Forward(const float* input, float* output, void* workspace,
                       size_t workspace_bytes, int threads) const {
  return impl_->Run(input, output, workspace, workspace_bytes,
                    /*own_workspace=*/false, threads);
}

size_t Conv2d::WorkspaceBytes(int threads) const {
  const Partition part =
      MakePartition(impl_->plan, threads > 0 ? threads : impl_->threads);
  return WorkspaceBytesFor(impl_->plan, part.threads);
}

const Conv2dDesc& Conv2d::desc() const { return impl_->desc; }
const PlanInfo& Conv2d::info() const { return impl_->info; }

Status Conv2dForward(const Conv2dDesc& desc, const float* input,
                     const float* weights, const float* bias, float* output,
                     const Options& options) {
  Plan plan;
  Status s = MakePlan(desc, options, &plan);
  if (!s.ok()) return s;
  if (desc.batch == 0) return Status();
  if (input == nullptr) return Invalid("input", "is null");
  if (weights == nullptr) return Invalid("weights", "is null");
  if (output == nullptr) return Invalid("output", "is null");
  const TensorSizes sizes = Sizes(desc);
  const int64_t out_bytes = Bytes(sizes.output);
  if (Overlaps(output, out_bytes, input, Bytes(sizes.input))) {
    return Invalid("output", "overlaps the input");
  }
  if (Overlaps(output, out_bytes, weights, Bytes(sizes.weights))) {
    return Invalid("output", "overlaps the weights");
  }
  if (Overlaps(output, out_bytes, bias, Bytes(sizes.bias))) {
    return Invalid("output", "overlaps the bias");
  }
  std::unique_ptr<Conv2d> op;
  if (!(s = Conv2d::Create(desc, weights, bias, options, &op)).ok()) return s;
  return op->Forward(input, output);
}

Status QueryPlan(const Conv2dDesc& desc, const Options& options, PlanInfo* info) {
  if (info == nullptr) return Invalid("info", "is null");
  Plan plan;
  Status s = MakePlan(desc, options, &plan);
  if (!s.ok()) return s;
  *info = MakePlanInfo(plan, options.threads);
  return Status();
}

}  // namespace convkit
