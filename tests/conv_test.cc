// Whole-operator correctness, once per SIMD target: notebook shapes, the
// remainders of every blocking dimension, strides, paddings, dilations,
// groups, batch, bias; every applicable algorithm; thread counts compared
// bit for bit; the exact (integer) tier.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "convkit/convkit.h"
#include "gtest/gtest.h"
#include "lib/common/cache.h"
#include "tests/testing/conv_tester.h"
#include "tests/testing/targets.h"

namespace convkit {
namespace testing {
namespace {

class ConvTest : public TargetTest {};
CONVKIT_INSTANTIATE_PER_TARGET(ConvTest);

// Algorithms that apply to desc, from the library's table (auto first).
std::vector<Algorithm> Algorithms(const Conv2dDesc& d, bool with_naive = true) {
  std::vector<Algorithm> algos = {Algorithm::kAuto};
  for (Algorithm a : ApplicableAlgorithms(d)) {
    if (a != Algorithm::kNaive || with_naive) algos.push_back(a);
  }
  return algos;
}

// The blocking the plan reports for a spec on a target.
PlanInfo PlanOf(const std::string& target, const std::string& spec, Algorithm a) {
  Options o;
  o.max_target = target;
  o.algorithm = a;
  PlanInfo info;
  EXPECT_TRUE(QueryPlan(Spec(spec), o, &info).ok()) << spec;
  return info;
}

// Runs every applicable algorithm on each spec, with and without bias.
void TestShapes(const std::string& target, const std::vector<std::string>& specs,
                bool with_naive = true) {
  for (const std::string& spec : specs) {
    for (bool bias : {false, true}) {
      Conv2dDesc d = Spec(spec);
      d.has_bias = bias;
      const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 7);
      const std::unique_ptr<Reference> ref = MakeReference(*data);
      for (Algorithm a : Algorithms(d, with_naive)) {
        EXPECT_TRUE(ConvTester().target(target).algorithm(a).Test(*data, *ref));
      }
    }
  }
}

// The notebooks' cases (../shared/seeds), in NHWC/HWIO.
TEST_P(ConvTest, NotebookShapes) {
  TestShapes(target(), {
      "n=4,h=8,w=8,ci=3,co=4,k=3x3",        // 000: conv_reference vs conv_mul
      "n=2,h=5,w=5,ci=1,co=4,k=3x3",        // 001: naive_conv2d vs matmul_conv2d
      "n=16,h=32,w=32,ci=1,co=4,k=3x3",     // 001: Conv2d(3, 1, 4, 1)
      "n=6,h=5,w=5,ci=5,co=5,k=3x2,s=2x1",  // 002: 3x2 kernel, stride (2, 1)
      "n=10,h=32,w=32,ci=8,co=16,k=3x3",    // 003: the timing table's shape
      "n=2,h=4,w=4,ci=1,co=2,k=3x3",        // 004: no padding
      "n=2,h=4,w=4,ci=1,co=2,k=3x3,p=1",    // 004: padding 1
      "n=1,h=5,w=5,ci=1,co=1,k=3x3,s=2",    // 004: stride 2
      "n=4,h=5,w=5,ci=3,co=2,k=3x3",        // 004: batch, channels, bias
  });
}

// 001's timing shape (NCHW 32x32x128x128 -> 64, 3x3), in NHWC: 18.7 GFLOP,
// so only the automatic algorithm, and one reference shared by all targets
// (the test runs for each target in turn).
TEST_P(ConvTest, NotebookTimingShape) {
  static const std::unique_ptr<ConvData> data =
      MakeData(Spec("n=32,h=128,w=128,ci=32,co=64,k=3x3,bias=1"), Data::kRandom, 1);
  static const std::unique_ptr<Reference> ref = MakeReference(*data);
  EXPECT_TRUE(ConvTester().target(target()).Test(*data, *ref));
}

// 002's notebook gets the 3x2 / stride (2, 1) case wrong (it uses the global
// F1, F2 and `kernels` inside conv_2D). Check the output size PyTorch gives
// and the values against an independent direct sum.
TEST_P(ConvTest, Notebook002Kernel3x2Stride2x1) {
  const Conv2dDesc d = Spec("n=6,h=5,w=5,ci=5,co=5,k=3x2,s=2x1");
  int64_t oh = 0, ow = 0;
  ASSERT_TRUE(OutputShape(d, &oh, &ow).ok());
  EXPECT_EQ(oh, 2);  // floor((5 - 3) / 2) + 1
  EXPECT_EQ(ow, 4);  // floor((5 - 2) / 1) + 1
  // The notebook's input: arange(6*125) in NCHW, here transposed to NHWC.
  std::vector<float> x(6 * 5 * 5 * 5), w(3 * 2 * 5 * 5), y(6 * 2 * 4 * 5);
  for (int n = 0; n < 6; ++n)
    for (int c = 0; c < 5; ++c)
      for (int h = 0; h < 5; ++h)
        for (int ww = 0; ww < 5; ++ww)
          x[((n * 5 + h) * 5 + ww) * 5 + c] = static_cast<float>(((n * 5 + c) * 5 + h) * 5 + ww);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 7) - 3);
  Options o;
  o.max_target = target();
  ASSERT_TRUE(Conv2dForward(d, x.data(), w.data(), nullptr, y.data(), o).ok());
  for (int n = 0; n < 6; ++n)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 4; ++j)
        for (int o2 = 0; o2 < 5; ++o2) {
          double want = 0;
          for (int kh = 0; kh < 3; ++kh)
            for (int kw = 0; kw < 2; ++kw)
              for (int c = 0; c < 5; ++c)
                want += double(x[((n * 5 + 2 * i + kh) * 5 + j + kw) * 5 + c]) *
                        w[((kh * 2 + kw) * 5 + c) * 5 + o2];
          ASSERT_EQ(y[((n * 2 + i) * 4 + j) * 5 + o2], static_cast<float>(want))
              << "n=" << n << " oh=" << i << " ow=" << j << " o=" << o2;
        }
}

// M = N*OH*OW around MR (14 AVX3, 6 AVX2/SSE, 4 scalar) and around the MC
// the plan chose (cache-derived; the CONVKIT_CACHE runs of this test use
// small caches, so blocks are small there).
TEST_P(ConvTest, RemaindersM) {
  std::vector<int> ms = {1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 16, 27, 28, 29};
  const PlanInfo info = PlanOf(target(), "n=1,h=1,w=64,ci=5,co=17,k=1x1", Algorithm::kIm2colGemm);
  for (int64_t m : {info.mc - 1, info.mc, info.mc + 1, 2 * info.mc + info.mr + 1}) {
    if (m >= 1 && m <= 20000) ms.push_back(static_cast<int>(m));
  }
  std::vector<std::string> specs;
  for (int m : ms) {
    specs.push_back("n=1,h=1,w=" + std::to_string(m) + ",ci=5,co=17,k=1x1");
    specs.push_back("n=1,h=1,w=" + std::to_string(m + 2) + ",ci=3,co=9,k=1x3");
  }
  specs.push_back("n=5,h=3,w=1,ci=2,co=3,k=1x1");  // M = 15 across images
  TestShapes(target(), specs, false);
}

// C at most one vector wide (Cout 1, 5, 8, 16): the direct GEMM runs two
// adjacent tiles of evenly spaced rows as one tile of 2 MR rows where the
// target has the registers (AVX3, AVX2). Pixel counts around 2 MR, 3 MR and
// 4 MR (pairs, an odd tile out, a short last tile); 1x1 layers (every tile
// evenly spaced), rows of 3x3 and 7x7 layers wider than 4 MR (interior
// tiles along one output row between border tiles), stride 2, and rows of
// three tiles (no pair across output rows).
TEST_P(ConvTest, PairedOneVectorTiles) {
  const int64_t mr = PlanOf(target(), "n=1,h=1,w=64,ci=5,co=16,k=1x1", Algorithm::kDirectGemm).mr;
  std::vector<std::string> specs;
  for (int co : {1, 5, 8, 16}) {
    const std::string cos = ",co=" + std::to_string(co);
    for (int64_t m : {2 * mr - 1, 2 * mr, 2 * mr + 1, 3 * mr, 3 * mr + 1, 4 * mr + mr / 2}) {
      specs.push_back("n=1,h=1,w=" + std::to_string(m) + ",ci=7" + cos + ",k=1x1");
    }
    specs.push_back("n=2,h=3,w=" + std::to_string(2 * mr + 3) + ",ci=3" + cos + ",k=1x1");
    specs.push_back("n=1,h=4,w=" + std::to_string(4 * mr + 3) + ",ci=6" + cos + ",k=3x3,p=1");
    specs.push_back("n=1,h=5,w=" + std::to_string(5 * mr + 1) + ",ci=1" + cos + ",k=7x7,p=3");
    specs.push_back("n=1,h=5,w=" + std::to_string(8 * mr + 5) + ",ci=3" + cos + ",k=3x3,s=2,p=1");
    // Three tiles per output row, unpadded: the third and the next row's
    // first are both evenly spaced but not adjacent in memory.
    specs.push_back("n=1,h=5,w=" + std::to_string(3 * mr + 2) + ",ci=2" + cos + ",k=3x3");
    specs.push_back("n=1,h=4,w=" + std::to_string(6 * mr) + ",ci=3" + cos + ",k=1x1,s=2");
  }
  TestShapes(target(), specs, false);
}

