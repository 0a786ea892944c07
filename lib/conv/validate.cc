// Descriptor validation: the first step of validate -> plan -> dispatch.
// Every size used later is checked here, in 64-bit with overflow detection,
// so later code can multiply freely.
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "convkit/convkit.h"
#include "lib/common/checked.h"
#include "lib/common/geometry.h"

namespace convkit {
namespace {

// Tensors are addressed in floats and the reference writes doubles, so every
// element count must stay below this (bytes then fit int64, size_t and
// ptrdiff_t on 64-bit systems, and size_t on 32-bit ones up to SIZE_MAX / 8).
constexpr int64_t kMaxElements =
    static_cast<int64_t>((SIZE_MAX / 8 < static_cast<uint64_t>(INT64_MAX / 8))
                             ? SIZE_MAX / 8
                             : static_cast<uint64_t>(INT64_MAX / 8));

// "convkit: <field> <why>", e.g. "convkit: stride_h = 0: must be >= 1".
Status Invalid(const std::string& field, const std::string& why) {
  return Status(StatusCode::kInvalidArgument, field, "convkit: " + field + " " + why);
}

Status AtLeast(const char* field, int64_t value, int64_t min) {
  if (value >= min) return Status();
  return Invalid(field, "= " + std::to_string(value) + ": must be >= " +
                            std::to_string(min));
}

// Product of the factors, or an error naming `tensor` on overflow.
Status CountElements(const char* tensor, std::initializer_list<int64_t> factors,
                     int64_t* count) {
  int64_t c = 1;
  for (int64_t f : factors) {
    if (!CheckedMul(c, f, &c) || c > kMaxElements) {
      return Invalid(tensor, "has too many elements: the element count "
                             "overflows 64-bit/size_t byte sizes");
    }
  }
  *count = c;
  return Status();
}

// One spatial dimension: dilated kernel against the padded input. Errors
// name the field that made the check fail: the pad that overflows the
// extent, the dilation that makes the span too long, or the kernel itself.
Status CheckExtent(const char* kernel_field, const char* pad_a_field,
                   const char* pad_b_field, const char* dilation_field,
                   const char* what, int64_t in, int64_t pad_a, int64_t pad_b,
                   int64_t kernel, int64_t dilation) {
  int64_t padded;
  if (!CheckedAdd(in, pad_a, &padded) || padded > kMaxExtent) {
    return Invalid(pad_a_field, "= " + std::to_string(pad_a) + ": the padded input " +
                                    what + " exceeds 2^60");
  }
  if (!CheckedAdd(padded, pad_b, &padded) || padded > kMaxExtent) {
    return Invalid(pad_b_field, "= " + std::to_string(pad_b) + ": the padded input " +
                                    what + " exceeds 2^60");
  }
  if (kernel > padded) {
    return Invalid(kernel_field, "= " + std::to_string(kernel) + " exceeds the padded input " +
                                     what + " " + std::to_string(padded));
  }
  int64_t span;
  if (!CheckedMul(kernel - 1, dilation, &span) || !CheckedAdd(span, 1, &span) ||
      span > padded) {
    return Invalid(dilation_field, "= " + std::to_string(dilation) + ": the dilated kernel " +
                                       what + " (kernel - 1) * dilation + 1 exceeds the padded input " +
                                       what + " " + std::to_string(padded));
  }
  return Status();
}

}  // namespace

Status Validate(const Conv2dDesc& d) {
  Status s;
  if (!(s = AtLeast("batch", d.batch, 0)).ok()) return s;
  if (!(s = AtLeast("in_h", d.in_h, 1)).ok()) return s;
  if (!(s = AtLeast("in_w", d.in_w, 1)).ok()) return s;
  if (!(s = AtLeast("in_channels", d.in_channels, 1)).ok()) return s;
  if (!(s = AtLeast("out_channels", d.out_channels, 1)).ok()) return s;
  if (!(s = AtLeast("kernel_h", d.kernel_h, 1)).ok()) return s;
  if (!(s = AtLeast("kernel_w", d.kernel_w, 1)).ok()) return s;
  if (!(s = AtLeast("stride_h", d.stride_h, 1)).ok()) return s;
  if (!(s = AtLeast("stride_w", d.stride_w, 1)).ok()) return s;
  if (!(s = AtLeast("pad_top", d.pad_top, 0)).ok()) return s;
  if (!(s = AtLeast("pad_bottom", d.pad_bottom, 0)).ok()) return s;
  if (!(s = AtLeast("pad_left", d.pad_left, 0)).ok()) return s;
  if (!(s = AtLeast("pad_right", d.pad_right, 0)).ok()) return s;
  if (!(s = AtLeast("dilation_h", d.dilation_h, 1)).ok()) return s;
  if (!(s = AtLeast("dilation_w", d.dilation_w, 1)).ok()) return s;
  if (!(s = AtLeast("groups", d.groups, 1)).ok()) return s;
  if (d.in_channels % d.groups != 0) {
    return Invalid("groups", "= " + std::to_string(d.groups) +
                                 " does not divide in_channels = " +
                                 std::to_string(d.in_channels));
  }
  if (d.out_channels % d.groups != 0) {
    return Invalid("groups", "= " + std::to_string(d.groups) +
                                 " does not divide out_channels = " +
                                 std::to_string(d.out_channels));
  }
  if (d.layout != Layout::kNhwc && d.layout != Layout::kNchw) {
    return Invalid("layout", "= " + std::to_string(static_cast<int>(d.layout)) +
                                 ": not a known Layout value");
  }
  if (d.weights_layout != WeightsLayout::kHwio && d.weights_layout != WeightsLayout::kOihw) {
    return Invalid("weights_layout", "= " + std::to_string(static_cast<int>(d.weights_layout)) +
                                         ": not a known WeightsLayout value");
  }
  if (d.in_pixel_stride != 0 || d.out_pixel_stride != 0) {
    const bool in = d.in_pixel_stride != 0;
    const char* field = in ? "in_pixel_stride" : "out_pixel_stride";
    const int64_t stride = in ? d.in_pixel_stride : d.out_pixel_stride;
    if (d.layout != Layout::kNhwc) {
      return Invalid(field, "= " + std::to_string(stride) +
                                ": pixel strides apply to NHWC only (layout is NCHW); use 0");
    }
  }
  if (d.in_pixel_stride != 0 && d.in_pixel_stride < d.in_channels) {
    return Invalid("in_pixel_stride", "= " + std::to_string(d.in_pixel_stride) +
                                          ": must be 0 or >= in_channels = " +
                                          std::to_string(d.in_channels));
  }
  if (d.out_pixel_stride != 0 && d.out_pixel_stride < d.out_channels) {
    return Invalid("out_pixel_stride", "= " + std::to_string(d.out_pixel_stride) +
                                           ": must be 0 or >= out_channels = " +
                                           std::to_string(d.out_channels));
  }
  if (std::isnan(d.output_min)) return Invalid("output_min", "is NaN");
  if (std::isnan(d.output_max)) return Invalid("output_max", "is NaN");
  if (d.output_min > d.output_max) {
    return Invalid("output_min", "= " + std::to_string(d.output_min) +
                                     " is greater than output_max = " +
                                     std::to_string(d.output_max));
  }
  if (!std::isfinite(d.sum_scale)) {
    return Invalid("sum_scale", "= " + std::to_string(d.sum_scale) + ": must be finite");
  }
  if (!(s = CheckExtent("kernel_h", "pad_top", "pad_bottom", "dilation_h", "height", d.in_h,
                        d.pad_top, d.pad_bottom, d.kernel_h, d.dilation_h))
           .ok()) {
    return s;
  }
  if (!(s = CheckExtent("kernel_w", "pad_left", "pad_right", "dilation_w", "width", d.in_w,
                        d.pad_left, d.pad_right, d.kernel_w, d.dilation_w))
           .ok()) {
    return s;
  }
  // Output extents are now in [1, 2^60]; the counts are checked before
  // MakeGeometry multiplies them.
  const int64_t oh =
      (d.in_h + d.pad_top + d.pad_bottom - ((d.kernel_h - 1) * d.dilation_h + 1)) / d.stride_h + 1;
  const int64_t ow =
      (d.in_w + d.pad_left + d.pad_right - ((d.kernel_w - 1) * d.dilation_w + 1)) / d.stride_w + 1;
  // Counted with batch >= 1, so that an empty batch cannot hide per-image
  // sizes that overflow (planning multiplies them).
  const int64_t images = d.batch > 0 ? d.batch : 1;
  // With pixel strides, every pixel counted at its stride (a bound on the
  // span), so pixel offsets fit too.
  const int64_t xs = d.in_pixel_stride != 0 ? d.in_pixel_stride : d.in_channels;
  const int64_t ys = d.out_pixel_stride != 0 ? d.out_pixel_stride : d.out_channels;
  int64_t count;
  if (!(s = CountElements(d.in_pixel_stride != 0 ? "in_pixel_stride" : "input",
                          {images, d.in_h, d.in_w, xs}, &count))
           .ok()) {
    return s;
  }
  if (!(s = CountElements("weights", {d.kernel_h, d.kernel_w, d.in_channels / d.groups,
                                      d.out_channels},
                          &count))
           .ok()) {
    return s;
  }
  if (!(s = CountElements(d.out_pixel_stride != 0 ? "out_pixel_stride" : "output",
                          {images, oh, ow, ys}, &count))
           .ok()) {
    return s;
  }
  // Offsets into one padded image, (ih * W + iw) * C and the taps'
  // (kh * dh * W + kw * dw) * C, must stay in 64-bit even far in the
  // padding: (in_h + pads) x (in_w + pads) x in_channels <= 2^62. Named by
  // the pad that makes it so, else by in_channels.
  {
    const int64_t ph = d.in_h + d.pad_top + d.pad_bottom;  // <= 2^60 each
    const int64_t pw = d.in_w + d.pad_left + d.pad_right;
    int64_t padded;
    if (!CheckedMul(ph, pw, &padded) || !CheckedMul(padded, xs, &padded) ||
        padded > (int64_t{1} << 62)) {
      const bool rows = d.pad_top + d.pad_bottom >= d.pad_left + d.pad_right;
      const char* field = d.pad_top + d.pad_bottom + d.pad_left + d.pad_right == 0
                              ? (d.in_pixel_stride != 0 ? "in_pixel_stride" : "in_channels")
                          : rows ? (d.pad_top >= d.pad_bottom ? "pad_top" : "pad_bottom")
                                 : (d.pad_left >= d.pad_right ? "pad_left" : "pad_right");
      return Invalid(field, "makes the padded input of one image, (in_h + pads) x "
                            "(in_w + pads) x in_pixel_stride (or in_channels), exceed 2^62 "
                            "elements");
    }
  }
  return Status();
}

Status OutputShape(const Conv2dDesc& desc, int64_t* out_h, int64_t* out_w) {
  Status s = Validate(desc);
  if (!s.ok()) return s;
  if (out_h == nullptr || out_w == nullptr) {
    return Invalid(out_h == nullptr ? "out_h" : "out_w", "is null");
  }
  const ConvGeometry g = MakeGeometry(desc);
  *out_h = g.oh;
  *out_w = g.ow;
  return Status();
}

TensorSizes Sizes(const Conv2dDesc& desc) {
  TensorSizes t;
  if (!Validate(desc).ok()) return t;
  const ConvGeometry g = MakeGeometry(desc);
  // Dense: every pixel's channels; strided: up to the last pixel's last one.
  t.input = g.n == 0 ? 0 : (g.n * g.h * g.w - 1) * g.xs + g.cin;
  t.weights = g.taps * g.cg * g.cout;
  t.bias = g.has_bias ? g.cout : 0;
  t.output = g.m == 0 ? 0 : (g.m - 1) * g.ys + g.cout;
  return t;
}

double Flops(const Conv2dDesc& desc) {
  if (!Validate(desc).ok()) return 0.0;
  const ConvGeometry g = MakeGeometry(desc);
  return 2.0 * static_cast<double>(g.m) * static_cast<double>(g.cout) *
         static_cast<double>(g.k);
}

}  // namespace convkit
