// oneDNN as a comparator: the only file that includes dnnl.hpp. Built only
// with -Donednn=enabled (or auto and found); never linked into libconvkit.
//
// forward_inference, f32, convolution_direct, twice: with NHWC src/dst (as
// convkit) and with oneDNN's preferred (blocked) layouts (format_tag::any).
// Weights are reordered to the primitive's layout in Prepare, and for the
// blocked variant the input too: only the primitive's execution is timed.
// Works with the oneDNN 2.x API (Debian's libdnnl-dev 2.6) and the 3.x API
// (PyPI's native onednn-cpu-gomp 3.2, see scripts/fetch-onednn.sh). Both run
// their CPU engine on OpenMP, as convkit does.
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"
#include "perf/impl.h"

#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#endif

namespace convkit {
namespace perf {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// The caller's activations: NCHW, or NHWC at a pixel stride (0 = dense).
memory::desc Activations(const memory::dims& dims, bool nchw, int64_t pixel_stride) {
  if (nchw || pixel_stride == 0 || pixel_stride == dims[1]) {
    return memory::desc(dims, dt::f32, nchw ? tag::nchw : tag::nhwc);
  }
  const int64_t h = dims[2], w = dims[3];
  return memory::desc(dims, dt::f32,
                      memory::dims{h * w * pixel_stride, 1, w * pixel_stride, pixel_stride});
}

const char* RuntimeName(int runtime) {
  switch (runtime) {
    case DNNL_RUNTIME_OMP:
      return "OpenMP";
    case DNNL_RUNTIME_TBB:
      return "TBB";
    case DNNL_RUNTIME_SEQ:
      return "sequential";
    case DNNL_RUNTIME_THREADPOOL:
      return "threadpool";
#ifdef DNNL_RUNTIME_SYCL
    case DNNL_RUNTIME_SYCL:
      return "SYCL";
#endif
    default:
      return "other";
  }
}

// Sets oneDNN's thread count through its threading runtime.
void SetThreads(int threads) {
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

class OnednnImpl : public Impl {
 public:
  explicit OnednnImpl(bool blocked) : blocked_(blocked) {}
  std::string name() const override { return blocked_ ? "onednn_blocked" : "onednn_nhwc"; }

  bool Prepare(const ShapeData& data, const RunConfig& config, std::string* why) override {
    try {
      SetThreads(config.threads);
      const Conv2dDesc& d = data.desc;
      int64_t oh, ow;
      const Status shape = OutputShape(d, &oh, &ow);
      if (!shape.ok()) {
        *why = shape.message();
        return false;
      }
      const int64_t g = d.groups;
      const memory::dims src_dims = {d.batch, d.in_channels, d.in_h, d.in_w};
      const memory::dims dst_dims = {d.batch, d.out_channels, oh, ow};
      const memory::dims wei_dims =
          g == 1 ? memory::dims{d.out_channels, d.in_channels, d.kernel_h, d.kernel_w}
                 : memory::dims{g, d.out_channels / g, d.in_channels / g, d.kernel_h,
                                d.kernel_w};
      // convkit's HWIO is oneDNN's hwio (groups: hwigo, o = g * Ng + j); its
      // OIHW is oihw (groups: goihw, the same memory).
      const bool nchw = d.layout == Layout::kNchw;
      const bool oihw = d.weights_layout == WeightsLayout::kOihw;
      const memory::desc user_src = Activations(src_dims, nchw, d.in_pixel_stride);
      const memory::desc user_dst = Activations(dst_dims, nchw, d.out_pixel_stride);
      const memory::desc user_wei(
          wei_dims, dt::f32,
          oihw ? (g == 1 ? tag::oihw : tag::goihw) : (g == 1 ? tag::hwio : tag::hwigo));
      const memory::desc bias_md({d.out_channels}, dt::f32, tag::x);
      const memory::desc any_wei(wei_dims, dt::f32, tag::any);
      const memory::desc src_md = blocked_ ? memory::desc(src_dims, dt::f32, tag::any) : user_src;
      const memory::desc dst_md = blocked_ ? memory::desc(dst_dims, dt::f32, tag::any) : user_dst;
      const memory::dims strides = {d.stride_h, d.stride_w};
      const memory::dims dilates = {d.dilation_h - 1, d.dilation_w - 1};  // from 0
      const memory::dims pad_l = {d.pad_top, d.pad_left};
      const memory::dims pad_r = {d.pad_bottom, d.pad_right};
      const memory::desc no_bias;
      // Post-ops as convkit orders them: sum, then ReLU or clip.
      dnnl::post_ops ops;
      if (d.has_sum) ops.append_sum(d.sum_scale);
      const float inf = std::numeric_limits<float>::infinity();
      if (d.output_min > -inf || d.output_max < inf) {
        const bool relu = d.output_min == 0.0f && d.output_max == inf;
        const dnnl::algorithm alg =
            relu ? dnnl::algorithm::eltwise_relu : dnnl::algorithm::eltwise_clip;
#if DNNL_VERSION_MAJOR >= 3
        ops.append_eltwise(alg, relu ? 0.0f : d.output_min, relu ? 0.0f : d.output_max);
#else
        ops.append_eltwise(1.0f, alg, relu ? 0.0f : d.output_min, relu ? 0.0f : d.output_max);
#endif
      }
      dnnl::primitive_attr attr;
      attr.set_post_ops(ops);
#if DNNL_VERSION_MAJOR >= 3
      pd_ = dnnl::convolution_forward::primitive_desc(
          Engine(), dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
          src_md, any_wei, d.has_bias ? bias_md : no_bias, dst_md, strides, dilates, pad_l,
          pad_r, attr);
#else
      const dnnl::convolution_forward::desc desc =
          d.has_bias ? dnnl::convolution_forward::desc(
                           dnnl::prop_kind::forward_inference,
                           dnnl::algorithm::convolution_direct, src_md, any_wei, bias_md,
                           dst_md, strides, dilates, pad_l, pad_r)
                     : dnnl::convolution_forward::desc(
                           dnnl::prop_kind::forward_inference,
                           dnnl::algorithm::convolution_direct, src_md, any_wei, dst_md,
                           strides, dilates, pad_l, pad_r);
      pd_ = dnnl::convolution_forward::primitive_desc(desc, attr, Engine());
#endif
      conv_ = dnnl::convolution_forward(pd_);
      dnnl::stream stream(Engine());
      // Untimed: weights (and, blocked, the input) into the primitive's layouts.
      memory user_wei_mem(user_wei, Engine(), const_cast<float*>(data.weights.data()));
      wei_ = memory(pd_.weights_desc(), Engine());
      dnnl::reorder(user_wei_mem, wei_).execute(stream, user_wei_mem, wei_);
      memory user_src_mem(user_src, Engine(), const_cast<float*>(data.input.data()));
      if (pd_.src_desc() == user_src) {
        src_ = user_src_mem;
      } else {
        src_ = memory(pd_.src_desc(), Engine());
        dnnl::reorder(user_src_mem, src_).execute(stream, user_src_mem, src_);
      }
      if (d.has_bias) {
        bias_ = memory(bias_md, Engine(), const_cast<float*>(data.bias.data()));
      }
      dst_ = memory(pd_.dst_desc(), Engine());
      if (d.has_sum) {  // the sum post-op reads dst: start from the shared prev
        memory user_prev(user_dst, Engine(), const_cast<float*>(data.prev.data()));
        dnnl::reorder(user_prev, dst_).execute(stream, user_prev, dst_);
      }
      user_dst_ = user_dst;
      result_floats_ = Sizes(d).output;
      stream.wait();
      stream_ = std::make_unique<dnnl::stream>(Engine());
      has_bias_ = d.has_bias;
      return true;
    } catch (const dnnl::error& e) {
      *why = std::string("oneDNN: ") + e.what();
      return false;
    }
  }

  void Run() override {
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, wei_}, {DNNL_ARG_DST, dst_}};
    if (has_bias_) args[DNNL_ARG_BIAS] = bias_;
    conv_.execute(*stream_, args);
    stream_->wait();
  }

