// Memory on every target (issue 8, item 1 and 5):
//  - every buffer convkit reads or writes (input, weights, bias, output, the
//    caller's workspace; dy, x, dx, dw, dbias in the backward passes) placed
//    so that its last byte is followed by a PROT_NONE page, and separately
//    so that its first byte follows one: a kernel that touches one float
//    outside faults (the guard values of ConvTester cannot see a write that
//    puts back what it read, nor any read);
//  - every float offset within a 64-byte line gives bit-identical results;
//  - every internal allocation made to fail in turn: each call returns
//    kOutOfMemory, leaves its outputs untouched and leaks nothing.
// Guard zones around convkit's internal buffers are on in every test program
// (tests/testing/conv_tester.cc) and checked here after every call.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "gtest/gtest.h"
#include "lib/common/aligned.h"
#include "lib/ref/check.h"
#include "tests/testing/conv_tester.h"
#include "tests/testing/page_guard.h"
#include "tests/testing/targets.h"

namespace convkit {
namespace testing {
namespace {

class MemoryTest : public TargetTest {};
CONVKIT_INSTANTIATE_PER_TARGET(MemoryTest);

using Side = PageGuarded::Side;
constexpr Side kSides[] = {Side::kAfter, Side::kBefore};
const char* SideName(Side s) { return s == Side::kAfter ? "page after" : "page before"; }

// Each algorithm's paths: remainders of MR and NR (Cout 5, 13, 21, 33),
// groups (Cout/G = 1 and 17), depthwise with 6 and 13 channels and stride 2,
// padding on every side, stride, dilation, non-square kernels, several
// images, K across cache blocks, post-ops, both layouts.
const std::vector<std::string>& ForwardShapes() {
  static const std::vector<std::string> shapes = {
      "n=1,h=5,w=7,ci=3,co=5,k=3x3,p=1",
      "n=2,h=9,w=10,ci=19,co=21,k=3x3,p=1,bias=1",
      "n=1,h=6,w=7,ci=40,co=33,k=1x1",
      "n=2,h=12,w=11,ci=16,co=13,k=3x3,s=2,p=1,d=2,bias=1",
      "n=3,h=7,w=9,ci=12,co=18,k=5x3,g=3,s=2x1,p=2:0:1:1",
      "n=2,h=10,w=9,ci=13,co=13,k=3x3,g=13,p=1,bias=1",
      "n=1,h=11,w=13,ci=6,co=6,k=3x3,g=6,s=2,p=1",
      "n=1,h=9,w=9,ci=40,co=40,k=3x3,g=40",
      "n=1,h=4,w=4,ci=6,co=34,k=3x3,p=1,g=2",
      "n=1,h=17,w=19,ci=3,co=5,k=5x5,s=3",
      "n=1,h=3,w=29,ci=300,co=7,k=1x3,p=0:0:1:1",
      "n=1,h=5,w=6,ci=7,co=9,k=3x3,p=1,bias=1,sum=0.5,min=-0.5,max=0.5",
      "n=2,h=7,w=6,ci=5,co=11,k=3x3,p=1,bias=1,layout=nchw,weights=oihw",
      "n=1,h=9,w=8,ci=24,co=6,k=1x1,s=2,layout=nchw",
      "n=1,h=6,w=6,ci=8,co=8,k=3x3,g=8,p=1,weights=oihw",
  };
  return shapes;
}

float QuietNaN() { return std::numeric_limits<float>::quiet_NaN(); }

// The forward pass with input, weights, bias, output and a caller-provided
// workspace each against a PROT_NONE page on `side`. Output: *y.
::testing::AssertionResult ForwardPageGuarded(const ConvData& data, const Options& o,
                                              Side side, std::vector<float>* y) {
  const TensorSizes& sz = data.sizes;
  PageGuarded in(sz.input, side), w(sz.weights, side), b(data.desc.out_channels, side),
      out(sz.output, side);
  in.Fill(data.input.get(), sz.input);
  w.Fill(data.weights.get(), sz.weights);
  b.Fill(data.bias.get(), data.desc.out_channels);
  if (data.desc.has_sum) {
    out.Fill(data.prev.get(), sz.output);
  } else {
    std::fill(out.data(), out.data() + sz.output, QuietNaN());
  }
  std::unique_ptr<Conv2d> op;
  Status s = Conv2d::Create(data.desc, w.data(), data.desc.has_bias ? b.data() : nullptr, o, &op);
  if (!s.ok()) return ::testing::AssertionFailure() << "Create: " << s.message();
  const size_t ws_bytes = op->WorkspaceBytes();
  const int64_t ws_floats = static_cast<int64_t>(ws_bytes / sizeof(float)) + 1;
  PageGuarded ws(ws_floats, side);
  // A workspace of exactly ws_bytes, against the page.
  char* ws_ptr = reinterpret_cast<char*>(ws.data());
  if (side == Side::kAfter) ws_ptr += ws_floats * sizeof(float) - ws_bytes;
  s = op->Forward(in.data(), out.data(), ws_bytes > 0 ? ws_ptr : nullptr, ws_bytes);
  if (!s.ok()) return ::testing::AssertionFailure() << "Forward: " << s.message();
  y->assign(out.data(), out.data() + sz.output);
  return ::testing::AssertionSuccess();
}

// Runs every applicable algorithm on the target with each buffer against a
// page on each side, at 1 and 3 threads, and checks the outputs against the
// double reference.
TEST_P(MemoryTest, ForwardBuffersAgainstGuardPages) {
  for (const std::string& spec : ForwardShapes()) {
    const Conv2dDesc desc = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(desc, Data::kRandom, 5);
    const std::unique_ptr<Reference> ref = MakeReference(*data);
    for (Algorithm a : ApplicableAlgorithms(desc)) {
      for (Side side : kSides) {
        for (int threads : {1, 3}) {
          Options o;
          o.max_target = target();
          o.algorithm = a;
          o.threads = threads;
          const int64_t violations = debug::GuardViolations();
          std::vector<float> y;
          const std::string who = std::string(AlgorithmName(a)) + ", " + SideName(side) + ", " +
                                  std::to_string(threads) + " threads: " + spec;
          ASSERT_TRUE(ForwardPageGuarded(*data, o, side, &y)) << who;
          EXPECT_EQ(debug::GuardViolations(), violations) << who;
          const std::string cmp = CompareWithReference(*data, *ref, y.data(), false);
          EXPECT_TRUE(cmp.empty()) << who << ": " << cmp;
        }
      }
    }
  }
}

// A 64-byte aligned block of count floats plus 16 spare, starting at float
// `offset` (0..15) of the block.
class OffsetBuffer {
 public:
  OffsetBuffer(int64_t count, int offset)
      : block_(AllocateFloatsForTest(count + 16)), data_(block_.get() + offset) {}
  float* data() { return data_; }

