// The public backward passes and the transposed convolution: validate,
// convert OIHW weights, run the per-target GEMMs of backward.h. Everything
// that can fail is checked before the first write to an output.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "convkit/convkit.h"
#include "lib/common/aligned.h"
#include "lib/common/checked.h"
#include "lib/common/geometry.h"
#include "lib/common/overlap.h"
#include "lib/common/threads.h"
#include "lib/conv/backward.h"
#include "lib/conv/plan.h"
#include "lib/dispatch/targets.h"
#include "lib/pack/panels.h"

namespace convkit {
namespace {

Status Invalid(const std::string& field, const std::string& why) {
  return Status(StatusCode::kInvalidArgument, field, "convkit: " + field + " " + why);
}

// What every backward call checks first: the descriptor, the options, no
// post-ops; returns the target.
Status CheckBackward(const Conv2dDesc& desc, const Options& options, int64_t* target) {
  Status s = Validate(desc);
  if (!s.ok()) return s;
  if (!(s = CheckThreads(options.threads)).ok()) return s;
  if (options.algorithm != Algorithm::kAuto) {
    return Status(StatusCode::kUnsupported, "algorithm",
                  "convkit: algorithm: the backward passes have one algorithm; use kAuto");
  }
  if (desc.has_sum) {
    return Status(StatusCode::kUnsupported, "has_sum",
                  "convkit: has_sum: post-ops have no backward pass here (apply their "
                  "derivative to dy first)");
  }
  if (desc.output_min > -std::numeric_limits<float>::infinity()) {
    return Status(StatusCode::kUnsupported, "output_min",
                  "convkit: output_min: post-ops have no backward pass here (apply their "
                  "derivative to dy first)");
  }
  if (desc.output_max < std::numeric_limits<float>::infinity()) {
    return Status(StatusCode::kUnsupported, "output_max",
                  "convkit: output_max: post-ops have no backward pass here (apply their "
                  "derivative to dy first)");
  }
  return dispatch::SelectTarget(options.max_target, target);
}

// With stride 1, dx is the forward convolution of dy with the kernel
// flipped and its channel axes swapped, padded by (K - 1) * d - pad on each
// side:
//   dx[ih][iw][ci] = sum over kh, kw, o of dy[ih + p - kh*d][iw + ...][o] w[kh][kw][ci][o]
//                  = conv(dy, w')[ih][iw][ci], w'[K-1-kh][K-1-kw][o][ci] = w[kh][kw][ci][o]
// so it can run through the forward engine (its plan, kernels and
// partition: bit-identical for every thread count as well). Taken for
// depthwise layers, where the GEMM below has N = 1 and the forward's
// depthwise kernel is 60-100x faster (MobileNetV2's 3x3 layers at 1
// thread: 29.7 -> 0.29 ms at 112x112x32). Not for dense layers: there the
// forward needs its weights transposed and packed again per call, which
// measured 0.2-0.6x the indirect GEMM on ResNet-50's 7x7 and 14x14 layers
// (MBs of weights, few pixels) and 1.0-1.16x only at 56x56. Nor when a pad
// exceeds the dilated kernel's span (the forward would need a negative pad).
bool ForwardDescForData(const Conv2dDesc& d, bool has_bias, Conv2dDesc* f) {
  if (d.stride_h != 1 || d.stride_w != 1) return false;
  if (d.groups != d.in_channels || d.groups != d.out_channels) return false;
  const int64_t span_h = (d.kernel_h - 1) * d.dilation_h;  // validated: no overflow
  const int64_t span_w = (d.kernel_w - 1) * d.dilation_w;
  if (d.pad_top > span_h || d.pad_bottom > span_h || d.pad_left > span_w ||
      d.pad_right > span_w) {
    return false;
  }
  const ConvGeometry g = MakeGeometry(d);
  Conv2dDesc c = d;
  c.in_h = g.oh;
  c.in_w = g.ow;
  c.in_channels = d.out_channels;
  c.out_channels = d.in_channels;
  c.pad_top = span_h - d.pad_top;
  c.pad_bottom = span_h - d.pad_bottom;
  c.pad_left = span_w - d.pad_left;
  c.pad_right = span_w - d.pad_right;
  c.has_bias = has_bias;
  c.weights_layout = WeightsLayout::kHwio;
  c.in_pixel_stride = d.out_pixel_stride;
  c.out_pixel_stride = d.in_pixel_stride;
  if (!Validate(c).ok()) return false;
  *f = c;
  return true;
}

// w' of ForwardDescForData from HWIO w: per group, tap t' = taps - 1 - t,
// w'[t'][o][g*Cg + ci] = w[t][ci][g*Ng + o]; in 16 x 16 blocks, so that
// neither side strides through memory (weights of late layers are MBs).
void FlipTransposeHwio(const ConvGeometry& g, const float* w, float* out) {
  constexpr int64_t kB = 16;
  for (int64_t t = 0; t < g.taps; ++t) {
    const float* src = w + t * g.cg * g.cout;
    float* dst = out + (g.taps - 1 - t) * g.ng * g.cin;
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      for (int64_t c0 = 0; c0 < g.cg; c0 += kB) {
        const int64_t c1 = std::min(g.cg, c0 + kB);
        for (int64_t o0 = 0; o0 < g.ng; o0 += kB) {
          const int64_t o1 = std::min(g.ng, o0 + kB);
          for (int64_t ci = c0; ci < c1; ++ci) {
            const float* s = src + ci * g.cout + grp * g.ng;
            float* d = dst + grp * g.cg + ci;
            for (int64_t o = o0; o < o1; ++o) d[o * g.cin] = s[o];
          }
        }
      }
    }
  }
}

}  // namespace

