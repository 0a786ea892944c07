// Threads and the floating-point environment, on every target: one prepared
// operator run from 8 std::threads x 50 calls (OpenMP inside each call) gives
// the serial result bit for bit; thread counts 1, 2, 3, 5 and 8 agree bit for
// bit; no call changes MXCSR; results stay right with flush-to-zero and
// denormals-are-zero on.
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define CONVKIT_TEST_MXCSR 1
#endif

#include "convkit/convkit.h"
#include "gtest/gtest.h"
#include "tests/testing/conv_tester.h"
#include "tests/testing/targets.h"

namespace convkit {
namespace testing {
namespace {

class ThreadsTest : public TargetTest {};
CONVKIT_INSTANTIATE_PER_TARGET(ThreadsTest);

// One of each kernel family: direct GEMM with K in blocks, direct GEMM
// with tiles of one output row (narrower than AVX3's MR; the split between
// threads follows them) and of half a row (16 wide), depthwise, grouped
// with post-ops, NCHW, the sliding window (kAuto's choice for one input
// channel and a vector of outputs), the pixel lanes (12 outputs on AVX3 and
// AVX2, rows split between threads).
const char* const kSpecs[] = {
    "n=2,h=15,w=13,ci=24,co=37,k=3x3,p=1,bias=1",
    "n=1,h=8,w=8,ci=20,co=12,k=3x3,p=1,bias=1",
    "n=1,h=9,w=16,ci=20,co=12,k=3x3,p=1,bias=1",
    "n=2,h=20,w=20,ci=40,co=40,k=3x3,g=40,p=1,bias=1",
    "n=1,h=12,w=12,ci=16,co=24,k=3x3,g=4,s=2,p=1,min=0,max=0.5",
    "n=2,h=11,w=9,ci=8,co=20,k=3x3,p=1,layout=nchw,weights=oihw",
    "n=1,h=8,w=70,ci=1,co=8,k=7x7,p=3,bias=1",
    "n=1,h=2,w=30,ci=2,co=4,k=1x5,p=0:0:2:2,bias=1",
    "n=2,h=9,w=20,ci=24,co=12,k=3x3,p=1,bias=1",
};

std::vector<float> ForwardWith(const Conv2d& op, const ConvData& data, int threads) {
  std::vector<float> y(static_cast<size_t>(data.sizes.output), -1.0f);
  const Status s = op.Forward(data.input.get(), y.data(), threads);
  EXPECT_TRUE(s.ok()) << s.message();
  return y;
}

TEST_P(ThreadsTest, ConcurrentCallersMatchSerialBitwise) {
  for (const char* spec : kSpecs) {
    const Conv2dDesc d = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 31);
    Options o;
    o.max_target = target();
    std::unique_ptr<Conv2d> op;
    ASSERT_TRUE(Conv2d::Create(d, data->weights.get(), data->bias_or_null(), o, &op).ok());
    const std::vector<float> serial = ForwardWith(*op, *data, 1);
    std::vector<int> mismatches(8, 0);
    std::vector<std::thread> callers;
    for (int t = 0; t < 8; ++t) {
      callers.emplace_back([&, t] {
        std::vector<float> y(serial.size());
        for (int i = 0; i < 50; ++i) {
          std::fill(y.begin(), y.end(), -1.0f);
          // Automatic OpenMP threads inside each call, on alternate calls 2.
          if (!op->Forward(data->input.get(), y.data(), i % 2 == 0 ? 0 : 2).ok() ||
              std::memcmp(y.data(), serial.data(), y.size() * sizeof(float)) != 0) {
            ++mismatches[t];
          }
        }
      });
    }
    for (std::thread& c : callers) c.join();
    for (int t = 0; t < 8; ++t) EXPECT_EQ(0, mismatches[t]) << spec << " caller " << t;
  }
}

TEST_P(ThreadsTest, ThreadCountsBitIdentical) {
  for (const char* spec : kSpecs) {
    const Conv2dDesc d = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 37);
    Options o;
    o.max_target = target();
    std::unique_ptr<Conv2d> op;
    ASSERT_TRUE(Conv2d::Create(d, data->weights.get(), data->bias_or_null(), o, &op).ok());
    const std::vector<float> one = ForwardWith(*op, *data, 1);
    for (int threads : {2, 3, 5, 8}) {
      const std::vector<float> y = ForwardWith(*op, *data, threads);
      EXPECT_EQ(0, std::memcmp(one.data(), y.data(), y.size() * sizeof(float)))
          << spec << ": " << threads << " threads differ from 1";
    }
  }
}

#if CONVKIT_TEST_MXCSR
// Every entry point leaves MXCSR as it found it, and with FTZ/DAZ on the
// results are still within the reference's tolerance (the data is normal;
// only results below 2^-126 may flush).
TEST_P(ThreadsTest, FloatingPointEnvironment) {
  const unsigned original = _mm_getcsr();
  for (unsigned ftz_daz : {0u, 0x8040u}) {
    _mm_setcsr((original & ~0x8040u) | ftz_daz);
    const unsigned before = _mm_getcsr();
    for (const char* spec : kSpecs) {
      const Conv2dDesc d = Spec(spec);
      const std::unique_ptr<ConvData> data = MakeData(d, Data::kRandom, 41);
      const std::unique_ptr<Reference> ref = MakeReference(*data);
      for (int threads : {1, 2}) {
        EXPECT_TRUE(ConvTester().target(target()).threads(threads).Test(*data, *ref));
        EXPECT_EQ(before, _mm_getcsr()) << spec << " changed MXCSR";
      }
      std::vector<float> dx(static_cast<size_t>(data->sizes.input));
      std::vector<float> dy(static_cast<size_t>(data->sizes.output), 0.5f);
      Options o;
      o.max_target = target();
      Conv2dDesc plain = d;
      plain.output_min = -std::numeric_limits<float>::infinity();
      plain.output_max = std::numeric_limits<float>::infinity();
      EXPECT_TRUE(Conv2dBackwardData(plain, dy.data(), data->weights.get(), dx.data(), o).ok());
      EXPECT_EQ(before, _mm_getcsr()) << spec << " (backward) changed MXCSR";
    }
  }
  _mm_setcsr(original);
}
#endif

}  // namespace
}  // namespace testing
}  // namespace convkit
