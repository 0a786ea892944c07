// The indirect register tile (contract in tile.h): the packed tile's C update
// with A read in place through row pointers, one set per run of contiguous k,
// so that the direct GEMM never copies the input. Same accumulators, bias,
// edges and operation order as tile-inl.h. Re-included once per target.

#if defined(CONVKIT_LIB_GEMM_IGEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVKIT_LIB_GEMM_IGEMM_INL_H_
#undef CONVKIT_LIB_GEMM_IGEMM_INL_H_
#else
#define CONVKIT_LIB_GEMM_IGEMM_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <array>
#include <utility>

#include "hwy/highway.h"
#include "lib/common/cache.h"
#include "lib/gemm/tile-inl.h"
#include "lib/gemm/tile.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// Accumulators: CONVKIT_TILE_DECL / INIT / STORE from tile-inl.h.

// Row pointers of the current run (unused rows are dead code).
#define CONVKIT_IGEMM_PTR(r)                                                  \
  const float* HWY_RESTRICT a##r = kRows > r ? ar[r] + off : nullptr;         \
  (void)a##r;

// Row r's FMAs with its A element `at` (row r, step p).
#define CONVKIT_IGEMM_FMA_AT(r, at)                                   \
  if constexpr (kRows > r && r >= kSkipFirst && r + kSkipLast < kRows) { \
    const V av = hn::Set(d, at);                                      \
    c##r##_0 = hn::MulAdd(av, b0, c##r##_0);                          \
    if constexpr (kVecs > 1) c##r##_1 = hn::MulAdd(av, b1, c##r##_1); \
    if constexpr (kVecs > 2) c##r##_2 = hn::MulAdd(av, b2, c##r##_2); \
    if constexpr (kVecs > 3) c##r##_3 = hn::MulAdd(av, b3, c##r##_3); \
  }
// Through row r's pointer.
#define CONVKIT_IGEMM_FMA(r) CONVKIT_IGEMM_FMA_AT(r, a##r[p])
// Rows row_step floats apart (IgemmA::row_step): row r from one of four
// bases (rows 0, 5, 10, 15) plus (r % 5) * row_step, so that the compiler
// keeps 3-4 bases and 4 index registers instead of 14 row pointers, of
// which GCC spilled 5 (a stack reload per row per k step). Measured on
// AVX-512: 3x3 with 16 channels in and out 9% faster, 1x1 with 16-32
// input channels 3-5%, 3-channel first layers 2-4%, deep layers unchanged.
// The paired tile's rows 16-27 from bases 20 and 25 likewise.
#define CONVKIT_IGEMM_FMA_STRIDED(r)                                           \
  CONVKIT_IGEMM_FMA_AT(r, (r < 5    ? q0                                       \
                           : r < 10 ? q5                                       \
                           : r < 15 ? q10                                      \
                           : r < 20 ? q15                                      \
                           : r < 25 ? q20                                      \
                                    : q25)[(r % 5) * rs + p])

// One indirect tile of kRows x kVecs vectors; requires (kVecs - 1) * Lanes <
// n <= kVecs * Lanes. Inlined into IgemmTile and IgemmBlock. More than
// kTileRows rows (IgemmBlock's paired tiles): one vector, evenly spaced
// rows only (row_stride 0, row_step != 0).
template <size_t kRows, size_t kVecs>
HWY_INLINE void IgemmTileBody(const IgemmA& a, const float* HWY_RESTRICT b,
                              int64_t b_stride, float* HWY_RESTRICT c, int64_t ldc,
                              int64_t n, const TileOps& ops) {
  const hn::ScalableTag<float> d;
  const float* HWY_RESTRICT bias = ops.bias;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);
  size_t count[4] = {L, L, L, L};
  count[kVecs - 1] = static_cast<size_t>(n) - (kVecs - 1) * L;

  const V zero = hn::Zero(d);
  CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_DECL)
  CONVKIT_TILE_INIT_ALL()

  const float* HWY_RESTRICT bp = b;
  const float* const* HWY_RESTRICT rows = a.rows;
  const int64_t* HWY_RESTRICT offs = a.off;
  const int64_t* HWY_RESTRICT len = a.len;
  const int64_t runs = a.runs;
  // One run: len[run] k steps from the row pointers a0.. of the run.