// Output rows of an even width between MR and 2 MR with vertical padding:
// the direct GEMM runs two tiles of half a row each (Blocking::mr, where the
// halves keep 8 rows: AVX3's MR of 14). Widths 16 and 2 MR - 2, one and
// several vectors of C, 3x3 and 5x5, stride 2, two images, post-ops.
TEST_P(ConvTest, HalfRowTiles) {
  const int64_t mr = PlanOf(target(), "n=1,h=1,w=64,ci=5,co=16,k=1x1", Algorithm::kDirectGemm).mr;
  std::vector<std::string> specs;
  for (int64_t ow : {int64_t{16}, 2 * mr - 2}) {
    const std::string w = std::to_string(ow), w2 = std::to_string(2 * ow - 1);
    specs.push_back("n=1,h=" + w + ",w=" + w + ",ci=40,co=12,k=3x3,p=1");
    specs.push_back("n=2,h=5,w=" + w + ",ci=9,co=40,k=3x3,p=1,bias=1");
    specs.push_back("n=1,h=6,w=" + w + ",ci=33,co=16,k=5x5,p=2,sum=1");
    specs.push_back("n=1,h=7,w=" + w2 + ",ci=36,co=20,k=3x3,s=2,p=1,min=0");
  }
  TestShapes(target(), specs, false);
}

// 1x1 layers whose input pixels are a multiple of the L1d way size apart
// (4 KiB here, 1 KiB under CONVKIT_CACHE=8K,64K): the direct GEMM runs tiles
// of at most ways - 2 rows (plan.cc, SetConflictRows) where that is below
// MR, in equal tiles. Pixel counts below, at and past a tile, 49 (7x7),
// across images, stride 2, channel tails and post-ops; a pixel stride just
// off the way size keeps MR.
TEST_P(ConvTest, SetConflictTiles) {
  const CacheSizes caches = GetCacheSizes();
  const int64_t way_floats = L1dWayBytes(caches) / static_cast<int64_t>(sizeof(float));
  ASSERT_GT(way_floats, 0);
  const std::string ci = std::to_string(2 * way_floats), ci2 = std::to_string(way_floats);
  const std::string ci_off = std::to_string(2 * way_floats + 8);
  const PlanInfo conflict = PlanOf(target(), "n=1,h=7,w=7,ci=" + ci + ",co=40,k=1x1",
                                   Algorithm::kDirectGemm);
  const PlanInfo apart = PlanOf(target(), "n=1,h=7,w=7,ci=" + ci_off + ",co=40,k=1x1",
                                Algorithm::kDirectGemm);
  const int64_t cap = std::max<int64_t>(caches.l1d_ways - 2, 4);
  EXPECT_EQ(apart.mr, apart.tile_rows);
  if (cap < conflict.mr) {
    const int64_t tiles = (49 + cap - 1) / cap, rows = (49 + tiles - 1) / tiles;
    EXPECT_EQ(rows, conflict.tile_rows) << "49 pixels in equal tiles of at most " << cap;
    EXPECT_EQ(0, conflict.mc % conflict.tile_rows);
    EXPECT_EQ(rows, PlanOf(target(), "n=1,h=14,w=14,ci=" + ci2 + ",co=40,k=1x1,s=2",
                        Algorithm::kDirectGemm).tile_rows);
  } else {
    EXPECT_EQ(conflict.mr, conflict.tile_rows);
  }
  const std::vector<std::string> specs = {
      "n=1,h=7,w=7,ci=" + ci + ",co=40,k=1x1",
      "n=1,h=1,w=3,ci=" + ci + ",co=17,k=1x1",
      "n=1,h=1,w=" + std::to_string(cap) + ",ci=" + ci + ",co=16,k=1x1",
      "n=1,h=1,w=" + std::to_string(2 * cap + 1) + ",ci=" + ci + ",co=33,k=1x1,sum=1",
      "n=2,h=5,w=5,ci=" + ci + ",co=9,k=1x1,min=0",
      "n=1,h=14,w=14,ci=" + ci2 + ",co=40,k=1x1,s=2",
      "n=1,h=7,w=7,ci=" + ci_off + ",co=40,k=1x1",
  };
  TestShapes(target(), specs, false);
}

// Stride-2 3x3 depthwise rows whose input columns are a multiple of the
// L1d way apart (Plan::dw_columns_alias: AVX3 runs them in 2-pixel blocks):
// channels of half a way of floats (512 with 4 KiB ways; 128 under
// CONVKIT_CACHE=8K,64K, whose L1 chunks take other paths), output rows of
// 10, 9 (an odd last pixel) and 8, two images, a channel tail in pixels of
// the aliasing stride, bias, sum and clamp; and channels 16 more, whose
// columns spread over the sets.
TEST_P(ConvTest, DepthwiseAliasingColumns) {
  const int64_t way_floats =
      L1dWayBytes(GetCacheSizes()) / static_cast<int64_t>(sizeof(float));
  ASSERT_GE(way_floats, 64);
  const std::string c = std::to_string(way_floats / 2);
  const std::string c_tail = std::to_string(way_floats / 2 - 8);
  const std::string c_apart = std::to_string(way_floats / 2 + 16);
  const std::vector<std::string> specs = {
      "n=1,h=19,w=19,ci=" + c + ",co=" + c + ",k=3x3,s=2,p=1,g=" + c,
      "n=2,h=17,w=18,ci=" + c + ",co=" + c + ",k=3x3,s=2,p=1,g=" + c + ",bias=1,min=0,max=1",
      "n=1,h=16,w=16,ci=" + c_tail + ",co=" + c_tail + ",k=3x3,s=2,p=1,g=" + c_tail +
          ",xps=" + c + ",sum=0.5",
      "n=1,h=19,w=19,ci=" + c_apart + ",co=" + c_apart + ",k=3x3,s=2,p=1,g=" + c_apart +
          ",bias=1",
  };
  TestShapes(target(), specs, false);
}

