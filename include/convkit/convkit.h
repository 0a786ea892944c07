// convkit: portable SIMD/OpenMP 2-D convolution for the CPU.
//
// This is the only header users include. It needs the C++17 standard library
// and nothing else: no Highway or OpenMP types appear here.
//
// Layouts (Conv2dDesc::layout and weights_layout; all dense):
//   activations NHWC (default): x[n][h][w][c], y[n][oh][ow][o];
//               NCHW (PyTorch's): x[n][c][h][w], y[n][o][oh][ow].
//   weights HWIO (default): w[kh][kw][ci][o] with ci in [0, in_channels /
//           groups) and o in [0, out_channels) (the notebooks'
//           [KH][KW][Cin][Cout]); OIHW (PyTorch's): w[o][ci][kh][kw].
//           Either goes with either activation layout; the weights' layout
//           matters only when they are packed (Create, one-shot calls).
//   bias    b[o], o in [0, out_channels).
// Groups follow PyTorch: output channel o belongs to group g = o / (out_channels
// / groups) and reads input channels [g * in_channels / groups, (g + 1) *
// in_channels / groups); its weights are w[kh][kw][0 : in_channels/groups][o]
// (OIHW: w[o][0 : in_channels/groups][kh][kw]). With groups == in_channels ==
// out_channels (depthwise) the weights are w[kh][kw][0][c] (OIHW: w[c][0]...).
//
// Every entry point reports failure through Status; none throws. Bad input is
// detected before anything is written: on error the output is untouched.
#ifndef CONVKIT_CONVKIT_H_
#define CONVKIT_CONVKIT_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "convkit/version.h"  // CONVKIT_VERSION_MAJOR ... (generated)

#if defined(_WIN32) && defined(CONVKIT_SHARED_BUILD)
#define CONVKIT_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CONVKIT_API [[gnu::visibility("default")]]
#else
#define CONVKIT_API
#endif

namespace convkit {

// ---------------------------------------------------------------------------
// Status

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // a descriptor field, pointer or option is wrong
  kUnsupported = 2,      // valid input that the requested algorithm/target
                         // cannot run
  kOutOfMemory = 3,      // an allocation failed; nothing was written
};

// Result of every call. On failure, field() names the offending descriptor
// field or argument (for example "stride_h", "groups", "output") and message()
// is a full sentence for humans, prefixed "convkit: ".
class [[nodiscard]] CONVKIT_API Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string field, std::string message);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& field() const { return field_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string field_;
  std::string message_;
};

// ---------------------------------------------------------------------------
// Descriptor

// Activation layouts (see the top of this file).
enum class Layout : int {
  kNhwc = 0,  // x[n][h][w][c], y[n][oh][ow][o]
  kNchw = 1,  // x[n][c][h][w], y[n][o][oh][ow] (PyTorch's)
};
// Weight layouts.
enum class WeightsLayout : int {
  kHwio = 0,  // w[kh][kw][ci][o] (the notebooks')
  kOihw = 1,  // w[o][ci][kh][kw] (PyTorch's)
};