#define CONVKIT_IGEMM_RUN(p0, FMA)                                 \
  {                                                                \
    const int64_t p_end = (p0) + len[run];                         \
    _Pragma("GCC unroll 4") for (int64_t p = (p0); p < p_end; ++p) {  \
      const V b0 = hn::Load(d, bp);                                \
      const V b1 = kVecs > 1 ? hn::Load(d, bp + L) : zero;         \
      const V b2 = kVecs > 2 ? hn::Load(d, bp + 2 * L) : zero;     \
      const V b3 = kVecs > 3 ? hn::Load(d, bp + 3 * L) : zero;     \
      (void)b1;                                                    \
      (void)b2;                                                    \
      (void)b3;                                                    \
      CONVKIT_TILE_FOR_ROWS(FMA)                                   \
      bp += b_stride;                                              \
    }                                                              \
  }
  // A run whose first and/or last row reads the padding (a.skip): the same
  // loop without their FMAs (tiles of 4 or more rows; smaller ones multiply
  // the zero row).
#define CONVKIT_IGEMM_RUN_SKIPPING(first, last) \
  {                                             \
    constexpr size_t kSkipFirst = first;        \
    constexpr size_t kSkipLast = last;          \
    CONVKIT_IGEMM_RUN(0, CONVKIT_IGEMM_FMA)     \
  }
  const int64_t row_stride = a.row_stride, off_stride = a.off_stride;
  const int64_t* HWY_RESTRICT b_off = a.b_off;
  const int64_t* HWY_RESTRICT skip = a.skip;
  // A pointer set per run: run `run`'s rows a0.. and where its B rows start.
#define CONVKIT_IGEMM_RUN_POINTERS()                             \
  const float* const* HWY_RESTRICT ar = rows + run * row_stride; \
  const int64_t off = offs[run * off_stride];                    \
  if (b_off != nullptr) bp = b + b_off[run] * b_stride;          \
  CONVKIT_TILE_FOR_ROWS(CONVKIT_IGEMM_PTR)
  if (row_stride == 0 && a.row_step != 0) {
    // Rows evenly spaced (one output row of an interior tile, or a 1x1
    // layer's pixels): row r at rows[0] + r * row_step, each run indexed
    // from its offset.
    const int64_t rs = a.row_step;
    const float* HWY_RESTRICT q0 = rows[0];
    const float* HWY_RESTRICT q5 = kRows > 5 ? q0 + 5 * rs : q0;
    const float* HWY_RESTRICT q10 = kRows > 10 ? q0 + 10 * rs : q0;
    const float* HWY_RESTRICT q15 = kRows > 15 ? q0 + 15 * rs : q0;
    const float* HWY_RESTRICT q20 = kRows > 20 ? q0 + 20 * rs : q0;
    const float* HWY_RESTRICT q25 = kRows > 25 ? q0 + 25 * rs : q0;
    (void)q5;
    (void)q10;
    (void)q15;
    (void)q20;
    (void)q25;
    constexpr size_t kSkipFirst = 0;
    constexpr size_t kSkipLast = 0;
    for (int64_t run = 0; run < runs; ++run) CONVKIT_IGEMM_RUN(offs[run], CONVKIT_IGEMM_FMA_STRIDED)
  } else if constexpr (kRows > kTileRows) {
    HWY_DASSERT(false);  // paired tiles are always evenly spaced
  } else if (row_stride == 0) {
    // One pointer set for all runs (interior tiles): load it once, then
    // each run indexes it from its offset (no pointer updated per run).
    const float* const* HWY_RESTRICT ar = rows;
    const int64_t off = 0;
    CONVKIT_TILE_FOR_ROWS(CONVKIT_IGEMM_PTR)
    constexpr size_t kSkipFirst = 0;
    constexpr size_t kSkipLast = 0;
    for (int64_t run = 0; run < runs; ++run) CONVKIT_IGEMM_RUN(offs[run], CONVKIT_IGEMM_FMA)
  } else if (skip == nullptr || kRows < 4) {
    for (int64_t run = 0; run < runs; ++run) {
      CONVKIT_IGEMM_RUN_POINTERS()
      CONVKIT_IGEMM_RUN_SKIPPING(0, 0)
    }
  } else {
    for (int64_t run = 0; run < runs; ++run) {
      CONVKIT_IGEMM_RUN_POINTERS()
      if constexpr (kRows >= 4) {
        const int64_t skip_rows = skip[run];
        if (skip_rows == 1) {
          CONVKIT_IGEMM_RUN_SKIPPING(1, 0)
          continue;
        }
        if (skip_rows == 16) {
          CONVKIT_IGEMM_RUN_SKIPPING(0, 1)
          continue;
        }
        if (skip_rows == 17) {
          CONVKIT_IGEMM_RUN_SKIPPING(1, 1)
          continue;
        }
      }
      CONVKIT_IGEMM_RUN_SKIPPING(0, 0)
    }
  }
