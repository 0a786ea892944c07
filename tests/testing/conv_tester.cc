#include "tests/testing/conv_tester.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "lib/common/aligned.h"
#include "lib/common/random.h"

namespace convkit {
namespace testing {
namespace {

// Guard pattern: a NaN payload no computation produces.
constexpr uint32_t kGuardBits = 0x7FBADBADu;

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

// Every test program built on this library runs with guard zones around each
// of convkit's internal buffers (packed weights, workspaces, tables): checked
// when each is freed; ConvTester checks after every call, and the count must
// still be 0 when the program ends.
class GuardedAllocationsEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { debug::SetGuardedAllocations(true); }
  void TearDown() override {
    EXPECT_EQ(debug::GuardViolations(), 0)
        << "guard zones of convkit's internal buffers were overwritten";
  }
};
::testing::Environment* const kGuardedAllocations =
    ::testing::AddGlobalTestEnvironment(new GuardedAllocationsEnvironment);

}  // namespace

void FillRandom(float* p, int64_t count, uint64_t seed) {
  const uint64_t base = SplitMix64(seed);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (count > (1 << 20))
#endif
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t r = SplitMix64(base + static_cast<uint64_t>(i));
    p[i] = static_cast<float>(static_cast<double>(r >> 40) * 0x1p-23 - 1.0);
  }
}

void FillIntegers(float* p, int64_t count, int range, uint64_t seed) {
  const uint64_t base = SplitMix64(seed ^ 0x1234567ull);
  const uint64_t span = static_cast<uint64_t>(2 * range + 1);
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t r = SplitMix64(base + static_cast<uint64_t>(i));
    p[i] = static_cast<float>(static_cast<int64_t>((r >> 33) % span) - range);
  }
}

std::unique_ptr<ConvData> MakeData(const Conv2dDesc& desc, Data data, uint64_t seed) {
  auto d = std::make_unique<ConvData>();
  d->desc = desc;
  d->sizes = Sizes(desc);
  const int64_t ni = std::max<int64_t>(d->sizes.input, 1);
  const int64_t nw = std::max<int64_t>(d->sizes.weights, 1);
  const int64_t nb = std::max<int64_t>(desc.out_channels, 1);
  d->input.reset(new float[ni]);
  d->weights.reset(new float[nw]);
  d->bias.reset(new float[nb]);
  if (desc.has_sum) {
    const int64_t no = std::max<int64_t>(d->sizes.output, 1);
    d->prev.reset(new float[no]);
    if (data == Data::kIntegers) {
      FillIntegers(d->prev.get(), no, 8, seed * 3 + 7);
    } else {
      FillRandom(d->prev.get(), no, seed * 3 + 7);
    }
  }
  if (data == Data::kIntegers) {
    FillIntegers(d->input.get(), ni, 32, seed * 3 + 0);
    FillIntegers(d->weights.get(), nw, 32, seed * 3 + 1);
    FillIntegers(d->bias.get(), nb, 8, seed * 3 + 2);
  } else {
    FillRandom(d->input.get(), ni, seed * 3 + 0);
    FillRandom(d->weights.get(), nw, seed * 3 + 1);
    FillRandom(d->bias.get(), nb, seed * 3 + 2);
  }
  const int64_t xs = desc.in_pixel_stride;
  if (xs > desc.in_channels) {
    for (int64_t i = 0; i < d->sizes.input; ++i) {
      if (i % xs >= desc.in_channels) d->input[i] = std::numeric_limits<float>::quiet_NaN();
    }
  }
  return d;
}

GuardedOutput::GuardedOutput(int64_t count, int64_t channels, int64_t stride)
    : count_(count), channels_(channels), stride_(stride),
      buffer_(new float[count + 2 * kGuard]) {
  Reset();
}

GuardedOutput GuardedOutput::For(const Conv2dDesc& desc) {
  return GuardedOutput(Sizes(desc).output, desc.out_channels, desc.out_pixel_stride);
}

void GuardedOutput::Reset(const float* prev) {
  float guard;
  std::memcpy(&guard, &kGuardBits, sizeof(guard));
  float* b = buffer_.get();
  std::fill(b, b + kGuard, guard);
  std::fill(b + kGuard + count_, b + 2 * kGuard + count_, guard);
  const float nan = std::numeric_limits<float>::quiet_NaN();
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (count_ > (1 << 20))
#endif
  for (int64_t i = 0; i < count_; ++i) {
    b[kGuard + i] = Gap(i) ? guard : prev != nullptr ? prev[i] : nan;
  }
}

