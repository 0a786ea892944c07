// Running a test once per SIMD target. Two flavours:
//
//  - Whole-API tests (conv_test, corpus_test...) take the target's name as
//    their gtest parameter and pass it as Options::max_target;
//    CONVKIT_INSTANTIATE_PER_TARGET(Suite) instantiates them for every target
//    compiled into convkit, named Suite/<test>/<TARGET>.
//  - Kernel tests (gemm_tile_test, pack_test) re-include the kernels' -inl.h
//    under foreach_target.h and use CONVKIT_BEFORE_KERNEL_TEST(Suite) +
//    HWY_EXPORT_AND_TEST_P, Highway's own per-target test idiom.
//
// In both, a target the CPU lacks is reported as SKIPPED, never as passed.
#ifndef CONVKIT_TESTS_TESTING_TARGETS_H_
#define CONVKIT_TESTS_TESTING_TARGETS_H_

#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "gtest/gtest.h"
#include "hwy/highway.h"
#include "hwy/targets.h"
#include "hwy/tests/hwy_gtest.h"  // HWY_EXPORT_AND_TEST_P

namespace convkit {
namespace testing {

// Whether convkit can run `target` on this CPU.
inline bool TargetSupported(const std::string& target) {
  for (const std::string& t : SupportedTargets()) {
    if (t == target) return true;
  }
  return false;
}

// The best supported target and the portable fallback: the corpus runs in
// full on these two, a fixed sample on the others.
inline std::string BestTarget() { return SupportedTargets().front(); }
inline std::string FallbackTarget() { return CompiledTargets().back(); }

// Fixture for whole-API tests; GetParam() is the target name.
class TargetTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!TargetSupported(GetParam())) {
      GTEST_SKIP() << "this CPU cannot run " << GetParam();
    }
  }
  const std::string& target() const { return GetParam(); }
};

inline std::string TargetParamName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

// Fixture for kernel tests: selects the parameter's Highway target for
// HWY_DYNAMIC_DISPATCH inside the test (process-wide, as Highway's own
// TestWithParamTarget does), or skips it.
class KernelTargetTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override {
    if ((hwy::SupportedTargets() & GetParam()) == 0) {
      GTEST_SKIP() << "this CPU cannot run " << hwy::TargetName(GetParam());
    }
    hwy::SetSupportedTargetsForTest(GetParam());
  }
  void TearDown() override { hwy::SetSupportedTargetsForTest(0); }
};

// Every target compiled into this translation unit (HWY_TARGETS), best first.
inline std::vector<int64_t> CompiledTargetBits() {
  std::vector<int64_t> bits;
  for (int64_t t = HWY_TARGETS; t != 0; t &= t - 1) bits.push_back(t & -t);
  return bits;
}

inline std::string KernelTargetName(const ::testing::TestParamInfo<int64_t>& info) {
  return hwy::TargetName(info.param);
}

}  // namespace testing
}  // namespace convkit

#define CONVKIT_INSTANTIATE_PER_TARGET(suite)                         \
  INSTANTIATE_TEST_SUITE_P(Targets, suite,                            \
                           ::testing::ValuesIn(::convkit::CompiledTargets()), \
                           ::convkit::testing::TargetParamName)

#define CONVKIT_BEFORE_KERNEL_TEST(suite)                                      \
  class suite : public ::convkit::testing::KernelTargetTest {};               \
  INSTANTIATE_TEST_SUITE_P(Targets, suite,                                    \
                           ::testing::ValuesIn(                               \
                               ::convkit::testing::CompiledTargetBits()),     \
                           ::convkit::testing::KernelTargetName);             \
  static_assert(true, "for requiring a trailing semicolon")

#endif  // CONVKIT_TESTS_TESTING_TARGETS_H_