// The sliding window (1-4 input channels, horizontal stride and dilation
// 1): for each kernel width (3, 5, 7), output rows around its tile's R pixels (per
// target and width: 1, R - 1, R, R + 1, 2R + 3, so whole tiles, a last
// narrower tile and rows of one), read in place and through the window
// (padding left, right, both, none; rows past the input's end), kernel rows
// in vertical padding, row strides and dilations, 1-4 channels, output
// channels in part of a vector, one, and several with a tail, post-ops,
// and 3 threads (channel blocks split when rows are few).
TEST_P(ConvTest, SlidingWindow) {
  std::vector<std::string> specs;
  for (int kw : {3, 5, 7}) {
    const std::string k = std::to_string(kw);
    const int64_t r =
        PlanOf(target(), "n=1,h=1,w=64,ci=1,co=4,k=1x" + k, Algorithm::kSlidingWindow).mr;
    ASSERT_GE(r, 1);
    for (int64_t ow : {int64_t{1}, r - 1, r, r + 1, 2 * r + 3}) {
      if (ow < 1) continue;
      const std::string w_none = std::to_string(ow + kw - 1);  // no padding
      const std::string w_pad = std::to_string(ow);            // kw - 1 of padding
      const std::string left = std::to_string(kw / 2), right = std::to_string(kw - 1 - kw / 2);
      specs.push_back("n=1,h=3,w=" + w_none + ",ci=1,co=16,k=3x" + k);
      specs.push_back("n=2,h=4,w=" + w_pad + ",ci=1,co=8,k=5x" + k + ",p=2:1:" + left + ":" +
                      right + ",bias=1");
      specs.push_back("n=1,h=7,w=" + w_pad + ",ci=3,co=5,k=3x" + k + ",s=2x1,d=2x1,p=0:0:" +
                      std::to_string(kw - 1) + ":0,sum=0.5");
      specs.push_back("n=1,h=2,w=" + w_pad + ",ci=4,co=37,k=2x" + k + ",p=1:0:0:" +
                      std::to_string(kw - 1) + ",bias=1,min=-0.25,max=0.5");
      specs.push_back("n=3,h=1,w=" + w_none + ",ci=2,co=1,k=1x" + k + ",sum=1");
    }
  }
  for (const std::string& spec : specs) {
    const Conv2dDesc d = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 41);
    const std::unique_ptr<Reference> ref = MakeReference(*data);
    EXPECT_TRUE(
        ConvTester().target(target()).algorithm(Algorithm::kSlidingWindow).Test(*data, *ref))
        << spec;
    EXPECT_TRUE(ConvTester()
                    .target(target())
                    .algorithm(Algorithm::kSlidingWindow)
                    .threads(3)
                    .Test(*data, *ref))
        << spec;
  }
  // kAuto takes it where the output channels fit one vector, not beyond.
  const int64_t lanes = PlanOf(target(), "n=1,h=8,w=64,ci=1,co=4,k=7x7,p=3",
                               Algorithm::kSlidingWindow).nr;
  EXPECT_EQ("sliding_window",
            PlanOf(target(), "n=1,h=64,w=64,ci=2,co=" + std::to_string(lanes) + ",k=7x7,p=3",
                   Algorithm::kAuto)
                .algorithm);
  EXPECT_EQ("direct_gemm",
            PlanOf(target(), "n=1,h=64,w=64,ci=1,co=" + std::to_string(lanes + 1) + ",k=7x7,p=3",
                   Algorithm::kAuto)
                .algorithm);
}

// The pixel lanes: output widths around the vector (flat rows at stride 1
// when narrower, else vectors per row), output channels around the tile's
// rows (equal panels), input channels and widths around the transpose's
// L x L blocks, padding wider than a vector (SSE4), row stride and
// dilation, blocks of rows smaller than the image (512 channels, where L2
// is 1 MiB; conv_test_small_caches gives every shape several), post-ops,
// batches, 1 and 3 threads.
TEST_P(ConvTest, PixelLanes) {
  const int64_t lanes =
      PlanOf(target(), "n=1,h=1,w=64,ci=1,co=4,k=1x3", Algorithm::kSlidingWindow).nr;
  const int64_t mr = PlanOf(target(), "n=1,h=8,w=8,ci=8,co=64,k=3x3", Algorithm::kDirectGemm).mr;
  ASSERT_GE(lanes, 1);
  ASSERT_GE(mr, 1);
  const auto str = [](int64_t v) { return std::to_string(v); };
  std::vector<std::string> specs;
  for (int64_t ow : {int64_t{1}, lanes - 1, lanes, lanes + 1, 2 * lanes + 3}) {
    if (ow < 1) continue;
    specs.push_back("n=2,h=5,w=" + str(ow) + ",ci=3,co=12,k=3x3,p=1,bias=1");
    specs.push_back("n=1,h=9,w=" + str(ow + 4) + ",ci=" + str(lanes + 1) + ",co=" + str(mr + 1) +
                    ",k=5x5,s=2x1,p=2:0:0:0,sum=0.5");
    specs.push_back("n=3,h=4,w=" + str(ow) + ",ci=1,co=5,k=3x1,p=1:1:0:0,min=-0.25,max=0.5");
  }
  for (int64_t co : {int64_t{1}, mr - 1, mr, mr + 1, 2 * mr + 3, int64_t{37}}) {
    if (co < 1) continue;
    specs.push_back("n=1,h=6,w=7,ci=" + str(2 * lanes + 5) + ",co=" + str(co) +
                    ",k=3x3,p=1:2:1:0,bias=1");
  }
  for (int64_t w : {int64_t{3}, int64_t{5}, lanes + 3, 3 * lanes - 1}) {
    specs.push_back("n=1,h=4,w=" + str(w) + ",ci=" + str(lanes) + ",co=4,k=2x2,p=1");
  }
  specs.push_back("n=1,h=9,w=12,ci=6,co=7,k=3x3,d=3x5,p=5,bias=1");  // padding wider than SSE4's
  specs.push_back("n=2,h=11,w=9,ci=8,co=9,k=3x2,s=3x1,d=2x1,p=1:2:0:1");
  specs.push_back("n=1,h=10,w=30,ci=512,co=12,k=1x3,p=0:0:1:1,bias=1,sum=1,max=0.75");  // row blocks
  for (const std::string& spec : specs) {
    const Conv2dDesc d = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 43);
    const std::unique_ptr<Reference> ref = MakeReference(*data);
    for (int threads : {1, 3}) {
      EXPECT_TRUE(ConvTester()
                      .target(target())
                      .algorithm(Algorithm::kPixelLanes)
                      .threads(threads)
                      .Test(*data, *ref))
          << spec << " threads " << threads;
    }
  }
  // kAuto: DenseNet's 3x3 layers with 12 outputs (where 12 is not whole
  // vectors and the image is one block); not 1x1 layers, whose
  // transposed copy costs more than the lanes it saves.
  // (With the whole image in one block: small caches copy rows again.)
  const std::string densenet = "n=1,h=16,w=16,ci=184,co=12,k=3x3,p=1";
  if (12 % lanes != 0 && PlanOf(target(), densenet, Algorithm::kPixelLanes).mc >= 16) {
    EXPECT_EQ("pixel_lanes", PlanOf(target(), densenet, Algorithm::kAuto).algorithm);
  }
  EXPECT_EQ("direct_gemm",
            PlanOf(target(), "n=1,h=16,w=16,ci=64,co=12,k=1x1", Algorithm::kAuto).algorithm);
}

// N = Cout/G around NR (32, 16, 8, 4) and around NC (cache-derived).
TEST_P(ConvTest, RemaindersN) {
  std::vector<int64_t> ns = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 64, 65,
                             127, 128, 129, 255, 256, 257};
  const std::string probe = "n=1,h=3,w=5,ci=300,co=8,k=1x1";
  const PlanInfo info = PlanOf(target(), probe, Algorithm::kIm2colGemm);
  for (int64_t n : {info.nc - 1, info.nc, info.nc + 1, 2 * info.nc + info.nr + 1}) {
    if (n >= 1 && n <= 4096) ns.push_back(n);
  }
  std::vector<std::string> specs;
  for (int64_t n : ns) {
    specs.push_back("n=1,h=3,w=5,ci=3,co=" + std::to_string(n) + ",k=1x1");
  }
  for (int64_t n : {info.nc - 1, info.nc + 1}) {  // NC blocks need this K
    if (n >= 1 && n <= 4096) specs.push_back("n=1,h=3,w=5,ci=300,co=" + std::to_string(n) + ",k=1x1");
  }
  specs.push_back("n=1,h=4,w=4,ci=6,co=34,k=3x3,p=1,g=2");  // 17 per group
  TestShapes(target(), specs, false);
}