// A 2-D convolution, cross-correlation as in PyTorch's conv2d:
//   y[n][oh][ow][o] = bias[o] + sum over kh, kw, ci of
//       x[n][oh*stride_h + kh*dilation_h - pad_top]
//        [ow*stride_w + kw*dilation_w - pad_left][g*Cg + ci] * w[kh][kw][ci][o]
// where Cg = in_channels / groups, g = o / (out_channels / groups), and x is
// zero outside the input. Output size (PyTorch, floor):
//   out_h = (in_h + pad_top + pad_bottom - ((kernel_h - 1) * dilation_h + 1))
//           / stride_h + 1, and likewise out_w.
// All sizes are element counts. Defaults give a dense, unpadded, ungrouped
// convolution without bias or post-ops.
//
// Fused post-ops, applied to each output as the kernels store it (never a
// second pass over the output), in this order:
//   y = conv(x) + bias
//   if has_sum:  y = y + sum_scale * y_prev   (oneDNN's sum post-op: y_prev
//                is what the output held before the call, e.g. a residual)
//   y = clamp(y, output_min, output_max)      (XNNPACK's output_min/max;
//                ReLU: output_min = 0; ReLU6: 0 and 6; NaN stays NaN)
// With has_sum the output is read before it is written, so it must hold
// Sizes().output initialized floats.
struct Conv2dDesc {
  int64_t batch = 1;         // N >= 0; N == 0 is a valid no-op
  int64_t in_h = 0;          // >= 1
  int64_t in_w = 0;          // >= 1
  int64_t in_channels = 0;   // >= 1, divisible by groups
  int64_t out_channels = 0;  // >= 1, divisible by groups
  int64_t kernel_h = 0;      // >= 1
  int64_t kernel_w = 0;      // >= 1
  int64_t stride_h = 1;      // >= 1
  int64_t stride_w = 1;      // >= 1
  int64_t pad_top = 0;       // >= 0
  int64_t pad_bottom = 0;    // >= 0
  int64_t pad_left = 0;      // >= 0
  int64_t pad_right = 0;     // >= 0
  int64_t dilation_h = 1;    // >= 1 (1 = dense, as in PyTorch)
  int64_t dilation_w = 1;    // >= 1
  int64_t groups = 1;        // >= 1
  bool has_bias = false;
  bool has_sum = false;      // add sum_scale * the output's previous values
  float sum_scale = 1.0f;    // finite
  float output_min = -std::numeric_limits<float>::infinity();  // not NaN
  float output_max = std::numeric_limits<float>::infinity();   // >= output_min
  Layout layout = Layout::kNhwc;                       // input and output
  WeightsLayout weights_layout = WeightsLayout::kHwio;
  // NHWC only: floats from one pixel of the input (output) to the next; 0 =
  // in_channels (out_channels), the dense tensor. Larger strides convolve a
  // channel slice of a wider tensor in place (XNNPACK's input_pixel_stride):
  // x[n][h][w][c] is input[((n * in_h + h) * in_w + w) * in_pixel_stride + c],
  // and the floats between one pixel's channels and the next pixel are
  // neither read nor written (an output slice may share a buffer with the
  // input slice, e.g. DenseNet's concatenation, as long as no float is in
  // both). NCHW requires 0.
  int64_t in_pixel_stride = 0;   // 0, or >= in_channels
  int64_t out_pixel_stride = 0;  // 0, or >= out_channels
};

// Checks every field (ranges, divisibility, dilated kernel against the padded
// input, padded extents <= 2^60 and one padded image <= 2^62 elements, 64-bit
// and size_t overflow of every tensor's element and byte count).
CONVKIT_API Status Validate(const Conv2dDesc& desc);

// Validates desc and returns the output height and width.
CONVKIT_API Status OutputShape(const Conv2dDesc& desc, int64_t* out_h,
                               int64_t* out_w);

// Element counts of the four tensors (desc must be valid; 0 otherwise). With
// pixel strides, the floats from the first element to the last one.
struct TensorSizes {
  int64_t input = 0;    // N * in_h * in_w * in_channels; with a pixel stride
                        // (N * in_h * in_w - 1) * in_pixel_stride + in_channels
  int64_t weights = 0;  // kernel_h * kernel_w * (in_channels/groups) * out_ch
  int64_t bias = 0;     // out_channels if has_bias, else 0
  int64_t output = 0;   // N * out_h * out_w * out_channels; likewise
};
CONVKIT_API TensorSizes Sizes(const Conv2dDesc& desc);

// Multiply-adds times two: 2 * N * out_h * out_w * out_channels * kernel_h *
// kernel_w * in_channels / groups (0 for an invalid descriptor).
CONVKIT_API double Flops(const Conv2dDesc& desc);

// The one-line shape syntax shared by convkit-perf, the tests and the corpus:
//   n=1,h=56,w=56,ci=64,co=64,k=3x3,s=1,p=1,d=1,g=1[,bias=1][,sum=S][,min=A][,max=B]
// h, w, ci, co and k are required; n=1, s=1, p=0, d=1, g=1, bias=0 by default.
// Post-ops: sum=S sets has_sum with sum_scale S, min/max the output clamp
// (ReLU: min=0; ReLU6: min=0,max=6). Layouts: layout=nhwc|nchw,
// weights=hwio|oihw. Pixel strides: xps=in_pixel_stride,
// yps=out_pixel_stride.
// k, s, d take "A" or "AxB" (height x width); p takes "A" (all sides), "AxB"
// (top=bottom=A, left=right=B) or "T:B:L:R". Whitespace around items is
// ignored. A malformed spec is kInvalidArgument naming the field ("k", "p"...).
CONVKIT_API Status ParseShapeSpec(const std::string& spec, Conv2dDesc* desc);
// The canonical spec of desc, in the corpus' form:
//   n=2,h=5,w=5,ci=3,co=16,k=3x3,s=1x1,p=1:1:1:1,d=1x1,g=1  (+ ",bias=1" and
//   the post-ops that are set)
CONVKIT_API std::string FormatShapeSpec(const Conv2dDesc& desc);