 private:
  static std::unique_ptr<float[], void (*)(float*)> AllocateFloatsForTest(int64_t n) {
    const size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) / 64 * 64;
    return {static_cast<float*>(std::aligned_alloc(64, bytes)), [](float* p) { std::free(p); }};
  }
  std::unique_ptr<float[], void (*)(float*)> block_;
  float* data_;
};

std::vector<float> ForwardAtOffset(const ConvData& data, const Options& o, int offset) {
  const TensorSizes& sz = data.sizes;
  OffsetBuffer in(sz.input, offset), w(sz.weights, offset), b(data.desc.out_channels, offset),
      out(sz.output, offset);
  std::memcpy(in.data(), data.input.get(), sz.input * sizeof(float));
  std::memcpy(w.data(), data.weights.get(), sz.weights * sizeof(float));
  std::memcpy(b.data(), data.bias.get(), data.desc.out_channels * sizeof(float));
  if (data.desc.has_sum) {
    std::memcpy(out.data(), data.prev.get(), sz.output * sizeof(float));
  } else {
    std::fill(out.data(), out.data() + sz.output, QuietNaN());
  }
  std::unique_ptr<Conv2d> op;
  Status s = Conv2d::Create(data.desc, w.data(), data.desc.has_bias ? b.data() : nullptr, o, &op);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return {};
  const size_t ws_bytes = op->WorkspaceBytes();
  OffsetBuffer ws(static_cast<int64_t>(ws_bytes / sizeof(float)) + 1, offset);
  s = op->Forward(in.data(), out.data(), ws.data(), ws_bytes);
  EXPECT_TRUE(s.ok()) << s.message();
  return std::vector<float>(out.data(), out.data() + sz.output);
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Input, weights, bias, output and workspace at each float offset 0..15
// within a 64-byte line: the same bits as at offset 0.
TEST_P(MemoryTest, ForwardEveryOffsetBitIdentical) {
  for (const std::string& spec : ForwardShapes()) {
    const Conv2dDesc desc = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(desc, Data::kRandom, 9);
    for (Algorithm a : ApplicableAlgorithms(desc)) {
      if (a == Algorithm::kNaive) continue;  // scalar: no alignment paths
      Options o;
      o.max_target = target();
      o.algorithm = a;
      o.threads = 2;
      const std::vector<float> at0 = ForwardAtOffset(*data, o, 0);
      for (int offset = 1; offset < 16; ++offset) {
        EXPECT_TRUE(SameBits(ForwardAtOffset(*data, o, offset), at0))
            << AlgorithmName(a) << " at float offset " << offset << ": " << spec;
      }
    }
  }
}

// The backward passes and the transposed convolution: dy, x, weights, dx,
// dw, dbias against a page on each side and at every offset, bit-identical
// to a run on ordinary buffers (whose values backward_test checks).
struct BackwardRun {
  std::vector<float> dx, dw, dbias;
};

// place(count, k) gives the k-th buffer of a run.
using Place = std::function<float*(int64_t count, int k)>;

::testing::AssertionResult RunBackward(const ConvData& data, const Options& o, const Place& place,
                                       BackwardRun* r) {
  const Conv2dDesc& d = data.desc;
  const TensorSizes& sz = data.sizes;
  float* x = place(sz.input, 0);
  float* w = place(sz.weights, 1);
  float* dy = place(sz.output, 2);
  float* dx = place(sz.input, 3);
  float* dw = place(sz.weights, 4);
  float* db = place(d.out_channels, 5);
  std::memcpy(x, data.input.get(), sz.input * sizeof(float));
  std::memcpy(w, data.weights.get(), sz.weights * sizeof(float));
  FillRandom(dy, sz.output, 77);
  std::fill(dx, dx + sz.input, QuietNaN());
  std::fill(dw, dw + sz.weights, QuietNaN());
  std::fill(db, db + d.out_channels, QuietNaN());
  Status s = Conv2dBackwardData(d, dy, w, dx, o);
  if (!s.ok()) return ::testing::AssertionFailure() << "BackwardData: " << s.message();
  s = Conv2dBackwardWeights(d, x, dy, dw, d.has_bias ? db : nullptr, o);
  if (!s.ok()) return ::testing::AssertionFailure() << "BackwardWeights: " << s.message();
  r->dx.assign(dx, dx + sz.input);
  r->dw.assign(dw, dw + sz.weights);
  if (d.has_bias) r->dbias.assign(db, db + d.out_channels);
  return ::testing::AssertionSuccess();
}

bool SameRun(const BackwardRun& a, const BackwardRun& b) {
  return SameBits(a.dx, b.dx) && SameBits(a.dw, b.dw) && SameBits(a.dbias, b.dbias);
}

TEST_P(MemoryTest, BackwardBuffersAgainstGuardPagesAndAtEveryOffset) {
  const char* const specs[] = {
      "n=2,h=9,w=10,ci=19,co=21,k=3x3,p=1,bias=1",
      "n=2,h=12,w=11,ci=16,co=13,k=3x3,s=2,p=1,d=2,bias=1",
      "n=3,h=7,w=9,ci=12,co=18,k=5x3,g=3,s=2x1,p=2:0:1:1",
      "n=2,h=10,w=9,ci=13,co=13,k=3x3,g=13,p=1,bias=1",
      "n=1,h=6,w=7,ci=40,co=33,k=1x1,bias=1",
      "n=2,h=7,w=6,ci=5,co=11,k=3x3,p=1,s=2,bias=1,layout=nchw,weights=oihw",
  };
  for (const char* spec : specs) {
    const Conv2dDesc desc = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(desc, Data::kRandom, 3);
    Options o;
    o.max_target = target();
    o.threads = 2;
    std::vector<std::vector<float>> plain(6);
    BackwardRun want;
    ASSERT_TRUE(RunBackward(*data, o, [&](int64_t n, int k) {
      plain[k].resize(static_cast<size_t>(std::max<int64_t>(n, 1)));
      return plain[k].data();
    }, &want)) << spec;
    for (Side side : kSides) {
      std::vector<std::unique_ptr<PageGuarded>> pages(6);
      BackwardRun got;
      const int64_t violations = debug::GuardViolations();
      ASSERT_TRUE(RunBackward(*data, o, [&](int64_t n, int k) {
        pages[k] = std::make_unique<PageGuarded>(n, side);
        return pages[k]->data();
      }, &got)) << SideName(side) << ": " << spec;
      EXPECT_TRUE(SameRun(got, want)) << SideName(side) << ": " << spec;
      EXPECT_EQ(debug::GuardViolations(), violations) << spec;
    }
    for (int offset = 1; offset < 16; ++offset) {
      std::vector<std::unique_ptr<OffsetBuffer>> bufs(6);
      BackwardRun got;
      ASSERT_TRUE(RunBackward(*data, o, [&](int64_t n, int k) {
        bufs[k] = std::make_unique<OffsetBuffer>(std::max<int64_t>(n, 1), offset);
        return bufs[k]->data();
      }, &got)) << "offset " << offset << ": " << spec;
      EXPECT_TRUE(SameRun(got, want)) << "float offset " << offset << ": " << spec;
    }
  }
}

TEST_P(MemoryTest, TransposedAgainstGuardPages) {
  ConvTranspose2dDesc t;
  t.batch = 2;
  t.in_h = 5;
  t.in_w = 6;
  t.in_channels = 7;
  t.out_channels = 9;
  t.kernel_h = t.kernel_w = 3;
  t.stride_h = t.stride_w = 2;
  t.pad_top = t.pad_left = 1;
  t.output_pad_h = 1;
  t.has_bias = true;
  Conv2dDesc conv;
  ASSERT_TRUE(TransposedAsConv(t, &conv).ok());
  const TensorSizes sz = Sizes(conv);  // x of t = conv's output; y of t = conv's input
  std::vector<float> x(sz.output), w(sz.weights), b(t.out_channels);
  FillRandom(x.data(), sz.output, 1);
  FillRandom(w.data(), sz.weights, 2);
  FillRandom(b.data(), t.out_channels, 3);
  Options o;
  o.max_target = target();
  std::vector<float> want(sz.input);
  ASSERT_TRUE(ConvTranspose2d(t, x.data(), w.data(), b.data(), want.data(), o).ok());
  for (Side side : kSides) {
    PageGuarded px(sz.output, side), pw(sz.weights, side), pb(t.out_channels, side),
        py(sz.input, side);
    px.Fill(x.data(), sz.output);
    pw.Fill(w.data(), sz.weights);
    pb.Fill(b.data(), t.out_channels);
    ASSERT_TRUE(ConvTranspose2d(t, px.data(), pw.data(), pb.data(), py.data(), o).ok());
    EXPECT_EQ(std::memcmp(py.data(), want.data(), sz.input * sizeof(float)), 0) << SideName(side);
  }
}

// Fails the 1st, 2nd, ... internal allocation of `call` until one run needs
// no more: every failed run must return kOutOfMemory, leave `out` as it was
// and free what it had allocated.
void EveryAllocationFails(const std::string& what, const std::function<Status()>& call,
                          const std::vector<std::pair<float*, int64_t>>& outs) {
  std::vector<std::vector<float>> before;
  for (const auto& o : outs) before.emplace_back(o.first, o.first + o.second);
  const int64_t live = debug::LiveAllocations();
  int64_t n = 1;
  for (;; ++n) {
    debug::FailAllocationAt(n);
    const Status s = call();
    const int64_t made = debug::AllocationsSinceArm();
    debug::FailAllocationAt(0);
    EXPECT_EQ(debug::LiveAllocations(), live) << what << ": leak after failing allocation " << n;
    if (made < n) {  // this run reached no n-th allocation: it must succeed
      EXPECT_TRUE(s.ok()) << what << ": " << s.message();
      break;
    }
    ASSERT_EQ(s.code(), StatusCode::kOutOfMemory)
        << what << ", allocation " << n << " failed: " << s.message();
    for (size_t i = 0; i < outs.size(); ++i) {
      ASSERT_EQ(std::memcmp(outs[i].first, before[i].data(), outs[i].second * sizeof(float)), 0)
          << what << ": output " << i << " written although allocation " << n << " failed";
    }
    ASSERT_LT(n, 100) << what << ": no end to its allocations";
  }
  EXPECT_GT(n, 1) << what << ": allocates nothing, so the hook tested nothing";
}

TEST_P(MemoryTest, EveryAllocationFailureIsReported) {
  const char* const specs[] = {
      "n=2,h=9,w=10,ci=19,co=21,k=3x3,p=1,bias=1",             // direct_gemm
      "n=2,h=10,w=9,ci=13,co=13,k=3x3,g=13,p=1,bias=1",         // depthwise
      "n=2,h=7,w=6,ci=5,co=11,k=3x3,p=1,bias=1,layout=nchw,weights=oihw",
      "n=1,h=17,w=19,ci=3,co=5,k=5x5,s=3,bias=1",
  };
  for (const char* spec : specs) {
    const Conv2dDesc desc = Spec(spec);
    const std::unique_ptr<ConvData> data = MakeData(desc, Data::kRandom, 4);
    const TensorSizes& sz = data->sizes;
    std::vector<float> y(sz.output, 1.5f), dx(sz.input, 2.5f), dw(sz.weights, 3.5f),
        db(desc.out_channels, 4.5f);
    const std::vector<float> dy(sz.output, 0.25f);
    for (Algorithm a : ApplicableAlgorithms(desc)) {
      Options o;
      o.max_target = target();
      o.algorithm = a;
      o.threads = 2;
      EveryAllocationFails(std::string("Conv2dForward ") + AlgorithmName(a) + " " + spec,
                           [&] {
                             return Conv2dForward(desc, data->input.get(), data->weights.get(),
                                                  data->bias_or_null(), y.data(), o);
                           },
                           {{y.data(), sz.output}});
      // Create, then Forward with its own (heap: allocations are guarded)
      // workspace, failing only in Forward.
      std::unique_ptr<Conv2d> op;
      ASSERT_TRUE(Conv2d::Create(desc, data->weights.get(), data->bias_or_null(), o, &op).ok());
      if (op->WorkspaceBytes() > 0) {
        EveryAllocationFails(std::string("Forward ") + AlgorithmName(a) + " " + spec,
                             [&] { return op->Forward(data->input.get(), y.data()); },
                             {{y.data(), sz.output}});
      }
    }
    Options o;
    o.max_target = target();
    EveryAllocationFails(std::string("Conv2dBackwardData ") + spec,
                         [&] { return Conv2dBackwardData(desc, dy.data(), data->weights.get(),
                                                         dx.data(), o); },
                         {{dx.data(), sz.input}});
    EveryAllocationFails(std::string("Conv2dBackwardDataOp::Create ") + spec,
                         [&] {
                           std::unique_ptr<Conv2dBackwardDataOp> made;
                           const Status s = Conv2dBackwardDataOp::Create(
                               desc, data->weights.get(), o, &made);
                           EXPECT_EQ(s.ok(), made != nullptr);
                           return s;  // the operator is freed here
                         },
                         {});
    std::unique_ptr<Conv2dBackwardDataOp> bop;
    ASSERT_TRUE(Conv2dBackwardDataOp::Create(desc, data->weights.get(), o, &bop).ok());
    if (bop->WorkspaceBytes() > 0) {
      EveryAllocationFails(std::string("Conv2dBackwardDataOp::Run ") + spec,
                           [&] { return bop->Run(dy.data(), dx.data()); },
                           {{dx.data(), sz.input}});
    }
    EveryAllocationFails(std::string("Conv2dBackwardWeights ") + spec,
                         [&] { return Conv2dBackwardWeights(desc, data->input.get(), dy.data(),
                                                            dw.data(), desc.has_bias ? db.data() : nullptr, o); },
                         {{dw.data(), sz.weights}, {db.data(), desc.out_channels}});
  }
}

// The hooks themselves: a write one float past an internal buffer, or one
// before it, is counted when the buffer is freed; the n-th allocation fails.
TEST(MemoryHooks, GuardZonesAndFailureInjectionWork) {
  ASSERT_TRUE(debug::GuardedAllocations());  // set by the test environment
  const int64_t v0 = debug::GuardViolations();
  {
    AlignedFloats p = AllocateFloats(5);
    ASSERT_TRUE(p);
    p[5] = 1.0f;  // in the rounding slack: still outside the 5 floats
  }
  EXPECT_EQ(debug::GuardViolations(), v0 + 1);
  {
    AlignedFloats p = AllocateFloats(16);
    ASSERT_TRUE(p);
    *(p.get() - 1) = 1.0f;
  }
  EXPECT_EQ(debug::GuardViolations(), v0 + 2);
  {
    AlignedFloats p = AllocateFloats(16);
    ASSERT_TRUE(p);
    std::fill(p.get(), p.get() + 16, 2.0f);
  }
  EXPECT_EQ(debug::GuardViolations(), v0 + 2);
  debug::FailAllocationAt(2);
  AlignedFloats a = AllocateFloats(4), b = AllocateFloats(4), c = AllocateFloats(4);
  debug::FailAllocationAt(0);
  EXPECT_TRUE(a && !b && c);
  // Leave the count as it was for the environment's final check.
  debug::ResetGuardViolationsForTest(v0);
}

}  // namespace
}  // namespace testing
}  // namespace convkit