// Tiles of one or two rows across several column panels (igemm-inl.h,
// IgemmFewRows): M = 1 and 2 (one pixel, two images of one pixel, 3x3
// kernels on 3x3 and 3x4 inputs: one run per kernel row) and blocks
// ending in one or two rows (M = MR + 1, MR + 2), with 2 to 7 panels of NR
// and a partial last panel, K in several blocks (later blocks accumulate),
// bias, the sum and clamp post-ops, and groups.
TEST_P(ConvTest, FewRowTiles) {
  const PlanInfo info = PlanOf(target(), "n=1,h=1,w=1,ci=7,co=64,k=1x1", Algorithm::kDirectGemm);
  const int64_t nr = info.nr, mr = info.mr;
  const int64_t kc = PlanOf(target(), "n=1,h=1,w=1,ci=4096,co=64,k=1x1", Algorithm::kDirectGemm).kc;
  std::vector<std::string> specs;
  for (int64_t co : {2 * nr, 2 * nr - 3, 3 * nr + 1, 4 * nr, 5 * nr - 1, 7 * nr + 2}) {
    const std::string cos = ",co=" + std::to_string(co);
    specs.push_back("n=1,h=1,w=1,ci=7" + cos + ",k=1x1");
    specs.push_back("n=2,h=1,w=1,ci=5" + cos + ",k=1x1,sum=1");
    specs.push_back("n=1,h=1,w=" + std::to_string(mr + 1) + ",ci=6" + cos + ",k=1x1,min=0");
    specs.push_back("n=1,h=1,w=" + std::to_string(mr + 2) + ",ci=9" + cos + ",k=1x1");
    specs.push_back("n=1,h=3,w=3,ci=4" + cos + ",k=3x3");
    specs.push_back("n=1,h=3,w=4,ci=3" + cos + ",k=3x3,sum=1,min=-0.5,max=0.5");
  }
  const std::string k2 = std::to_string(kc + 5);
  specs.push_back("n=1,h=1,w=1,ci=" + k2 + ",co=" + std::to_string(4 * nr + 3) + ",k=1x1,sum=1");
  specs.push_back("n=1,h=1,w=2,ci=" + k2 + ",co=" + std::to_string(2 * nr + 1) + ",k=1x1,min=0");
  specs.push_back("n=1,h=1,w=1,ci=10,co=" + std::to_string(6 * nr) + ",k=1x1,g=2");
  // More than 16 panels: AVX-512 groups them only from K = 192 (FewRowTile).
  specs.push_back("n=1,h=1,w=1,ci=200,co=" + std::to_string(17 * nr + 1) + ",k=1x1");
  specs.push_back("n=1,h=1,w=1,ci=20,co=" + std::to_string(17 * nr + 1) + ",k=1x1");
  TestShapes(target(), specs, false);
}

// Grouped layers with at most 32 channels per group read A from a dense,
// zero-padded copy of their group's channels (Blocking::group_slices,
// lib/conv/direct_gemm.h): 1, 3, 8, 16 and 32 channels per group, and 33
// (not sliced; nor 17 to 32 with stride 2, nor any stride on tiles of
// fewer than 8 rows); asymmetric padding, stride, dilation, batch, pixel
// strides past the channels, sum and clamp. A sliced plan holds the copy
// in its workspace; a copy beyond 2 MiB falls back to reading the input.
TEST_P(ConvTest, GroupSlices) {
  TestShapes(target(),
             {
                 "n=1,h=7,w=9,ci=32,co=48,k=3x3,p=1,g=2",
                 "n=1,h=6,w=7,ci=64,co=40,k=3x3,p=1:0:0:1,g=2",
                 "n=2,h=6,w=5,ci=12,co=8,k=3x3,p=2:0:1:1,g=4",
                 "n=1,h=9,w=8,ci=64,co=64,k=3x3,s=2,p=1:0:1:0,g=2",
                 "n=1,h=9,w=8,ci=64,co=32,k=3x3,s=2,p=1:0:1:0,g=4",
                 "n=1,h=9,w=8,ci=64,co=32,k=3x3,s=2,p=1:0:1:0,g=8",
                 "n=1,h=8,w=8,ci=6,co=12,k=3x3,d=2,p=2,g=6",
                 "n=1,h=5,w=6,ci=66,co=34,k=3x3,p=1,g=2",
                 "n=1,h=6,w=7,ci=32,co=32,k=1x1,g=4,xps=40,yps=36,sum=1,min=-0.5,max=0.5",
                 "n=1,h=7,w=7,ci=64,co=64,k=5x3,p=2:1:0:2,g=8,sum=1",
             },
             false);
  const int64_t slice = 58 * 58 * 16 * 4;  // 56x56 padded, 16 channels
  EXPECT_GE(PlanOf(target(), "n=1,h=56,w=56,ci=512,co=512,k=3x3,p=1,g=32",
                   Algorithm::kDirectGemm).workspace_bytes,
            slice);
  EXPECT_LT(PlanOf(target(), "n=1,h=56,w=56,ci=1056,co=1056,k=3x3,p=1,g=32",
                   Algorithm::kDirectGemm).workspace_bytes,
            58 * 58 * 33 * 4);
  EXPECT_LT(PlanOf(target(), "n=16,h=56,w=56,ci=512,co=512,k=3x3,p=1,g=32",
                   Algorithm::kDirectGemm).workspace_bytes,
            16 * slice);
}

// The direct GEMM's one column block for every output channel, on inputs of
// 16x L2 and more with several taps (DirectBlocking): under the small-cache
// run (CONVKIT_CACHE=8K,64K) this 1.2 MB input takes it, where NC would
// otherwise be 32 columns; N = 72 leaves a tail panel. With L2 of 1 MiB and
// more, NC covers 72 columns anyway.
TEST_P(ConvTest, RemaindersNOneColumnBlock) {
  const std::string spec = "n=1,h=48,w=48,ci=128,co=72,k=3x3,s=3,p=1:0:1:0";
  const PlanInfo info = PlanOf(target(), spec, Algorithm::kDirectGemm);
  EXPECT_GE(info.nc, 72) << "kc " << info.kc;
  TestShapes(target(), {spec, "n=2,h=24,w=72,ci=128,co=40,k=3x3,s=3"}, false);
}

// K = KH*KW*Cin/G around the largest KC the plan uses (cache-derived, then
// balanced: K = KCmax + 1 runs as two blocks), with blocks that start and
// end inside a tap.
TEST_P(ConvTest, RemaindersK) {
  std::vector<int64_t> ks = {1, 2, 3, 5, 63, 64, 65, 191, 192, 193, 255, 256, 257, 383,
                             384, 385, 511, 512, 513, 769};
  const int64_t kc_max = PlanOf(target(), "n=1,h=1,w=1,ci=4096,co=8,k=1x1",
                                Algorithm::kIm2colGemm).kc;
  for (int64_t k : {kc_max - 1, kc_max, kc_max + 1, 2 * kc_max + 1, 3 * kc_max - 1}) {
    if (k >= 1) ks.push_back(k);
  }
  std::vector<std::string> specs;
  for (int64_t k : ks) {
    specs.push_back("n=1,h=3,w=4,ci=" + std::to_string(k) + ",co=19,k=1x1");
  }
  for (int ci : {21, 22, 28, 29, 43, 85}) {  // 3x3: K = 189, 198, 252, 261, 387, 765
    specs.push_back("n=1,h=5,w=6,ci=" + std::to_string(ci) + ",co=18,k=3x3,p=1");
  }
  specs.push_back("n=1,h=5,w=5,ci=40,co=18,k=3x3,p=1:0:0:1,g=2");  // K = 180 per group
  specs.push_back("n=1,h=9,w=9,ci=3,co=20,k=7x7,s=2,p=3");  // merged kernel rows
  TestShapes(target(), specs, false);
}

// Cin in {1, 3, 5} x Cout in {1, 7, 17, 64}, 3x3 padded, batch 1 and 5.
TEST_P(ConvTest, Channels) {
  std::vector<std::string> specs;
  for (int ci : {1, 3, 5}) {
    for (int co : {1, 7, 17, 64}) {
      specs.push_back("n=1,h=7,w=6,ci=" + std::to_string(ci) + ",co=" +
                      std::to_string(co) + ",k=3x3,p=1");
      specs.push_back("n=5,h=4,w=5,ci=" + std::to_string(ci) + ",co=" +
                      std::to_string(co) + ",k=3x3");
    }
  }
  TestShapes(target(), specs);
}

