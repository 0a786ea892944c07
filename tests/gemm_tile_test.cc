// The register tiles of every target against the plain-loop twin: every row
// count (subtile_m), every column count (subtile_n), depths around 1 and KC,
// strided C and B, accumulate and bias, and the exact integer tier.
// Re-included per target; test names end in /<TARGET>.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tests/gemm_tile_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "lib/gemm/tile-inl.h"
#include "tests/testing/gemm_tile_tester.h"
#include "tests/testing/targets.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

testing::GemmTileTester Tester() {
  return testing::GemmTileTester(GetTileConfig(), &GetTile);
}

void TestSubtileM() {
  const TileConfig t = GetTileConfig();
  for (int64_t m = 1; m <= t.mr; ++m) {
    EXPECT_TRUE(Tester().m(m).n(t.nr).k(17).Test());
    EXPECT_TRUE(Tester().m(m).n(t.nr).k(17).accumulate(true).Test());
  }
}

void TestSubtileN() {
  const TileConfig t = GetTileConfig();
  for (int64_t n = 1; n <= t.nr; ++n) {
    EXPECT_TRUE(Tester().m(t.mr).n(n).k(17).Test());
    EXPECT_TRUE(Tester().m(t.mr).n(n).k(17).accumulate(true).Test());
    EXPECT_TRUE(Tester().m(t.mr).n(n).k(17).bias(true).Test());
  }
}

void TestSubtileMN() {
  const TileConfig t = GetTileConfig();
  for (int64_t m = 1; m <= t.mr; ++m) {
    for (int64_t n = 1; n <= t.nr; ++n) {
      EXPECT_TRUE(Tester().m(m).n(n).k(5).c_stride_pad(3).Test());
    }
  }
}

void TestDepths() {
  const TileConfig t = GetTileConfig();
  for (int64_t k : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{7}, int64_t{8},
                    int64_t{63}, t.kc - 1, t.kc, t.kc + 1, int64_t{1000}}) {
    EXPECT_TRUE(Tester().k(k).Test());                    // k_lt / k_eq / k_gt
    EXPECT_TRUE(Tester().m(t.mr - 1 > 0 ? t.mr - 1 : 1).n(t.nr > 1 ? t.nr - 1 : 1).k(k)
                    .accumulate(true).Test());
  }
}

void TestStrides() {
  const TileConfig t = GetTileConfig();
  EXPECT_TRUE(Tester().c_stride_pad(5).Test());          // strided_c
  EXPECT_TRUE(Tester().b_stride_pad(1).Test());          // strided_b
  EXPECT_TRUE(Tester().m(1).n(1).c_stride_pad(1).b_stride_pad(2).Test());
  EXPECT_TRUE(Tester().n(t.lanes).c_stride_pad(t.lanes).accumulate(true).Test());
}

void TestBiasAndAccumulate() {
  const TileConfig t = GetTileConfig();
  for (int64_t n : {int64_t{1}, t.lanes, t.nr}) {
    EXPECT_TRUE(Tester().n(n).bias(true).Test());
    EXPECT_TRUE(Tester().n(n).accumulate(true).Test());
    // accumulate wins over bias (bias applies only to the first K block).
    EXPECT_TRUE(Tester().n(n).bias(true).accumulate(true).Test());
  }
}

void TestExact() {
  const TileConfig t = GetTileConfig();
  for (int64_t k : {int64_t{1}, int64_t{31}, t.kc + 3, int64_t{1000}}) {
    for (int64_t m : {int64_t{1}, t.mr}) {
      for (int64_t n : {int64_t{1}, t.nr}) {
        EXPECT_TRUE(Tester().m(m).n(n).k(k).bias(true).data(testing::Data::kIntegers).Test());
        EXPECT_TRUE(Tester().m(m).n(n).k(k).accumulate(true)
                        .data(testing::Data::kIntegers).Test());
      }
    }
  }
}

void TestConfig() {
  const TileConfig t = GetTileConfig();
  EXPECT_EQ(t.nr, t.nv * t.lanes);
  EXPECT_EQ(0, t.mc % t.mr) << t.kernel;
  EXPECT_EQ(0, t.nc % t.nr) << t.kernel;
  EXPECT_GE(t.kc, 1);
  EXPECT_EQ(std::string("f32_gemm_") + std::to_string(t.mr) + "x" + std::to_string(t.nv) +
                "v__" + TargetSuffix(),
            t.kernel);
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convkit {
namespace {
CONVKIT_BEFORE_KERNEL_TEST(GemmTileTest);
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestSubtileM);
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestSubtileN);
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestSubtileMN);
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestDepths);
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestStrides);
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestBiasAndAccumulate);
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestExact);
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestConfig);
}  // namespace
}  // namespace convkit
#endif
