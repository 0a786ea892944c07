// The input packers of every target against their plain-loop twins, bit for
// bit: im2col over borders, strides, dilations, groups and K blocks that
// start and end inside a tap; the direct GEMM's indirection against the
// same formula; and the weight packers at each target's NR. Re-included per target; names end in /<TARGET>.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "tests/pack_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "hwy/highway.h"
#include "lib/common/checked.h"
#include "lib/conv/direct_gemm-inl.h"
#include "lib/gemm/tile-inl.h"
#include "lib/pack/im2col-inl.h"
#include "lib/pack/panels.h"
#include "lib/ref/ref_kernels.h"
#include "tests/testing/conv_tester.h"
#include "tests/testing/targets.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

constexpr float kUnwritten = -999.5f;

// Packs [m0, m0+mc) x [k0, k0+kc) with the target's packer and the twin and
// compares every entry the layout defines; the rest must stay unwritten.
template <class Packer, class RefPacker>
void ComparePack(const ConvGeometry& geo, const float* x, int64_t g, int64_t m0,
                 int64_t mc, int64_t k0, int64_t kc, Packer pack, RefPacker ref,
                 const std::string& what) {
  const int64_t mr = static_cast<int64_t>(kTileRows);
  const int64_t ku = static_cast<int64_t>(kTileKU);
  const int64_t size = RoundUp(mc, mr) * RoundUp(kc, ku);
  std::vector<float> got(static_cast<size_t>(size), kUnwritten);
  std::vector<float> want(static_cast<size_t>(size), kUnwritten);
  pack(geo, x, g, m0, mc, k0, kc, got.data());
  ref(geo, mr, ku, x, g, m0, mc, k0, kc, want.data());
  int64_t failures = 0;
  for (int64_t e = 0; e < size; ++e) {
    if (std::memcmp(&got[e], &want[e], sizeof(float)) != 0 && failures++ < 3) {
      ADD_FAILURE() << what << " mr=" << mr << " ku=" << ku << " g=" << g
                    << " m0=" << m0 << " mc=" << mc << " k0=" << k0 << " kc=" << kc
                    << ": entry " << e << ": got " << got[e] << " want " << want[e];
    }
  }
}

void PackIm2colShape(const std::string& spec) {
  const Conv2dDesc d = testing::Spec(spec);
  const ConvGeometry geo = MakeGeometry(d);
  std::vector<float> x(static_cast<size_t>(geo.n * geo.h * geo.w * geo.cin));
  testing::FillRandom(x.data(), static_cast<int64_t>(x.size()), 5);
  const int64_t mr = static_cast<int64_t>(kTileRows);
  const auto pack = &PackIm2colNhwcToPanels<kTileRows, kTileKU>;
  for (int64_t g = 0; g < geo.groups; ++g) {
    // Whole matrix, then blocks whose edges fall inside panels and taps.
    ComparePack(geo, x.data(), g, 0, geo.m, 0, geo.k, pack,
                ref::PackIm2colNhwcToPanels, spec);
    for (int64_t m0 : {int64_t{0}, int64_t{1}, mr + 1, geo.m / 2}) {
      for (int64_t k0 : {int64_t{0}, int64_t{1}, geo.cg, geo.k / 2}) {
        if (m0 >= geo.m || k0 >= geo.k) continue;
        const int64_t mc = std::min(geo.m - m0, 2 * mr + 3);
        const int64_t kc = std::min(geo.k - k0, geo.cg + 2);
        ComparePack(geo, x.data(), g, m0, mc, k0, kc, pack,
                    ref::PackIm2colNhwcToPanels, spec);
      }
    }
  }
}