  void Output(std::vector<float>* nhwc) override {
    const size_t count = user_dst_.get_size() / sizeof(float);
    nhwc->assign(count, 0.0f);
    memory out(user_dst_, Engine(), nhwc->data());
    dnnl::reorder(dst_, out).execute(*stream_, dst_, out);
    stream_->wait();
    // A strided desc's size runs to batch x its stride: keep convkit's span.
    nhwc->resize(static_cast<size_t>(result_floats_));
  }

  std::string detail() const override { return pd_ ? pd_.impl_info_str() : ""; }

 private:
  bool blocked_;
  bool has_bias_ = false;
  dnnl::convolution_forward::primitive_desc pd_;
  dnnl::convolution_forward conv_;
  memory src_, wei_, bias_, dst_;
  memory::desc user_dst_;
  int64_t result_floats_ = 0;
  std::unique_ptr<dnnl::stream> stream_;
};

// The backward passes (--pass bwd_data / bwd_weights): oneDNN's
// convolution_backward_data / _weights primitives, created from a
// forward_training hint, on the user's layouts (onednn_nhwc: NHWC or NCHW
// as the shape says) or on oneDNN's preferred ones (onednn_blocked). Inputs
// are reordered to the primitive's layouts in Prepare (untimed), results
// back in Output. oneDNN 3 API only.
class OnednnBackwardImpl : public Impl {
 public:
  OnednnBackwardImpl(bool blocked, Pass pass) : blocked_(blocked), pass_(pass) {}
  std::string name() const override { return blocked_ ? "onednn_blocked" : "onednn_nhwc"; }