#undef CONVKIT_IGEMM_RUN_POINTERS
#undef CONVKIT_IGEMM_RUN_SKIPPING
#undef CONVKIT_IGEMM_RUN

  CONVKIT_TILE_FINISH()
}

template <size_t kRows, size_t kVecs>
HWY_NOINLINE void IgemmTile(const IgemmA& a, const float* HWY_RESTRICT b, int64_t b_stride,
                            float* HWY_RESTRICT c, int64_t ldc, int64_t n,
                            const TileOps& ops) {
  IgemmTileBody<kRows, kVecs>(a, b, b_stride, c, ldc, n, ops);
}

#undef CONVKIT_IGEMM_PTR
#undef CONVKIT_IGEMM_FMA
#undef CONVKIT_IGEMM_FMA_AT
#undef CONVKIT_IGEMM_FMA_STRIDED

// Tiles of one or two rows across several column panels at once: a call
// with M = 1 (squeeze-and-excitation layers, fully connected layers run as
// 1x1 convolutions) or the last row or two of a block. One panel at a time,
// such a tile has MR x NV = 2 or 4 accumulators, each a chain of K
// dependent FMAs: the FMA latency, not the pipes, sets its time (a 1x1
// layer with 20 inputs and 480 outputs, one pixel, AVX2: 30 panels of 20
// dependent FMAs). kPanels panels side by side give kRows x kPanels x NV
// chains (4 to 12 with NV = 2) for the same FMAs. Panels are b_panel
// floats apart; the last may be partial (its C columns past n_cols are
// neither read nor written; its B columns there are the panel's zero
// padding). Same operations per element as IgemmTileBody (acc = init; one
// FMA per k, ascending), so results do not change. Rows in one pointer set
// (row_stride 0, no b_off).
// (Arrays of vectors: fixed-size targets only.)
#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
constexpr bool kFewRowPanels = true;
#else
constexpr bool kFewRowPanels = false;
#endif
// AVX-512 (Zen 5): with more than 16 panels and K below 192, the panels
// one at a time ran faster: 1x1 layers of one pixel and 1152 outputs, K =
// 48-128 (221-590 KB of weights from L2), 9-36% slower grouped; K = 192
// 19% faster, 512 5%; 240 outputs (8 panels) 5-36% faster at every K
// from 16 to 512. Out-of-order execution overlaps successive short
// tiles' chains there. AVX2 gained everywhere measured (K = 16-512, 240
// and 1152 outputs, M = 1 and 2: 5-57%, but M = 2, K = 16 8% slower).
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr int64_t kFewRowMaxPanels = 16, kFewRowMinK = 192;
#else
constexpr int64_t kFewRowMaxPanels = 0, kFewRowMinK = 0;
#endif
// Whether tile a of m rows across `panels` panels takes IgemmFewRows.
HWY_INLINE bool FewRowTile(const IgemmA& a, int64_t m, int64_t panels, const TileOps& ops) {
  if (!kFewRowPanels || m > 2 || panels < 2 || a.row_stride != 0 || a.b_off != nullptr ||
      ops.bias_rows) {
    return false;
  }
  if (kFewRowMaxPanels == 0 || panels <= kFewRowMaxPanels) return true;
  int64_t k = 0;
  for (int64_t r = 0; r < a.runs; ++r) k += a.len[r];
  return k >= kFewRowMinK;
}
#if !HWY_HAVE_SCALABLE
template <size_t kRows, size_t kPanels>
HWY_NOINLINE void IgemmFewRows(const IgemmA& a, const float* HWY_RESTRICT b, int64_t b_panel,
                               int64_t b_stride, float* HWY_RESTRICT c, int64_t ldc,
                               int64_t nr, int64_t n_cols, const TileOps& ops) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  constexpr size_t kV = kPanels * kTileVecs;  // vectors per row
  // Vector j: panel j / NV, vector j % NV of it; C column col[j], count[j]
  // valid lanes (0: past n_cols, computed and dropped).
  int64_t col[kV];
  size_t count[kV];
  const float* HWY_RESTRICT bv[kV];
  for (size_t j = 0; j < kV; ++j) {
    const int64_t pp = static_cast<int64_t>(j / kTileVecs);
    const int64_t v = static_cast<int64_t>(j % kTileVecs);
    col[j] = pp * nr + v * L;
    count[j] = static_cast<size_t>(std::clamp<int64_t>(n_cols - col[j], 0, L));
    bv[j] = b + pp * b_panel + v * L;
  }
  V acc[kRows * kV];
  for (size_t i = 0; i < kRows; ++i) {
    for (size_t j = 0; j < kV; ++j) {
      const float* HWY_RESTRICT bias =
          ops.bias != nullptr && count[j] != 0 ? ops.bias + col[j] : nullptr;
      acc[i * kV + j] = count[j] == 0 ? hn::Zero(d)
                                      : InitAcc(d, c + static_cast<int64_t>(i) * ldc + col[j],
                                                count[j], bias, ops);
    }
  }
  const float* HWY_RESTRICT row[kRows];
  for (size_t i = 0; i < kRows; ++i) {
    row[i] = a.row_step != 0 ? a.rows[0] + static_cast<int64_t>(i) * a.row_step : a.rows[i];
  }
  int64_t k = 0;  // B row of the run's first step
  for (int64_t run = 0; run < a.runs; ++run) {
    const int64_t off = a.off[run * a.off_stride];
    const int64_t len = a.len[run];
    const float* HWY_RESTRICT ar[kRows];
    for (size_t i = 0; i < kRows; ++i) ar[i] = row[i] + off;
#pragma GCC unroll 4
    for (int64_t p = 0; p < len; ++p) {
      const int64_t bo = (k + p) * b_stride;
      V av[kRows];
      for (size_t i = 0; i < kRows; ++i) av[i] = hn::Set(d, ar[i][p]);
      for (size_t j = 0; j < kV; ++j) {
        const V bj = hn::Load(d, bv[j] + bo);
        for (size_t i = 0; i < kRows; ++i) {
          acc[i * kV + j] = hn::MulAdd(av[i], bj, acc[i * kV + j]);
        }
      }
    }
    k += len;
  }
  if (ops.clamp) {
    const V lo = hn::Set(d, ops.lo), hi = hn::Set(d, ops.hi);
    for (size_t j = 0; j < kRows * kV; ++j) acc[j] = ClampV(d, acc[j], lo, hi);
  }
  for (size_t i = 0; i < kRows; ++i) {
    for (size_t j = 0; j < kV; ++j) {
      if (count[j] == 0) continue;
      StoreTail(d, acc[i * kV + j], c + static_cast<int64_t>(i) * ldc + col[j], count[j]);
    }
  }
}
#endif