std::string GuardedOutput::CheckGuards() const {
  const float* b = buffer_.get();
  for (int64_t i = 0; i < kGuard; ++i) {
    if (Bits(b[i]) != kGuardBits) {
      return "guard before the output overwritten at offset -" + std::to_string(kGuard - i);
    }
    if (Bits(b[kGuard + count_ + i]) != kGuardBits) {
      return "guard after the output overwritten at offset +" + std::to_string(i);
    }
  }
  for (int64_t i = 0; i < count_; ++i) {
    if (Gap(i) && Bits(b[kGuard + i]) != kGuardBits) {
      return "float " + std::to_string(i) + " between output pixels (pixel stride " +
             std::to_string(stride_) + ") overwritten";
    }
  }
  return "";
}

std::unique_ptr<Reference> MakeReference(const ConvData& data) {
  auto ref = std::make_unique<Reference>();
  const Status s = ref::ComputeReference(data.desc, data.input.get(), data.weights.get(),
                                         data.bias_or_null(), ref.get(), data.prev_or_null());
  EXPECT_TRUE(s.ok()) << s.message();
  return ref;
}

Status ConvTester::Run(const ConvData& data, GuardedOutput* out, PlanInfo* info) const {
  Options options;
  options.max_target = target_;
  options.algorithm = algorithm_;
  options.threads = threads_;
  out->Reset(data.prev_or_null());
  std::unique_ptr<Conv2d> op;
  Status s = Conv2d::Create(data.desc, data.weights.get(), data.bias_or_null(), options, &op);
  if (!s.ok()) return s;
  *info = op->info();
  return op->Forward(data.input.get(), out->data());
}

::testing::AssertionResult ConvTester::Test(const ConvData& data,
                                            const Reference& ref) const {
  GuardedOutput out = GuardedOutput::For(data.desc);
  PlanInfo info;
  const int64_t violations = debug::GuardViolations();
  const Status s = Run(data, &out, &info);
  std::ostringstream who;
  if (info.kernel.empty()) {  // creation failed: say what was asked for
    info.algorithm = AlgorithmName(algorithm_);
    info.target = target_;
  }
  who << info.kernel << " [" << info.algorithm << ", " << info.target << ", "
      << threads_ << " threads" << (data_ == Data::kIntegers ? ", exact" : "")
      << "] " << FormatShapeSpec(data.desc);
  if (!s.ok()) return ::testing::AssertionFailure() << who.str() << ": " << s.message();
  if (!target_.empty() && info.target != target_ &&
      !(target_ == "SCALAR" && info.target == "EMU128")) {
    return ::testing::AssertionFailure()
           << who.str() << ": ran on " << info.target << ", asked for " << target_;
  }
  const std::string guards = out.CheckGuards();
  if (!guards.empty()) return ::testing::AssertionFailure() << who.str() << ": " << guards;
  if (debug::GuardViolations() != violations) {
    return ::testing::AssertionFailure()
           << who.str() << ": a guard zone of an internal buffer was overwritten";
  }
  const std::string cmp =
      CompareWithReference(data, ref, out.data(), data_ == Data::kIntegers);
  if (!cmp.empty()) return ::testing::AssertionFailure() << who.str() << ": " << cmp;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ConvTester::Test(const Conv2dDesc& desc) const {
  const std::unique_ptr<ConvData> data = MakeData(desc, data_, seed_);
  const std::unique_ptr<Reference> ref = MakeReference(*data);
  return Test(*data, *ref);
}

Conv2dDesc Spec(const std::string& spec) {
  Conv2dDesc d;
  const Status s = ParseShapeSpec(spec, &d);
  EXPECT_TRUE(s.ok()) << spec << ": " << s.message();
  return d;
}

std::vector<SpecLine> ReadSpecFile(const std::string& path) {
  std::vector<SpecLine> lines;
  EXPECT_TRUE(ReadSpecLines(path, &lines)) << "cannot read " << path;
  return lines;
}

std::string TestDataDir() {
  const char* env = std::getenv("CONVKIT_TEST_DATA_DIR");
  if (env != nullptr && *env != '\0') return env;
  return CONVKIT_TEST_DATA_DIR;
}

}  // namespace testing
}  // namespace convkit