// ---------------------------------------------------------------------------
// Algorithms, targets and options

// Algorithms. kAuto picks, among the automatic ones that apply, the one the
// library's cost model expects to be fastest for the shape on the chosen
// target (README, "Design"); the others run when asked for by name.
enum class Algorithm : int {
  kAuto = 0,
  kDepthwise,    // groups == in_channels == out_channels: direct NHWC kernel,
                 // vectorized over channels
  kDirectGemm,   // any shape: GEMM reading the input in place through row
                 // pointers (indirect GEMM), no copy of the input
  kIm2colGemm,   // any shape: im2col packed a cache block at a time + GEMM;
                 // never chosen by kAuto (slower than kDirectGemm wherever
                 // measured)
  kShiftedGemm,  // any shape: one GEMM per kernel tap on the shifted input
                 // (the notebooks' second method); never chosen by kAuto
  kNaive,        // the direct 7-deep loop in float, any layout; never chosen
                 // by kAuto
  kNchwGemm,     // NCHW activations: Y[Cout x pixels] = W[Cout x K] *
                 // im2col[K x pixels], pixels contiguous (README, "Design")
  kNchwPixelGemm,  // NCHW activations through NHWC's mapping: Y^T[pixels x
                   // Cout] = im2col * W, stored transposed into the planes
                   // (small planes, README "Design")
  kSlidingWindow,  // 1-4 input channels, one group, horizontal stride and
                   // dilation 1: each input float broadcast once for up to
                   // KW outputs (KW = 3, 5 or 7), weights in registers
  kPixelLanes,     // NHWC, one group, horizontal stride 1: output pixels in
                   // the vector lanes, channels in the tile's rows, from a
                   // transposed copy of the input rows (few output channels)
};
// "auto", "depthwise", "direct_gemm", "im2col_gemm", "shifted_gemm",
// "naive", "nchw_gemm", "nchw_pixel_gemm", "sliding_window", "pixel_lanes".
CONVKIT_API const char* AlgorithmName(Algorithm algorithm);
// Parses the names above; returns false for an unknown name.
CONVKIT_API bool ParseAlgorithm(const std::string& name, Algorithm* algorithm);
// The algorithms that can run desc (automatic or not), in the library's
// table order; empty for an invalid descriptor.
CONVKIT_API std::vector<Algorithm> ApplicableAlgorithms(const Conv2dDesc& desc);

// SIMD targets are Highway's: on x86 "AVX3" (AVX-512), "AVX2", "SSE4",
// "SSSE3" and the portable fallback ("SCALAR" with g++ 12, "EMU128" with
// clang; both names select it); on Arm "SVE2", "SVE", "NEON".
//
// Which target runs: the best one that was compiled, that this CPU supports,
// and that is no better than the limit. The limit is, in order: the
// Options::max_target of the call or operator; else SetMaxTarget(); else the
// environment variable CONVKIT_TARGET (read once, at the first convkit call);
// else none. A limit the CPU cannot reach selects the best target below it.
//
// Sets the process-wide limit; "" removes it (CONVKIT_TARGET applies again),
// "BEST" sets none whatever the environment says. Thread-safe; affects operators
// created afterwards and one-shot calls, not operators already created.
// Unknown names are kInvalidArgument (field "target").
CONVKIT_API Status SetMaxTarget(const std::string& name);
// The process-wide limit ("" if none). An invalid CONVKIT_TARGET is reported
// by every call that needs a target, as kInvalidArgument naming
// "CONVKIT_TARGET".
CONVKIT_API std::string MaxTarget();
// Targets compiled into this build, best first.
CONVKIT_API std::vector<std::string> CompiledTargets();
// Compiled targets this CPU can run, best first.
CONVKIT_API std::vector<std::string> SupportedTargets();
// The target a call would use under limit (or under the process-wide limit
// when limit is empty); kInvalidArgument for an unknown name.
CONVKIT_API Status ResolveTarget(const std::string& limit, std::string* target);