// The backward-data pass for one set of weights: either the forward
// operator that computes it (ForwardDescForData) or the packed transposed
// weights for the GEMMs of backward.h.
struct Conv2dBackwardDataOp::Impl {
  Conv2dDesc desc;
  int threads = 0;  // Options::threads
  std::unique_ptr<Conv2d> forward;
  PackedBackwardData packed;

  // Validates desc and options and prepares; bias per input channel of
  // desc (ConvTranspose2d's), or null.
  Status Init(const Conv2dDesc& d, const float* weights, const float* bias,
              const Options& options);
  // Checks the pointers (names for errors: dy_name, dx_name) and runs.
  Status Run(const float* dy, float* dx, void* workspace, size_t workspace_bytes,
             int run_threads, const char* dy_name, const char* dx_name) const;
};

Status Conv2dBackwardDataOp::Impl::Init(const Conv2dDesc& d, const float* weights,
                                        const float* bias, const Options& options) {
  int64_t target = 0;
  Status s = CheckBackward(d, options, &target);
  if (!s.ok()) return s;
  desc = d;
  threads = options.threads;
  if (d.batch == 0) return Status();  // Run reads and writes nothing
  if (weights == nullptr) return Invalid("weights", "is null");
  const TensorSizes sz = Sizes(d);
  const ConvGeometry geo = MakeGeometry(d);
  AlignedFloats hwio;
  if (d.weights_layout == WeightsLayout::kOihw) {
    hwio = AllocateFloats(static_cast<size_t>(sz.weights));
    if (!hwio) {
      return Status(StatusCode::kOutOfMemory, "weights",
                    "convkit: could not allocate the weights converted from OIHW");
    }
    OihwToHwio(geo, weights, hwio.get());
    weights = hwio.get();
  }
  Conv2dDesc fwd;
  if (ForwardDescForData(d, bias != nullptr, &fwd)) {
    AlignedFloats flipped = AllocateFloats(static_cast<size_t>(sz.weights));
    if (!flipped) {
      return Status(StatusCode::kOutOfMemory, "weights",
                    "convkit: could not allocate the flipped weights");
    }
    FlipTransposeHwio(geo, weights, flipped.get());
    hwio.reset();
    return Conv2d::Create(fwd, flipped.get(), bias, options, &forward);
  }
  return PackBackwardData(geo, weights, bias, options.threads, target, &packed);
}

