// The public operator and one-shot call: plan (validate, choose the row and
// target) -> pack the parameters -> per call, partition and run. Everything
// that can fail is checked before the first write to the output.
#include <cstdint>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "convkit/convkit.h"
#include "lib/common/aligned.h"
#include "lib/common/checked.h"
#include "lib/common/overlap.h"
#include "lib/common/threads.h"
#include "lib/conv/plan.h"
#include "lib/pack/panels.h"

namespace convkit {
namespace {

// Forward keeps workspaces up to this size on its own stack instead of
// allocating them (small layers: the indirection of a few hundred rows).
constexpr size_t kStackWorkspace = 16 * 1024;

Status Invalid(const std::string& field, const std::string& why) {
  return Status(StatusCode::kInvalidArgument, field, "convkit: " + field + " " + why);
}

Status OutOfMemory(const std::string& what, size_t bytes) {
  return Status(StatusCode::kOutOfMemory, what,
                "convkit: could not allocate " + std::to_string(bytes) +
                    " bytes for the " + what);
}

int64_t Bytes(int64_t floats) { return floats * static_cast<int64_t>(sizeof(float)); }

Status CheckBias(const Conv2dDesc& desc, const float* bias) {
  if (desc.has_bias && bias == nullptr) return Invalid("bias", "is null but has_bias is true");
  if (!desc.has_bias && bias != nullptr) return Invalid("bias", "is given but has_bias is false");
  return Status();
}

}  // namespace

struct Conv2d::Impl {
  Conv2dDesc desc;
  Plan plan;
  int threads = 0;  // Options::threads
  PlanInfo info;
  AlignedFloats weights;
  AlignedFloats bias;

  // Packs the parameters for an already made plan.
  Status Init(const Conv2dDesc& d, const Plan& p, const float* w, const float* b,
              int options_threads);
  Status Run(const float* input, float* output, void* workspace,
             size_t workspace_bytes, bool own_workspace, int threads) const;
};

Status Conv2d::Impl::Init(const Conv2dDesc& d, const Plan& p, const float* w,
                          const float* b, int options_threads) {
  desc = d;
  plan = p;
  threads = options_threads;
  int64_t w_floats = 0, b_floats = 0;
  Status s = PackedSizes(plan, &w_floats, &b_floats);
  if (!s.ok()) return s;
  weights = AllocateFloats(static_cast<size_t>(w_floats));
  if (!weights) return OutOfMemory("packed weights", Bytes(w_floats));
  if (b_floats > 0) {
    bias = AllocateFloats(static_cast<size_t>(b_floats));
    if (!bias) return OutOfMemory("packed bias", Bytes(b_floats));
  }
  // The packers read HWIO: OIHW weights are converted first (once, here).
  AlignedFloats hwio;
  if (d.weights_layout == WeightsLayout::kOihw) {
    const int64_t count = Sizes(d).weights;
    hwio = AllocateFloats(static_cast<size_t>(count));
    if (!hwio) return OutOfMemory("weights converted from OIHW", Bytes(count));
    OihwToHwio(plan.geo, w, hwio.get());
    w = hwio.get();
  }
  PackParameters(plan, w, b, weights.get(), bias.get());
  const int64_t w_count = Sizes(d).weights;
  for (int64_t i = 0; i < w_count && !plan.nonfinite_weights; ++i) {
    plan.nonfinite_weights = !std::isfinite(w[i]);
  }
  plan.weights = weights.get();
  plan.bias = bias.get();
  info = MakePlanInfo(plan, threads);
  return Status();
}

Conv2d::Conv2d(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Conv2d::~Conv2d() = default;

Status Conv2d::Create(const Conv2dDesc& desc, const float* weights,
                      const float* bias, const Options& options,
                      std::unique_ptr<Conv2d>* op) {
  if (op == nullptr) return Invalid("op", "is null");
  Plan plan;
  Status s = MakePlan(desc, options, &plan);
  if (!s.ok()) return s;
  if (weights == nullptr) return Invalid("weights", "is null");
  if (!(s = CheckBias(desc, bias)).ok()) return s;
  std::unique_ptr<Impl> impl = NewNothrow<Impl>();
  if (!impl) return OutOfMemory("operator", sizeof(Impl));
  if (!(s = impl->Init(desc, plan, weights, bias, options.threads)).ok()) return s;
  // Conv2d's constructor is private: NewNothrow cannot reach it.
  std::unique_ptr<Conv2d> created(
      debug::FailNextAllocation() ? nullptr : new (std::nothrow) Conv2d(std::move(impl)));
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
  const FloatRuns in = InputRuns(g, input), out = OutputRuns(g, output);
  if (Overlaps(out, in)) return Invalid("output", "overlaps the input");
  const Partition part = MakePartition(plan, call_threads > 0 ? call_threads : threads);
  if (!(s = EnsureThreads(part.threads)).ok()) return s;
  const size_t need = WorkspaceBytesFor(plan, part.threads);
  alignas(64) char stack[kStackWorkspace];
  AlignedFloats owned;
  if (own_workspace) {
    // Guarded test runs take it from the heap, inside guard zones.
    if (need > sizeof(stack) || (need > 0 && debug::GuardedAllocations())) {
      owned = AllocateFloats(need / sizeof(float));
      if (!owned) return OutOfMemory("workspace", need);
      workspace = owned.get();
    } else {
      workspace = stack;
    }
  } else if (need > 0) {
    if (workspace == nullptr) return Invalid("workspace", "is null");
    if (workspace_bytes < need) {
      return Invalid("workspace_bytes", "= " + std::to_string(workspace_bytes) +
                                            ": the call needs " + std::to_string(need) +
                                            " (WorkspaceBytes)");
    }
    const FloatRuns ws = Dense(workspace, static_cast<int64_t>((need + 3) / 4));
    if (Overlaps(ws, in) || Overlaps(ws, out)) {
      return Invalid("workspace", "overlaps the input or the output");
    }
  }
  RunPlan(plan, part, input, output, need > 0 ? workspace : nullptr);
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
  if (!(s = CheckBias(desc, bias)).ok()) return s;
  const TensorSizes sizes = Sizes(desc);
  const FloatRuns out = OutputRuns(plan.geo, output);
  if (Overlaps(out, InputRuns(plan.geo, input))) return Invalid("output", "overlaps the input");
  if (Overlaps(out, Dense(weights, sizes.weights))) {
    return Invalid("output", "overlaps the weights");
  }
  if (Overlaps(out, Dense(bias, sizes.bias))) return Invalid("output", "overlaps the bias");
  // The operator, on the stack: Create + Forward without a second plan.
  Conv2d::Impl impl;
  if (!(s = impl.Init(desc, plan, weights, bias, options.threads)).ok()) return s;
  return impl.Run(input, output, nullptr, 0, /*own_workspace=*/true, options.threads);
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
