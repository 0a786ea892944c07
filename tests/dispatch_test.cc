// Target names, the process-wide limit and per-call selection.
#include <algorithm>
#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "gtest/gtest.h"
#include "lib/dispatch/targets.h"
#include "tests/testing/targets.h"

namespace convkit {
namespace {

TEST(DispatchTest, CompiledAndSupportedTargets) {
  const std::vector<std::string> compiled = CompiledTargets();
  const std::vector<std::string> supported = SupportedTargets();
  ASSERT_FALSE(compiled.empty());
  ASSERT_FALSE(supported.empty());
  // The portable fallback is compiled last and always supported.
  EXPECT_TRUE(compiled.back() == "SCALAR" || compiled.back() == "EMU128") << compiled.back();
  EXPECT_EQ(compiled.back(), supported.back());
#if HWY_ARCH_X86
  // Every x86 target Highway 1.0.3 can attain is built (AVX3_DL is opt-in
  // and adds nothing for fp32 FMA).
  for (const char* t : {"AVX3", "AVX2", "SSE4", "SSSE3"}) {
    EXPECT_NE(compiled.end(), std::find(compiled.begin(), compiled.end(), t)) << t;
  }
#endif
}

TEST(DispatchTest, LimitsSelectTheBestTargetBelow) {
  std::string t;
  ASSERT_TRUE(ResolveTarget("", &t).ok());
  EXPECT_EQ(SupportedTargets().front(), t);
  for (const std::string& name : SupportedTargets()) {
    ASSERT_TRUE(ResolveTarget(name, &t).ok());
    EXPECT_EQ(name, t);
  }
  ASSERT_TRUE(ResolveTarget("scalar", &t).ok());  // case-insensitive alias
  EXPECT_EQ(CompiledTargets().back(), t);
  ASSERT_TRUE(ResolveTarget("emu128", &t).ok());
  EXPECT_EQ(CompiledTargets().back(), t);
#if HWY_ARCH_X86
  // AVX3_DL is not compiled: the limit selects the best target below it.
  ASSERT_TRUE(ResolveTarget("AVX3_DL", &t).ok());
  EXPECT_EQ(SupportedTargets().front(), t);
#endif
  const Status bad = ResolveTarget("avx-512", &t);
  EXPECT_EQ("max_target", bad.field());
}

TEST(DispatchTest, ProcessWideLimit) {
  const std::string lowest = SupportedTargets().back();
  ASSERT_TRUE(SetMaxTarget(lowest).ok());
  EXPECT_EQ(lowest, MaxTarget());
  std::string t;
  ASSERT_TRUE(ResolveTarget("", &t).ok());
  EXPECT_EQ(lowest, t);
  PlanInfo info;
  Conv2dDesc d;
  ASSERT_TRUE(ParseShapeSpec("h=4,w=4,ci=3,co=5,k=3", &d).ok());
  ASSERT_TRUE(QueryPlan(d, Options(), &info).ok());
  EXPECT_EQ(lowest, info.target);
  // A per-call limit overrides the process-wide one.
  Options o;
  o.max_target = SupportedTargets().front();
  ASSERT_TRUE(QueryPlan(d, o, &info).ok());
  EXPECT_EQ(SupportedTargets().front(), info.target);
  ASSERT_TRUE(SetMaxTarget("").ok());
  EXPECT_EQ("", MaxTarget());
  ASSERT_TRUE(ResolveTarget("", &t).ok());
  EXPECT_EQ(SupportedTargets().front(), t);
}

// The dispatch table index agrees with Highway's own for the target it picks.
TEST(DispatchTest, TableIndexMatchesHighway) {
  const int64_t best = dispatch::BestOf(hwy::SupportedTargets() & HWY_TARGETS);
  hwy::GetChosenTarget().Update(hwy::SupportedTargets());
  EXPECT_EQ(hwy::GetChosenTarget().GetIndex(), dispatch::TableIndex(best));
}

}  // namespace
}  // namespace convkit
