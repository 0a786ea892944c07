// XNNPACK as a comparator: the only file that includes xnnpack.h. Built only
// with -Dxnnpack=enabled (or auto and found); never linked into libconvkit.
//
// Its NHWC f32 convolution operator, created once (weights packed), then
// setup + run timed, on a pthreadpool of the same thread count. XNNPACK
// picks its kernels with cpuinfo and has no ISA limit, so --target does not
// restrict it.
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "perf/impl.h"
#include "pthreadpool.h"
#include "xnnpack.h"

namespace convkit {
namespace perf {
namespace {

bool Initialize() {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  return ok;
}

class XnnpackImpl : public Impl {
 public:
  ~XnnpackImpl() override { Release(); }
  std::string name() const override { return "xnnpack"; }

  bool Prepare(const ShapeData& data, const RunConfig& config, std::string* why) override {
    Release();
    if (!Initialize()) {
      *why = "xnn_initialize failed";
      return false;
    }
    const Conv2dDesc& d = data.desc;
    data_ = &data;
    if (config.pass != Pass::kFwd) {
      *why = "no backward passes in XNNPACK";
      return false;
    }
    if (d.has_sum) {
      *why = "XNNPACK's convolution has no sum post-op";
      return false;
    }
    if (d.layout != Layout::kNhwc || d.weights_layout != WeightsLayout::kHwio) {
      *why = "timed here in NHWC/HWIO only";
      return false;
    }
    const int64_t g = d.groups, cg = d.in_channels / g, ng = d.out_channels / g;
    // XNNPACK's kernel is [groups][group_output_channels][KH][KW][group_input_channels];
    // convkit's HWIO is [KH][KW][Cg][Cout] with o = g * Ng + j.
    std::vector<float> kernel(data.weights.size());
    for (int64_t gi = 0; gi < g; ++gi)
      for (int64_t j = 0; j < ng; ++j)
        for (int64_t kh = 0; kh < d.kernel_h; ++kh)
          for (int64_t kw = 0; kw < d.kernel_w; ++kw)
            for (int64_t ci = 0; ci < cg; ++ci)
              kernel[(((gi * ng + j) * d.kernel_h + kh) * d.kernel_w + kw) * cg + ci] =
                  data.weights[((kh * d.kernel_w + kw) * cg + ci) * d.out_channels +
                               gi * ng + j];
    const xnn_status s = xnn_create_convolution2d_nhwc_f32(
        static_cast<uint32_t>(d.pad_top), static_cast<uint32_t>(d.pad_right),
        static_cast<uint32_t>(d.pad_bottom), static_cast<uint32_t>(d.pad_left),
        static_cast<uint32_t>(d.kernel_h), static_cast<uint32_t>(d.kernel_w),
        static_cast<uint32_t>(d.stride_h), static_cast<uint32_t>(d.stride_w),
        static_cast<uint32_t>(d.dilation_h), static_cast<uint32_t>(d.dilation_w),
        static_cast<uint32_t>(g), static_cast<size_t>(cg), static_cast<size_t>(ng),
        static_cast<size_t>(d.in_channels), static_cast<size_t>(d.out_channels),
        kernel.data(), data.bias_or_null(), d.output_min, d.output_max, 0, &op_);
    if (s != xnn_status_success) {
      *why = "xnn_create_convolution2d_nhwc_f32 returned status " + std::to_string(s);
      op_ = nullptr;
      return false;
    }
    pool_ = pthreadpool_create(static_cast<size_t>(config.threads));
    output_.assign(static_cast<size_t>(Sizes(d).output), 0.0f);
    return true;
  }

  void Run() override {
    const Conv2dDesc& d = data_->desc;
    xnn_setup_convolution2d_nhwc_f32(op_, static_cast<size_t>(d.batch),
                                     static_cast<size_t>(d.in_h), static_cast<size_t>(d.in_w),
                                     data_->input.data(), output_.data(), pool_);
    xnn_run_operator(op_, pool_);
  }

  void Output(std::vector<float>* nhwc) override { nhwc->assign(output_.begin(), output_.end()); }

 private:
  void Release() {
    if (op_ != nullptr) xnn_delete_operator(op_);
    if (pool_ != nullptr) pthreadpool_destroy(pool_);
    op_ = nullptr;
    pool_ = nullptr;
  }

  const ShapeData* data_ = nullptr;
  xnn_operator_t op_ = nullptr;
  pthreadpool_t pool_ = nullptr;
  Floats output_;
};

}  // namespace

std::unique_ptr<Impl> MakeXnnpack() { return std::make_unique<XnnpackImpl>(); }

std::string XnnpackVersion() { return std::string("XNNPACK ") + CONVKIT_XNNPACK_SOURCE; }

}  // namespace perf
}  // namespace convkit