struct IndirectTiles {
  using Fn = IgemmTileFn;
  template <size_t kRows, size_t kVecs>
  static constexpr Fn Ptr() {
    return &IgemmTile<kRows, kVecs>;
  }
};

// The indirect tile for m rows (1..MR) and n columns (1..NR), as GetTile.
inline IgemmTileFn GetIgemmTile(int64_t m, int64_t n) {
  return SelectTile<IndirectTiles>(m, n);
}

// ir outer, jr inner over one block: tiles t < count of tr <= MR rows (the
// last m_last rows), each across `panels` column panels of NR (the last
// n_last columns) at b + p * b_panel floats, C columns p * NR; ops.bias (if any) is panel 0's,
// panel p's NR floats further. For K blocks whose whole B block sits
// in L1/L2: each tile's rows of C are written whole and in order, and its A
// stays in L1 across the panels. With hints.prefetch_c, each tile hints the
// next one's C rows of the same panel into the cache for writing, with
// hints.prefetch_a its input rows (BlockHints).
//
// With hints.pair_tiles (BlockHints) and the last panel one vector wide
// or less: two adjacent full tiles whose rows are evenly spaced with the
// same step and the same runs, the second's first row right after the
// first's last (one output row, or a 1x1 layer), run their whole panels
// one tile at a time and the last panel as one tile of 2 MR rows
// (kTilePairs). Each B vector then feeds 2 MR FMAs instead of MR, and
// the per-run loop costs half as much per FMA: CosmicTagger's 7x7 layer
// with one input channel (runs of 7 k) took 6.01 ms against 6.73,
// MobileNetV2's 32 -> 16 projection 0.064 against 0.068, a 56x56 24 -> 16
// 1x1 layer 8% less. Same operations per element, so results do not
// change. The paired tile is its own function: inlined here, its 28
// accumulators made the loop around unpaired tiles 13% slower.
// Narrow tiles (Blocking::mr) and backward data (row_step 0) never pair.
HWY_INLINE bool PairedTiles(const IgemmA& a0, const IgemmA& a1) {
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  return a0.row_stride == 0 && a0.row_step != 0 &&
         a1.row_stride == 0 && a1.row_step == a0.row_step && a1.off == a0.off &&
         a1.len == a0.len && a1.runs == a0.runs &&
         a1.rows[0] == a0.rows[0] + kMR * a0.row_step;
}