Status Conv2dBackwardDataOp::Impl::Run(const float* dy, float* dx, void* workspace,
                                       size_t workspace_bytes, int run_threads,
                                       const char* dy_name, const char* dx_name) const {
  Status s = CheckThreads(run_threads);
  if (!s.ok()) return s;
  if (desc.batch == 0) return Status();
  if (dy == nullptr) return Invalid(dy_name, "is null");
  if (dx == nullptr) return Invalid(dx_name, "is null");
  const ConvGeometry geo = MakeGeometry(desc);
  if (Overlaps(InputRuns(geo, dx), OutputRuns(geo, dy))) {
    return Invalid(dx_name, std::string("overlaps ") + dy_name);
  }
  if (workspace != nullptr) {
    const FloatRuns ws = Dense(static_cast<const float*>(workspace), workspace_bytes / sizeof(float));
    if (Overlaps(ws, InputRuns(geo, dx)) || Overlaps(ws, OutputRuns(geo, dy))) {
      return Invalid("workspace", std::string("overlaps ") + dx_name + " or " + dy_name);
    }
  }
  const int t = run_threads != 0 ? run_threads : threads;
  if (forward) {
    return workspace != nullptr ? forward->Forward(dy, dx, workspace, workspace_bytes, t)
                                : forward->Forward(dy, dx, t);
  }
  if (workspace != nullptr && workspace_bytes < BackwardDataWorkspaceBytes(packed, t)) {
    return Invalid("workspace_bytes", "= " + std::to_string(workspace_bytes) +
                                          ": smaller than WorkspaceBytes() = " +
                                          std::to_string(BackwardDataWorkspaceBytes(packed, t)));
  }
  return RunBackwardData(packed, dy, dx, t, workspace, workspace_bytes);
}

Conv2dBackwardDataOp::Conv2dBackwardDataOp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Conv2dBackwardDataOp::~Conv2dBackwardDataOp() = default;

Status Conv2dBackwardDataOp::Create(const Conv2dDesc& desc, const float* weights,
                                    const Options& options,
                                    std::unique_ptr<Conv2dBackwardDataOp>* op) {
  if (op == nullptr) return Invalid("op", "is null");
  std::unique_ptr<Impl> impl = NewNothrow<Impl>();
  if (!impl) return Status(StatusCode::kOutOfMemory, "op", "convkit: could not allocate the operator");
  if (weights == nullptr) return Invalid("weights", "is null");
  Status s = impl->Init(desc, weights, nullptr, options);
  if (!s.ok()) return s;
  std::unique_ptr<Conv2dBackwardDataOp> made(new (std::nothrow) Conv2dBackwardDataOp(std::move(impl)));
  if (!made) return Status(StatusCode::kOutOfMemory, "op", "convkit: could not allocate the operator");
  *op = std::move(made);
  return Status();
}

Status Conv2dBackwardDataOp::Run(const float* dy, float* dx, int threads) const {
  return impl_->Run(dy, dx, nullptr, 0, threads, "dy", "dx");
}

Status Conv2dBackwardDataOp::Run(const float* dy, float* dx, void* workspace,
                                 size_t workspace_bytes, int threads) const {
  if (workspace == nullptr) return Invalid("workspace", "is null");
  return impl_->Run(dy, dx, workspace, workspace_bytes, threads, "dy", "dx");
}

size_t Conv2dBackwardDataOp::WorkspaceBytes(int threads) const {
  const int t = threads != 0 ? threads : impl_->threads;
  if (impl_->forward) return impl_->forward->WorkspaceBytes(t);
  if (impl_->desc.batch == 0 || !impl_->packed.wt) return 0;
  return BackwardDataWorkspaceBytes(impl_->packed, t);
}

const Conv2dDesc& Conv2dBackwardDataOp::desc() const { return impl_->desc; }