void TestIm2col() {
  for (const char* spec : {
           "n=2,h=5,w=6,ci=3,co=4,k=3x3",
           "n=2,h=5,w=6,ci=3,co=4,k=3x3,p=1",
           "n=1,h=7,w=9,ci=5,co=2,k=3x2,s=2x3,p=1:2:0:3",
           "n=1,h=9,w=9,ci=4,co=2,k=3x3,d=2,p=2",
           "n=3,h=4,w=3,ci=2,co=2,k=3x3,p=4:5:3:6,s=2",   // padding > kernel
           "n=1,h=6,w=7,ci=8,co=6,k=3x3,g=2,p=1",          // groups
           "n=1,h=1,w=20,ci=7,co=1,k=1x7,p=0x3",
           "n=1,h=20,w=1,ci=7,co=1,k=7x1,p=3x0",
           "n=2,h=6,w=6,ci=33,co=3,k=2x2,s=2",
       }) {
    PackIm2colShape(spec);
  }
}

// The direct GEMM's indirection (direct_gemm.h) against the im2col formula:
// for every tile, its runs cover the K block in order, every pointer reads
// A's entries (inside the input buffer, or the zero row for padding), and
// rows past the block point at the zero row. With skip_padding, runs may be
// left out (b_off), and every column left out must be padding (A = 0, the
// input being nonzero) in every row of the tile; a run may mark its first
// or last row as skippable (IgemmA::skip) only where that row is padding;
// a tile may give its rows as evenly spaced (IgemmA::row_step) only where
// they are.
void CheckIndirection(const ConvGeometry& geo, const std::vector<float>& x, int64_t g,
                      int64_t m0, int64_t mc, int64_t k0, int64_t kc, bool skip_padding,
                      int64_t tr, const std::string& what_in, int64_t* skipped_total,
                      int64_t* skipped_rows, int64_t* strided_tiles, int64_t* window_reads) {
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  const std::string what = what_in + (skip_padding ? " (padding skipped)" : "") +
                           " tiles of " + std::to_string(tr) + " rows";
  const int64_t tiles = DivCeil(mc, tr);
  const int64_t bytes = DirectWorkspaceBytes(geo, kMR, tiles * kMR, kc);
  std::vector<int64_t> ws(static_cast<size_t>(bytes / 8 + 8), -7);
  BuildInteriorRuns(geo, k0, kc, ws.data());
  BuildIndirection(geo, x.data(), g, m0, mc, k0, kc, skip_padding, tr, ws.data());
  ASSERT_EQ(-7, ws[static_cast<size_t>(bytes / 8)]) << what << ": wrote past the workspace";
  const int64_t max_runs = MaxRuns(geo, kc);
  const float* lo = x.data();
  const float* hi = x.data() + x.size();
  // Columns [from, to) left out of tile t: zeros in all its rows.
  auto check_left_out = [&](int64_t t, int64_t from, int64_t to) {
    ASSERT_TRUE(skip_padding || from == to) << what << ": runs do not cover the K block";
    for (int64_t q = from; q < to; ++q) {
      for (int64_t i = 0; i < tr && t * tr + i < mc; ++i) {
        ASSERT_EQ(0.0f, ref::Im2colAt(geo, x.data(), g, m0 + t * tr + i, k0 + q))
            << what << ": left out a column that is not padding, tile " << t << " row " << i
            << " p " << q;
      }
    }
  };
  int64_t skipped = 0;
  for (int64_t t = 0; t < tiles; ++t) {
    const DirectLayout layout = LayoutOf(ws.data(), geo, kMR, tiles * kMR, kc);
    const IgemmA a = layout.tiles[t];
    // This tile's border windows (BorderWindow), where it reads a copy.
    const int64_t per_tile = BorderWindowOf(geo, kMR).per_tile;
    const float* win_lo = layout.windows + t * per_tile;
    const float* win_hi = win_lo + per_tile;
    ASSERT_GE(a.runs, skip_padding ? 0 : 1) << what;
    ASSERT_LE(a.runs, max_runs) << what;
    ASSERT_TRUE(skip_padding || a.b_off == nullptr) << what;
    if (a.row_step != 0) {
      // Evenly spaced rows, which the tile reads as rows[0] + i * row_step
      // (checked against A below; rows[i > 0] need not be set).
      ASSERT_EQ(0, a.row_stride) << what << ": row_step needs one pointer set";
      ++*strided_tiles;
    }
    int64_t p = 0;
    for (int64_t r = 0; r < a.runs; ++r) {
      if (a.b_off != nullptr) {
        ASSERT_GE(a.b_off[r], p) << what << ": runs out of order";
        check_left_out(t, p, a.b_off[r]);
        skipped += a.b_off[r] - p;
        p = a.b_off[r];
      }
      const int64_t run = a.len[r];
      ASSERT_GE(run, 1) << what;
      ASSERT_LE(run, kMaxRun) << what;
      if (a.skip != nullptr) {
        // Rows the tile may leave out: the first and/or the last, which
        // must then read the zero row (checked against A below).
        ASSERT_TRUE(skip_padding && a.row_stride != 0) << what;
        const int64_t code = a.skip[r];
        ASSERT_TRUE(code == kSkipNone || code == 1 || code == 16 || code == 17) << what;
        const int64_t rows = std::min(tr, mc - t * tr);
        if (code & 1) {
          ASSERT_EQ(kZeroRow, a.rows[r * a.row_stride]) << what << ": first row";
        }
        if (code & 16) {
          ASSERT_EQ(kZeroRow, a.rows[r * a.row_stride + rows - 1]) << what << ": last row";
        }
        *skipped_rows += code == kSkipNone ? 0 : 1;
      }
      for (int64_t i = 0; i < kMR; ++i) {
        const int64_t row = t * tr + i;
        if (i >= tr || row >= mc) {  // never read; per-run sets point at the zero row
          if (a.row_stride != 0) {
            ASSERT_EQ(kZeroRow, a.rows[r * a.row_stride + i]) << what;
          }
          continue;
        }
        const float* row_ptr =
            a.row_step != 0 ? a.rows[0] + i * a.row_step : a.rows[r * a.row_stride + i];
        const float* ap = row_ptr + a.off[r * a.off_stride];
        const bool in_window = ap >= win_lo && ap + run <= win_hi;
        if (ap != kZeroRow && !in_window) {
          ASSERT_TRUE(ap >= lo && ap + run <= hi)
              << what << ": pointer outside the input and the tile's windows";
        }
        *window_reads += in_window ? 1 : 0;
        for (int64_t q = 0; q < run; ++q) {
          const float want = ref::Im2colAt(geo, x.data(), g, m0 + row, k0 + p + q);
          ASSERT_EQ(want, ap[q]) << what << " m0=" << m0 << " k0=" << k0 << " kc=" << kc
                                 << " tile " << t << " run " << r << " row " << i << " p " << p + q;
        }
      }
      p += run;
    }
    ASSERT_LE(p, kc) << what;
    skipped += kc - p;
    check_left_out(t, p, kc);
  }
  *skipped_total += skipped;
}