  bool Prepare(const ShapeData& data, const RunConfig& config, std::string* why) override {
#if DNNL_VERSION_MAJOR >= 3
    try {
      SetThreads(config.threads);
      const Conv2dDesc& d = data.desc;
      int64_t oh, ow;
      const Status shape = OutputShape(d, &oh, &ow);
      if (!shape.ok()) {
        *why = shape.message();
        return false;
      }
      const int64_t g = d.groups;
      const memory::dims src_dims = {d.batch, d.in_channels, d.in_h, d.in_w};
      const memory::dims dst_dims = {d.batch, d.out_channels, oh, ow};
      const memory::dims wei_dims =
          g == 1 ? memory::dims{d.out_channels, d.in_channels, d.kernel_h, d.kernel_w}
                 : memory::dims{g, d.out_channels / g, d.in_channels / g, d.kernel_h,
                                d.kernel_w};
      const bool nchw = d.layout == Layout::kNchw;
      const bool oihw = d.weights_layout == WeightsLayout::kOihw;
      const memory::desc user_src = Activations(src_dims, nchw, d.in_pixel_stride);
      const memory::desc user_dst = Activations(dst_dims, nchw, d.out_pixel_stride);
      const memory::desc user_wei(
          wei_dims, dt::f32,
          oihw ? (g == 1 ? tag::oihw : tag::goihw) : (g == 1 ? tag::hwio : tag::hwigo));
      const memory::desc src_md = blocked_ ? memory::desc(src_dims, dt::f32, tag::any) : user_src;
      const memory::desc dst_md = blocked_ ? memory::desc(dst_dims, dt::f32, tag::any) : user_dst;
      const memory::desc wei_md(wei_dims, dt::f32, tag::any);
      const memory::desc bias_md({d.out_channels}, dt::f32, tag::x);
      const memory::dims strides = {d.stride_h, d.stride_w};
      const memory::dims dilates = {d.dilation_h - 1, d.dilation_w - 1};
      const memory::dims pad_l = {d.pad_top, d.pad_left}, pad_r = {d.pad_bottom, d.pad_right};
      const dnnl::convolution_forward::primitive_desc hint(
          Engine(), dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
          src_md, wei_md, d.has_bias ? bias_md : memory::desc(), dst_md, strides, dilates,
          pad_l, pad_r);
      dnnl::stream stream(Engine());
      auto import = [&](const memory::desc& user, const memory::desc& want, const float* p) {
        memory u(user, Engine(), const_cast<float*>(p));
        if (want == user) return u;
        memory m(want, Engine());
        dnnl::reorder(u, m).execute(stream, u, m);
        return m;
      };
      if (pass_ == Pass::kBwdData) {
        data_pd_ = dnnl::convolution_backward_data::primitive_desc(
            Engine(), dnnl::algorithm::convolution_direct, src_md, wei_md, dst_md, strides,
            dilates, pad_l, pad_r, hint);
        prim_ = dnnl::convolution_backward_data(data_pd_);
        args_[DNNL_ARG_DIFF_DST] = import(user_dst, data_pd_.diff_dst_desc(), data.dy.data());
        args_[DNNL_ARG_WEIGHTS] = import(user_wei, data_pd_.weights_desc(), data.weights.data());
        args_[DNNL_ARG_DIFF_SRC] = memory(data_pd_.diff_src_desc(), Engine());
        result_ = args_[DNNL_ARG_DIFF_SRC];
        user_result_ = user_src;
        result_floats_ = Sizes(d).input;
        detail_ = data_pd_.impl_info_str();
      } else {
        weights_pd_ = dnnl::convolution_backward_weights::primitive_desc(
            Engine(), dnnl::algorithm::convolution_direct, src_md, wei_md,
            d.has_bias ? bias_md : memory::desc(), dst_md, strides, dilates, pad_l, pad_r,
            hint);
        prim_ = dnnl::convolution_backward_weights(weights_pd_);
        args_[DNNL_ARG_SRC] = import(user_src, weights_pd_.src_desc(), data.input.data());
        args_[DNNL_ARG_DIFF_DST] = import(user_dst, weights_pd_.diff_dst_desc(), data.dy.data());
        args_[DNNL_ARG_DIFF_WEIGHTS] = memory(weights_pd_.diff_weights_desc(), Engine());
        if (d.has_bias) args_[DNNL_ARG_DIFF_BIAS] = memory(bias_md, Engine());
        result_ = args_[DNNL_ARG_DIFF_WEIGHTS];
        user_result_ = user_wei;
        result_floats_ = Sizes(d).weights;
        detail_ = weights_pd_.impl_info_str();
      }
      stream.wait();
      stream_ = std::make_unique<dnnl::stream>(Engine());
      return true;
    } catch (const dnnl::error& e) {
      *why = std::string("oneDNN: ") + e.what();
      return false;
    }
#else
    (void)data;
    (void)config;
    *why = "the backward passes are timed with the oneDNN 3 API only";
    return false;
#endif
  }