TEST_P(ConvTest, StridesPaddingDilation) {
  TestShapes(target(), {
      "n=2,h=9,w=11,ci=3,co=7,k=3x3,s=1x2",
      "n=2,h=9,w=11,ci=3,co=7,k=3x3,s=2x3,p=1",
      "n=1,h=10,w=10,ci=5,co=17,k=3x3,s=3x1",
      "n=1,h=10,w=10,ci=5,co=17,k=3x3,s=3,p=1",
      "n=1,h=12,w=9,ci=4,co=8,k=2x2,s=2",
      "n=1,h=8,w=9,ci=3,co=5,k=3x3,p=0:2:1:3",     // asymmetric
      "n=2,h=6,w=7,ci=2,co=9,k=3x2,p=2:0:3:1",      // asymmetric
      "n=1,h=5,w=5,ci=3,co=4,k=3x3,p=3",            // padding >= kernel
      "n=1,h=4,w=3,ci=3,co=5,k=3x3,p=4:5:3:6,s=2",  // padding > kernel, strided
      "n=1,h=1,w=1,ci=4,co=6,k=3x3,p=1",            // 1x1 input
      "n=1,h=9,w=9,ci=3,co=7,k=3x3,d=2",
      "n=1,h=9,w=10,ci=3,co=7,k=3x3,d=2x1,p=2:2:1:1",
      "n=2,h=8,w=9,ci=2,co=5,k=3x3,d=1x2,p=1:1:2:2,s=2x1",
      "n=1,h=7,w=13,ci=3,co=6,k=2x3,d=3,p=1",
      "n=1,h=9,w=12,ci=4,co=8,k=1x7,p=0x3",         // 1x7
      "n=1,h=12,w=9,ci=4,co=8,k=7x1,p=3x0",         // 7x1
      "n=1,h=6,w=6,ci=3,co=5,k=6x6",                // kernel = input
      "n=3,h=5,w=4,ci=2,co=3,k=2x4,s=1x3,p=1:0:0:2",
      "n=1,h=9,w=9,ci=3,co=4,k=3x3,s=2x2,p=1:0:1:0",  // ResNet-style stride-2
      "n=1,h=7,w=7,ci=4,co=16,k=1x1,s=2",             // strided 1x1: im2col path
      "n=1,h=6,w=6,ci=4,co=16,k=1x1,p=1",             // padded 1x1: im2col path
  });
}

TEST_P(ConvTest, Groups) {
  TestShapes(target(), {
      "n=1,h=6,w=7,ci=4,co=6,k=3x3,g=2,p=1",
      "n=2,h=5,w=5,ci=10,co=14,k=3x3,g=2,s=2",
      "n=1,h=7,w=7,ci=12,co=36,k=3x3,g=3,p=1,d=2",
      "n=1,h=5,w=6,ci=64,co=64,k=1x1,g=2",   // grouped 1x1
      "n=1,h=6,w=6,ci=8,co=16,k=3x3,g=8,p=1",  // channel multiplier 2
      "n=1,h=4,w=4,ci=6,co=6,k=3x3,g=6,p=1",   // depthwise
      "n=1,h=1,w=1,ci=1,co=1,k=1x1,g=1",
  });
}

// Depthwise across channel tails (lanes 16/8/4/1), strides, paddings,
// dilations and batch. Rows narrower than 16 pixels (32 on AVX3) take pairs
// of channel vectors (kDwPairs) where the channels hold two whole vectors: 12 and 56
// leave one whole vector after the pairs (SSE4; AVX2 and AVX3), 33 and 65 a
// tail.
TEST_P(ConvTest, Depthwise) {
  std::vector<std::string> specs;
  for (int c : {1, 3, 4, 7, 8, 12, 16, 17, 33, 56, 64, 65, 96}) {
    const std::string cs = std::to_string(c);
    specs.push_back("n=1,h=7,w=8,ci=" + cs + ",co=" + cs + ",g=" + cs + ",k=3x3,p=1");
  }
  for (const char* rest : {"k=3x3,s=2,p=1:0:1:0", "k=5x5,p=2", "k=3x3,d=2,p=2",
                           "k=3x3,s=3x2,p=3", "k=7x3,p=3x1", "k=2x2", "k=1x1"}) {
    specs.push_back(std::string("n=5,h=9,w=10,ci=24,co=24,g=24,") + rest);
  }
  // Rows wide enough that a channel chunk is one or two vectors on every
  // target and cache size (DepthwiseRowVectors: weights held across the
  // row): strides 1 and 2, both borders clipped or not, channel tails,
  // vertical padding rows, blocks of every width at the row's end; at
  // stride 2, whole rows of channel pairs where the weights are not held
  // (DwStride2Rows).
  for (const char* rest : {"ci=17,co=17,g=17,k=3x3,p=1", "ci=33,co=33,g=33,k=3x3,s=2,p=1",
                           "ci=16,co=16,g=16,k=3x3,s=2,p=0:1:0:1,bias=1",
                           "ci=9,co=9,g=9,k=3x3,s=2,p=1,d=2x1",
                           "ci=8,co=8,g=8,k=3x3,p=1:0:1:0,bias=1,min=0"}) {
    for (const char* w : {"200", "203", "206"}) {
      specs.push_back(std::string("n=2,h=5,w=") + w + "," + rest);
    }
  }
  // Stride-1 rows of pairs in blocks of 6 pixels (32-register targets, rows
  // narrower than 32): 6-pixel blocks clipped at the left, inside and
  // clipped at the right, then blocks of 4, 2 and 1; a single vector or a
  // tail after the pairs.
  for (const char* w : {"12", "15", "17", "31"}) {
    for (const char* c : {"33", "48"}) {
      specs.push_back(std::string("n=1,h=4,w=") + w + ",ci=" + c + ",co=" + c + ",g=" + c +
                      ",k=3x3,p=1,bias=1");
    }
  }
  // Stride-2 rows of 9 pixels whose AVX3 chunks hold three vectors and
  // more: whole rows of pairs there too (DwStride2Rows), a tail after them.
  specs.push_back("n=2,h=6,w=17,ci=97,co=97,g=97,k=3x3,s=2,p=1,bias=1");
  TestShapes(target(), specs);
}

// Each algorithm on the exact tier: integer data must match bit for bit.
TEST_P(ConvTest, ExactTier) {
  for (const char* spec : {"n=2,h=9,w=8,ci=5,co=17,k=3x3,p=1,bias=1",
                           "n=1,h=6,w=7,ci=200,co=33,k=1x1,bias=1",
                           "n=1,h=7,w=7,ci=48,co=40,k=3x3,s=2,p=1,d=2",
                           "n=3,h=6,w=6,ci=21,co=21,k=3x3,g=21,p=1,bias=1",
                           "n=1,h=6,w=5,ci=8,co=12,k=3x3,g=4,p=2:0:1:1,bias=1",
                           "n=2,h=5,w=30,ci=3,co=7,k=3x5,p=1:1:2:2,bias=1"}) {
    const Conv2dDesc d = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(d, Data::kIntegers, 3);
    const std::unique_ptr<Reference> ref = MakeReference(*data);
    for (Algorithm a : Algorithms(d)) {
      EXPECT_TRUE(ConvTester().target(target()).algorithm(a).data(Data::kIntegers).Test(
          *data, *ref));
    }
  }
}

// Fused post-ops on every algorithm's paths: GEMM tiles with K in one block
// and in several (the sum joins the first block, the clamp the last; the
// small-cache run splits K further), the depthwise kernel's interior
// blocks, borders and channel tails, groups, and the naive loop.
TEST_P(ConvTest, PostOps) {
  const std::vector<std::string> shapes = {
      "n=2,h=9,w=10,ci=19,co=21,k=3x3,p=1",
      "n=1,h=6,w=7,ci=300,co=33,k=1x1",
      "n=1,h=12,w=11,ci=64,co=20,k=3x3,s=2,p=1",
      "n=2,h=14,w=19,ci=13,co=13,k=3x3,g=13,p=1",
      "n=1,h=11,w=21,ci=20,co=20,k=5x5,s=2,g=20,p=2",
      "n=1,h=7,w=8,ci=12,co=18,k=3x3,g=3,p=1:0:0:1",
      // Depthwise pairs of channel vectors: stride 2 (whole rows of
      // channels), stride 1 on a narrow row; a single vector after the
      // pairs, or a tail.
      "n=2,h=9,w=24,ci=40,co=40,k=3x3,s=2,g=40,p=1",
      "n=1,h=7,w=9,ci=40,co=40,k=3x3,g=40,p=1",
  };
  const std::vector<std::string> posts = {
      ",min=0",                   // ReLU
      ",min=0,max=0.5",           // ReLU6-like, both bounds hit
      ",sum=1",                   // residual add
      ",sum=-0.5,bias=1",
      ",sum=1,min=0,bias=1",      // conv + bias + residual, then ReLU
      ",sum=0.75,min=-0.25,max=0.25",
      ",max=-0.1,bias=1",
  };
  for (const std::string& shape : shapes) {
    for (const std::string& post : posts) {
      const Conv2dDesc d = Spec(shape + post);
      const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 13);
      const std::unique_ptr<Reference> ref = MakeReference(*data);
      for (Algorithm a : Algorithms(d)) {
        EXPECT_TRUE(ConvTester().target(target()).algorithm(a).Test(*data, *ref));
        EXPECT_TRUE(ConvTester().target(target()).algorithm(a).threads(2).Test(*data, *ref));
      }
    }
    // Exact tier: integers, the sum's scale a power of two.
    const Conv2dDesc d = Spec(shape + ",sum=2,min=-300,max=400,bias=1");
    const std::unique_ptr<ConvData> data = MakeData(d, Data::kIntegers, 17);
    const std::unique_ptr<Reference> ref = MakeReference(*data);
    for (Algorithm a : Algorithms(d)) {
      EXPECT_TRUE(ConvTester().target(target()).algorithm(a).data(Data::kIntegers).Test(*data,
                                                                                      *ref));
    }
  }
}