// Hints the input rows of a tile whose K block is one run (1x1 layers) into
// L1 (BlockHints::prefetch_a); other tiles are left alone.
HWY_INLINE void PrefetchTileA(const IgemmA& a, int64_t rows) {
  if (a.row_stride != 0 || a.runs != 1) return;
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = a.row_step != 0 ? a.rows[0] + i * a.row_step : a.rows[i];
    PrefetchForRead(row + a.off[0], a.len[0]);
  }
}

// Runs tile a (m <= 2 rows) over all its panels (at least 2) in groups of
// IgemmFewRows: four panels for one row, else two, and three where an odd
// number is left (24 -> 72 with one pixel, three panels: 0.109 us as two
// calls, 0.095 as one, AVX-512). Returns the panels done (all of them).
HWY_NOINLINE inline int64_t IgemmFewRowPanels(const IgemmA& a, int64_t m,
                                              const float* HWY_RESTRICT b, int64_t b_panel,
                                              int64_t panels, int64_t n_last,
                                              float* HWY_RESTRICT c, int64_t ldc,
                                              const TileOps& ops) {
  int64_t p = 0;
#if !HWY_HAVE_SCALABLE
  const int64_t nr = static_cast<int64_t>(kTileVecs * hn::Lanes(hn::ScalableTag<float>()));
  while (panels - p >= 2) {
    const int64_t left = panels - p;
    const int64_t width = m == 1 && left >= 4 && left != 5 ? 4 : left == 3 || left == 5 ? 3 : 2;
    const int64_t n_cols = (width - 1) * nr + (p + width == panels ? n_last : nr);
    TileOps op = ops;
    if (op.bias != nullptr) op.bias += p * nr;
    const auto fn = m == 1 ? (width == 4   ? &IgemmFewRows<1, 4>
                              : width == 3 ? &IgemmFewRows<1, 3>
                                           : &IgemmFewRows<1, 2>)
                           : (width == 3 ? &IgemmFewRows<2, 3> : &IgemmFewRows<2, 2>);
    fn(a, b + p * b_panel, b_panel, nr, c + p * nr, ldc, nr, n_cols, op);
    p += width;
  }
#else
  (void)a, (void)m, (void)b, (void)b_panel, (void)panels, (void)n_last, (void)c, (void)ldc;
  (void)ops;
#endif
  return p;
}