// Largest explicit thread count (Options::threads, Forward's threads).
constexpr int kMaxThreads = 1024;

struct Options {
  Algorithm algorithm = Algorithm::kAuto;
  // Upper bound on the SIMD target for this call or operator ("" = none; see
  // SetMaxTarget). An operator keeps the target chosen at creation.
  std::string max_target;
  // OpenMP threads. 0 (automatic) = omp_get_max_threads() at call time, but
  // fewer for small convolutions (about one thread per 0.6 us of work: 0.16
  // MFLOP on AVX-512, 0.08 on AVX2, depthwise counting twice). N > 0 =
  // exactly N, at most kMaxThreads (more is kInvalidArgument). Either way
  // never more threads than the work has independent tasks. OpenMP runtimes
  // exit the process when they cannot create a thread, so the first call
  // from a thread that needs more threads than before checks that the system
  // can create them (creating and joining them once) and otherwise returns
  // kOutOfMemory naming "threads", with nothing written. Inside an active OpenMP parallel region convkit always runs on
  // the calling thread alone (no nested parallelism, no oversubscription).
  // Without OpenMP, 1. Results are bit-identical for every thread count.
  int threads = 0;
};

// What will run, as chosen by the plan.
struct PlanInfo {
  std::string algorithm;  // AlgorithmName() of the chosen algorithm
  std::string kernel;     // e.g. "f32_igemm_6x2v__avx2", "f32_dwconv_4v__avx2"
  std::string target;     // Highway target name, e.g. "AVX3"
  int64_t mr = 0, nr = 0;            // register tile (GEMM algorithms; the
                                     // sliding window: pixels x one vector;
                                     // pixel lanes: channels x pixels)
  int64_t tile_rows = 0;             // rows per tile the GEMM runs: mr, or
                                     // fewer (narrow tiles: short output
                                     // rows, 1x1 rows crowding L1d sets)
  int64_t mc = 0, kc = 0, nc = 0;    // cache blocks (GEMM algorithms)
  int64_t out_h = 0, out_w = 0;
  int threads = 0;                   // threads the call would use
  size_t workspace_bytes = 0;        // bytes Forward needs at that count
};

// Validates desc and options and reports the plan a one-shot call would run.
CONVKIT_API Status QueryPlan(const Conv2dDesc& desc, const Options& options,
                             PlanInfo* info);

// ---------------------------------------------------------------------------
// Prepared operator

// Created once from a descriptor and weights; packs the weights (and bias) into
// the chosen kernel's layout, so that Forward can run many times. The caller's
// weight and bias arrays are not referenced after Create returns.
//
// Thread safety: Forward is const and may be called concurrently from several
// threads on the same operator, each with its own output (and workspace).
//
// Memory: Create allocates the packed weights (about the weights' size, padded
// to the register tile). Forward needs a workspace of WorkspaceBytes(threads)
// bytes per call, whatever the batch: per thread, the row pointers of one
// MC x KC block (direct_gemm: a few KiB to a few hundred KiB) or one packed
// block of the im2col matrix (im2col_gemm, shifted_gemm: at most MC x KC
// floats, see PlanInfo); none for the depthwise and naive algorithms. Either
// pass one, or let Forward provide it: on its stack when it is at most
// 16 KiB, else one allocation per call, freed on return. Nothing else is
// allocated per call.
class CONVKIT_API Conv2d {
 public:
  // weights: HWIO, Sizes(desc).weights floats. bias: out_channels floats,
  // required iff desc.has_bias (must be null otherwise). *op receives the
  // operator; on error it is left unchanged.
  static Status Create(const Conv2dDesc& desc, const float* weights,
                       const float* bias, const Options& options,
                       std::unique_ptr<Conv2d>* op);
  ~Conv2d();
  Conv2d(const Conv2d&) = delete;
  Conv2d& operator=(const Conv2d&) = delete;

  // input: Sizes().input floats (NHWC); output: Sizes().output floats (NHWC).
  // The output must not overlap the input. threads: as Options::threads
  // (0 = the operator's setting). Provides the workspace for this call (on
  // the stack up to 16 KiB, else allocated).
  // With batch 0 nothing is read or written and the pointers may be null.
  Status Forward(const float* input, float* output, int threads = 0) const;

