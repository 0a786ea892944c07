// Fuzzes the whole descriptor and the options over their full integer
// ranges (fuzz_input.h): Validate, OutputShape, QueryPlan, Sizes, the shape
// spec round trip and TransposedAsConv must never crash, overflow (UBSan) or
// disagree; an error must name a field. A descriptor small enough to run is
// run, by the planned algorithm, and checked against the double reference,
// and its backward passes are run: the corner cases Validate accepts are
// the ones that once read out of bounds.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "convkit/convkit.h"
#include "fuzz/fuzz_input.h"
#include "lib/ref/check.h"

namespace convkit {
namespace fuzz {
namespace {

[[noreturn]] void Fail(const char* what, const Conv2dDesc& d, const std::string& detail = "") {
  std::fprintf(stderr, "desc_fuzzer: %s: %s %s\n", what, FormatShapeSpec(d).c_str(),
               detail.c_str());
  std::abort();
}

void RunSmall(const Conv2dDesc& d, Options o) {
  const TensorSizes sz = Sizes(d);
  // Ones everywhere: every product is exact, so the check is sharp.
  std::vector<float> x(std::max<int64_t>(sz.input, 1), 1.0f),
      w(std::max<int64_t>(sz.weights, 1), 1.0f), b(std::max<int64_t>(d.out_channels, 1), 1.0f),
      prev(std::max<int64_t>(sz.output, 1), 1.0f), y(prev);
  if (o.threads > 2) o.threads = 2;  // the count is fuzzed through QueryPlan
  const Status s = Conv2dForward(d, x.data(), w.data(), d.has_bias ? b.data() : nullptr,
                                 y.data(), o);
  if (!s.ok()) {
    if (s.code() != StatusCode::kOutOfMemory) Fail("QueryPlan ok, Conv2dForward not", d, s.message());
    return;
  }
  ref::ReferenceOutputs ref;
  if (!ref::ComputeReference(d, x.data(), w.data(), d.has_bias ? b.data() : nullptr, &ref,
                             d.has_sum ? prev.data() : nullptr)
           .ok()) {
    Fail("reference rejected a valid descriptor", d);
  }
  const std::string cmp = ref::CompareWithReference(d, ref, y.data(), false);
  if (!cmp.empty()) Fail("wrong result", d, cmp);
  if (!d.has_sum && d.output_min == -INFINITY && d.output_max == INFINITY) {
    std::vector<float> dx(std::max<int64_t>(sz.input, 1)), dw(std::max<int64_t>(sz.weights, 1)),
        db(std::max<int64_t>(d.out_channels, 1));
    Options bo;
    bo.max_target = o.max_target;
    bo.threads = o.threads;
    const Status bd = Conv2dBackwardData(d, prev.data(), w.data(), dx.data(), bo);
    const Status bw = Conv2dBackwardWeights(d, x.data(), prev.data(), dw.data(),
                                            d.has_bias ? db.data() : nullptr, bo);
    if (!bd.ok() && bd.code() != StatusCode::kOutOfMemory) Fail("backward data", d, bd.message());
    if (!bw.ok() && bw.code() != StatusCode::kOutOfMemory) Fail("backward weights", d, bw.message());
  }
}

}  // namespace
}  // namespace fuzz
}  // namespace convkit

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace convkit;
  fuzz::Reader r(data, size);
  Conv2dDesc d;
  Options o;
  int64_t out_pad_h = 0, out_pad_w = 0;
  fuzz::DecodeFull(&r, &d, &o, &out_pad_h, &out_pad_w);

  const Status v = Validate(d);
  if (!v.ok() && (v.field().empty() || v.message().empty())) {
    fuzz::Fail("an error without a field or message", d);
  }
  int64_t oh = -1, ow = -1;
  const Status os = OutputShape(d, &oh, &ow);
  if (v.ok() && !os.ok()) fuzz::Fail("Validate ok, OutputShape not", d, os.message());
  if (os.ok() && (oh < 1 || ow < 1)) fuzz::Fail("OutputShape gave an empty output", d);
  PlanInfo info;
  const Status q = QueryPlan(d, o, &info);
  if (q.ok() && !v.ok()) fuzz::Fail("QueryPlan accepted what Validate rejected", d);
  if (!q.ok() && q.field().empty()) fuzz::Fail("QueryPlan error without a field", d);
  const std::vector<Algorithm> algos = ApplicableAlgorithms(d);
  if (v.ok() != !algos.empty()) fuzz::Fail("ApplicableAlgorithms disagrees with Validate", d);
  if (v.ok()) {
    const TensorSizes sz = Sizes(d);
    const double flops = Flops(d);
    const std::string spec = FormatShapeSpec(d);
    Conv2dDesc back;
    const Status p = ParseShapeSpec(spec, &back);
    if (!p.ok()) fuzz::Fail("FormatShapeSpec wrote what ParseShapeSpec rejects", d, p.message());
    if (FormatShapeSpec(back) != spec) fuzz::Fail("shape spec round trip", d, FormatShapeSpec(back));
    if (q.ok() && sz.input <= (1 << 14) && sz.weights <= (1 << 14) && sz.output <= (1 << 14) &&
        flops <= 4e6) {
      fuzz::RunSmall(d, o);
    }
  }

  ConvTranspose2dDesc t;
  t.batch = d.batch;
  t.in_h = d.in_h;
  t.in_w = d.in_w;
  t.in_channels = d.in_channels;
  t.out_channels = d.out_channels;
  t.kernel_h = d.kernel_h;
  t.kernel_w = d.kernel_w;
  t.stride_h = d.stride_h;
  t.stride_w = d.stride_w;
  t.pad_top = d.pad_top;
  t.pad_bottom = d.pad_bottom;
  t.pad_left = d.pad_left;
  t.pad_right = d.pad_right;
  t.output_pad_h = out_pad_h;
  t.output_pad_w = out_pad_w;
  t.dilation_h = d.dilation_h;
  t.dilation_w = d.dilation_w;
  t.groups = d.groups;
  t.has_bias = d.has_bias;
  t.layout = d.layout;
  t.weights_layout = d.weights_layout;
  t.in_pixel_stride = d.in_pixel_stride;
  t.out_pixel_stride = d.out_pixel_stride;
  Conv2dDesc c;
  const Status ts = TransposedAsConv(t, &c);
  if (ts.ok() && !Validate(c).ok()) fuzz::Fail("TransposedAsConv gave an invalid convolution", c);
  if (!ts.ok() && ts.field().empty()) fuzz::Fail("TransposedAsConv error without a field", c);
  return 0;
}
