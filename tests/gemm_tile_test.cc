// The register tiles of every target against the plain-loop twin: every row
// count (subtile_m), every column count (subtile_n), depths around 1 and KC,
// strided C and B, accumulate and bias, the fused post-ops (sum, clamp), and
// the exact integer tier; the
// indirect tiles also with K split into runs and with padding rows.
// Re-included per target; test names end in /<TARGET>.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tests/gemm_tile_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "hwy/highway.h"
#include "lib/gemm/igemm-inl.h"
#include "lib/gemm/tile-inl.h"
#include "tests/testing/gemm_tile_tester.h"
#include "tests/testing/targets.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// Both tile families, packed and indirect, go through every case below.
std::vector<testing::GemmTileTester> Testers() {
  static char gemm_id[48], igemm_id[48];
  TileId("gemm", gemm_id, sizeof(gemm_id));
  TileId("igemm", igemm_id, sizeof(igemm_id));
  return {testing::GemmTileTester(GetTileShape(), gemm_id, &GetTile),
          testing::GemmTileTester(GetTileShape(), igemm_id, &GetIgemmTile)};
}

void TestSubtileM() {
  const TileShape t = GetTileShape();
  for (testing::GemmTileTester tester : Testers()) {
    for (int64_t m = 1; m <= t.mr; ++m) {
      EXPECT_TRUE(tester.m(m).n(t.nr).k(17).accumulate(false).Test());
      EXPECT_TRUE(tester.m(m).n(t.nr).k(17).accumulate(true).Test());
    }
  }
}

void TestSubtileN() {
  const TileShape t = GetTileShape();
  for (testing::GemmTileTester tester : Testers()) {
    for (int64_t n = 1; n <= t.nr; ++n) {
      EXPECT_TRUE(tester.m(t.mr).n(n).k(17).Test());
      EXPECT_TRUE(tester.m(t.mr).n(n).k(17).accumulate(true).Test());
      EXPECT_TRUE(tester.m(t.mr).n(n).k(17).accumulate(false).bias(true).Test());
    }
  }
}

void TestSubtileMN() {
  const TileShape t = GetTileShape();
  for (testing::GemmTileTester tester : Testers()) {
    for (int64_t m = 1; m <= t.mr; ++m) {
      for (int64_t n = 1; n <= t.nr; ++n) {
        EXPECT_TRUE(tester.m(m).n(n).k(5).c_stride_pad(3).Test());
      }
    }
  }
}

void TestDepths() {
  const TileShape t = GetTileShape();
  for (testing::GemmTileTester tester : Testers()) {
    for (int64_t k : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{7}, int64_t{8},
                      int64_t{63}, int64_t{255}, int64_t{256}, int64_t{257}, int64_t{1000}}) {
      EXPECT_TRUE(tester.m(t.mr).n(t.nr).k(k).Test());  // k_lt / k_eq / k_gt
      EXPECT_TRUE(tester.m(t.mr - 1 > 0 ? t.mr - 1 : 1).n(t.nr > 1 ? t.nr - 1 : 1).k(k)
                      .accumulate(true).Test());
    }
  }
}

void TestStrides() {
  const TileShape t = GetTileShape();
  for (testing::GemmTileTester tester : Testers()) {
    EXPECT_TRUE(tester.c_stride_pad(5).Test());  // strided_c
    EXPECT_TRUE(tester.c_stride_pad(0).b_stride_pad(1).Test());  // strided_b
    EXPECT_TRUE(tester.m(1).n(1).c_stride_pad(1).b_stride_pad(2).Test());
    EXPECT_TRUE(tester.m(t.mr).n(t.lanes).c_stride_pad(t.lanes).b_stride_pad(0)
                    .accumulate(true).Test());
  }
}

void TestBiasAndAccumulate() {
  const TileShape t = GetTileShape();
  for (testing::GemmTileTester tester : Testers()) {
    for (int64_t n : {int64_t{1}, t.lanes, t.nr}) {
      EXPECT_TRUE(tester.n(n).bias(true).accumulate(false).Test());
      EXPECT_TRUE(tester.n(n).bias(false).accumulate(true).Test());
      // accumulate wins over bias (bias applies only to the first K block).
      EXPECT_TRUE(tester.n(n).bias(true).accumulate(true).Test());
    }
  }
}