  // Same, with a caller-provided workspace of at least WorkspaceBytes(threads)
  // bytes (any alignment; it must not overlap input or output). Allocates
  // nothing.
  Status Forward(const float* input, float* output, void* workspace,
                 size_t workspace_bytes, int threads = 0) const;

  // Workspace bytes Forward needs for a thread count (0 = as Forward
  // resolves it now). 0 for algorithms that need none.
  size_t WorkspaceBytes(int threads = 0) const;

  const Conv2dDesc& desc() const;
  // The plan (algorithm, kernel, target, blocking); threads and
  // workspace_bytes as resolved at creation.
  const PlanInfo& info() const;

  struct Impl;

 private:
  explicit Conv2d(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One-shot: validates, packs the weights and runs, in one call. Same layouts
// and errors as Conv2d; output must overlap none of input, weights and bias.
// Allocates the packed weights and the workspace for the duration of the call.
// With batch 0 (and a valid descriptor) nothing is read or written and every
// pointer may be null.
CONVKIT_API Status Conv2dForward(const Conv2dDesc& desc, const float* input,
                                 const float* weights, const float* bias,
                                 float* output, const Options& options = {});

// ---------------------------------------------------------------------------
// Backward passes (training) and transposed convolution

// For the convolution desc (its layouts; post-ops must be off: apply their
// derivative to dy first), given dy = d(loss)/dy (Sizes(desc).output floats):
//
//   Conv2dBackwardData:    dx = d(loss)/dx, Sizes(desc).input floats in
//                          desc.layout, from dy and the weights
//                          (desc.weights_layout). With pixel strides, dx
//                          and dy (and x) use the input's and output's;
//                          floats between pixels are untouched.
//   Conv2dBackwardWeights: dw = d(loss)/dw, Sizes(desc).weights floats in
//                          desc.weights_layout, and dbias[o] = the sum of dy
//                          over images and pixels (out_channels floats;
//                          required iff has_bias, null otherwise).
//
// Both run the packed micro-GEMM engine (lib/conv/backward.h) on the best
// target (Options::max_target and the other limits apply), split over their
// outputs only, never over a reduction, and sum every output's products in
// one fixed order: results are bit-identical for every thread count. Every
// output is overwritten. Options::algorithm must be kAuto. Each call packs
// the weights' side and allocates its buffers (the weights change every
// training step); errors as Conv2dForward, outputs untouched. With batch 0,
// dx has no elements and dw, dbias are zeros.
CONVKIT_API Status Conv2dBackwardData(const Conv2dDesc& desc, const float* dy,
                                      const float* weights, float* dx,
                                      const Options& options = {});
CONVKIT_API Status Conv2dBackwardWeights(const Conv2dDesc& desc, const float* x,
                                         const float* dy, float* dw, float* dbias,
                                         const Options& options = {});

// The backward-data pass prepared for one set of weights, as Conv2d is for
// the forward pass: Create validates and packs the weights transposed into
// the kernels' panels (or, for depthwise layers at stride 1, flipped for
// the forward depthwise kernel), Run then only computes dx from dy, with
// the same bits as Conv2dBackwardData. For a training step: Create once the
// weights are updated, Run per batch; for fixed weights (a transposed
// convolution's), once. The caller's weights are not referenced after
// Create. Run is const and may be called concurrently with distinct dx (and
// workspaces). Memory: the packed weights (about the weights' size) live in
// the operator; Run needs WorkspaceBytes(threads) (row pointers or a packed
// block per thread, tens to hundreds of KiB), allocated per call unless
// given. Errors as Conv2dBackwardData; dx untouched on error.
class CONVKIT_API Conv2dBackwardDataOp {
 public:
  static Status Create(const Conv2dDesc& desc, const float* weights, const Options& options,
                       std::unique_ptr<Conv2dBackwardDataOp>* op);
  ~Conv2dBackwardDataOp();
  Conv2dBackwardDataOp(const Conv2dBackwardDataOp&) = delete;
  Conv2dBackwardDataOp& operator=(const Conv2dBackwardDataOp&) = delete;

  // dy: Sizes(desc).output floats, dx: Sizes(desc).input floats (desc's
  // layout and pixel strides); threads as Options::threads (0 = the
  // operator's setting). With batch 0 nothing is read or written.
  Status Run(const float* dy, float* dx, int threads = 0) const;
  // Same with a caller-provided workspace of at least WorkspaceBytes(threads)
  // bytes (any alignment, overlapping neither dy nor dx): allocates nothing.
  Status Run(const float* dy, float* dx, void* workspace, size_t workspace_bytes,
             int threads = 0) const;
  size_t WorkspaceBytes(int threads = 0) const;
  const Conv2dDesc& desc() const;

  struct Impl;

 private:
  explicit Conv2dBackwardDataOp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A transposed convolution, PyTorch's conv_transpose2d: the backward-data
// pass of the convolution that maps its output back to its input, plus a
// bias per output channel (applied in the kernels' store). Output size:
//   out_h = (in_h - 1) * stride_h - pad_top - pad_bottom
//           + dilation_h * (kernel_h - 1) + output_pad_h + 1
// with output_pad_h < max(stride_h, dilation_h) (as PyTorch), likewise
// out_w. Weights: OIHW is PyTorch's [in_channels][out_channels / groups]
// [KH][KW]; HWIO is [KH][KW][out_channels / groups][in_channels]. Input and
// output in `layout`.
struct ConvTranspose2dDesc {
  int64_t batch = 1;
  int64_t in_h = 0, in_w = 0;
  int64_t in_channels = 0, out_channels = 0;  // divisible by groups
  int64_t kernel_h = 0, kernel_w = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t output_pad_h = 0, output_pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  bool has_bias = false;
  Layout layout = Layout::kNhwc;
  WeightsLayout weights_layout = WeightsLayout::kHwio;
  // NHWC only, as Conv2dDesc's: floats between pixels of x (y); 0 = dense.
  int64_t in_pixel_stride = 0;   // 0, or >= in_channels
  int64_t out_pixel_stride = 0;  // 0, or >= out_channels
};

// The convolution whose backward-data pass tdesc is (its input is tdesc's
// output), and the output size; errors name tdesc's fields.
CONVKIT_API Status TransposedAsConv(const ConvTranspose2dDesc& tdesc, Conv2dDesc* conv);
// y = conv_transpose2d(x, weights) + bias: x is batch x in_h x in_w x
// in_channels floats, y batch x out_h x out_w x out_channels (in `layout`,
// at the pixel strides; floats between pixels untouched).
CONVKIT_API Status ConvTranspose2d(const ConvTranspose2dDesc& tdesc, const float* x,
                                   const float* weights, const float* bias, float* y,
                                   const Options& options = {});

// ---------------------------------------------------------------------------
// Reference

// The naive convolution (the notebooks' 7-deep loop) accumulating in double:
// y[i] = bias + sum x*w (+ sum_scale * sum_input[i] with has_sum), then
// clamped to [output_min, output_max]; and, if abs_sum is non-null,
// abs_sum[i] = |bias| + sum |x|*|w| (+ |sum_scale * sum_input[i]|), the
// magnitude that bounds the rounding error of any float evaluation (before
// the clamp, which cannot add error). sum_input: the output's previous
// values (Sizes(desc).output floats), required iff has_sum. Same layouts and
// validation as Conv2dForward; outputs are Sizes(desc).output doubles. Single-threaded unless OpenMP is enabled, in
// which case it parallelizes over output rows with omp_get_max_threads().
CONVKIT_API Status ReferenceConv2d(const Conv2dDesc& desc, const float* input,
                                   const float* weights, const float* bias,
                                   double* output, double* abs_sum = nullptr,
                                   const float* sum_input = nullptr);

// The same for one output element (n, oh, ow, o); desc must be valid, the
// indices in range, and sum_input given iff has_sum.
CONVKIT_API void ReferenceConv2dAt(const Conv2dDesc& desc, const float* input,
                                   const float* weights, const float* bias,
                                   int64_t n, int64_t oh, int64_t ow, int64_t o,
                                   double* value, double* abs_sum,
                                   const float* sum_input = nullptr);

// Library version, "MAJOR.MINOR.PATCH".
CONVKIT_API const char* Version();

}  // namespace convkit

#endif  // CONVKIT_CONVKIT_H_
