// The backward passes and the transposed convolution on every target: against
// the double references (lib/ref/backward_ref.h) with the tolerance rule of
// check.h, bit-identical across thread counts, the adjoint identities
//   <conv(x), dy> = <x, backward_data(dy)>,  <conv_w(x), dy> = <w, dw>
// in double, central finite differences, the notebook's training example,
// and bad input.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "gtest/gtest.h"
#include "lib/ref/backward_ref.h"
#include "lib/ref/check.h"
#include "tests/testing/conv_tester.h"
#include "tests/testing/targets.h"

namespace convkit {
namespace testing {
namespace {

class BackwardTest : public TargetTest {};
CONVKIT_INSTANTIATE_PER_TARGET(BackwardTest);

constexpr float kGuard = -777.25f;

// Shapes covering groups, depthwise, stride, padding, dilation, non-square
// kernels, remainders of MR and NR, and several images; each runs in every
// layout pair.
const std::vector<std::string>& Shapes() {
  static const std::vector<std::string> shapes = {
      "n=2,h=8,w=8,ci=3,co=4,k=3x3",
      "n=2,h=9,w=10,ci=19,co=21,k=3x3,p=1,bias=1",
      "n=1,h=6,w=7,ci=40,co=33,k=1x1",
      "n=2,h=12,w=11,ci=16,co=13,k=3x3,s=2,p=1,d=2,bias=1",
      "n=3,h=7,w=9,ci=12,co=18,k=5x3,g=3,s=2x1,p=2:0:1:1",
      "n=2,h=10,w=9,ci=13,co=13,k=3x3,g=13,p=1,bias=1",
      "n=1,h=17,w=19,ci=3,co=5,k=5x5,s=3",
      "n=5,h=3,w=2,ci=7,co=29,k=2x2,s=1x2,p=1",
      // Depthwise with stride 1 runs backward data as a forward
      // convolution (above, g=13), except where a pad exceeds the dilated
      // kernel's span: these keep the indirect GEMM.
      "n=2,h=6,w=7,ci=9,co=9,k=2x3,g=9,p=2:0:1:3,bias=1",
      "n=1,h=5,w=6,ci=20,co=20,k=1x1,g=20,p=1",
      "n=2,h=9,w=8,ci=6,co=6,k=3x3,g=6,d=2,p=3:1:2:2",
      // Output channels per group in whole vectors of every x86 target:
      // NHWC backward weights reads x and dy in place (the pixel tile),
      // with remainders of MR rows (17, 15 channels per group), a last
      // column panel of one vector (48 at AVX3), padding taps that miss
      // whole rows, and groups.
      "n=2,h=9,w=8,ci=17,co=48,k=3x3,s=2,p=1,bias=1",
      "n=1,h=7,w=9,ci=30,co=64,k=3x3,g=2,d=2,p=3:2:1:4",
      "n=3,h=5,w=6,ci=6,co=16,k=1x1,s=2x1",
      // Several pixel chunks (of whole output rows) with the small caches
      // of backward_test_small_caches (one chunk with real ones).
      "n=4,h=20,w=20,ci=16,co=64,k=3x3,p=1,bias=1",
  };
  return shapes;
}
const char* const kLayouts[] = {"", ",layout=nchw,weights=oihw", ",layout=nchw", ",weights=oihw"};

std::vector<float> Random(int64_t count, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(std::max<int64_t>(count, 1)));
  FillRandom(v.data(), count, seed);
  return v;
}

// Float results against a double reference, element by element.
::testing::AssertionResult Near(const std::vector<double>& want, const std::vector<double>& mag,
                                const float* got, int64_t terms, const std::string& what) {
  int64_t bad = 0;
  std::string first;
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = ref::Tolerance(want[i], mag[i], terms);
    if (!(std::fabs(got[i] - want[i]) <= tol)) {
      if (bad++ == 0) {
        first = " first at " + std::to_string(i) + ": got " + std::to_string(got[i]) +
                " want " + std::to_string(want[i]) + " tol " + std::to_string(tol);
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << want.size()
                                       << " wrong," << first;
}

// An output buffer with guards on both sides.
struct Guarded {
  explicit Guarded(int64_t n) : v(static_cast<size_t>(n + 128), kGuard), count(n) {}
  float* data() { return v.data() + 64; }
  bool GuardsHold() const {
    for (int64_t i = 0; i < 64; ++i) {
      if (v[i] != kGuard || v[64 + count + i] != kGuard) return false;
    }
    return true;
  }
  std::vector<float> v;
  int64_t count;
};

TEST_P(BackwardTest, DataAndWeightsAgainstReference) {
  for (const std::string& shape : Shapes()) {
    for (const char* layout : kLayouts) {
      const Conv2dDesc d = Spec(shape + layout);
      SCOPED_TRACE(FormatShapeSpec(d));
      const TensorSizes sz = Sizes(d);
      const std::vector<float> x = Random(sz.input, 1), w = Random(sz.weights, 2);
      const std::vector<float> dy = Random(sz.output, 3);
      std::vector<double> dx_ref(sz.input), dx_mag(sz.input);
      ref::BackwardData(d, dy.data(), w.data(), nullptr, dx_ref.data(), dx_mag.data());
      std::vector<double> dw_ref(sz.weights), dw_mag(sz.weights), db_ref(d.out_channels),
          db_mag(d.out_channels);
      ref::BackwardWeights(d, x.data(), dy.data(), dw_ref.data(), dw_mag.data(),
                           d.has_bias ? db_ref.data() : nullptr, db_mag.data());
      const int64_t data_terms = d.kernel_h * d.kernel_w * d.out_channels / d.groups;
      int64_t oh = 0, ow = 0;
      ASSERT_TRUE(OutputShape(d, &oh, &ow).ok());
      const int64_t weight_terms = d.batch * oh * ow;
      std::vector<float> first_dx, first_dw;
      for (int threads : {1, 2, 3, 5}) {
        Options o;
        o.max_target = target();
        o.threads = threads;
        Guarded dx(sz.input), dw(sz.weights), db(d.out_channels);
        ASSERT_TRUE(Conv2dBackwardData(d, dy.data(), w.data(), dx.data(), o).ok());
        const Status s = Conv2dBackwardWeights(d, x.data(), dy.data(), dw.data(),
                                               d.has_bias ? db.data() : nullptr, o);
        ASSERT_TRUE(s.ok()) << s.message();
        EXPECT_TRUE(dx.GuardsHold() && dw.GuardsHold() && db.GuardsHold());
        if (threads == 1) {
          EXPECT_TRUE(Near(dx_ref, dx_mag, dx.data(), data_terms, "dx"));
          EXPECT_TRUE(Near(dw_ref, dw_mag, dw.data(), weight_terms, "dw"));
          if (d.has_bias) {
            EXPECT_TRUE(Near(db_ref, db_mag, db.data(), weight_terms, "dbias"));
          }
          first_dx.assign(dx.data(), dx.data() + sz.input);
          first_dw.assign(dw.data(), dw.data() + sz.weights);
        } else {
          EXPECT_EQ(0, std::memcmp(first_dx.data(), dx.data(), first_dx.size() * 4))
              << threads << " threads: dx differs from 1 thread";
          EXPECT_EQ(0, std::memcmp(first_dw.data(), dw.data(), first_dw.size() * 4))
              << threads << " threads: dw differs from 1 thread";
        }
      }
    }
  }
}

// NHWC pixel strides: x and dy read only at their pixels' channels (NaN in
// between), dx written only there (guards in between), against the
// references at the same strides, bit-identical across thread counts.
TEST_P(BackwardTest, PixelStrides) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const std::string& shape : Shapes()) {
    for (const char* weights : {"", ",weights=oihw"}) {
      Conv2dDesc d = Spec(shape + weights);
      d.in_pixel_stride = d.in_channels + 3;
      d.out_pixel_stride = 2 * d.out_channels + 1;
      SCOPED_TRACE(FormatShapeSpec(d));
      const TensorSizes sz = Sizes(d);
      std::vector<float> x = Random(sz.input, 1), w = Random(sz.weights, 2);
      std::vector<float> dy = Random(sz.output, 3);
      auto x_gap = [&](int64_t i) { return i % d.in_pixel_stride >= d.in_channels; };
      auto y_gap = [&](int64_t i) { return i % d.out_pixel_stride >= d.out_channels; };
      for (int64_t i = 0; i < sz.input; ++i) {
        if (x_gap(i)) x[i] = nan;
      }
      for (int64_t i = 0; i < sz.output; ++i) {
        if (y_gap(i)) dy[i] = nan;
      }
      std::vector<double> dx_ref(sz.input), dx_mag(sz.input);
      ref::BackwardData(d, dy.data(), w.data(), nullptr, dx_ref.data(), dx_mag.data());
      std::vector<double> dw_ref(sz.weights), dw_mag(sz.weights), db_ref(d.out_channels),
          db_mag(d.out_channels);
      ref::BackwardWeights(d, x.data(), dy.data(), dw_ref.data(), dw_mag.data(),
                           d.has_bias ? db_ref.data() : nullptr, db_mag.data());
      int64_t oh = 0, ow = 0;
      ASSERT_TRUE(OutputShape(d, &oh, &ow).ok());
      const int64_t data_terms = d.kernel_h * d.kernel_w * d.out_channels / d.groups;
      const int64_t weight_terms = d.batch * oh * ow;
      std::vector<float> first_dx;
      for (int threads : {1, 3}) {
        Options o;
        o.max_target = target();
        o.threads = threads;
        Guarded dx(sz.input), dw(sz.weights), db(d.out_channels);
        ASSERT_TRUE(Conv2dBackwardData(d, dy.data(), w.data(), dx.data(), o).ok());
        const Status s = Conv2dBackwardWeights(d, x.data(), dy.data(), dw.data(),
                                               d.has_bias ? db.data() : nullptr, o);
        ASSERT_TRUE(s.ok()) << s.message();
        EXPECT_TRUE(dx.GuardsHold() && dw.GuardsHold() && db.GuardsHold());
        int64_t bad = 0;
        for (int64_t i = 0; i < sz.input; ++i) {
          const float got = dx.data()[i];
          bad += x_gap(i) ? got != kGuard
                          : !(std::fabs(got - dx_ref[i]) <=
                              ref::Tolerance(dx_ref[i], dx_mag[i], data_terms));
        }
        EXPECT_EQ(0, bad) << threads << " threads: dx wrong or written between pixels";
        EXPECT_TRUE(Near(dw_ref, dw_mag, dw.data(), weight_terms, "dw"));
        if (d.has_bias) {
          EXPECT_TRUE(Near(db_ref, db_mag, db.data(), weight_terms, "dbias"));
        }
        if (threads == 1) {
          first_dx.assign(dx.data(), dx.data() + sz.input);
        } else {
          EXPECT_EQ(0, std::memcmp(first_dx.data(), dx.data(), first_dx.size() * 4));
        }
      }
    }
  }
}

// <conv(x), dy> = <x, dx> and <conv_w(x), dy> = <w, dw>, in double: the
// backward passes are the adjoints of the forward convolution.
TEST_P(BackwardTest, AdjointIdentities) {
  for (const std::string& shape : Shapes()) {
    for (const char* layout : kLayouts) {
      Conv2dDesc d = Spec(shape + layout);
      d.has_bias = false;
      SCOPED_TRACE(FormatShapeSpec(d));
      const TensorSizes sz = Sizes(d);
      const std::vector<float> x = Random(sz.input, 4), w = Random(sz.weights, 5);
      const std::vector<float> dy = Random(sz.output, 6);
      std::vector<double> y(sz.output), ymag(sz.output);
      ASSERT_TRUE(ReferenceConv2d(d, x.data(), w.data(), nullptr, y.data(), ymag.data()).ok());
      Options o;
      o.max_target = target();
      std::vector<float> dx(sz.input), dw(sz.weights);
      ASSERT_TRUE(Conv2dBackwardData(d, dy.data(), w.data(), dx.data(), o).ok());
      ASSERT_TRUE(Conv2dBackwardWeights(d, x.data(), dy.data(), dw.data(), nullptr, o).ok());
      double lhs = 0, bound = 0, rhs_x = 0, rhs_w = 0, mag_x = 0, mag_w = 0;
      for (int64_t i = 0; i < sz.output; ++i) {
        lhs += y[i] * dy[i];
        bound += ymag[i] * std::fabs(dy[i]);
      }
      for (int64_t i = 0; i < sz.input; ++i) {
        rhs_x += static_cast<double>(x[i]) * dx[i];
        mag_x += std::fabs(static_cast<double>(x[i]) * dx[i]);
      }
      for (int64_t i = 0; i < sz.weights; ++i) {
        rhs_w += static_cast<double>(w[i]) * dw[i];
        mag_w += std::fabs(static_cast<double>(w[i]) * dw[i]);
      }
      // The float passes' own bound, summed over the products (check.h):
      // each dx / dw element is within gamma * its magnitude.
      int64_t oh = 0, ow = 0;
      ASSERT_TRUE(OutputShape(d, &oh, &ow).ok());
      const double u = std::ldexp(1.0, -24);
      const double gx = 8 * std::sqrt(static_cast<double>(
                                d.kernel_h * d.kernel_w * d.out_channels / d.groups + 1)) * u;
      const double gw = 8 * std::sqrt(static_cast<double>(d.batch * oh * ow + 1)) * u;
      EXPECT_NEAR(lhs, rhs_x, gx * bound + 1e-12 * mag_x) << "<conv(x), dy> vs <x, dx>";
      EXPECT_NEAR(lhs, rhs_w, gw * bound + 1e-12 * mag_w) << "<conv_w(x), dy> vs <w, dw>";
    }
  }
}

// Central differences of L(x, w) = <conv(x, w), dy> (double reference) at a
// few elements: dL/dx_i = dx_i, dL/dw_j = dw_j.
TEST_P(BackwardTest, FiniteDifferences) {
  for (const char* spec : {"n=2,h=6,w=5,ci=3,co=4,k=3x3,s=2,p=1,layout=nchw,weights=oihw",
                           "n=1,h=7,w=7,ci=4,co=6,k=3x2,g=2,d=2,p=1"}) {
    const Conv2dDesc d = Spec(spec);
    const TensorSizes sz = Sizes(d);
    std::vector<float> x = Random(sz.input, 7), w = Random(sz.weights, 8);
    const std::vector<float> dy = Random(sz.output, 9);
    Options o;
    o.max_target = target();
    std::vector<float> dx(sz.input), dw(sz.weights);
    ASSERT_TRUE(Conv2dBackwardData(d, dy.data(), w.data(), dx.data(), o).ok());
    ASSERT_TRUE(Conv2dBackwardWeights(d, x.data(), dy.data(), dw.data(), nullptr, o).ok());
    auto loss = [&]() {
      std::vector<double> y(sz.output);
      EXPECT_TRUE(ReferenceConv2d(d, x.data(), w.data(), nullptr, y.data()).ok());
      double l = 0;
      for (int64_t i = 0; i < sz.output; ++i) l += y[i] * dy[i];
      return l;
    };
    const float h = 0.25f;  // exact in float; L is linear in each element
    for (int64_t i = 0; i < sz.input; i += 7) {
      const float keep = x[i];
      x[i] = keep + h;
      const double up = loss();
      x[i] = keep - h;
      const double down = loss();
      x[i] = keep;
      EXPECT_NEAR((up - down) / (2 * h), dx[i], 1e-5) << spec << " dx[" << i << "]";
    }
    for (int64_t j = 0; j < sz.weights; j += 5) {
      const float keep = w[j];
      w[j] = keep + h;
      const double up = loss();
      w[j] = keep - h;
      const double down = loss();
      w[j] = keep;
      EXPECT_NEAR((up - down) / (2 * h), dw[j], 1e-5) << spec << " dw[" << j << "]";
    }
  }
}

// The notebook's training example (../shared/seeds/001): Conv2d(kernel 3,
// 1 -> 4 channels, stride 1) on x of shape (16, 1, 32, 32), NCHW, weights
// (k, k, c_in, c_out) = HWIO, backward with G = ones. The notebook's
// grads['w'] = x_f^T G (x_f: its im2col) is our dw; its grads['x'] = G W^T
// lives on the patches, and folding it back onto the input (col2im) is our dx.
TEST_P(BackwardTest, NotebookTrainingExample) {
  const Conv2dDesc d = Spec("n=16,h=32,w=32,ci=1,co=4,k=3x3,layout=nchw");
  const TensorSizes sz = Sizes(d);
  std::vector<float> x = Random(sz.input, 10), w = Random(sz.weights, 11);
  for (float& v : w) v *= 0.01f;
  const std::vector<float> g(sz.output, 1.0f);
  Options o;
  o.max_target = target();
  std::vector<float> dx(sz.input), dw(sz.weights);
  ASSERT_TRUE(Conv2dBackwardData(d, g.data(), w.data(), dx.data(), o).ok());
  ASSERT_TRUE(Conv2dBackwardWeights(d, x.data(), g.data(), dw.data(), nullptr, o).ok());
  const int k = 3, oh = 30, ow = 30, cout = 4;
  std::vector<double> gw(9 * cout, 0.0), gx(sz.input, 0.0), gw_mag(9 * cout, 0.0),
      gx_mag(sz.input, 0.0);
  for (int n = 0; n < 16; ++n)
    for (int y = 0; y < oh; ++y)
      for (int xx = 0; xx < ow; ++xx)
        for (int q = 0; q < k * k; ++q) {  // patch column (kh, kw)
          const int64_t xi = (n * 32 + y + q / k) * 32 + xx + q % k;
          for (int o2 = 0; o2 < cout; ++o2) {
            gw[q * cout + o2] += x[xi];  // x_f^T G
            gw_mag[q * cout + o2] += std::fabs(x[xi]);
            gx[xi] += w[q * cout + o2];  // (G W^T), folded
            gx_mag[xi] += std::fabs(w[q * cout + o2]);
          }
        }
  EXPECT_TRUE(Near(gw, gw_mag, dw.data(), 16 * oh * ow, "dw"));
  EXPECT_TRUE(Near(gx, gx_mag, dx.data(), k * k * cout, "dx"));
}

// conv_transpose2d: the backward-data pass plus a bias, with output padding.
TEST_P(BackwardTest, TransposedConvolution) {
  struct Case {
    ConvTranspose2dDesc t;
    int64_t out_h, out_w;
  };
  std::vector<Case> cases;
  {
    ConvTranspose2dDesc t;  // DCGAN-style upsampling: 4x4, stride 2, pad 1
    t.batch = 2;
    t.in_h = 5;
    t.in_w = 6;
    t.in_channels = 8;
    t.out_channels = 6;
    t.kernel_h = t.kernel_w = 4;
    t.stride_h = t.stride_w = 2;
    t.pad_top = t.pad_bottom = t.pad_left = t.pad_right = 1;
    t.has_bias = true;
    cases.push_back({t, 10, 12});
    t.kernel_h = t.kernel_w = 3;  // 3x3 stride 2 with output padding 1
    t.output_pad_h = t.output_pad_w = 1;
    t.layout = Layout::kNchw;
    t.weights_layout = WeightsLayout::kOihw;
    cases.push_back({t, 10, 12});
    t.groups = 2;
    t.dilation_h = 2;
    t.output_pad_h = 0;
    t.has_bias = false;
    cases.push_back({t, 11, 12});
  }
  for (const Case& c : cases) {
    Conv2dDesc conv;
    ASSERT_TRUE(TransposedAsConv(c.t, &conv).ok());
    EXPECT_EQ(c.out_h, conv.in_h);
    EXPECT_EQ(c.out_w, conv.in_w);
    const TensorSizes sz = Sizes(conv);  // conv's input is the output
    const std::vector<float> x = Random(sz.output, 12), w = Random(sz.weights, 13);
    const std::vector<float> b = Random(c.t.out_channels, 14);
    std::vector<double> want(sz.input), mag(sz.input);
    ref::BackwardData(conv, x.data(), w.data(), c.t.has_bias ? b.data() : nullptr, want.data(),
                      mag.data());
    Options o;
    o.max_target = target();
    Guarded y(sz.input);
    ASSERT_TRUE(ConvTranspose2d(c.t, x.data(), w.data(), c.t.has_bias ? b.data() : nullptr,
                                y.data(), o)
                    .ok());
    EXPECT_TRUE(y.GuardsHold());
    EXPECT_TRUE(Near(want, mag, y.data(),
                     c.t.kernel_h * c.t.kernel_w * c.t.in_channels / c.t.groups + 1, "y"));
  }
  ConvTranspose2dDesc bad = cases[0].t;
  bad.output_pad_h = 2;  // not < max(stride 2, dilation 1)
  Conv2dDesc conv;
  EXPECT_EQ("output_pad_h", TransposedAsConv(bad, &conv).field());
}

// The prepared backward-data operator: the one-shot call's bits for every
// shape and layout pair, with its own workspace or a caller's (guarded),
// at 1 and 3 threads, run twice (nothing consumed by a run), and the
// caller's weights not referenced after Create.
TEST_P(BackwardTest, PreparedDataOperator) {
  for (const std::string& shape : Shapes()) {
    for (const char* layout : kLayouts) {
      const Conv2dDesc d = Spec(shape + layout);
      SCOPED_TRACE(FormatShapeSpec(d));
      const TensorSizes sz = Sizes(d);
      std::vector<float> w = Random(sz.weights, 2);
      const std::vector<float> dy = Random(sz.output, 3);
      for (int threads : {1, 3}) {
        Options o;
        o.max_target = target();
        o.threads = threads;
        Guarded want(sz.input);
        ASSERT_TRUE(Conv2dBackwardData(d, dy.data(), w.data(), want.data(), o).ok());
        std::unique_ptr<Conv2dBackwardDataOp> op;
        std::vector<float> w_copy = w;
        const Status s = Conv2dBackwardDataOp::Create(d, w_copy.data(), o, &op);
        ASSERT_TRUE(s.ok()) << s.message();
        std::fill(w_copy.begin(), w_copy.end(), std::numeric_limits<float>::quiet_NaN());
        for (int run = 0; run < 2; ++run) {
          Guarded dx(sz.input);
          ASSERT_TRUE(op->Run(dy.data(), dx.data()).ok());
          EXPECT_TRUE(dx.GuardsHold());
          EXPECT_EQ(0, std::memcmp(want.data(), dx.data(), static_cast<size_t>(sz.input) * 4))
              << threads << " threads, run " << run;
        }
        const size_t bytes = op->WorkspaceBytes();
        const int64_t ws_floats = static_cast<int64_t>(bytes / 4) + 1;
        Guarded ws(ws_floats);
        Guarded dx(sz.input);
        const Status r = op->Run(dy.data(), dx.data(), ws.data(), bytes);
        ASSERT_TRUE(r.ok()) << r.message();
        EXPECT_TRUE(dx.GuardsHold() && ws.GuardsHold());
        EXPECT_EQ(0, std::memcmp(want.data(), dx.data(), static_cast<size_t>(sz.input) * 4));
        if (bytes > 0) {
          Guarded untouched(sz.input);
          EXPECT_EQ("workspace_bytes",
                    op->Run(dy.data(), untouched.data(), ws.data(), bytes - 1).field());
          for (float v : untouched.v) ASSERT_EQ(kGuard, v);
        }
      }
    }
  }
}

TEST_P(BackwardTest, BadInput) {
  const Conv2dDesc d = Spec("n=2,h=6,w=5,ci=4,co=6,k=3x3,p=1,bias=1");
  const TensorSizes sz = Sizes(d);
  std::vector<float> x(sz.input, 1.0f), w(sz.weights, 1.0f), dy(sz.output, 1.0f);
  Guarded dx(sz.input), dw(sz.weights), db(6);
  Options o;
  o.max_target = target();
  EXPECT_EQ("dy", Conv2dBackwardData(d, nullptr, w.data(), dx.data(), o).field());
  EXPECT_EQ("weights", Conv2dBackwardData(d, dy.data(), nullptr, dx.data(), o).field());
  EXPECT_EQ("dx", Conv2dBackwardData(d, dy.data(), w.data(), nullptr, o).field());
  EXPECT_EQ("dx", Conv2dBackwardData(d, dy.data(), w.data(), dy.data() + 3, o).field());
  EXPECT_EQ("dbias", Conv2dBackwardWeights(d, x.data(), dy.data(), dw.data(), nullptr, o).field());
  EXPECT_EQ("dw", Conv2dBackwardWeights(d, x.data(), dy.data(), x.data(), db.data(), o).field());
  Conv2dDesc relu = d;
  relu.output_min = 0.0f;
  EXPECT_EQ(StatusCode::kUnsupported,
            Conv2dBackwardData(relu, dy.data(), w.data(), dx.data(), o).code());
  Conv2dDesc bad = d;
  bad.stride_w = 0;
  EXPECT_EQ("stride_w", Conv2dBackwardWeights(bad, x.data(), dy.data(), dw.data(), db.data(), o)
                            .field());
  o.threads = kMaxThreads + 1;
  EXPECT_EQ("threads", Conv2dBackwardData(d, dy.data(), w.data(), dx.data(), o).field());
  o.threads = 0;
  std::unique_ptr<Conv2dBackwardDataOp> op;
  EXPECT_EQ("weights", Conv2dBackwardDataOp::Create(d, nullptr, o, &op).field());
  EXPECT_EQ("op", Conv2dBackwardDataOp::Create(d, w.data(), o, nullptr).field());
  EXPECT_EQ(StatusCode::kUnsupported, Conv2dBackwardDataOp::Create(relu, w.data(), o, &op).code());
  EXPECT_EQ("stride_w", Conv2dBackwardDataOp::Create(bad, w.data(), o, &op).field());
  EXPECT_EQ(nullptr, op);
  ASSERT_TRUE(Conv2dBackwardDataOp::Create(d, w.data(), o, &op).ok());
  EXPECT_EQ("dy", op->Run(nullptr, dx.data()).field());
  EXPECT_EQ("dx", op->Run(dy.data(), nullptr).field());
  EXPECT_EQ("dx", op->Run(dy.data(), dy.data() + 3).field());
  EXPECT_EQ("threads", op->Run(dy.data(), dx.data(), kMaxThreads + 1).field());
  EXPECT_EQ("workspace", op->Run(dy.data(), dx.data(), nullptr, 64).field());
  EXPECT_EQ("workspace", op->Run(dy.data(), dx.data(), dx.data(), op->WorkspaceBytes()).field());
  for (float v : dx.v) ASSERT_EQ(kGuard, v);
  for (float v : dw.v) ASSERT_EQ(kGuard, v);
  for (float v : db.v) ASSERT_EQ(kGuard, v);
  // Batch 0: dx has nothing to write, dw and dbias are zeros.
  Conv2dDesc empty = d;
  empty.batch = 0;
  o.threads = 0;
  ASSERT_TRUE(Conv2dBackwardWeights(empty, nullptr, nullptr, dw.data(), db.data(), o).ok());
  for (int64_t i = 0; i < sz.weights; ++i) ASSERT_EQ(0.0f, dw.data()[i]);
  for (int64_t i = 0; i < 6; ++i) ASSERT_EQ(0.0f, db.data()[i]);
  EXPECT_TRUE(dw.GuardsHold() && db.GuardsHold());
}

}  // namespace
}  // namespace testing
}  // namespace convkit