void TestIndirection() {
  int64_t skipped = 0;       // columns left out, over every padded spec
  int64_t skipped_rows = 0;  // runs that may leave out their first or last row
  int64_t strided = 0;       // tiles with evenly spaced rows
  int64_t windows = 0;       // rows of runs read from a border window
  for (const char* spec : {
           "n=2,h=5,w=6,ci=3,co=4,k=3x3",
           "n=2,h=5,w=6,ci=3,co=4,k=3x3,p=1",
           "n=1,h=9,w=11,ci=3,co=4,k=7x7,s=2,p=3",  // first layer: merged kernel rows
           "n=1,h=7,w=9,ci=5,co=2,k=3x2,s=2x3,p=1:2:0:3",
           "n=1,h=9,w=9,ci=4,co=2,k=3x3,d=2,p=2",
           "n=1,h=9,w=9,ci=4,co=2,k=3x3,d=1x2,p=2",
           "n=3,h=4,w=4,ci=6,co=6,k=3x3,g=3,p=1",
           "n=1,h=3,w=3,ci=2,co=2,k=3x3,p=4:5:3:6,s=2",  // padding > kernel
           "n=2,h=5,w=7,ci=12,co=4,k=1x1,g=3",
           "n=1,h=7,w=7,ci=16,co=8,k=1x1,s=2",
           "n=1,h=4,w=5,ci=1,co=3,k=5x5,p=2",  // Cg = 1: one float per tap
           "n=1,h=3,w=4,ci=1500,co=3,k=2x2,p=1",  // taps longer than kMaxRun
       }) {
    const ConvGeometry geo = MakeGeometry(testing::Spec(spec));
    std::vector<float> x(static_cast<size_t>(geo.n * geo.h * geo.w * geo.cin));
    testing::FillRandom(x.data(), static_cast<int64_t>(x.size()), 6);
    const int64_t mr = static_cast<int64_t>(kTileRows);
    for (int64_t g = 0; g < geo.groups; ++g) {
      for (bool skip : {false, true}) {
        // Tiles of MR rows, and of fewer (one narrow output row each).
        for (int64_t tr : {mr, std::max<int64_t>(1, mr - 3)}) {
          CheckIndirection(geo, x, g, 0, geo.m, 0, geo.k, skip, tr, spec, &skipped,
                           &skipped_rows, &strided, &windows);
          for (int64_t m0 : {int64_t{1}, mr + 1, geo.m / 2}) {
            for (int64_t k0 : {int64_t{1}, geo.cg, geo.k / 2}) {
              if (m0 >= geo.m || k0 >= geo.k) continue;
              const int64_t mc = std::min(geo.m - m0, 2 * mr + 3);
              for (int64_t kc : {int64_t{1}, std::min(geo.k - k0, geo.cg + 2), geo.k - k0}) {
                CheckIndirection(geo, x, g, m0, mc, k0, kc, skip, tr, spec, &skipped,
                                 &skipped_rows, &strided, &windows);
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(skipped, 0) << "no run was ever left out: the skipping path went untested";
  EXPECT_GT(skipped_rows, 0) << "no run ever skipped a border row";
  EXPECT_GT(strided, 0) << "no tile had evenly spaced rows";
  EXPECT_GT(windows, 0) << "no tile read a border window";
}

// Weight packers at this target's NR: every panel entry against the formula
// in panels.h.
void TestWeights() {
  const TileShape t = GetTileShape();
  for (const char* spec : {"n=1,h=5,w=5,ci=6,co=10,k=3x2,g=2",
                           "n=1,h=5,w=5,ci=3,co=37,k=1x1",
                           "n=1,h=5,w=5,ci=4,co=4,k=3x3,g=4"}) {
    const ConvGeometry geo = MakeGeometry(testing::Spec(spec));
    std::vector<float> w(static_cast<size_t>(geo.k * geo.cout)), bias(geo.cout);
    testing::FillRandom(w.data(), static_cast<int64_t>(w.size()), 7);
    testing::FillRandom(bias.data(), geo.cout, 8);
    std::vector<float> bp(static_cast<size_t>(PackedWeightsFloats(geo, t.nr)), kUnwritten);
    std::vector<float> bb(static_cast<size_t>(PackedBiasFloats(geo, t.nr)), kUnwritten);
    PackWeightsHwioToPanels(geo, t.nr, w.data(), bp.data());
    PackBiasToPanels(geo, t.nr, bias.data(), bb.data());
    const int64_t panels = DivCeil(geo.ng, t.nr);
    for (int64_t g = 0; g < geo.groups; ++g) {
      for (int64_t jp = 0; jp < panels; ++jp) {
        for (int64_t j = 0; j < t.nr; ++j) {
          const int64_t col = jp * t.nr + j;
          const float want_b = col < geo.ng ? bias[g * geo.ng + col] : 0.0f;
          ASSERT_EQ(want_b, bb[(g * panels + jp) * t.nr + j]) << spec;
          for (int64_t p = 0; p < geo.k; ++p) {
            const float want = col < geo.ng ? w[p * geo.cout + g * geo.ng + col] : 0.0f;
            ASSERT_EQ(want, bp[((g * panels + jp) * geo.k + p) * t.nr + j])
                << spec << " g=" << g << " panel=" << jp << " p=" << p << " j=" << j;
          }
        }
      }
    }
    const int64_t cpad = DepthwisePaddedChannels(geo, t.lanes);
    ASSERT_EQ(0, cpad % t.lanes);
    if (geo.groups == geo.cout && geo.cg == 1) {
      std::vector<float> wd(static_cast<size_t>(cpad * geo.taps), kUnwritten);
      PackDepthwiseWeights(geo, t.lanes, w.data(), wd.data());
      for (int64_t tap = 0; tap < geo.taps; ++tap) {
        for (int64_t c = 0; c < cpad; ++c) {
          ASSERT_EQ(c < geo.cout ? w[tap * geo.cout + c] : 0.0f, wd[tap * cpad + c]);
        }
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convkit {
namespace {

// RunLength's shortcut for rows of one output row against its loop over
// every row, for every start (pixel, rows, tap, channel) of small layers
// whose kernels overhang the input by up to twice their size, at strides 1
// to 3 (past the input's width too).
TEST(RunLength, OneOutputRowAgreesWithEveryRow) {
  int64_t shortcuts = 0;
  for (const char* spec : {"n=2,h=5,w=6,ci=3,co=4,k=3x3,p=1",
                           "n=1,h=9,w=11,ci=3,co=4,k=7x7,s=2,p=3",
                           "n=1,h=4,w=5,ci=1,co=3,k=5x5,p=4:2:6:5",
                           "n=2,h=3,w=2,ci=2,co=1,k=4x7,s=3,p=5",
                           "n=1,h=6,w=9,ci=2,co=2,k=3x5,s=1x2,p=2:0:1:4",
                           "n=3,h=2,w=4,ci=1,co=1,k=2x3,p=0:1:2:2",
                           "n=4,h=2,w=3,ci=1,co=1,k=2x2,p=0:0:1:1"}) {
    const ConvGeometry geo = MakeGeometry(testing::Spec(spec));
    std::vector<int64_t> ih0(static_cast<size_t>(geo.m)), iw0(static_cast<size_t>(geo.m));
    for (int64_t m = 0; m < geo.m; ++m) {
      const int64_t oh = m / geo.ow % geo.oh, ow = m % geo.ow;
      ih0[m] = oh * geo.sh - geo.pt;
      iw0[m] = ow * geo.sw - geo.pl;
    }
    for (int64_t m0 = 0; m0 < geo.m; ++m0) {
      for (int64_t rows = 1; m0 + rows <= geo.m && rows <= 16; ++rows) {
        const int64_t* ih = ih0.data() + m0;
        const int64_t* iw = iw0.data() + m0;
        const bool one_row = ih[0] == ih[rows - 1] && iw[rows - 1] - iw[0] == (rows - 1) * geo.sw;
        shortcuts += one_row && rows > 1;
        for (int64_t t = 0; t < geo.taps; ++t) {
          for (int64_t c = 0; c < geo.cg; ++c) {
            const int64_t kw = t % geo.kw, left = geo.k - t * geo.cg - c;
            const int64_t one_tap = std::min(geo.cg - c, left);
            const int64_t end = RunEndAnyRows(geo, ih, iw, rows, kw, t / geo.kw * geo.dh);
            const int64_t span = (end - kw) * geo.cg - c;
            const int64_t want =
                kw + 1 >= geo.kw ? one_tap : std::max(one_tap, std::min(span, left));
            ASSERT_EQ(want, RunLength(geo, ih, iw, rows, t, c, left))
                << spec << " m0=" << m0 << " rows=" << rows << " t=" << t << " c=" << c;
          }
        }
      }
    }
  }
  EXPECT_GT(shortcuts, 100);
}

CONVKIT_BEFORE_KERNEL_TEST(PackTest);
HWY_EXPORT_AND_TEST_P(PackTest, TestIm2col);
HWY_EXPORT_AND_TEST_P(PackTest, TestIndirection);
HWY_EXPORT_AND_TEST_P(PackTest, TestWeights);
}  // namespace
}  // namespace convkit
#endif