// Both activation layouts with both weight layouts: every algorithm that
// applies (NCHW: auto, both NCHW GEMMs and the naive loop; OIHW weights: every
// NHWC algorithm), across remainders of MR and NR (channels and pixels, in
// both NCHW mappings), tiles spanning images,
// K blocks (the small-cache run splits K), groups, depthwise, strides,
// padding and dilation, bias and post-ops, several images per task.
TEST_P(ConvTest, Layouts) {
  const std::vector<std::string> shapes = {
      "n=2,h=8,w=8,ci=3,co=4,k=3x3",
      "n=3,h=9,w=10,ci=19,co=21,k=3x3,p=1,bias=1",
      "n=1,h=6,w=7,ci=300,co=33,k=1x1,bias=1",
      "n=2,h=12,w=11,ci=16,co=13,k=3x3,s=2,p=1,d=2,min=0",
      "n=2,h=7,w=9,ci=12,co=18,k=5x3,g=3,p=2:0:1:1,sum=0.5",
      "n=2,h=10,w=9,ci=13,co=13,k=3x3,g=13,p=1,bias=1",
      "n=1,h=17,w=19,ci=3,co=5,k=5x5",
      "n=5,h=3,w=2,ci=7,co=29,k=2x2,s=1x2,p=1,bias=1,sum=-1,max=0.5",
      "n=1,h=9,w=77,ci=9,co=7,k=3x3,s=2,p=1",  // stride 2 along long rows
      "n=1,h=5,w=80,ci=4,co=6,k=1x1,s=2",
      // Rows of 3 outputs: a vector of pixels spans more output rows than
      // the NCHW packer's vector path takes (element by element instead).
      "n=2,h=8,w=3,ci=9,co=20,k=3x3,p=1,bias=1",
      "n=2,h=16,w=5,ci=9,co=20,k=3x3,s=2,p=1",
  };
  for (const std::string& shape : shapes) {
    for (const char* layouts : {",layout=nchw", ",layout=nchw,weights=oihw", ",weights=oihw"}) {
      const Conv2dDesc d = Spec(shape + layouts);
      const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 23);
      const std::unique_ptr<Reference> ref = MakeReference(*data);
      const std::vector<Algorithm> algos = Algorithms(d);
      EXPECT_EQ(d.layout == Layout::kNchw ? 4u : Algorithms(Spec(shape)).size(), algos.size())
          << FormatShapeSpec(d);
      for (Algorithm a : algos) {
        EXPECT_TRUE(ConvTester().target(target()).algorithm(a).Test(*data, *ref));
        EXPECT_TRUE(ConvTester().target(target()).algorithm(a).threads(3).Test(*data, *ref));
      }
    }
  }
  // kAuto on NCHW: the NCHW GEMM where whole vectors of pixels fill the
  // planes and 1x1 layers read them in place; the pixel GEMM for 7x7 planes
  // (49 pixels) with many channels where vectors are 8 lanes or more (NR >=
  // 16): the NCHW GEMM would pad 49 pixels to 56 or 64. With 1-lane vectors
  // (SCALAR, NR = 4) nothing pads, and the NCHW GEMM is cheaper. The exact
  // tier matches bit for bit either way.
  Options o;
  o.max_target = target();
  PlanInfo info;
  ASSERT_TRUE(QueryPlan(Spec("n=1,h=8,w=8,ci=8,co=2,k=1x1"), o, &info).ok());
  const int64_t nr = info.nr;
  const std::pair<const char*, const char*> autos[] = {
      {"n=2,h=32,w=32,ci=5,co=17,k=1x1,bias=1,layout=nchw,weights=oihw", "nchw_gemm"},
      {"n=1,h=7,w=7,ci=64,co=256,k=3x3,p=1,bias=1,layout=nchw",
       nr >= 16 ? "nchw_pixel_gemm" : nr <= 4 ? "nchw_gemm" : nullptr},
  };
  for (const auto& [spec, algorithm] : autos) {
    const Conv2dDesc a = Spec(spec);
    ASSERT_TRUE(QueryPlan(a, o, &info).ok());
    if (algorithm != nullptr) {
      EXPECT_EQ(algorithm, info.algorithm) << spec;
    }
    const std::unique_ptr<ConvData> data = MakeData(a, Data::kIntegers, 29);
    const std::unique_ptr<Reference> ref = MakeReference(*data);
    EXPECT_TRUE(ConvTester().target(target()).data(Data::kIntegers).Test(*data, *ref)) << spec;
  }
  const Conv2dDesc d = Spec("n=2,h=9,w=8,ci=5,co=17,k=3x3,p=1,bias=1,layout=nchw,weights=oihw");
  // An NHWC-only algorithm on NCHW is kUnsupported, naming the algorithm.
  o.algorithm = Algorithm::kDirectGemm;
  EXPECT_EQ(StatusCode::kUnsupported, QueryPlan(d, o, &info).code());
}

// Pixel strides (NHWC): input and output pixels further apart than their
// channels, on every algorithm that applies, through each kernel path (the
// 1x1 stride-1 direct GEMM that reads the input as A, merged kernel-row runs
// of 3-channel first layers, which strides must split, the depthwise
// blocks, padded tiles, groups, post-ops). The input's gaps hold NaN and the
// output's guards (ConvTester): reading or writing one shows.
TEST_P(ConvTest, PixelStrides) {
  const std::vector<std::string> shapes = {
      "n=2,h=7,w=9,ci=19,co=21,k=1x1,bias=1",
      "n=1,h=6,w=7,ci=300,co=33,k=1x1,bias=1",
      "n=2,h=10,w=11,ci=3,co=16,k=3x3,p=1",
      "n=1,h=17,w=19,ci=3,co=5,k=5x5,s=2,p=2,bias=1",
      "n=2,h=9,w=10,ci=19,co=21,k=3x3,p=1,bias=1,sum=0.5,min=-0.25",
      "n=2,h=12,w=11,ci=16,co=13,k=3x3,s=2,p=1,d=2,max=0.5",
      "n=2,h=7,w=9,ci=12,co=18,k=5x3,g=3,p=2:0:1:1,bias=1",
      "n=2,h=10,w=19,ci=13,co=13,k=3x3,g=13,p=1,bias=1",
      "n=1,h=9,w=21,ci=40,co=40,k=3x3,g=40,s=2,p=1,sum=1",
      "n=1,h=8,w=23,ci=8,co=8,k=5x5,g=8,p=2,bias=1,min=0",
  };
  for (const std::string& shape : shapes) {
    const Conv2dDesc dense = Spec(shape);
    for (const auto& [xs, ys] : {std::pair<int64_t, int64_t>{dense.in_channels + 5, 0},
                                 {0, dense.out_channels + 3},
                                 {3 * dense.in_channels, 2 * dense.out_channels + 1}}) {
      Conv2dDesc d = dense;
      d.in_pixel_stride = xs;
      d.out_pixel_stride = ys;
      const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 31);
      const std::unique_ptr<Reference> ref = MakeReference(*data);
      for (Algorithm a : Algorithms(d)) {
        EXPECT_TRUE(ConvTester().target(target()).algorithm(a).Test(*data, *ref));
        EXPECT_TRUE(ConvTester().target(target()).algorithm(a).threads(3).Test(*data, *ref));
      }
    }
  }
  // A transposed convolution at pixel strides: y's gaps untouched, and the
  // same values as at the dense layout.
  ConvTranspose2dDesc t;
  t.batch = 2;
  t.in_h = 5;
  t.in_w = 6;
  t.in_channels = 7;
  t.out_channels = 9;
  t.kernel_h = t.kernel_w = 3;
  t.stride_h = t.stride_w = 2;
  t.pad_top = t.pad_left = 1;
  t.has_bias = true;
  Conv2dDesc c;
  ASSERT_TRUE(TransposedAsConv(t, &c).ok());
  const int64_t pixels_in = t.batch * t.in_h * t.in_w, pixels_out = c.batch * c.in_h * c.in_w;
  std::vector<float> x(static_cast<size_t>(pixels_in * 10)), w(static_cast<size_t>(Sizes(c).weights)),
      bias(9);
  FillRandom(x.data(), static_cast<int64_t>(x.size()), 41);
  FillRandom(w.data(), static_cast<int64_t>(w.size()), 42);
  FillRandom(bias.data(), 9, 43);
  std::vector<float> x_dense(static_cast<size_t>(pixels_in * 7));
  for (int64_t p = 0; p < pixels_in; ++p) {
    for (int64_t ch = 0; ch < 7; ++ch) x_dense[p * 7 + ch] = x[p * 10 + ch];
    for (int64_t ch = 7; ch < 10; ++ch) x[p * 10 + ch] = std::numeric_limits<float>::quiet_NaN();
  }
  Options o;
  o.max_target = target();
  std::vector<float> y_dense(static_cast<size_t>(pixels_out * 9));
  ASSERT_TRUE(ConvTranspose2d(t, x_dense.data(), w.data(), bias.data(), y_dense.data(), o).ok());
  ConvTranspose2dDesc ts = t;
  ts.in_pixel_stride = 10;
  ts.out_pixel_stride = 12;
  GuardedOutput y(pixels_out * 12 - 3, 9, 12);
  ASSERT_TRUE(ConvTranspose2d(ts, x.data(), w.data(), bias.data(), y.data(), o).ok());
  EXPECT_EQ("", y.CheckGuards());
  for (int64_t p = 0; p < pixels_out; ++p) {
    for (int64_t ch = 0; ch < 9; ++ch) {
      ASSERT_EQ(y_dense[p * 9 + ch], y.data()[p * 12 + ch]) << "pixel " << p << " channel " << ch;
    }
  }
}

