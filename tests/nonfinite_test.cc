// NaN and Inf propagation on every target and algorithm (issue 8, item 3):
// one non-finite input element must reach exactly the outputs whose
// receptive field contains it (stride, dilation, padding, groups), and every
// other output must stay finite. Padding is zeros that take part in the sum
// (the descriptor's definition, and PyTorch's), so a non-finite weight
// w[kh][kw][ci][o] reaches every output of channel o, including those whose
// tap (kh, kw) falls on padding (0 * NaN = NaN, 0 * Inf = NaN): whichever
// algorithm runs, the same outputs are non-finite.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "gtest/gtest.h"
#include "lib/ref/layout_index.h"
#include "tests/testing/conv_tester.h"
#include "tests/testing/targets.h"

namespace convkit {
namespace testing {
namespace {

class NonFiniteTest : public TargetTest {};
CONVKIT_INSTANTIATE_PER_TARGET(NonFiniteTest);

const std::vector<std::string>& Shapes() {
  static const std::vector<std::string> shapes = {
      "n=2,h=7,w=8,ci=5,co=6,k=3x3,p=1,bias=1",
      "n=1,h=12,w=11,ci=16,co=13,k=3x3,s=2,p=1,d=2",
      "n=2,h=9,w=7,ci=12,co=18,k=5x3,g=3,s=2x1,p=2:0:1:1,bias=1",
      "n=1,h=10,w=9,ci=13,co=13,k=3x3,g=13,p=1,bias=1",
      "n=1,h=11,w=13,ci=6,co=6,k=3x3,g=6,s=2,p=1",
      "n=1,h=6,w=7,ci=40,co=33,k=1x1,s=2",
      "n=1,h=5,w=6,ci=7,co=9,k=3x3,p=1,sum=0.5",
      // the sliding window: rows of padding, in-place and window tiles
      "n=2,h=7,w=30,ci=1,co=16,k=7x7,p=3,bias=1",
      "n=1,h=6,w=9,ci=3,co=5,k=3x5,p=1:2:2:2",
      // the pixel lanes: padding columns and rows in the transposed block,
      // vectors across rows
      "n=2,h=5,w=6,ci=18,co=12,k=3x3,p=1:2:2:1,bias=1",
      "n=2,h=7,w=6,ci=5,co=11,k=3x3,p=1,bias=1,layout=nchw,weights=oihw",
      "n=1,h=9,w=9,ci=6,co=4,k=3x3,s=2,p=2,d=2,g=2,layout=nchw",
  };
  return shapes;
}

// Position of output (n, oh, ow, o) in the descriptor's layout.
int64_t OutIndex(const Conv2dDesc& d, int64_t, int64_t, int64_t n, int64_t y, int64_t x,
                 int64_t o) {
  return ref::YIndex(MakeGeometry(d), n, o, y, x);
}

// Whether input (n, ih, iw, c) lies in the receptive field of output
// (n, oh, ow, o): same image, same group, and some tap lands on it.
bool InField(const Conv2dDesc& d, int64_t ih, int64_t iw, int64_t c, int64_t oh, int64_t ow,
             int64_t o) {
  const int64_t cg = d.in_channels / d.groups, og = d.out_channels / d.groups;
  if (c / cg != o / og) return false;
  bool row = false, col = false;
  for (int64_t kh = 0; kh < d.kernel_h; ++kh) row |= oh * d.stride_h + kh * d.dilation_h - d.pad_top == ih;
  for (int64_t kw = 0; kw < d.kernel_w; ++kw) col |= ow * d.stride_w + kw * d.dilation_w - d.pad_left == iw;
  return row && col;
}

// Runs and returns the output; weights and inputs away from zero, so a
// non-finite value times any of them stays non-finite.
std::vector<float> RunConv(const ConvData& data, const std::string& target, Algorithm a) {
  Options o;
  o.max_target = target;
  o.algorithm = a;
  o.threads = 2;
  std::vector<float> y(data.prev ? data.prev.get() : nullptr,
                       data.prev ? data.prev.get() + data.sizes.output : nullptr);
  y.resize(static_cast<size_t>(data.sizes.output), 0.0f);
  const Status s = Conv2dForward(data.desc, data.input.get(), data.weights.get(),
                                 data.bias_or_null(), y.data(), o);
  EXPECT_TRUE(s.ok()) << s.message();
  return y;
}

void AwayFromZero(float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (std::fabs(p[i]) < 0.125f) p[i] = p[i] < 0 ? -0.125f : 0.125f;
  }
}

TEST_P(NonFiniteTest, InputReachesExactlyItsReceptiveField) {
  const float kValues[] = {std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity()};
  for (const std::string& spec : Shapes()) {
    const Conv2dDesc d = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 11);
    AwayFromZero(data->weights.get(), data->sizes.weights);
    int64_t oh_n = 0, ow_n = 0;
    ASSERT_TRUE(OutputShape(d, &oh_n, &ow_n).ok());
    // A corner, an edge element, the middle and the last element.
    const int64_t picks[][4] = {{0, 0, 0, 0},
                                {d.batch - 1, d.in_h - 1, d.in_w / 2, d.in_channels - 1},
                                {0, d.in_h / 2, d.in_w / 2, d.in_channels / 2},
                                {d.batch - 1, d.in_h - 1, d.in_w - 1, d.in_channels - 1}};
    for (const auto& p : picks) {
      const int64_t n = p[0], ih = p[1], iw = p[2], c = p[3];
      const int64_t at = ref::XIndex(MakeGeometry(d), n, c, ih, iw);
      for (float v : kValues) {
        const float saved = data->input[at];
        data->input[at] = v;
        for (Algorithm a : ApplicableAlgorithms(d)) {
          const std::vector<float> y = RunConv(*data, target(), a);
          int64_t wrong = 0;
          std::string first;
          for (int64_t on = 0; on < d.batch; ++on) {
            for (int64_t oh = 0; oh < oh_n; ++oh) {
              for (int64_t ow = 0; ow < ow_n; ++ow) {
                for (int64_t o = 0; o < d.out_channels; ++o) {
                  const bool want = on == n && InField(d, ih, iw, c, oh, ow, o);
                  const bool got = !std::isfinite(y[OutIndex(d, oh_n, ow_n, on, oh, ow, o)]);
                  if (want != got && wrong++ == 0) {
                    first = "output (" + std::to_string(on) + "," + std::to_string(oh) + "," +
                            std::to_string(ow) + "," + std::to_string(o) + ") is " +
                            (got ? "non-finite" : "finite");
                  }
                }
              }
            }
          }
          EXPECT_EQ(wrong, 0) << AlgorithmName(a) << ", " << v << " at input (" << n << ","
                              << ih << "," << iw << "," << c << "): " << wrong
                              << " outputs wrong, first " << first << ": " << spec;
        }
        data->input[at] = saved;
      }
    }
  }
}

TEST_P(NonFiniteTest, WeightReachesEveryOutputOfItsChannel) {
  const float kValues[] = {std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::infinity()};
  for (const std::string& spec : Shapes()) {
    const Conv2dDesc d = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 12);
    AwayFromZero(data->input.get(), data->sizes.input);
    int64_t oh_n = 0, ow_n = 0;
    ASSERT_TRUE(OutputShape(d, &oh_n, &ow_n).ok());
    const int64_t cg = d.in_channels / d.groups;
    // Corner taps (on padding for border outputs) and the centre tap.
    const int64_t picks[][4] = {{0, 0, 0, 0},
                                {d.kernel_h - 1, d.kernel_w - 1, cg - 1, d.out_channels - 1},
                                {d.kernel_h / 2, d.kernel_w / 2, cg / 2, d.out_channels / 2}};
    for (const auto& p : picks) {
      const int64_t kh = p[0], kw = p[1], ci = p[2], oc = p[3];
      const int64_t at = ref::WIndex(d, MakeGeometry(d), kh, kw, ci, oc);
      for (float v : kValues) {
        const float saved = data->weights[at];
        data->weights[at] = v;
        for (Algorithm a : ApplicableAlgorithms(d)) {
          const std::vector<float> y = RunConv(*data, target(), a);
          int64_t wrong = 0;
          for (int64_t on = 0; on < d.batch; ++on) {
            for (int64_t oh = 0; oh < oh_n; ++oh) {
              for (int64_t ow = 0; ow < ow_n; ++ow) {
                for (int64_t o = 0; o < d.out_channels; ++o) {
                  const bool got = !std::isfinite(y[OutIndex(d, oh_n, ow_n, on, oh, ow, o)]);
                  wrong += got != (o == oc);
                }
              }
            }
          }
          EXPECT_EQ(wrong, 0) << AlgorithmName(a) << ", " << v << " at weight (" << kh << ","
                              << kw << "," << ci << "," << oc << "): " << wrong
                              << " outputs wrong: " << spec;
        }
        data->weights[at] = saved;
      }
    }
  }
}

}  // namespace
}  // namespace testing
}  // namespace convkit
