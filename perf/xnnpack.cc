// XNNPACK as a comparator: the only file that includes xnnpack.h. Built only
// with -Dxnnpack=enabled (or auto and found); never linked into libconvkit.
//
// Its NHWC f32 convolution operator (--pass fwd), or its deconvolution
// operator, the transposed convolution, which is the backward-data pass
// (--pass bwd_data; XNNPACK has no backward-weights pass): created once
// (weights packed), then setup + run timed, on a pthreadpool of the same
// thread count. XNNPACK picks its kernels once, in xnn_initialize, from
// cpuinfo's ISA flags; with cpuinfo.h at build time (Debian:
// libcpuinfo-dev), XnnpackLimitIsa clears the flags above --target first,
// so that XNNPACK runs the kernels of that level as oneDNN and convkit do.
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "perf/impl.h"
#include "pthreadpool.h"
#include "xnnpack.h"
#if CONVKIT_XNNPACK_CPUINFO
#include "cpuinfo.h"
#endif

namespace convkit {
namespace perf {
namespace {

bool initialized = false;

bool Initialize() {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  initialized = true;
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
    if (config.pass == Pass::kBwdWeights) {
      *why = "no backward-weights pass in XNNPACK";
      return false;
    }
    if (config.pass == Pass::kBwdData) return PrepareDeconvolution(data, config, why);
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
        static_cast<size_t>(d.in_pixel_stride != 0 ? d.in_pixel_stride : d.in_channels),
        static_cast<size_t>(d.out_pixel_stride != 0 ? d.out_pixel_stride : d.out_channels),
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
    if (deconvolution_) {
      xnn_setup_deconvolution2d_nhwc_f32(op_, static_cast<size_t>(d.batch), out_h_, out_w_,
                                         adjust_h_, adjust_w_, data_->dy.data(),
                                         output_.data(), pool_);
    } else {
      xnn_setup_convolution2d_nhwc_f32(op_, static_cast<size_t>(d.batch),
                                       static_cast<size_t>(d.in_h), static_cast<size_t>(d.in_w),
                                       data_->input.data(), output_.data(), pool_);
    }
    xnn_run_operator(op_, pool_);
  }

  void Output(std::vector<float>* nhwc) override { nhwc->assign(output_.begin(), output_.end()); }

  std::string detail() const override {
    return deconvolution_ ? "deconvolution2d_nhwc_f32" : "convolution2d_nhwc_f32";
  }

 private:
  void Release() {
    deconvolution_ = false;
    if (op_ != nullptr) xnn_delete_operator(op_);
    if (pool_ != nullptr) pthreadpool_destroy(pool_);
    op_ = nullptr;
    pool_ = nullptr;
  }

  // dx = conv_transpose(dy): XNNPACK's deconvolution with the convolution's
  // padding, its input dy (OH x OW x Cout), its output dx (H x W x Cin), and
  // the rows and columns the convolution's floor left over as adjustment.
  bool PrepareDeconvolution(const ShapeData& data, const RunConfig& config,
                            std::string* why) {
    const Conv2dDesc& d = data.desc;
    if (d.layout != Layout::kNhwc || d.weights_layout != WeightsLayout::kHwio) {
      *why = "timed here in NHWC/HWIO only";
      return false;
    }
    int64_t oh = 0, ow = 0;
    if (!OutputShape(d, &oh, &ow).ok()) {
      *why = "invalid shape";
      return false;
    }
    const int64_t adjust_h = d.in_h - ((oh - 1) * d.stride_h + (d.kernel_h - 1) * d.dilation_h +
                                       1 - d.pad_top - d.pad_bottom);
    const int64_t adjust_w = d.in_w - ((ow - 1) * d.stride_w + (d.kernel_w - 1) * d.dilation_w +
                                       1 - d.pad_left - d.pad_right);
    if (adjust_h >= d.stride_h || adjust_w >= d.stride_w) {
      *why = "needs an adjustment >= stride (input rows no output reads)";
      return false;
    }
    const int64_t g = d.groups, cg = d.in_channels / g, ng = d.out_channels / g;
    // XNNPACK's deconvolution kernel is [groups][group_output_channels = Cg]
    // [KH][KW][group_input_channels = Ng]; convkit's HWIO is [KH][KW][Cg][Cout].
    std::vector<float> kernel(data.weights.size());
    for (int64_t gi = 0; gi < g; ++gi)
      for (int64_t ci = 0; ci < cg; ++ci)
        for (int64_t kh = 0; kh < d.kernel_h; ++kh)
          for (int64_t kw = 0; kw < d.kernel_w; ++kw)
            for (int64_t j = 0; j < ng; ++j)
              kernel[(((gi * cg + ci) * d.kernel_h + kh) * d.kernel_w + kw) * ng + j] =
                  data.weights[((kh * d.kernel_w + kw) * cg + ci) * d.out_channels + gi * ng + j];
    const float inf = std::numeric_limits<float>::infinity();
    const xnn_status s = xnn_create_deconvolution2d_nhwc_f32(
        static_cast<uint32_t>(d.pad_top), static_cast<uint32_t>(d.pad_right),
        static_cast<uint32_t>(d.pad_bottom), static_cast<uint32_t>(d.pad_left),
        static_cast<uint32_t>(d.kernel_h), static_cast<uint32_t>(d.kernel_w),
        static_cast<uint32_t>(d.stride_h), static_cast<uint32_t>(d.stride_w),
        static_cast<uint32_t>(d.dilation_h), static_cast<uint32_t>(d.dilation_w),
        static_cast<uint32_t>(g), static_cast<size_t>(ng), static_cast<size_t>(cg),
        static_cast<size_t>(d.out_pixel_stride != 0 ? d.out_pixel_stride : d.out_channels),
        static_cast<size_t>(d.in_pixel_stride != 0 ? d.in_pixel_stride : d.in_channels),
        kernel.data(), nullptr, -inf, inf, 0, &op_);
    if (s != xnn_status_success) {
      *why = "xnn_create_deconvolution2d_nhwc_f32 returned status " + std::to_string(s);
      op_ = nullptr;
      return false;
    }
    deconvolution_ = true;
    out_h_ = static_cast<size_t>(oh);
    out_w_ = static_cast<size_t>(ow);
    adjust_h_ = static_cast<uint32_t>(adjust_h);
    adjust_w_ = static_cast<uint32_t>(adjust_w);
    pool_ = pthreadpool_create(static_cast<size_t>(config.threads));
    output_.assign(static_cast<size_t>(Sizes(d).input), 0.0f);
    return true;
  }

