// Differential fuzzer: small convolutions (every dimension <= 16) with
// fuzzed shape, post-ops, layouts, data, algorithm, target and thread count,
// against the double references with the library's tolerance rule (forward;
// and, without post-ops, backward data and backward weights). Layout in
// DecodeSmall below; fuzz/make_seeds.py writes seeds in it.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "fuzz/fuzz_input.h"
#include "lib/common/random.h"
#include "lib/ref/backward_ref.h"
#include "lib/ref/check.h"

namespace convkit {
namespace fuzz {
namespace {

struct Case {
  Conv2dDesc desc;
  Options options;
  uint64_t seed = 0;
};

// 24 bytes: n, h, w, groups, Cin/G, Cout/G, kh, kw, strides, pads (2),
// dilations, flags, sum_scale, algorithm, target, threads, then the data
// seed (8 bytes) and the pixel strides (1 byte).
Case DecodeSmall(Reader* r) {
  Case c;
  Conv2dDesc& d = c.desc;
  d.batch = r->Byte() % 4;
  d.in_h = 1 + r->Byte() % 16;
  d.in_w = 1 + r->Byte() % 16;
  d.groups = 1 + r->Byte() % 4;
  d.in_channels = d.groups * (1 + r->Byte() % 8);
  d.out_channels = d.groups * (1 + r->Byte() % 8);
  d.kernel_h = 1 + r->Byte() % 5;
  d.kernel_w = 1 + r->Byte() % 5;
  const uint8_t s = r->Byte();
  d.stride_h = 1 + s % 3;
  d.stride_w = 1 + (s / 3) % 3;
  const uint8_t p0 = r->Byte(), p1 = r->Byte();
  d.pad_top = p0 % 4;
  d.pad_bottom = (p0 / 4) % 4;
  d.pad_left = p1 % 4;
  d.pad_right = (p1 / 4) % 4;
  const uint8_t dil = r->Byte();
  d.dilation_h = 1 + dil % 3;
  d.dilation_w = 1 + (dil / 3) % 3;
  const uint8_t flags = r->Byte();
  d.has_bias = flags & 1;
  d.layout = flags & 2 ? Layout::kNchw : Layout::kNhwc;
  d.weights_layout = flags & 4 ? WeightsLayout::kOihw : WeightsLayout::kHwio;
  if (flags & 8) {  // depthwise
    d.in_channels = d.out_channels = d.groups = 1 + (flags >> 4) % 16;
  }
  const uint8_t post = r->Byte();
  d.has_sum = post & 1;
  d.sum_scale = static_cast<float>(static_cast<int>(post >> 2) - 32) / 16.0f;
  if (post & 2) {
    d.output_min = (post & 4) ? 0.0f : -0.5f;
    d.output_max = (post & 8) ? 0.5f : INFINITY;
  }
  const uint8_t algo = r->Byte(), target = r->Byte(), threads = r->Byte();
  const std::vector<Algorithm> algos = ApplicableAlgorithms(d);
  c.options.algorithm = algos.empty() || algo % (algos.size() + 1) == algos.size()
                            ? Algorithm::kAuto
                            : algos[algo % (algos.size() + 1)];
  const std::vector<std::string> targets = SupportedTargets();
  c.options.max_target = targets[target % targets.size()];
  c.options.threads = 1 + threads % 4;
  c.seed = r->Take<uint64_t>();
  // Pixel strides (NHWC), last so that older corpus inputs decode as before.
  const uint8_t ps = r->Byte();
  if (d.layout == Layout::kNhwc) {
    if (ps & 1) d.in_pixel_stride = d.in_channels + (ps >> 2) % 8;
    if (ps & 2) d.out_pixel_stride = d.out_channels + (ps >> 5);
  }
  return c;
}

void Fill(std::vector<float>* v, uint64_t seed) {
  const uint64_t base = SplitMix64(seed);
  for (size_t i = 0; i < v->size(); ++i) {
    const uint64_t x = SplitMix64(base + i);
    (*v)[i] = static_cast<float>(static_cast<double>(x >> 40) * 0x1p-23 - 1.0);
  }
}

[[noreturn]] void Fail(const Case& c, const std::string& what) {
  std::fprintf(stderr, "conv_fuzzer: %s [%s, %s, %d threads]: %s\n", what.c_str(),
               AlgorithmName(c.options.algorithm), c.options.max_target.c_str(),
               c.options.threads, FormatShapeSpec(c.desc).c_str());
  std::abort();
}

// Every element of got within the tolerance of want (terms per output).
void Near(const Case& c, const char* what, const std::vector<double>& want,
          const std::vector<double>& mag, const std::vector<float>& got, int64_t terms) {
  for (size_t i = 0; i < want.size(); ++i) {
    if (!(std::fabs(got[i] - want[i]) <= ref::Tolerance(want[i], mag[i], terms))) {
      Fail(c, std::string(what) + " wrong at " + std::to_string(i) + ": " +
                  std::to_string(got[i]) + " want " + std::to_string(want[i]));
    }
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace convkit

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace convkit;
  fuzz::Reader r(data, size);
  const fuzz::Case c = fuzz::DecodeSmall(&r);
  const Conv2dDesc& d = c.desc;
  if (!Validate(d).ok()) return 0;  // e.g. a dilated kernel larger than the padded input
  const TensorSizes sz = Sizes(d);
  std::vector<float> x(std::max<int64_t>(sz.input, 1)), w(std::max<int64_t>(sz.weights, 1)),
      b(std::max<int64_t>(d.out_channels, 1)), prev(std::max<int64_t>(sz.output, 1));
  fuzz::Fill(&x, c.seed);
  fuzz::Fill(&w, c.seed + 1);
  fuzz::Fill(&b, c.seed + 2);
  fuzz::Fill(&prev, c.seed + 3);
  std::vector<float> y(prev);
  const float* bias = d.has_bias ? b.data() : nullptr;
  const Status s = Conv2dForward(d, x.data(), w.data(), bias, y.data(), c.options);
  if (!s.ok()) fuzz::Fail(c, "forward failed: " + s.message());
  ref::ReferenceOutputs ref;
  if (!ref::ComputeReference(d, x.data(), w.data(), bias, &ref, d.has_sum ? prev.data() : nullptr)
           .ok()) {
    fuzz::Fail(c, "reference failed");
  }
  const std::string cmp = ref::CompareWithReference(d, ref, y.data(), false);
  if (!cmp.empty()) fuzz::Fail(c, "forward: " + cmp);
  // Floats between output pixels keep what they held.
  const int64_t ys = d.out_pixel_stride;
  for (int64_t i = 0; ys > d.out_channels && i < sz.output; ++i) {
    if (i % ys >= d.out_channels && std::memcmp(&y[i], &prev[i], sizeof(float)) != 0) {
      fuzz::Fail(c, "forward wrote between output pixels at " + std::to_string(i));
    }
  }

  if (d.has_sum || d.output_min != -INFINITY || d.output_max != INFINITY) return 0;
  Options bo = c.options;
  bo.algorithm = Algorithm::kAuto;
  const std::vector<float>& dy = prev;
  std::vector<float> dx(x.size()), dw(w.size()), db(b.size());
  Status bs = Conv2dBackwardData(d, dy.data(), w.data(), dx.data(), bo);
  if (!bs.ok()) fuzz::Fail(c, "backward data failed: " + bs.message());
  bs = Conv2dBackwardWeights(d, x.data(), dy.data(), dw.data(), d.has_bias ? db.data() : nullptr, bo);
  if (!bs.ok()) fuzz::Fail(c, "backward weights failed: " + bs.message());
  std::vector<double> rdx(sz.input), rdx_abs(sz.input), rdw(sz.weights), rdw_abs(sz.weights),
      rdb(d.out_channels), rdb_abs(d.out_channels);
  ref::BackwardData(d, dy.data(), w.data(), nullptr, rdx.data(), rdx_abs.data());
  ref::BackwardWeights(d, x.data(), dy.data(), rdw.data(), rdw_abs.data(), rdb.data(),
                       rdb_abs.data());
  int64_t oh = 0, ow = 0;
  (void)OutputShape(d, &oh, &ow);
  fuzz::Near(c, "dx", rdx, rdx_abs, dx, d.kernel_h * d.kernel_w * (d.out_channels / d.groups));
  fuzz::Near(c, "dw", rdw, rdw_abs, dw, d.batch * oh * ow);
  if (d.has_bias) {
    fuzz::Near(c, "dbias", rdb, rdb_abs, db, d.batch * oh * ow);
  }
  return 0;
}