HWY_NOINLINE inline void IgemmBlock(const IgemmA* HWY_RESTRICT a, int64_t count, int64_t tr,
                                    int64_t m_last, const float* HWY_RESTRICT b,
                                    int64_t b_panel, int64_t panels, int64_t n_last,
                                    float* HWY_RESTRICT c, int64_t ldc, const TileOps& ops,
                                    const BlockHints& hints, const NextB* next_b = nullptr) {
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  const int64_t nr = static_cast<int64_t>(kTileVecs * hn::Lanes(hn::ScalableTag<float>()));
  // Tiles t and t + 1 both full, C one vector wide: try a paired tile.
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  const int64_t full = m_last == kMR ? count : count - 1;
  const bool may_pair = kTilePairs && hints.pair_tiles && tr == kMR && n_last <= lanes;
  const bool prefetch_c = hints.prefetch_c;
  // Tile j's input rows, where its K block is one run (1x1 layers).
  const bool prefetch_a = hints.prefetch_a;
  // The next block's weights into L2, a share before each call of the tiles
  // after the first (which streams this block's): their lines then come
  // from memory while the tiles compute, not all during the next block's
  // first tile.
  constexpr int64_t kLine = 64 / static_cast<int64_t>(sizeof(float));
  const int64_t nb_lines_per_panel = next_b != nullptr ? (next_b->floats + kLine - 1) / kLine : 0;
  const int64_t nb_lines = next_b != nullptr ? next_b->panels * nb_lines_per_panel : 0;
  const int64_t nb_calls = (count - 1) * panels;
  int64_t nb_done = 0;
  const auto prefetch_next_b = [&](int64_t call) {
    if (nb_lines == 0 || nb_calls <= 0) return;
    const int64_t upto = nb_lines * (call + 1) / nb_calls;
    while (nb_done < upto) {
      const int64_t panel = nb_done / nb_lines_per_panel, line = nb_done % nb_lines_per_panel;
      const int64_t end = std::min(nb_lines_per_panel, line + (upto - nb_done));
      PrefetchLinesToL2(next_b->base + panel * next_b->stride, line, end);
      nb_done += end - line;
    }
  };
#define CONVKIT_IGEMM_PREFETCH_A(j)                                    \
  if (prefetch_a && (j) < count) PrefetchTileA(a[j], (j) + 1 == count ? m_last : tr)
  // A last tile of one or two rows takes several panels per call
  // (IgemmFewRows), after the loop (the test inside it made the loop 4-7%
  // slower on layers of one panel and K = 27).
  const bool few_last = count >= 1 && m_last <= 2 && FewRowTile(a[count - 1], m_last, panels, ops);
  const int64_t t_end = few_last ? count - 1 : count;
  for (int64_t t = 0; t < t_end; ++t) {
    const int64_t m = t + 1 == count ? m_last : tr;
    float* HWY_RESTRICT ct = c + t * tr * ldc;
    if constexpr (kTilePairs) {
      if (may_pair && t + 1 < full && PairedTiles(a[t], a[t + 1])) {
        CONVKIT_IGEMM_PREFETCH_A(t + 2);
        CONVKIT_IGEMM_PREFETCH_A(t + 3);
        const int64_t last = panels - 1;
        if (prefetch_c && t + 2 < count) {
          const int64_t rows_left = (count - t - 3) * tr + m_last;
          PrefetchForWrite(ct + 2 * tr * ldc, std::min(2 * tr, rows_left), last * nr + n_last,
                           ldc);
        }
        // The whole panels tile by tile, then the last one (one vector)
        // for both tiles at once.
        for (int64_t u = t; u < t + 2; ++u) {
          for (int64_t p = 0; p < last; ++p) {
            TileOps op = ops;
            if (op.bias != nullptr) op.bias += p * nr;
            IgemmTileBody<kTileRows, kTileVecs>(a[u], b + p * b_panel, nr,
                                                c + u * tr * ldc + p * nr, ldc, nr, op);
          }
        }
        if (t >= 1) prefetch_next_b((t - 1) * panels + last);
        prefetch_next_b(t * panels + last);
        TileOps op = ops;
        if (op.bias != nullptr) op.bias += last * nr;
        IgemmTile<2 * kTileRows, 1>(a[t], b + last * b_panel, nr, ct + last * nr, ldc, n_last,
                                    op);
        ++t;
        continue;
      }
    }
    CONVKIT_IGEMM_PREFETCH_A(t + 1);
    for (int64_t p = 0; p < panels; ++p) {
      const int64_t n = p + 1 == panels ? n_last : nr;
      const float* HWY_RESTRICT bp = b + p * b_panel;
      TileOps op = ops;
      if (op.bias != nullptr) op.bias += p * nr;
      if (prefetch_c && t + 1 < count) {
        PrefetchForWrite(ct + tr * ldc + p * nr, t + 2 == count ? m_last : tr, n, ldc);
      }
      if (t >= 1) prefetch_next_b((t - 1) * panels + p);
      if (m == kMR && n == nr) {
        IgemmTileBody<kTileRows, kTileVecs>(a[t], bp, nr, ct + p * nr, ldc, nr, op);
      } else {
        GetIgemmTile(m, n)(a[t], bp, nr, ct + p * nr, ldc, n, op);
      }
    }
  }
#undef CONVKIT_IGEMM_PREFETCH_A
  if (few_last) {  // the block's last tile, so no next tile's C to hint
    float* HWY_RESTRICT ct = c + (count - 1) * tr * ldc;
    if (count >= 2) {
      for (int64_t p = 0; p < panels; ++p) prefetch_next_b((count - 2) * panels + p);
    }
    const int64_t p0 =
        IgemmFewRowPanels(a[count - 1], m_last, b, b_panel, panels, n_last, ct, ldc, ops);
    for (int64_t p = p0; p < panels; ++p) {
      const int64_t n = p + 1 == panels ? n_last : nr;
      TileOps op = ops;
      if (op.bias != nullptr) op.bias += p * nr;
      GetIgemmTile(m_last, n)(a[count - 1], b + p * b_panel, nr, ct + p * nr, ldc, n, op);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_GEMM_IGEMM_INL_H_