// Fused post-ops at every row count and column remainder, and the per-row
// bias of the NCHW GEMM: the sum (alone, with bias), the clamp (ReLU, a two-sided clamp that catches values on both
// sides, alone and on an accumulating block), and both together.
void TestPostOps() {
  const TileShape t = GetTileShape();
  const float kInf = std::numeric_limits<float>::infinity();
  for (testing::GemmTileTester base : Testers()) {
    for (int64_t m = 1; m <= t.mr; ++m) {
      for (int64_t n : {int64_t{1}, t.lanes > 1 ? t.lanes - 1 : 1, t.lanes, t.nr - 1, t.nr}) {
        if (n < 1) continue;
        testing::GemmTileTester tester = base;
        tester.m(m).n(n).k(23);
        EXPECT_TRUE(testing::GemmTileTester(tester).sum(1.0f).Test());
        EXPECT_TRUE(testing::GemmTileTester(tester).bias(true).bias_rows(true).Test());
        EXPECT_TRUE(testing::GemmTileTester(tester)
                        .bias(true)
                        .bias_rows(true)
                        .sum(0.5f)
                        .clamp(0.0f, kInf)
                        .Test());
        EXPECT_TRUE(testing::GemmTileTester(tester).bias(true).sum(-0.75f).Test());
        EXPECT_TRUE(testing::GemmTileTester(tester).clamp(0.0f, kInf).Test());
        EXPECT_TRUE(testing::GemmTileTester(tester).bias(true).clamp(-0.5f, 0.25f).Test());
        EXPECT_TRUE(testing::GemmTileTester(tester).accumulate(true).clamp(-0.5f, 0.5f).Test());
        EXPECT_TRUE(
            testing::GemmTileTester(tester).bias(true).sum(0.5f).clamp(-kInf, 0.0f).Test());
        EXPECT_TRUE(testing::GemmTileTester(tester)
                        .sum(2.0f)
                        .clamp(-1.0f, 1.0f)
                        .data(testing::Data::kIntegers)
                        .Test());
      }
    }
  }
}

void TestExact() {
  const TileShape t = GetTileShape();
  for (testing::GemmTileTester tester : Testers()) {
    for (int64_t k : {int64_t{1}, int64_t{31}, int64_t{259}, int64_t{1000}}) {
      for (int64_t m : {int64_t{1}, t.mr}) {
        for (int64_t n : {int64_t{1}, t.nr}) {
          tester.m(m).n(n).k(k).data(testing::Data::kIntegers);
          EXPECT_TRUE(tester.bias(true).accumulate(false).Test());
          EXPECT_TRUE(tester.bias(false).accumulate(true).Test());
        }
      }
    }
  }
}

// Indirect tiles: K in several runs (the run boundaries must not disturb
// the accumulation), some (run, row) pointers at a zero row, and the
// interior forms (one pointer set, per-run offsets; and with rows evenly
// spaced, IgemmA::row_step, read from row 0 at 6 or more rows' bases).
void TestIgemmRuns() {
  const TileShape t = GetTileShape();
  testing::GemmTileTester tester = Testers()[1];
  for (int64_t k : {int64_t{2}, int64_t{9}, int64_t{27}, int64_t{147}, int64_t{576}}) {
    for (int64_t runs : {int64_t{2}, int64_t{3}, int64_t{7}, int64_t{49}}) {
      if (runs > k) continue;
      for (int variant = 0; variant < 4; ++variant) {
        const bool padding = variant == 1, uniform = variant >= 2, strided = variant == 3;
        tester.uniform(uniform).strided(strided);
        for (int64_t m : {int64_t{1}, std::min<int64_t>(6, t.mr), t.mr > 1 ? t.mr - 1 : 1, t.mr}) {
          EXPECT_TRUE(tester.m(m).n(t.nr).k(k).runs(runs).padding(padding).Test());
          EXPECT_TRUE(tester.m(m).n(t.lanes > 1 ? t.lanes - 1 : 1).k(k).runs(runs)
                          .padding(padding).accumulate(true).Test());
          EXPECT_TRUE(tester.m(m).n(t.nr).k(k).runs(runs).padding(padding).accumulate(false)
                          .bias(true).data(testing::Data::kIntegers).Test());
          tester.bias(false).data(testing::Data::kRandom);
        }
      }
    }
  }
}

void TestShape() {
  const TileShape t = GetTileShape();
  EXPECT_EQ(t.nr, t.nv * t.lanes);
  EXPECT_EQ(t.mr, static_cast<int64_t>(kTileRows));
  EXPECT_GE(t.ku, 1);
  char id[48];
  TileId("gemm", id, sizeof(id));
  EXPECT_EQ(std::string("f32_gemm_") + std::to_string(t.mr) + "x" + std::to_string(t.nv) +
                "v__" + TargetSuffix(),
            id);
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
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestPostOps);
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestExact);
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestIgemmRuns);
HWY_EXPORT_AND_TEST_P(GemmTileTest, TestShape);
}  // namespace
}  // namespace convkit
#endif
