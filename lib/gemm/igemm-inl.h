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
  for (int64_t t = 0; t < count; ++t) {
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
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_GEMM_IGEMM_INL_H_
