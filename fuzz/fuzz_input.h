// Decoding a fuzzer's bytes into convkit's descriptors and options. Fixed
// layout, little-endian; a short input reads as zeros from where it ends, so
// every byte string is some descriptor. fuzz/make_seeds.py writes the seed
// corpus in the same layout.
#ifndef CONVKIT_FUZZ_FUZZ_INPUT_H_
#define CONVKIT_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "convkit/convkit.h"

namespace convkit {
namespace fuzz {

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  template <class T>
  T Take() {
    T v{};
    unsigned char bytes[sizeof(T)] = {};
    const size_t n = pos_ < size_ ? std::min(sizeof(T), size_ - pos_) : 0;
    if (n > 0) std::memcpy(bytes, data_ + pos_, n);
    pos_ += sizeof(T);
    std::memcpy(&v, bytes, sizeof(T));
    return v;
  }
  uint8_t Byte() { return Take<uint8_t>(); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// The target names Options::max_target is drawn from: every name convkit
// knows on any architecture, the empty limit, and two invalid ones.
inline const char* TargetName(uint8_t i) {
  static const char* const kNames[] = {"",     "AVX3",  "AVX2",   "SSE4",    "SSSE3",
                                       "SCALAR", "EMU128", "BEST", "NEON",   "SVE",
                                       "avx2", "AVX9000"};
  return kNames[i % (sizeof(kNames) / sizeof(kNames[0]))];
}

// Layout (desc fuzzer, full ranges): 16 int64 fields in Conv2dDesc's order
// (batch, in_h, in_w, in_channels, out_channels, kernel_h, kernel_w,
// stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right, dilation_h,
// dilation_w, groups), a flags byte (bit 0 has_bias, 1 has_sum, 2 NCHW,
// 3 OIHW; the raw byte's upper bits go into the layout enums when bit 7 is
// set, to try values outside them), 3 floats (sum_scale, output_min,
// output_max), then options: algorithm (int32, any value), threads (int32),
// max_target (byte index into TargetName), then 2 int64 output paddings for
// the transposed descriptor.
inline void DecodeFull(Reader* r, Conv2dDesc* d, Options* o, int64_t* out_pad_h,
                       int64_t* out_pad_w) {
  int64_t* fields[] = {&d->batch,      &d->in_h,       &d->in_w,      &d->in_channels,
                       &d->out_channels, &d->kernel_h, &d->kernel_w,  &d->stride_h,
                       &d->stride_w,   &d->pad_top,    &d->pad_bottom, &d->pad_left,
                       &d->pad_right,  &d->dilation_h, &d->dilation_w, &d->groups};
  for (int64_t* f : fields) *f = r->Take<int64_t>();
  const uint8_t flags = r->Byte();
  d->has_bias = flags & 1;
  d->has_sum = flags & 2;
  if (flags & 0x80) {  // out-of-range enum values: must be rejected, not used
    d->layout = static_cast<Layout>((flags >> 2) & 3);
    d->weights_layout = static_cast<WeightsLayout>((flags >> 4) & 3);
  } else {
    d->layout = flags & 4 ? Layout::kNchw : Layout::kNhwc;
    d->weights_layout = flags & 8 ? WeightsLayout::kOihw : WeightsLayout::kHwio;
  }
  d->sum_scale = r->Take<float>();
  d->output_min = r->Take<float>();
  d->output_max = r->Take<float>();
  o->algorithm = static_cast<Algorithm>(r->Take<int32_t>());
  o->threads = r->Take<int32_t>();
  o->max_target = TargetName(r->Byte());
  *out_pad_h = r->Take<int64_t>();
  *out_pad_w = r->Take<int64_t>();
  // Last, so that inputs written before these fields decode as before (0).
  d->in_pixel_stride = r->Take<int64_t>();
  d->out_pixel_stride = r->Take<int64_t>();
}

}  // namespace fuzz
}  // namespace convkit

#endif  // CONVKIT_FUZZ_FUZZ_INPUT_H_