// Convolving one channel slice of a tensor into another slice of the same
// tensor (a concatenation written in place, as DenseNet does): allowed when
// no float is in both, rejected with nothing written when one is.
TEST_P(ConvTest, PixelStridesSlicesOfOneBuffer) {
  const int64_t total = 40;  // channels of the shared tensor
  Conv2dDesc d = Spec("n=2,h=9,w=8,ci=16,co=12,k=3x3,p=1,bias=1");
  d.in_pixel_stride = d.out_pixel_stride = total;
  const int64_t pixels = 2 * 9 * 8;
  std::vector<float> buf(static_cast<size_t>(pixels * total));
  FillRandom(buf.data(), static_cast<int64_t>(buf.size()), 5);
  std::vector<float> w(static_cast<size_t>(Sizes(d).weights)), bias(12);
  FillRandom(w.data(), static_cast<int64_t>(w.size()), 6);
  FillRandom(bias.data(), 12, 7);
  // The expected output: the same algorithm on a dense copy of the slice.
  Conv2dDesc dense = d;
  dense.in_pixel_stride = dense.out_pixel_stride = 0;
  std::vector<float> x(static_cast<size_t>(pixels * 16)), want(static_cast<size_t>(pixels * 12));
  for (int64_t p = 0; p < pixels; ++p) {
    for (int64_t ch = 0; ch < 16; ++ch) x[p * 16 + ch] = buf[p * total + 4 + ch];
  }
  Options o;
  o.max_target = target();
  for (Algorithm a : Algorithms(d)) {
    o.algorithm = a;
    o.threads = 2;
    ASSERT_TRUE(Conv2dForward(dense, x.data(), w.data(), bias.data(), want.data(), o).ok());
    // Input channels [4, 20), output channels [20, 32) and [28, 40): fine.
    for (int64_t out_at : {20, 28}) {
      std::vector<float> b = buf;
      const Status s = Conv2dForward(d, b.data() + 4, w.data(), bias.data(), b.data() + out_at, o);
      ASSERT_TRUE(s.ok()) << AlgorithmName(a) << ": " << s.message();
      for (int64_t p = 0; p < pixels; ++p) {
        for (int64_t ch = 0; ch < total; ++ch) {
          const bool out = ch >= out_at && ch < out_at + 12;
          const float expect = out ? want[p * 12 + ch - out_at] : buf[p * total + ch];
          ASSERT_EQ(expect, b[p * total + ch])
              << AlgorithmName(a) << " output at channel " << out_at << ": pixel " << p
              << " channel " << ch;
        }
      }
    }
    // Output channels [19, 31) or [0, 12) share floats with the input's
    // [4, 20): kInvalidArgument naming the output, buffer untouched.
    for (int64_t out_at : {19, 0}) {
      std::vector<float> b = buf;
      const Status s = Conv2dForward(d, b.data() + 4, w.data(), bias.data(), b.data() + out_at, o);
      EXPECT_EQ(StatusCode::kInvalidArgument, s.code()) << out_at;
      EXPECT_EQ("output", s.field());
      EXPECT_TRUE(b == buf);
    }
  }
}

// The clamp keeps NaN (as PyTorch's clamp and relu do) on every target's
// store: a NaN in the summed output stays NaN through ReLU; every other
// output is finite and right.
TEST_P(ConvTest, ClampKeepsNaN) {
  for (const char* spec : {"n=1,h=5,w=6,ci=7,co=19,k=3x3,p=1,sum=1,min=0",
                           "n=1,h=5,w=13,ci=9,co=9,k=3x3,g=9,p=1,sum=1,min=0,max=6"}) {
    const Conv2dDesc d = Spec(spec);
    std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 19);
    const int64_t count = data->sizes.output;
    for (int64_t i : {int64_t{0}, count / 2 + 3, count - 1}) {
      data->prev[i] = std::numeric_limits<float>::quiet_NaN();
    }
    const std::unique_ptr<Reference> ref = MakeReference(*data);
    for (Algorithm a : Algorithms(d)) {
      const ConvTester tester = ConvTester().target(target()).algorithm(a);
      EXPECT_TRUE(tester.Test(*data, *ref));
      GuardedOutput out(count);
      PlanInfo info;
      ASSERT_TRUE(tester.Run(*data, &out, &info).ok());
      int64_t nans = 0;
      for (int64_t i = 0; i < count; ++i) nans += std::isnan(out.data()[i]) ? 1 : 0;
      EXPECT_EQ(3, nans) << info.kernel << " [" << info.algorithm << "] " << spec;
    }
  }
}

// Threads 1, 2 and 3 give bit-identical outputs (no K split across threads),
// including splits over output channels (few rows) and groups.
TEST_P(ConvTest, ThreadsBitIdentical) {
  for (const char* spec : {"n=5,h=13,w=11,ci=7,co=37,k=3x3,p=1,bias=1",
                           "n=1,h=1,w=3,ci=300,co=200,k=1x1,bias=1",  // N split
                           "n=1,h=30,w=31,ci=32,co=48,k=3x3,s=2,g=2,p=1",
                           "n=2,h=20,w=20,ci=40,co=40,k=3x3,g=40,p=1,bias=1",
                           "n=2,h=9,w=9,ci=24,co=37,k=3x3,p=1,bias=1,sum=0.5,min=0",
                           "n=3,h=11,w=13,ci=20,co=37,k=3x3,p=1,bias=1,layout=nchw"}) {
    const Conv2dDesc d = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 11);
    const std::unique_ptr<Reference> ref = MakeReference(*data);
    for (Algorithm a : Algorithms(d)) {
      std::vector<float> first;
      for (int threads : {1, 2, 3}) {
        const ConvTester tester = ConvTester().target(target()).algorithm(a).threads(threads);
        EXPECT_TRUE(tester.Test(*data, *ref));
        GuardedOutput out(data->sizes.output);
        PlanInfo info;
        ASSERT_TRUE(tester.Run(*data, &out, &info).ok());
        if (threads == 1) {
          first.assign(out.data(), out.data() + out.size());
        } else {
          EXPECT_EQ(0, std::memcmp(first.data(), out.data(), first.size() * sizeof(float)))
              << info.kernel << " [" << info.algorithm << "] " << spec << ": " << threads
              << " threads differ from 1";
        }
      }
    }
  }
}