namespace {

// dx for dy: the shared body of Conv2dBackwardData and ConvTranspose2d
// (bias: per input channel of desc, or null): prepare, then run.
Status BackwardDataImpl(const Conv2dDesc& desc, const float* dy, const float* weights,
                        const float* bias, float* dx, const Options& options,
                        const char* dy_name, const char* dx_name) {
  int64_t target = 0;
  Status s = CheckBackward(desc, options, &target);
  if (!s.ok()) return s;
  if (desc.batch == 0) return Status();
  if (dy == nullptr) return Invalid(dy_name, "is null");
  if (weights == nullptr) return Invalid("weights", "is null");
  if (dx == nullptr) return Invalid(dx_name, "is null");
  const TensorSizes sz = Sizes(desc);
  const ConvGeometry geo = MakeGeometry(desc);
  const FloatRuns dx_runs = InputRuns(geo, dx);
  if (Overlaps(dx_runs, OutputRuns(geo, dy))) {
    return Invalid(dx_name, std::string("overlaps ") + dy_name);
  }
  if (Overlaps(dx_runs, Dense(weights, sz.weights))) {
    return Invalid(dx_name, "overlaps the weights");
  }
  if (Overlaps(dx_runs, Dense(bias, desc.in_channels))) {
    return Invalid(dx_name, "overlaps the bias");
  }
  Conv2dBackwardDataOp::Impl op;
  if (!(s = op.Init(desc, weights, bias, options)).ok()) return s;
  return op.Run(dy, dx, nullptr, 0, 0, dy_name, dx_name);
}

}  // namespace

Status Conv2dBackwardData(const Conv2dDesc& desc, const float* dy, const float* weights,
                          float* dx, const Options& options) {
  return BackwardDataImpl(desc, dy, weights, nullptr, dx, options, "dy", "dx");
}

Status Conv2dBackwardWeights(const Conv2dDesc& desc, const float* x, const float* dy,
                             float* dw, float* dbias, const Options& options) {
  int64_t target = 0;
  Status s = CheckBackward(desc, options, &target);
  if (!s.ok()) return s;
  if (dw == nullptr) return Invalid("dw", "is null");
  if (desc.has_bias && dbias == nullptr) return Invalid("dbias", "is null but has_bias is true");
  if (!desc.has_bias && dbias != nullptr) {
    return Invalid("dbias", "is given but has_bias is false");
  }
  const TensorSizes sz = Sizes(desc);
  if (desc.batch > 0) {
    if (x == nullptr) return Invalid("x", "is null");
    if (dy == nullptr) return Invalid("dy", "is null");
  }
  const ConvGeometry g = MakeGeometry(desc);
  const FloatRuns dw_runs = Dense(dw, sz.weights), db_runs = Dense(dbias, sz.bias);
  for (const auto& [runs, name] : {std::pair<FloatRuns, const char*>{InputRuns(g, x), "x"},
                                   {OutputRuns(g, dy), "dy"}}) {
    if (Overlaps(dw_runs, runs)) return Invalid("dw", std::string("overlaps ") + name);
    if (Overlaps(db_runs, runs)) return Invalid("dbias", std::string("overlaps ") + name);
  }
  if (Overlaps(dw_runs, db_runs)) return Invalid("dbias", "overlaps dw");
  AlignedFloats hwio;
  float* out = dw;
  if (desc.weights_layout == WeightsLayout::kOihw) {
    hwio = AllocateFloats(static_cast<size_t>(sz.weights));
    if (!hwio) {
      return Status(StatusCode::kOutOfMemory, "dw",
                    "convkit: could not allocate dw's HWIO staging buffer");
    }
    out = hwio.get();
  }
  // dbias: blocks of kBiasBlock channels spread over the threads (it was a
  // serial pass over dY after the parallel GEMM: a fifth of 56x56 layers'
  // time at 2 threads). Their threads are made sure of before anything is
  // written.
  constexpr int64_t kBiasBlock = 64;
  const int64_t bias_blocks = DivCeil(g.cout, kBiasBlock);
  const int bias_threads =
      dbias == nullptr ? 1
                       : ResolveThreads(options.threads, bias_blocks,
                                        static_cast<double>(g.n * g.oh * g.ow * g.cout));
  if (Status st = EnsureThreads(bias_threads); !st.ok()) return st;
  if (desc.batch == 0) {
    std::fill(out, out + sz.weights, 0.0f);
  } else {
    BackwardJob job;
    job.pass = BackwardPass::kWeights;
    job.geo = g;
    job.x = x;
    job.dy = dy;
    job.dw = out;
    job.threads = options.threads;
    if (!(s = RunBackward(job, target)).ok()) return s;
  }
  if (out != dw) HwioToOihw(g, out, dw);
  if (dbias != nullptr) {
    // Per channel, images and pixels in ascending order, whichever thread
    // sums its block: the same bits for any thread count.
    const int64_t pixels = g.oh * g.ow;
    auto block = [&](int64_t b) {
      const int64_t o0 = b * kBiasBlock, o1 = std::min(g.cout, o0 + kBiasBlock);
      std::fill(dbias + o0, dbias + o1, 0.0f);
      for (int64_t n = 0; n < g.n; ++n) {
        if (g.nchw) {
          for (int64_t o = o0; o < o1; ++o) {
            const float* plane = dy + (n * g.cout + o) * pixels;
            float acc = dbias[o];
            for (int64_t q = 0; q < pixels; ++q) acc += plane[q];
            dbias[o] = acc;
          }
        } else {
          for (int64_t q = 0; q < pixels; ++q) {
            const float* row = dy + (n * pixels + q) * g.ys;
            for (int64_t o = o0; o < o1; ++o) dbias[o] += row[o];
          }
        }
      }
    };
    if (bias_threads > 1) {
#if defined(_OPENMP)
#pragma omp parallel for num_threads(bias_threads) schedule(static)
#endif
      for (int64_t b = 0; b < bias_blocks; ++b) block(b);
    } else {
      for (int64_t b = 0; b < bias_blocks; ++b) block(b);
    }
  }
  return Status();
}

