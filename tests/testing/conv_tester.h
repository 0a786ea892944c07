// ConvTester: runs convkit on one shape and checks it against the double
// reference, XNNPACK-tester style:
//
//   ConvTester().target("AVX2").algorithm(Algorithm::kIm2colGemm).threads(3)
//       .Test(desc)
//
// Every run surrounds the output with guard values (checked after the call)
// and prefills it with NaN, so unwritten elements show. The tolerance is the
// fp32 dot-product bound of lib/ref/check.h (shared with convkit-perf
// --check). The exact tier uses integer data in [-32, 32] (bias in [-8, 8]),
// whose sums are exact in float, and requires bit-identical results.
#ifndef CONVKIT_TESTS_TESTING_CONV_TESTER_H_
#define CONVKIT_TESTS_TESTING_CONV_TESTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "gtest/gtest.h"
#include "lib/conv/spec_file.h"
#include "lib/ref/check.h"

namespace convkit {
namespace testing {

enum class Data { kRandom, kIntegers };

using ref::Tolerance;
using Reference = ref::ReferenceOutputs;

// Deterministic fill: uniform in [-1, 1) or integers in [-range, range].
void FillRandom(float* p, int64_t count, uint64_t seed);
void FillIntegers(float* p, int64_t count, int range, uint64_t seed);

// Input, weights, bias and (with the sum post-op) the output's previous
// values of one shape, generated once. With an input pixel stride, the
// floats between pixels are NaN, so that reading one shows in the output.
struct ConvData {
  Conv2dDesc desc;
  TensorSizes sizes;
  std::unique_ptr<float[]> input, weights, bias, prev;
  const float* bias_or_null() const { return desc.has_bias ? bias.get() : nullptr; }
  const float* prev_or_null() const { return desc.has_sum ? prev.get() : nullptr; }
};
std::unique_ptr<ConvData> MakeData(const Conv2dDesc& desc, Data data, uint64_t seed);

// An output buffer with guard values on both sides, prefilled with NaN.
// With a pixel stride (channels < stride), the floats between pixels are
// guards too.
class GuardedOutput {
 public:
  static constexpr int64_t kGuard = 64;  // floats on each side
  explicit GuardedOutput(int64_t count, int64_t channels = 0, int64_t stride = 0);
  // The output of desc (its span and pixel stride).
  static GuardedOutput For(const Conv2dDesc& desc);
  float* data() { return buffer_.get() + kGuard; }
  const float* data() const { return buffer_.get() + kGuard; }
  int64_t size() const { return count_; }
  // Guard pattern outside; inside prev's values (the sum post-op's input),
  // or NaN when prev is null.
  void Reset(const float* prev = nullptr);
  // Empty if both guards hold their pattern; else a description.
  std::string CheckGuards() const;

 private:
  bool Gap(int64_t i) const { return stride_ > channels_ && i % stride_ >= channels_; }
  int64_t count_, channels_, stride_;
  std::unique_ptr<float[]> buffer_;
};

// Reference values (full, or sampled above ReferenceOutputs::kMaxFullCheck
// outputs: see lib/ref/check.h).
std::unique_ptr<Reference> MakeReference(const ConvData& data);

class ConvTester {
 public:
  ConvTester& target(const std::string& t) {
    target_ = t;
    return *this;
  }
  ConvTester& algorithm(Algorithm a) {
    algorithm_ = a;
    return *this;
  }
  ConvTester& threads(int t) {
    threads_ = t;
    return *this;
  }
  ConvTester& data(Data d) {
    data_ = d;
    return *this;
  }
  ConvTester& seed(uint64_t s) {
    seed_ = s;
    return *this;
  }

  // Generates data, runs, checks. The message names kernel, target,
  // algorithm, threads, shape and the first failing positions.
  ::testing::AssertionResult Test(const Conv2dDesc& desc) const;
  // With data and reference made by the caller (shared across runs).
  ::testing::AssertionResult Test(const ConvData& data, const Reference& ref) const;

  // Runs the operator into out (which is Reset first); returns the status
  // and the plan that ran.
  Status Run(const ConvData& data, GuardedOutput* out, PlanInfo* info) const;

 private:
  std::string target_;
  Algorithm algorithm_ = Algorithm::kAuto;
  int threads_ = 0;
  Data data_ = Data::kRandom;
  uint64_t seed_ = 1;
};

// Checks out against ref; empty string if all pass.
inline std::string CompareWithReference(const ConvData& data, const Reference& ref,
                                        const float* out, bool exact) {
  return ref::CompareWithReference(data.desc, ref, out, exact);
}

// Parses a spec known to be valid (test tables), failing the test otherwise.
Conv2dDesc Spec(const std::string& spec);

// A spec file under the test data directory (lib/conv/spec_file.h), or a
// test failure if it cannot be read.
std::vector<SpecLine> ReadSpecFile(const std::string& path);
// tests/data, from CONVKIT_TEST_DATA_DIR (set by meson test) or the
// compile-time default.
std::string TestDataDir();

}  // namespace testing
}  // namespace convkit

#endif  // CONVKIT_TESTS_TESTING_CONV_TESTER_H_