// The GEMM algorithms perform the same operations in the same order per
// output, so they agree bit for bit with each other.
TEST_P(ConvTest, GemmAlgorithmsAgreeBitwise) {
  for (const char* spec : {"n=2,h=9,w=10,ci=19,co=21,k=3x3,p=1,bias=1",
                           "n=1,h=8,w=8,ci=300,co=40,k=1x1,bias=1"}) {
    const Conv2dDesc d = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 5);
    std::vector<float> first;
    for (Algorithm a : Algorithms(d, false)) {
      GuardedOutput out(data->sizes.output);
      PlanInfo info;
      ASSERT_TRUE(ConvTester().target(target()).algorithm(a).Run(*data, &out, &info).ok());
      if (first.empty()) {
        first.assign(out.data(), out.data() + out.size());
      } else {
        EXPECT_EQ(0, std::memcmp(first.data(), out.data(), first.size() * sizeof(float)))
            << info.algorithm << " differs from auto on " << spec;
      }
    }
  }
}

// A prepared operator runs many times, with its own and with caller
// workspaces, and from several threads at once.
TEST_P(ConvTest, OperatorReuseAndConcurrency) {
  const Conv2dDesc d = Spec("n=3,h=12,w=12,ci=16,co=24,k=3x3,p=1,bias=1");
  const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 9);
  const std::unique_ptr<Reference> ref = MakeReference(*data);
  Options o;
  o.max_target = target();
  o.threads = 2;
  std::unique_ptr<Conv2d> op;
  ASSERT_TRUE(Conv2d::Create(d, data->weights.get(), data->bias.get(), o, &op).ok());
  EXPECT_EQ(target(), op->info().target);
  for (int rep = 0; rep < 3; ++rep) {
    GuardedOutput out(data->sizes.output);
    ASSERT_TRUE(op->Forward(data->input.get(), out.data()).ok());
    EXPECT_EQ("", out.CheckGuards());
    EXPECT_EQ("", CompareWithReference(*data, *ref, out.data(), false));
  }
  // Caller workspace, unaligned on purpose.
  std::vector<char> ws(op->WorkspaceBytes(3) + 3);
  GuardedOutput out(data->sizes.output);
  ASSERT_TRUE(op->Forward(data->input.get(), out.data(), ws.data() + 3, ws.size() - 3, 3).ok());
  EXPECT_EQ("", CompareWithReference(*data, *ref, out.data(), false));
  // Concurrent Forward calls on one operator from several OpenMP threads:
  // each runs on its calling thread alone (no nested parallelism).
  std::vector<std::unique_ptr<GuardedOutput>> outs;
  for (int i = 0; i < 4; ++i) outs.push_back(std::make_unique<GuardedOutput>(data->sizes.output));
#if defined(_OPENMP)
#pragma omp parallel for num_threads(4)
#endif
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(op->Forward(data->input.get(), outs[i]->data()).ok());
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ("", outs[i]->CheckGuards());
    EXPECT_EQ("", CompareWithReference(*data, *ref, outs[i]->data(), false));
  }
}

TEST_P(ConvTest, PlanReportsWhatRuns) {
  PlanInfo info;
  Options o;
  o.max_target = target();
  ASSERT_TRUE(QueryPlan(Spec("n=1,h=8,w=8,ci=16,co=32,k=3x3,p=1"), o, &info).ok());
  EXPECT_EQ("direct_gemm", info.algorithm);
  EXPECT_NE(std::string::npos, info.kernel.find("f32_igemm_")) << info.kernel;
  EXPECT_GT(info.mr, 0);
  EXPECT_GT(info.nr, 0);
  EXPECT_GE(info.tile_rows, 1);
  EXPECT_LE(info.tile_rows, info.mr);
  EXPECT_EQ(0, info.mc % info.tile_rows);
  EXPECT_EQ(0, info.nc % info.nr);
  EXPECT_GT(info.workspace_bytes, 0u);
  o.algorithm = Algorithm::kIm2colGemm;
  ASSERT_TRUE(QueryPlan(Spec("n=1,h=8,w=8,ci=16,co=32,k=1x1"), o, &info).ok());
  EXPECT_EQ("im2col_gemm", info.algorithm);
  EXPECT_NE(std::string::npos, info.kernel.find("f32_gemm_")) << info.kernel;
  // Every row of the table that applies runs under its own name.
  o.algorithm = Algorithm::kAuto;
  for (Algorithm a : ApplicableAlgorithms(Spec("n=1,h=8,w=8,ci=16,co=16,k=3x3,g=16"))) {
    Options named = o;
    named.algorithm = a;
    ASSERT_TRUE(QueryPlan(Spec("n=1,h=8,w=8,ci=16,co=16,k=3x3,g=16"), named, &info).ok());
    EXPECT_EQ(AlgorithmName(a), info.algorithm);
  }
#if defined(_OPENMP)
  // Inside a parallel region convkit uses the calling thread only, even when
  // asked for more.
  const Conv2dDesc big = Spec("n=4,h=64,w=64,ci=64,co=64,k=3x3,p=1");
  o.threads = 4;
  ASSERT_TRUE(QueryPlan(big, o, &info).ok());
  EXPECT_EQ(4, info.threads);
  int nested = -1;
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    {
      PlanInfo inner;
      if (QueryPlan(big, o, &inner).ok()) nested = inner.threads;
    }
  }
  EXPECT_EQ(1, nested);
  o.threads = 0;
#endif
  ASSERT_TRUE(QueryPlan(Spec("n=1,h=8,w=8,ci=16,co=16,k=3x3,g=16"), o, &info).ok());
  EXPECT_EQ("depthwise", info.algorithm);
  EXPECT_NE(std::string::npos, info.kernel.find("f32_dwconv_")) << info.kernel;
  EXPECT_EQ(0u, info.workspace_bytes);
}

#if defined(_OPENMP)
// An automatic thread count (Options::threads = 0) follows the work: one
// thread per about 10 kFLOP per vector lane of the target (0.16 MFLOP with
// 16 lanes), at most OpenMP's maximum and the tasks.
TEST_P(ConvTest, AutomaticThreadsFollowTheWork) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(4);
  PlanInfo info;
  Options o;
  o.max_target = target();
  // 2x2 pixels, 16 -> 16 (8 kFLOP): one thread, on the caller.
  ASSERT_TRUE(QueryPlan(Spec("n=1,h=2,w=2,ci=16,co=16,k=1x1"), o, &info).ok());
  EXPECT_EQ(1, info.threads);
  // 3x3 pixels, 256 -> 128 (0.6 MFLOP, ~2 us on one AVX-512 core): two
  // threads at least while a vector holds at most 28 lanes (a flat 0.5
  // MFLOP per thread kept it on one).
  ASSERT_TRUE(QueryPlan(Spec("n=1,h=3,w=3,ci=256,co=128,k=1x1"), o, &info).ok());
  // Lanes per vector: nr over the vectors of the tile ("..._14x2v__avx3").
  const size_t x = info.kernel.find('x', info.kernel.find("igemm_"));
  ASSERT_NE(std::string::npos, x) << info.kernel;
  const int64_t vectors = std::atoi(info.kernel.c_str() + x + 1);
  ASSERT_GT(vectors, 0) << info.kernel;
  if (info.nr / vectors <= 28) {
    EXPECT_GE(info.threads, 2) << info.kernel;
  }
  // Explicit counts are kept, up to the tasks.
  o.threads = 3;
  ASSERT_TRUE(QueryPlan(Spec("n=1,h=1,w=1,ci=4,co=4,k=1x1"), o, &info).ok());
  EXPECT_EQ(1, info.threads);  // one tile: one task
  ASSERT_TRUE(QueryPlan(Spec("n=1,h=32,w=32,ci=64,co=64,k=3x3,p=1"), o, &info).ok());
  EXPECT_EQ(3, info.threads);
  // 32x32 pixels, 64 -> 64 3x3 (75 MFLOP): all four.
  o.threads = 0;
  ASSERT_TRUE(QueryPlan(Spec("n=1,h=32,w=32,ci=64,co=64,k=3x3,p=1"), o, &info).ok());
  EXPECT_EQ(4, info.threads);
  omp_set_num_threads(saved);
}
#endif

}  // namespace
}  // namespace testing
}  // namespace convkit