  const ShapeData* data_ = nullptr;
  bool deconvolution_ = false;
  size_t out_h_ = 0, out_w_ = 0;
  uint32_t adjust_h_ = 0, adjust_w_ = 0;
  xnn_operator_t op_ = nullptr;
  pthreadpool_t pool_ = nullptr;
  Floats output_;
};

}  // namespace

std::unique_ptr<Impl> MakeXnnpack() { return std::make_unique<XnnpackImpl>(); }

std::string XnnpackLimitIsa(const std::string& target) {
  if (target.empty()) return "";
  // Levels below the target's lose their flags: 0 keeps everything (AVX3
  // and its variants: XNNPACK's f32 kernels stop at AVX-512F), 1 drops
  // AVX-512 (AVX2: XNNPACK's FMA3 kernels), 2 AVX and FMA too (SSE4), 3
  // SSE4.1/4.2 (SSSE3), 4 SSE3/SSSE3 (XNNPACK's SSE2 baseline).
  int drop = -1;
  if (target.rfind("AVX3", 0) == 0) drop = 0;
  if (target == "AVX2") drop = 1;
  if (target == "SSE4") drop = 2;
  if (target == "SSSE3") drop = 3;
  if (target == "SSE2" || target == "SCALAR" || target == "EMU128") drop = 4;
  if (drop < 0) return "no XNNPACK ISA level matches " + target + "; XNNPACK unrestricted";
  if (drop == 0) return "";
#if CONVKIT_XNNPACK_CPUINFO && (defined(__x86_64__) || defined(__i386__))
  if (initialized) return "XNNPACK already initialized: --target does not restrict it";
  if (!cpuinfo_initialize()) return "cpuinfo_initialize failed: XNNPACK unrestricted";
  // The library's own detection ran once above; xnn_initialize (on the
  // first XNNPACK shape) reads these flags and finds it done.
  cpuinfo_x86_isa& isa = cpuinfo_isa;
  isa.avx512f = isa.avx512pf = isa.avx512er = isa.avx512cd = isa.avx512dq = false;
  isa.avx512bw = isa.avx512vl = isa.avx512ifma = isa.avx512vbmi = isa.avx512vbmi2 = false;
  isa.avx512bitalg = isa.avx512vpopcntdq = isa.avx512vnni = isa.avx512bf16 = false;
  isa.avx512vp2intersect = isa.avx512_4vnniw = isa.avx512_4fmaps = false;
  if (drop >= 2) isa.avx = isa.avx2 = isa.fma3 = isa.fma4 = isa.xop = isa.f16c = false;
  if (drop >= 3) isa.sse4_1 = isa.sse4_2 = isa.sse4a = false;
  if (drop >= 4) isa.sse3 = isa.ssse3 = false;
  static const char* const kLevel[] = {"", "AVX2 (FMA3)", "SSE4.1", "SSSE3", "SSE2"};
  return drop == 4 && target != "SSE2"
             ? "XNNPACK has no " + target + " level on x86-64; limited to SSE2, its lowest"
             : std::string("XNNPACK limited to ") + kLevel[drop] +
                   " (cpuinfo's flags above it cleared)";
#else
  return "XNNPACK built without cpuinfo.h (libcpuinfo-dev): --target does not restrict it";
#endif
}

std::string XnnpackVersion() { return std::string("XNNPACK ") + CONVKIT_XNNPACK_SOURCE; }

}  // namespace perf
}  // namespace convkit
