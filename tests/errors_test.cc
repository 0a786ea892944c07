// Bad input is rejected with an error naming the field, and the output is
// left untouched; batch 0 succeeds and does nothing. Run per target like the
// rest of the operator tests (validation precedes dispatch, but a target
// must not change that).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "gtest/gtest.h"
#include "tests/testing/conv_tester.h"
#include "tests/testing/targets.h"

namespace convkit {
namespace testing {
namespace {

class ErrorsTest : public TargetTest {};
CONVKIT_INSTANTIATE_PER_TARGET(ErrorsTest);

constexpr int64_t kBig = int64_t{1} << 40;

// A valid small shape with bias, its tensors, and an output sentinel.
struct Fixture {
  Conv2dDesc desc = Spec("n=2,h=6,w=5,ci=4,co=6,k=3x3,p=1,bias=1");
  std::vector<float> x = std::vector<float>(2 * 6 * 5 * 4, 1.0f);
  std::vector<float> w = std::vector<float>(3 * 3 * 4 * 6, 0.5f);
  std::vector<float> b = std::vector<float>(6, 0.25f);
  std::vector<float> y = std::vector<float>(2 * 6 * 5 * 6 + 64, 1234.5f);
};

bool Untouched(const std::vector<float>& y) {
  for (float v : y) {
    if (v != 1234.5f) return false;
  }
  return true;
}

::testing::AssertionResult IsError(const Status& s, StatusCode code,
                                   const std::string& field) {
  if (s.ok()) return ::testing::AssertionFailure() << "succeeded, want error on " << field;
  if (s.code() != code || s.field() != field) {
    return ::testing::AssertionFailure()
           << "error code " << static_cast<int>(s.code()) << " field \"" << s.field()
           << "\" (" << s.message() << "), want field \"" << field << "\"";
  }
  if (s.message().rfind("convkit: ", 0) != 0 ||
      s.message().find(field) == std::string::npos) {
    return ::testing::AssertionFailure() << "message does not name " << field << ": "
                                         << s.message();
  }
  return ::testing::AssertionSuccess();
}

// Every descriptor error, through Validate, the one-shot call, Create and
// QueryPlan; the output stays untouched.
TEST_P(ErrorsTest, DescriptorFields) {
  struct Case {
    const char* field;
    std::function<void(Conv2dDesc*)> edit;
  };
  const std::vector<Case> cases = {
      {"batch", [](Conv2dDesc* d) { d->batch = -1; }},
      {"in_h", [](Conv2dDesc* d) { d->in_h = 0; }},
      {"in_w", [](Conv2dDesc* d) { d->in_w = -3; }},
      {"in_channels", [](Conv2dDesc* d) { d->in_channels = 0; }},
      {"out_channels", [](Conv2dDesc* d) { d->out_channels = 0; }},
      {"kernel_h", [](Conv2dDesc* d) { d->kernel_h = 0; }},
      {"kernel_w", [](Conv2dDesc* d) { d->kernel_w = -1; }},
      {"stride_h", [](Conv2dDesc* d) { d->stride_h = 0; }},
      {"stride_w", [](Conv2dDesc* d) { d->stride_w = -2; }},
      {"pad_top", [](Conv2dDesc* d) { d->pad_top = -1; }},
      {"pad_bottom", [](Conv2dDesc* d) { d->pad_bottom = -1; }},
      {"pad_left", [](Conv2dDesc* d) { d->pad_left = -1; }},
      {"pad_right", [](Conv2dDesc* d) { d->pad_right = -1; }},
      {"dilation_h", [](Conv2dDesc* d) { d->dilation_h = 0; }},
      {"dilation_w", [](Conv2dDesc* d) { d->dilation_w = 0; }},
      {"groups", [](Conv2dDesc* d) { d->groups = 0; }},
      {"groups", [](Conv2dDesc* d) { d->groups = 3; }},  // 4 in, 6 out
      {"groups", [](Conv2dDesc* d) {  // divides out, not in
         d->in_channels = 6;
         d->out_channels = 4;
         d->groups = 4;
       }},
      {"groups", [](Conv2dDesc* d) { d->groups = 4; }},  // divides in, not out
      // Dilated kernel larger than the padded input: 6 + 1 + 1 < 3 * 4 - 3.
      {"dilation_h", [](Conv2dDesc* d) { d->dilation_h = 4; }},
      {"kernel_w", [](Conv2dDesc* d) { d->kernel_w = 8; }},
      {"kernel_h", [](Conv2dDesc* d) { d->kernel_h = 9; }},
      // 64-bit overflow of element counts and extents.
      {"input", [](Conv2dDesc* d) { d->batch = kBig; d->in_h = kBig; }},
      {"input", [](Conv2dDesc* d) { d->in_channels = int64_t{1} << 62; d->groups = 1; }},
      {"weights", [](Conv2dDesc* d) {
         d->out_channels = int64_t{1} << 61;
         d->kernel_h = 3;
       }},
      {"output", [](Conv2dDesc* d) {  // tiny input, huge padding
         d->pad_top = d->pad_bottom = d->pad_left = d->pad_right = kBig;
       }},
      // The field named is the one whose value broke the check.
      {"pad_top", [](Conv2dDesc* d) {
         d->pad_top = std::numeric_limits<int64_t>::max();
         d->pad_bottom = 5;
       }},
      {"pad_top", [](Conv2dDesc* d) { d->pad_top = int64_t{1} << 60; }},  // extent > 2^60
      {"pad_bottom", [](Conv2dDesc* d) { d->pad_bottom = (int64_t{1} << 60) - 6; }},
      {"pad_right", [](Conv2dDesc* d) {
         d->pad_left = 7;
         d->pad_right = std::numeric_limits<int64_t>::max() - 8;
       }},
      {"dilation_w", [](Conv2dDesc* d) { d->dilation_w = 1000; }},
      {"kernel_w", [](Conv2dDesc* d) {  // too long even undilated
         d->kernel_w = 1000;
         d->dilation_w = 1000;
       }},
      // Pixel strides: below the channel count, negative, NCHW, overflowing.
      {"in_pixel_stride", [](Conv2dDesc* d) { d->in_pixel_stride = d->in_channels - 1; }},
      {"in_pixel_stride", [](Conv2dDesc* d) { d->in_pixel_stride = -4; }},
      {"out_pixel_stride", [](Conv2dDesc* d) { d->out_pixel_stride = d->out_channels - 1; }},
      {"out_pixel_stride", [](Conv2dDesc* d) { d->out_pixel_stride = -1; }},
      {"in_pixel_stride", [](Conv2dDesc* d) {
         d->in_pixel_stride = 16;
         d->layout = Layout::kNchw;
       }},
      {"out_pixel_stride", [](Conv2dDesc* d) {
         d->out_pixel_stride = 16;
         d->layout = Layout::kNchw;
       }},
      {"in_pixel_stride", [](Conv2dDesc* d) { d->in_pixel_stride = int64_t{1} << 60; }},
      {"out_pixel_stride", [](Conv2dDesc* d) { d->out_pixel_stride = int64_t{1} << 60; }},
      {"layout", [](Conv2dDesc* d) { d->layout = static_cast<Layout>(7); }},
      {"weights_layout", [](Conv2dDesc* d) { d->weights_layout = static_cast<WeightsLayout>(-1); }},
      // Post-ops: NaN bounds, an empty range, a non-finite sum scale.
      {"output_min", [](Conv2dDesc* d) { d->output_min = std::nanf(""); }},
      {"output_max", [](Conv2dDesc* d) { d->output_max = -std::nanf(""); }},
      {"output_min", [](Conv2dDesc* d) {
         d->output_min = 6.0f;
         d->output_max = 0.0f;
       }},
      {"sum_scale", [](Conv2dDesc* d) {
         d->has_sum = true;
         d->sum_scale = std::numeric_limits<float>::infinity();
       }},
      {"sum_scale", [](Conv2dDesc* d) { d->sum_scale = std::nanf(""); }},
      // An empty batch does not hide per-image counts that overflow.
      {"output", [](Conv2dDesc* d) {
         d->batch = 0;
         d->pad_top = d->pad_bottom = d->pad_left = d->pad_right = kBig;
       }},
      {"dilation_w", [](Conv2dDesc* d) {
         d->dilation_w = std::numeric_limits<int64_t>::max() / 2 + 1;  // 2 * it overflows
       }},
      // Each extent fits, the padded image (2^59 x 2^59 x 4) does not.
      {"pad_top", [](Conv2dDesc* d) {
         d->pad_top = d->pad_left = int64_t{1} << 59;
         d->stride_h = d->stride_w = int64_t{1} << 59;  // a small output
       }},
  };
  for (const Case& c : cases) {
    Fixture f;
    c.edit(&f.desc);
    SCOPED_TRACE(std::string(c.field) + " case " + FormatShapeSpec(f.desc));
    EXPECT_TRUE(IsError(Validate(f.desc), StatusCode::kInvalidArgument, c.field));
    Options o;
    o.max_target = target();
    EXPECT_TRUE(IsError(Conv2dForward(f.desc, f.x.data(), f.w.data(), f.b.data(),
                                      f.y.data(), o),
                        StatusCode::kInvalidArgument, c.field));
    std::unique_ptr<Conv2d> op;
    EXPECT_TRUE(IsError(Conv2d::Create(f.desc, f.w.data(), f.b.data(), o, &op),
                        StatusCode::kInvalidArgument, c.field));
    EXPECT_EQ(nullptr, op);
    PlanInfo info;
    EXPECT_TRUE(IsError(QueryPlan(f.desc, o, &info), StatusCode::kInvalidArgument,
                        c.field));
    int64_t oh = -7, ow = -7;
    EXPECT_TRUE(IsError(OutputShape(f.desc, &oh, &ow), StatusCode::kInvalidArgument,
                        c.field));
    EXPECT_EQ(-7, oh);
    std::vector<double> ref(4, 99.0);
    EXPECT_FALSE(ReferenceConv2d(f.desc, f.x.data(), f.w.data(), f.b.data(), ref.data()).ok());
    EXPECT_TRUE(Untouched(f.y));
    EXPECT_EQ(99.0, ref[0]);
  }
}

TEST_P(ErrorsTest, PointersAndOverlap) {
  Options o;
  o.max_target = target();
  Fixture f;
  const Conv2dDesc& d = f.desc;
  float* y = f.y.data();
  EXPECT_TRUE(IsError(Conv2dForward(d, nullptr, f.w.data(), f.b.data(), y, o),
                      StatusCode::kInvalidArgument, "input"));
  EXPECT_TRUE(IsError(Conv2dForward(d, f.x.data(), nullptr, f.b.data(), y, o),
                      StatusCode::kInvalidArgument, "weights"));
  EXPECT_TRUE(IsError(Conv2dForward(d, f.x.data(), f.w.data(), nullptr, y, o),
                      StatusCode::kInvalidArgument, "bias"));
  EXPECT_TRUE(IsError(Conv2dForward(d, f.x.data(), f.w.data(), f.b.data(), nullptr, o),
                      StatusCode::kInvalidArgument, "output"));
  Conv2dDesc no_bias = d;
  no_bias.has_bias = false;
  EXPECT_TRUE(IsError(Conv2dForward(no_bias, f.x.data(), f.w.data(), f.b.data(), y, o),
                      StatusCode::kInvalidArgument, "bias"));
  // The reference checks its arguments as Conv2dForward does.
  std::vector<double> ref(f.y.size(), 99.0);
  EXPECT_TRUE(IsError(ReferenceConv2d(no_bias, f.x.data(), f.w.data(), f.b.data(), ref.data()),
                      StatusCode::kInvalidArgument, "bias"));
  Conv2dDesc with_sum = d;
  with_sum.has_sum = true;
  EXPECT_TRUE(IsError(ReferenceConv2d(with_sum, f.x.data(), f.w.data(), f.b.data(), ref.data()),
                      StatusCode::kInvalidArgument, "sum_input"));
  EXPECT_EQ(99.0, ref[0]);
  EXPECT_TRUE(Untouched(f.y));

  // Output overlapping an input: in place, shifted by one element, and the
  // last element of the weights and bias.
  std::vector<float> big(20000, 1234.5f);
  const int64_t nx = 2 * 6 * 5 * 4;
  std::memcpy(big.data() + 100, f.x.data(), nx * sizeof(float));
  EXPECT_TRUE(IsError(Conv2dForward(d, big.data() + 100, f.w.data(), f.b.data(),
                                    big.data() + 100, o),
                      StatusCode::kInvalidArgument, "output"));
  EXPECT_TRUE(IsError(Conv2dForward(d, big.data() + 100, f.w.data(), f.b.data(),
                                    big.data() + 100 + nx - 1, o),
                      StatusCode::kInvalidArgument, "output"));
  std::vector<float> wy(f.w.size() + f.y.size(), 0.5f);
  EXPECT_TRUE(IsError(Conv2dForward(d, f.x.data(), wy.data(), f.b.data(),
                                    wy.data() + f.w.size() - 1, o),
                      StatusCode::kInvalidArgument, "output"));
  std::vector<float> by(6 + f.y.size(), 0.25f);
  EXPECT_TRUE(IsError(Conv2dForward(d, f.x.data(), f.w.data(), by.data(), by.data() + 5, o),
                      StatusCode::kInvalidArgument, "output"));
  for (size_t i = nx + 100; i < big.size(); ++i) ASSERT_EQ(1234.5f, big[i]) << i;
  for (size_t i = 6; i < by.size(); ++i) ASSERT_EQ(0.25f, by[i]) << i;

  // The same through a prepared operator.
  std::unique_ptr<Conv2d> op;
  EXPECT_TRUE(IsError(Conv2d::Create(d, nullptr, f.b.data(), o, &op),
                      StatusCode::kInvalidArgument, "weights"));
  EXPECT_TRUE(IsError(Conv2d::Create(d, f.w.data(), nullptr, o, &op),
                      StatusCode::kInvalidArgument, "bias"));
  EXPECT_TRUE(IsError(Conv2d::Create(d, f.w.data(), f.b.data(), o, nullptr),
                      StatusCode::kInvalidArgument, "op"));
  ASSERT_TRUE(Conv2d::Create(d, f.w.data(), f.b.data(), o, &op).ok());
  EXPECT_TRUE(IsError(op->Forward(nullptr, y), StatusCode::kInvalidArgument, "input"));
  EXPECT_TRUE(IsError(op->Forward(f.x.data(), nullptr), StatusCode::kInvalidArgument,
                      "output"));
  EXPECT_TRUE(IsError(op->Forward(big.data() + 100, big.data() + 101),
                      StatusCode::kInvalidArgument, "output"));
  EXPECT_TRUE(IsError(op->Forward(f.x.data(), y, -1), StatusCode::kInvalidArgument,
                      "threads"));
  // Caller workspace: null, too small, overlapping.
  const size_t need = op->WorkspaceBytes(1);
  ASSERT_GT(need, 0u);
  std::vector<char> ws(need);
  EXPECT_TRUE(IsError(op->Forward(f.x.data(), y, nullptr, need, 1),
                      StatusCode::kInvalidArgument, "workspace"));
  EXPECT_TRUE(IsError(op->Forward(f.x.data(), y, ws.data(), need - 1, 1),
                      StatusCode::kInvalidArgument, "workspace_bytes"));
  std::vector<float> yw(f.y.size() + need, 1234.5f);
  EXPECT_TRUE(IsError(op->Forward(f.x.data(), yw.data(), yw.data() + 10, need, 1),
                      StatusCode::kInvalidArgument, "workspace"));
  EXPECT_TRUE(Untouched(f.y));
  for (float v : yw) ASSERT_EQ(1234.5f, v);
}

TEST_P(ErrorsTest, Options) {
  Fixture f;
  Options o;
  o.max_target = target();
  o.threads = -1;
  EXPECT_TRUE(IsError(Conv2dForward(f.desc, f.x.data(), f.w.data(), f.b.data(),
                                    f.y.data(), o),
                      StatusCode::kInvalidArgument, "threads"));
  o.threads = 0;
  o.max_target = "AVX9000";
  EXPECT_TRUE(IsError(Conv2dForward(f.desc, f.x.data(), f.w.data(), f.b.data(),
                                    f.y.data(), o),
                      StatusCode::kInvalidArgument, "max_target"));
  o.max_target = target();
  o.algorithm = Algorithm::kDepthwise;  // 4 -> 6 channels, groups 1
  EXPECT_TRUE(IsError(Conv2dForward(f.desc, f.x.data(), f.w.data(), f.b.data(),
                                    f.y.data(), o),
                      StatusCode::kUnsupported, "algorithm"));
  o.algorithm = static_cast<Algorithm>(42);
  EXPECT_TRUE(IsError(Conv2dForward(f.desc, f.x.data(), f.w.data(), f.b.data(),
                                    f.y.data(), o),
                      StatusCode::kInvalidArgument, "algorithm"));
  o.algorithm = Algorithm::kAuto;
  for (int threads : {kMaxThreads + 1, 100000, std::numeric_limits<int>::max()}) {
    o.threads = threads;
    EXPECT_TRUE(IsError(Conv2dForward(f.desc, f.x.data(), f.w.data(), f.b.data(),
                                      f.y.data(), o),
                        StatusCode::kInvalidArgument, "threads"));
    std::unique_ptr<Conv2d> op;
    EXPECT_TRUE(IsError(Conv2d::Create(f.desc, f.w.data(), f.b.data(), o, &op),
                        StatusCode::kInvalidArgument, "threads"));
    o.threads = 0;
    ASSERT_TRUE(Conv2d::Create(f.desc, f.w.data(), f.b.data(), o, &op).ok());
    EXPECT_TRUE(IsError(op->Forward(f.x.data(), f.y.data(), threads),
                        StatusCode::kInvalidArgument, "threads"));
  }
  EXPECT_TRUE(Untouched(f.y));
  EXPECT_TRUE(IsError(SetMaxTarget("NOT_A_TARGET"), StatusCode::kInvalidArgument, "target"));
}

// Valid descriptors with extreme pads, strides and dilations (found by
// fuzzing: ValidTaps overflowed on pad + dilation and read tap 0 at
// ih = -pad_top). Every applicable algorithm, against the reference.
TEST_P(ErrorsTest, ExtremeValidDescriptors) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kP = (int64_t{1} << 59) + 1;
  struct Case {
    const char* name;
    std::function<void(Conv2dDesc*)> edit;
  };
  const std::vector<Case> cases = {
      {"rows: one output in the padding", [](Conv2dDesc* d) {
         d->pad_top = kP;
         d->dilation_h = kMax;
         d->stride_h = kP + 1;
       }},
      {"columns: one output in the padding", [](Conv2dDesc* d) {
         d->pad_left = kP;
         d->dilation_w = kMax;
         d->stride_w = kP + 1;
       }},
      {"rows: two outputs, the second inside", [](Conv2dDesc* d) {
         d->pad_top = kP - 1;
         d->stride_h = kP - 1;
         d->dilation_h = kMax;
       }},
      {"columns: two outputs, the second inside", [](Conv2dDesc* d) {
         d->pad_left = kP - 1;
         d->stride_w = kP - 1;
         d->dilation_w = kMax;
       }},
      {"both, 4 channels", [](Conv2dDesc* d) {  // padded image <= 2^62 elements
         d->in_channels = d->out_channels = d->groups = 4;
         d->pad_top = d->pad_left = int64_t{1} << 29;
         d->stride_h = d->stride_w = int64_t{1} << 29;
         d->dilation_h = d->dilation_w = kMax;
       }},
      {"huge stride, kernel 2", [](Conv2dDesc* d) {
         d->kernel_h = d->kernel_w = 2;
         d->in_h = d->in_w = 3;
         d->stride_h = d->stride_w = kMax;
         d->pad_bottom = d->pad_right = 1;
       }},
  };
  for (const Case& c : cases) {
    Conv2dDesc d = Spec("n=1,h=1,w=1,ci=1,co=1,k=1x1,bias=1");
    c.edit(&d);
    SCOPED_TRACE(std::string(c.name) + ": " + FormatShapeSpec(d));
    ASSERT_TRUE(Validate(d).ok()) << Validate(d).message();
    const TensorSizes sz = Sizes(d);
    ASSERT_LE(sz.output, 16);
    std::vector<float> x(sz.input), w(sz.weights), b(sz.bias);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 1.5f + static_cast<float>(i);
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.5f - 0.25f * static_cast<float>(i);
    for (size_t i = 0; i < b.size(); ++i) b[i] = 0.125f * static_cast<float>(i + 1);
    std::vector<double> ref(sz.output);
    ASSERT_TRUE(ReferenceConv2d(d, x.data(), w.data(), b.data(), ref.data()).ok());
    for (Algorithm a : ApplicableAlgorithms(d)) {
      SCOPED_TRACE(AlgorithmName(a));
      Options o;
      o.max_target = target();
      o.algorithm = a;
      std::vector<float> y(sz.output + 32, 1234.5f);
      ASSERT_TRUE(Conv2dForward(d, x.data(), w.data(), b.data(), y.data(), o).ok());
      for (int64_t i = 0; i < sz.output; ++i) {
        // Every output has at most one product: exact.
        EXPECT_EQ(static_cast<float>(ref[i]), y[i]) << "output " << i;
      }
      for (size_t i = sz.output; i < y.size(); ++i) ASSERT_EQ(1234.5f, y[i]) << i;
    }
  }
}

// Batch 0 is valid: nothing is read or written, null tensors are fine.
TEST_P(ErrorsTest, EmptyBatchDoesNothing) {
  Fixture f;
  f.desc.batch = 0;
  Options o;
  o.max_target = target();
  EXPECT_TRUE(Validate(f.desc).ok());
  EXPECT_EQ(0, Sizes(f.desc).output);
  EXPECT_TRUE(Conv2dForward(f.desc, f.x.data(), f.w.data(), f.b.data(), f.y.data(), o).ok());
  EXPECT_TRUE(Conv2dForward(f.desc, nullptr, nullptr, nullptr, nullptr, o).ok());
  std::unique_ptr<Conv2d> op;
  ASSERT_TRUE(Conv2d::Create(f.desc, f.w.data(), f.b.data(), o, &op).ok());
  EXPECT_TRUE(op->Forward(f.x.data(), f.y.data()).ok());
  EXPECT_TRUE(op->Forward(nullptr, nullptr).ok());
  EXPECT_TRUE(Untouched(f.y));
}

// More threads than the system will create: a Status naming "threads" from
// every entry point, not the OpenMP runtime's exit ("Thread creation
// failed"). In a child process whose address space is capped 256 MiB above
// its current size, so that hundreds of thread stacks cannot fit.
TEST(ThreadCreation, FailureIsAStatus) {
#if defined(_OPENMP)
  const Conv2dDesc d = Spec("n=1,h=4096,w=4,ci=4,co=4,k=1x1");
  Options o;
  o.threads = 400;
  PlanInfo info;
  ASSERT_TRUE(QueryPlan(d, o, &info).ok());
  // At least 100 tasks: 100 stacks of the default 8 MiB exceed the cap.
  ASSERT_GE(info.threads, 100) << "the shape must have the tasks";
  std::vector<float> x(4096 * 4 * 4, 1.0f), w(16, 1.0f), y(4096 * 4 * 4, 5.0f);
  std::fflush(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    long pages = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
      std::fclose(f);
    }
    const rlim_t cap = static_cast<rlim_t>(pages) * sysconf(_SC_PAGESIZE) + (rlim_t{256} << 20);
    const rlimit lim = {cap, cap};
    if (pages == 0 || setrlimit(RLIMIT_AS, &lim) != 0) _exit(3);
    const Status f = Conv2dForward(d, x.data(), w.data(), nullptr, y.data(), o);
    const Status b = Conv2dBackwardData(d, y.data(), w.data(), x.data(), o);
    const bool untouched = y[0] == 5.0f && x[0] == 1.0f;
    std::printf("forward: %s\nbackward data: %s\n", f.message().c_str(), b.message().c_str());
    std::fflush(stdout);
    _exit(f.code() == StatusCode::kOutOfMemory && f.field() == "threads" &&
                  b.code() == StatusCode::kOutOfMemory && b.field() == "threads" && untouched
              ? 0
              : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died (signal " << WTERMSIG(status) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: could not cap the address space; 1: wrong status";
#else
  GTEST_SKIP() << "built without OpenMP: every call runs on the calling thread";
#endif
}

}  // namespace
}  // namespace testing
}  // namespace convkit