  void Run() override {
    prim_.execute(*stream_, args_);
    stream_->wait();
  }

  void Output(std::vector<float>* out) override {
    const size_t count = user_result_.get_size() / sizeof(float);
    out->assign(count, 0.0f);
    memory m(user_result_, Engine(), out->data());
    dnnl::reorder(result_, m).execute(*stream_, result_, m);
    stream_->wait();
    out->resize(static_cast<size_t>(result_floats_));
  }

  std::string detail() const override { return detail_; }

 private:
  bool blocked_;
  Pass pass_;
  dnnl::convolution_backward_data::primitive_desc data_pd_;
  dnnl::convolution_backward_weights::primitive_desc weights_pd_;
  dnnl::primitive prim_;
  std::unordered_map<int, memory> args_;
  memory result_;
  memory::desc user_result_;
  int64_t result_floats_ = 0;
  std::string detail_;
  std::unique_ptr<dnnl::stream> stream_;
};

}  // namespace

std::unique_ptr<Impl> MakeOnednn(bool blocked, Pass pass) {
  if (pass != Pass::kFwd) return std::make_unique<OnednnBackwardImpl>(blocked, pass);
  return std::make_unique<OnednnImpl>(blocked);
}

std::string OnednnVersion() {
  const dnnl_version_t* v = dnnl_version();
  std::string s = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) +
                  "." + std::to_string(v->patch) + " (" + CONVKIT_ONEDNN_SOURCE +
                  ", CPU runtime " + RuntimeName(static_cast<int>(v->cpu_runtime)) + ")";
  return s;
}

std::string OnednnLimitIsa(const std::string& target) {
  using isa = dnnl::cpu_isa;
  isa limit = isa::avx512_core;
  bool limited = true;
  std::string note;
  if (target == "AVX3" || target == "AVX3_DL") {
    limit = isa::avx512_core;
  } else if (target == "AVX2") {
    limit = isa::avx2;
  } else if (target == "SSE4") {
    limit = isa::sse41;
  } else if (target == "SSSE3" || target == "SCALAR" || target == "EMU128") {
    limit = isa::sse41;
    note = "oneDNN has no " + target + " level; limited to SSE4.1, its lowest";
  } else {
    limited = false;
    if (!target.empty()) note = "no oneDNN ISA matches " + target + "; oneDNN unrestricted";
  }
  if (limited) {
    try {
      dnnl::set_max_cpu_isa(limit);
    } catch (const dnnl::error& e) {
      note = std::string("oneDNN ISA limit failed: ") + e.what();
    }
  }
  return note;
}

}  // namespace perf
}  // namespace convkit
