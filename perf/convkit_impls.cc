// convkit itself, per algorithm, and the naive loop, as timed implementations.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "perf/impl.h"

namespace convkit {
namespace perf {
namespace {

class ConvkitImpl : public Impl {
 public:
  ConvkitImpl(Algorithm algorithm, std::string name, bool oneshot = false)
      : algorithm_(algorithm), name_(std::move(name)), oneshot_(oneshot) {}

  std::string name() const override { return name_; }

  bool Prepare(const ShapeData& data, const RunConfig& config, std::string* why) override {
    data_ = &data;
    pass_ = config.pass;
    if (pass_ != Pass::kFwd) {
      if (algorithm_ != Algorithm::kAuto) {
        *why = "the backward passes have one algorithm (convkit)";
        return false;
      }
      options_ = Options();
      options_.max_target = config.target;
      const TensorSizes sz = Sizes(data.desc);
      output_.assign(static_cast<size_t>(pass_ == Pass::kBwdData ? sz.input : sz.weights), 0.0f);
      dbias_.assign(static_cast<size_t>(sz.bias), 0.0f);
      workspace_.clear();
      op_.reset();
      data_op_.reset();
      if (pass_ == Pass::kBwdData && !oneshot_) {
        // As oneDNN's row: the weights prepared (transposed and packed)
        // untimed, as once per training step; the one-shot call, which
        // packs them every time, is the convkit:oneshot row (--algos).
        const Status s = Conv2dBackwardDataOp::Create(data.desc, data.weights.data(), options_,
                                                      &data_op_);
        if (!s.ok()) {
          *why = s.message();
          return false;
        }
        workspace_.assign(data_op_->WorkspaceBytes(), 0);
      }
      return true;
    }
    Options options;
    options.algorithm = algorithm_;
    options.max_target = config.target;
    // Automatic thread count under OpenMP's maximum (set to --threads by
    // main), as oneDNN does: fewer threads for small layers.
    options.threads = 0;
    op_.reset();
    const Status s = Conv2d::Create(data.desc, data.weights.data(), data.bias_or_null(),
                                    options, &op_);
    if (!s.ok()) {
      *why = s.message();
      return false;
    }
    // The caller-provided workspace: no allocation inside the timed call.
    workspace_.assign(op_->WorkspaceBytes(), 0);
    if (data.desc.has_sum) {
      output_.assign(data.prev.begin(), data.prev.end());
    } else {
      output_.assign(static_cast<size_t>(Sizes(data.desc).output), 0.0f);
    }
    return true;
  }

  void Run() override {
    // Prepare validated everything these check: a failure here is a bug.
    Status s;
    if (pass_ == Pass::kBwdData && data_op_) {
      s = data_op_->Run(data_->dy.data(), output_.data(), workspace_.data(), workspace_.size());
    } else if (pass_ == Pass::kBwdData) {
      s = Conv2dBackwardData(data_->desc, data_->dy.data(), data_->weights.data(),
                             output_.data(), options_);
    } else if (pass_ == Pass::kBwdWeights) {
      s = Conv2dBackwardWeights(data_->desc, data_->input.data(), data_->dy.data(),
                                output_.data(), data_->desc.has_bias ? dbias_.data() : nullptr,
                                options_);
    } else {
      s = op_->Forward(data_->input.data(), output_.data(), workspace_.data(), workspace_.size());
    }
    if (!s.ok()) {
      std::fprintf(stderr, "convkit-perf: %s: %s\n", name_.c_str(), s.message().c_str());
      std::abort();
    }
  }

  void Output(std::vector<float>* nhwc) override { nhwc->assign(output_.begin(), output_.end()); }
  std::string detail() const override {
    if (pass_ == Pass::kBwdData) {
      return std::string("bwd_data ") + (oneshot_ ? "one-shot (packs per call)" : "prepared op");
    }
    if (pass_ != Pass::kFwd) return std::string(PassName(pass_)) + " packed GEMM";
    return op_ ? op_->info().algorithm + " " + op_->info().kernel : "";
  }
  std::string target() const override { return op_ ? op_->info().target : ""; }
  size_t workspace_bytes() const override { return workspace_.size(); }

 private:
  Algorithm algorithm_;
  std::string name_;
  bool oneshot_ = false;
  std::unique_ptr<Conv2dBackwardDataOp> data_op_;
  Pass pass_ = Pass::kFwd;
  Options options_;
  Floats dbias_;
  const ShapeData* data_ = nullptr;
  std::unique_ptr<Conv2d> op_;
  std::vector<char, AlignedAllocator<char>> workspace_;
  Floats output_;
};

}  // namespace

const char* PassName(Pass pass) {
  switch (pass) {
    case Pass::kBwdData:
      return "bwd_data";
    case Pass::kBwdWeights:
      return "bwd_weights";
    default:
      return "fwd";
  }
}

std::unique_ptr<Impl> MakeConvkit(Algorithm algorithm) {
  const std::string name = algorithm == Algorithm::kAuto
                               ? "convkit"
                               : std::string("convkit:") + AlgorithmName(algorithm);
  return std::make_unique<ConvkitImpl>(algorithm, name);
}

std::unique_ptr<Impl> MakeConvkitOneShot() {
  return std::make_unique<ConvkitImpl>(Algorithm::kAuto, "convkit:oneshot", true);
}

std::unique_ptr<Impl> MakeNaive() {
  return std::make_unique<ConvkitImpl>(Algorithm::kNaive, "naive");
}

}  // namespace perf
}  // namespace convkit