Status TransposedAsConv(const ConvTranspose2dDesc& t, Conv2dDesc* conv) {
  if (conv == nullptr) return Invalid("conv", "is null");
  struct Field {
    const char* name;
    int64_t value, min;
  };
  for (const Field& f : {Field{"batch", t.batch, 0}, Field{"in_h", t.in_h, 1},
                         Field{"in_w", t.in_w, 1}, Field{"in_channels", t.in_channels, 1},
                         Field{"out_channels", t.out_channels, 1},
                         Field{"kernel_h", t.kernel_h, 1}, Field{"kernel_w", t.kernel_w, 1},
                         Field{"stride_h", t.stride_h, 1}, Field{"stride_w", t.stride_w, 1},
                         Field{"pad_top", t.pad_top, 0}, Field{"pad_bottom", t.pad_bottom, 0},
                         Field{"pad_left", t.pad_left, 0}, Field{"pad_right", t.pad_right, 0},
                         Field{"output_pad_h", t.output_pad_h, 0},
                         Field{"output_pad_w", t.output_pad_w, 0},
                         Field{"dilation_h", t.dilation_h, 1},
                         Field{"dilation_w", t.dilation_w, 1}, Field{"groups", t.groups, 1}}) {
    if (f.value < f.min) {
      return Invalid(f.name, "= " + std::to_string(f.value) + ": must be >= " +
                                 std::to_string(f.min));
    }
  }
  for (const Field& f : {Field{"in_pixel_stride", t.in_pixel_stride, t.in_channels},
                         Field{"out_pixel_stride", t.out_pixel_stride, t.out_channels}}) {
    if (f.value == 0) continue;
    if (t.layout != Layout::kNhwc) {
      return Invalid(f.name, "= " + std::to_string(f.value) +
                                 ": pixel strides apply to NHWC only (layout is NCHW); use 0");
    }
    if (f.value < f.min) {
      return Invalid(f.name, "= " + std::to_string(f.value) + ": must be 0 or >= " +
                                 (f.min == t.in_channels ? "in_channels = " : "out_channels = ") +
                                 std::to_string(f.min));
    }
  }
  if (t.output_pad_h >= std::max(t.stride_h, t.dilation_h)) {
    return Invalid("output_pad_h", "= " + std::to_string(t.output_pad_h) +
                                       ": must be smaller than stride_h or dilation_h");
  }
  if (t.output_pad_w >= std::max(t.stride_w, t.dilation_w)) {
    return Invalid("output_pad_w", "= " + std::to_string(t.output_pad_w) +
                                       ": must be smaller than stride_w or dilation_w");
  }
  // out = (in - 1) * s - pads + d * (k - 1) + output_pad + 1, in 64-bit
  // with overflow checks (the forward descriptor then validates the rest).
  auto extent = [](int64_t in, int64_t s, int64_t pa, int64_t pb, int64_t d, int64_t k,
                   int64_t op, int64_t* out) {
    int64_t a, b;
    if (__builtin_mul_overflow(in - 1, s, &a) || __builtin_mul_overflow(d, k - 1, &b) ||
        __builtin_add_overflow(a, b, &a) || __builtin_add_overflow(a, op + 1, &a)) {
      return false;
    }
    // Pads beyond the extent leave nothing (a negative size, rejected
    // below), also where the difference itself would overflow.
    if (__builtin_sub_overflow(a, pa, out) || __builtin_sub_overflow(*out, pb, out)) *out = -1;
    return true;
  };
  Conv2dDesc c;
  if (!extent(t.in_h, t.stride_h, t.pad_top, t.pad_bottom, t.dilation_h, t.kernel_h,
              t.output_pad_h, &c.in_h)) {
    return Invalid("stride_h", "= " + std::to_string(t.stride_h) +
                                   ": the output height overflows 64-bit");
  }
  if (!extent(t.in_w, t.stride_w, t.pad_left, t.pad_right, t.dilation_w, t.kernel_w,
              t.output_pad_w, &c.in_w)) {
    return Invalid("stride_w", "= " + std::to_string(t.stride_w) +
                                   ": the output width overflows 64-bit");
  }
  if (c.in_h < 1) return Invalid("pad_top", "(with pad_bottom) leaves no output rows");
  if (c.in_w < 1) return Invalid("pad_left", "(with pad_right) leaves no output columns");
  c.batch = t.batch;
  c.in_channels = t.out_channels;
  c.out_channels = t.in_channels;
  c.kernel_h = t.kernel_h;
  c.kernel_w = t.kernel_w;
  c.stride_h = t.stride_h;
  c.stride_w = t.stride_w;
  c.pad_top = t.pad_top;
  c.pad_bottom = t.pad_bottom;
  c.pad_left = t.pad_left;
  c.pad_right = t.pad_right;
  c.dilation_h = t.dilation_h;
  c.dilation_w = t.dilation_w;
  c.groups = t.groups;
  c.layout = t.layout;
  c.weights_layout = t.weights_layout;
  c.in_pixel_stride = t.out_pixel_stride;  // the convolution's input is our output
  c.out_pixel_stride = t.in_pixel_stride;
  Status s = Validate(c);
  if (!s.ok()) return s;
  int64_t oh = 0, ow = 0;
  if (!(s = OutputShape(c, &oh, &ow)).ok()) return s;
  if (oh != t.in_h || ow != t.in_w) {  // cannot happen with output_pad < stride
    return Invalid("output_pad_h", "gives an output that does not map back to the input");
  }
  *conv = c;
  return Status();
}

Status ConvTranspose2d(const ConvTranspose2dDesc& t, const float* x, const float* weights,
                       const float* bias, float* y, const Options& options) {
  Conv2dDesc c;
  Status s = TransposedAsConv(t, &c);
  if (!s.ok()) return s;
  if (t.has_bias && bias == nullptr) return Invalid("bias", "is null but has_bias is true");
  if (!t.has_bias && bias != nullptr) return Invalid("bias", "is given but has_bias is false");
  return BackwardDataImpl(c, x, weights, bias, y, options, "x", "y");
}

}  // namespace convkit
