// Per-target register tiles (the contract is in tile.h) and the tile table the
// jr/ir loops pick from. Re-included once per target through foreach_target.h.
//
// Accumulators are named variables (c<row>_<vec>) selected with if constexpr,
// not arrays: SVE vectors are sizeless and cannot live in arrays, and named
// variables are what compilers keep in registers most reliably.

// Per-target include guard (Highway's toggle idiom).
#if defined(CONVKIT_LIB_GEMM_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVKIT_LIB_GEMM_TILE_INL_H_
#undef CONVKIT_LIB_GEMM_TILE_INL_H_
#else
#define CONVKIT_LIB_GEMM_TILE_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <utility>

#include "hwy/highway.h"
#include "lib/gemm/tile.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Tile shape per target; tile.h explains each choice.
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr size_t kTileRows = 14;
constexpr size_t kTileVecs = 2;
#elif HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
constexpr size_t kTileRows = 6;
constexpr size_t kTileVecs = 2;
#elif HWY_TARGET == HWY_SCALAR
constexpr size_t kTileRows = 4;
constexpr size_t kTileVecs = 4;
#elif HWY_TARGET == HWY_EMU128
constexpr size_t kTileRows = 4;
constexpr size_t kTileVecs = 2;
#elif HWY_ARCH_ARM
constexpr size_t kTileRows = 8;
constexpr size_t kTileVecs = 3;
#else
constexpr size_t kTileRows = 4;
constexpr size_t kTileVecs = 2;
#endif
// k-interleave of the packed A panel (tile.h): runs of kTileKU consecutive k
// per row, so the packers move whole 16- or 32-byte chunks instead of
// scattering single floats, while the tile still reads every broadcast at a
// compile-time offset from one pointer.
#if HWY_TARGET == HWY_SCALAR
constexpr size_t kTileKU = 1;
#elif HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX2
constexpr size_t kTileKU = 8;
#else
constexpr size_t kTileKU = 4;
#endif
// Twice kTileRows rows of one vector fit the registers too (AVX3: 28
// accumulators + B + broadcast = 30 of 32 zmm; AVX2: 12 + 2 of 16 ymm):
// IgemmBlock pairs adjacent evenly spaced tiles into one such tile when C
// is at most one vector wide, or with AVX2 its last panel is (tile.h,
// DirectBlocking). AVX2's 6 x 1v tile keeps 6 FMAs in flight where two
// pipes of latency 4 want 8: a 1x1 layer with 8 outputs ran at 67% of the
// peak, 0.054 -> 0.044 ms paired (56x56, 96 inputs); with 24 outputs 0.124
// -> 0.114 (its last 8 paired). (An earlier measurement found no gain on
// layers with 16 outputs, two AVX2 vectors, which never paired.) SSE4 and
// below keep single tiles: its 6 x 2v tile leaves a one-vector last panel
// only for Cout = 1-4 mod 8, and pairs measured 0-3% faster on the layers
// above (--target SSE4), not worth the code.
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX2
constexpr bool kTilePairs = true;
#else
constexpr bool kTilePairs = false;
#endif
static_assert(kTileRows >= 1 && (kTilePairs ? 2 : 1) * kTileRows <= 28,
              "tile macros cover 28 rows");
static_assert(kTileVecs >= 1 && kTileVecs <= 4, "tile macros cover 4 vectors");

// Lower-case target name for kernel ids ("avx3", "scalar").
inline const char* TargetSuffix() {
#if HWY_TARGET == HWY_AVX3_DL
  return "avx3_dl";
#elif HWY_TARGET == HWY_AVX3
  return "avx3";
#elif HWY_TARGET == HWY_AVX2
  return "avx2";
#elif HWY_TARGET == HWY_SSE4
  return "sse4";
#elif HWY_TARGET == HWY_SSSE3
  return "ssse3";
#elif HWY_TARGET == HWY_SCALAR
  return "scalar";
#elif HWY_TARGET == HWY_EMU128
  return "emu128";
#elif HWY_TARGET == HWY_NEON
  return "neon";
#elif HWY_TARGET == HWY_SVE
  return "sve";
#elif HWY_TARGET == HWY_SVE2
  return "sve2";
#elif HWY_TARGET == HWY_SVE_256
  return "sve_256";
#elif HWY_TARGET == HWY_SVE2_128
  return "sve2_128";
#else
  return "other";
#endif
}

// Loads count (1 <= count <= Lanes) floats, zeros above, never touching
// memory past p[count-1]: AVX2/AVX-512 masked loads do not fault on masked
// lanes; elsewhere Highway's MaskedLoad reads the whole vector, so copy.
template <class D>
HWY_INLINE hn::Vec<D> LoadTail(D d, const float* HWY_RESTRICT p, size_t count) {
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX2
  return hn::MaskedLoad(hn::FirstN(d, count), d, p);
#else
  HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)] = {};
  std::memcpy(buf, p, count * sizeof(float));
  return hn::Load(d, buf);
#endif
}

// Stores the first count lanes of v to p and nothing else. x86 and SVE have
// true masked stores. Highway 1.0.3's BlendedStore on NEON (and WASM) loads,
// blends and stores the whole vector: it would write back floats past
// p[count-1] (a fault at a page end, a race with the thread that owns them),
// so there, and wherever the store is not known to be masked, copy.
template <class D>
HWY_INLINE void StoreTail(D d, hn::Vec<D> v, float* HWY_RESTRICT p,
                          size_t count) {
  if (count == hn::Lanes(d)) {
    hn::StoreU(v, d, p);
    return;
  }
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX2 || \
    HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3 || HWY_TARGET == HWY_EMU128 ||  \
    HWY_TARGET == HWY_SCALAR || (HWY_ARCH_ARM_A64 && HWY_TARGET != HWY_NEON)
  hn::BlendedStore(v, hn::FirstN(d, count), d, p);
#else
  HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)];
  hn::Store(v, d, buf);
  std::memcpy(p, buf, count * sizeof(float));
#endif
}

// Initial accumulator for one vector of one row (tile.h's init): C; or bias
// (or zero), plus sum_scale * C for the sum post-op.
template <class D>
HWY_INLINE hn::Vec<D> InitAcc(D d, const float* HWY_RESTRICT c, size_t count,
                              const float* HWY_RESTRICT bias, const TileOps& ops) {
  if (ops.accumulate) {
    return count == hn::Lanes(d) ? hn::LoadU(d, c) : LoadTail(d, c, count);
  }
  const hn::Vec<D> init = bias == nullptr ? hn::Zero(d)
                          : ops.bias_rows ? hn::Set(d, *bias)
                                          : hn::LoadU(d, bias);
  if (!ops.sum) return init;
  const hn::Vec<D> old = count == hn::Lanes(d) ? hn::LoadU(d, c) : LoadTail(d, c, count);
  return hn::MulAdd(hn::Set(d, ops.sum_scale), old, init);
}

// The clamp post-op: lo where v < lo, hi where v > hi, else v (NaN stays
// NaN, as in PyTorch's clamp). On x86, max/min return their second operand
// when either is NaN, so Min(hi, Max(lo, v)) is exactly that in two
// instructions; elsewhere compare and select.
template <class D>
HWY_INLINE hn::Vec<D> ClampV(D d, hn::Vec<D> v, hn::Vec<D> lo, hn::Vec<D> hi) {
#if HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
  (void)d;
  return hn::Min(hi, hn::Max(lo, v));
#else
  (void)d;
  v = hn::IfThenElse(hn::Lt(v, lo), lo, v);
  return hn::IfThenElse(hn::Gt(v, hi), hi, v);
#endif
}

// The accumulator macros, shared with the indirect tile (igemm-inl.h): named
// variables c<row>_<vec> for up to 28 rows x 4 vectors (more than 16
// only in the paired one-vector tile), initialized from C,
// bias or zero, and stored with masked tails. Defined once, not per target.
#ifndef CONVKIT_TILE_FOR_ROWS
// clang-format off
#define CONVKIT_TILE_FOR_ROWS(X) \
  X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
  X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) \
  X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) \
  X(24) X(25) X(26) X(27)
// clang-format on

// Declares the four accumulators of row r (unused ones are dead code).
#define CONVKIT_TILE_DECL(r)                                    \
  V c##r##_0 = zero, c##r##_1 = zero, c##r##_2 = zero,          \
    c##r##_3 = zero;                                            \
  (void)c##r##_0;                                               \
  (void)c##r##_1;                                               \
  (void)c##r##_2;                                               \
  (void)c##r##_3;

// Row r's bias: bias[r] for every vector (bias_rows), else bias + v * L.
#define CONVKIT_TILE_INIT(r)                                                 \
  if constexpr (kRows > r) {                                                 \
    const float* HWY_RESTRICT crow = c + r * ldc;                            \
    const float* HWY_RESTRICT brow = bias && ops.bias_rows ? bias + r : bias; \
    const size_t bstep = bias && !ops.bias_rows ? L : 0;                     \
    c##r##_0 = InitAcc(d, crow, count[0], brow, ops);                        \
    if constexpr (kVecs > 1)                                                 \
      c##r##_1 = InitAcc(d, crow + L, count[1], brow + bstep, ops);          \
    if constexpr (kVecs > 2)                                                 \
      c##r##_2 = InitAcc(d, crow + 2 * L, count[2], brow + 2 * bstep, ops);  \
    if constexpr (kVecs > 3)                                                 \
      c##r##_3 = InitAcc(d, crow + 3 * L, count[3], brow + 3 * bstep, ops);  \
  }

// Row r's accumulators from init0..3 (vectors in scope).
#define CONVKIT_TILE_SET(r)                          \
  if constexpr (kRows > r) {                         \
    c##r##_0 = init0;                                \
    if constexpr (kVecs > 1) c##r##_1 = init1;       \
    if constexpr (kVecs > 2) c##r##_2 = init2;       \
    if constexpr (kVecs > 3) c##r##_3 = init3;       \
  }

// Every row's accumulators (the start of every tile body). The common case,
// a first K block without the sum post-op, starts every row from the same
// vectors (the bias per column, or zero), loaded once: per row, InitAcc's
// tests of ops measured 13% of a 1x1 layer with 16 input channels.
#define CONVKIT_TILE_INIT_ALL()                                              \
  if (!ops.accumulate && !ops.sum && (bias == nullptr || !ops.bias_rows)) {  \
    const V init0 = bias != nullptr ? hn::LoadU(d, bias) : zero;             \
    const V init1 = kVecs > 1 && bias != nullptr ? hn::LoadU(d, bias + L) : zero; \
    const V init2 = kVecs > 2 && bias != nullptr ? hn::LoadU(d, bias + 2 * L) : zero; \
    const V init3 = kVecs > 3 && bias != nullptr ? hn::LoadU(d, bias + 3 * L) : zero; \
    (void)init1;                                                             \
    (void)init2;                                                             \
    (void)init3;                                                             \
    CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_SET)                                  \
  } else {                                                                   \
    CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_INIT)                                 \
  }

// The clamp post-op on row r's accumulators (lo, hi: vectors in scope).
#define CONVKIT_TILE_CLAMP(r)                                                \
  if constexpr (kRows > r) {                                                 \
    c##r##_0 = ClampV(d, c##r##_0, lo, hi);                                  \
    if constexpr (kVecs > 1) c##r##_1 = ClampV(d, c##r##_1, lo, hi);         \
    if constexpr (kVecs > 2) c##r##_2 = ClampV(d, c##r##_2, lo, hi);         \
    if constexpr (kVecs > 3) c##r##_3 = ClampV(d, c##r##_3, lo, hi);         \
  }

// Post-ops, then stores every row (the end of every tile body).
#define CONVKIT_TILE_FINISH()                                                \
  if (ops.clamp) {                                                           \
    const V lo = hn::Set(d, ops.lo), hi = hn::Set(d, ops.hi);                \
    CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_CLAMP)                                \
  }                                                                          \
  CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_STORE)

#define CONVKIT_TILE_STORE(r)                                              \
  if constexpr (kRows > r) {                                               \
    float* HWY_RESTRICT crow = c + r * ldc;                                \
    StoreTail(d, c##r##_0, crow, count[0]);                                \
    if constexpr (kVecs > 1) StoreTail(d, c##r##_1, crow + L, count[1]);   \
    if constexpr (kVecs > 2) StoreTail(d, c##r##_2, crow + 2 * L, count[2]); \
    if constexpr (kVecs > 3) StoreTail(d, c##r##_3, crow + 3 * L, count[3]); \
  }

#endif  // CONVKIT_TILE_FOR_ROWS

#define CONVKIT_TILE_FMA(r)                                      \
  if constexpr (kRows > r) {                                     \
    const V ar = hn::Set(d, ak[r * kTileKU]);                    \
    c##r##_0 = hn::MulAdd(ar, b0, c##r##_0);                     \
    if constexpr (kVecs > 1) c##r##_1 = hn::MulAdd(ar, b1, c##r##_1); \
    if constexpr (kVecs > 2) c##r##_2 = hn::MulAdd(ar, b2, c##r##_2); \
    if constexpr (kVecs > 3) c##r##_3 = hn::MulAdd(ar, b3, c##r##_3); \
  }


// One register tile of kRows x kVecs vectors; see the contract in tile.h.
// Requires (kVecs - 1) * Lanes < n <= kVecs * Lanes. Inlined into GemmTile
// and GemmPanel.
template <size_t kRows, size_t kVecs>
HWY_INLINE void GemmTileBody(const float* HWY_RESTRICT a,
                             const float* HWY_RESTRICT b, int64_t k,
                             int64_t b_stride, float* HWY_RESTRICT c,
                             int64_t ldc, int64_t n, const TileOps& ops) {
  const hn::ScalableTag<float> d;
  const float* HWY_RESTRICT bias = ops.bias;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);
  // Valid lanes per vector column: all but the last are full.
  size_t count[4] = {L, L, L, L};
  count[kVecs - 1] = static_cast<size_t>(n) - (kVecs - 1) * L;

  const V zero = hn::Zero(d);
  CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_DECL)
  CONVKIT_TILE_INIT_ALL()

  // One k step: B row bp times the A column at ak (rows kTileKU apart).
#define CONVKIT_TILE_STEP(ak_expr)                             \
  {                                                            \
    const float* HWY_RESTRICT ak = (ak_expr);                  \
    const V b0 = hn::LoadU(d, bp);                             \
    const V b1 = kVecs > 1 ? hn::LoadU(d, bp + L) : zero;      \
    const V b2 = kVecs > 2 ? hn::LoadU(d, bp + 2 * L) : zero;  \
    const V b3 = kVecs > 3 ? hn::LoadU(d, bp + 3 * L) : zero;  \
    (void)b1;                                                  \
    (void)b2;                                                  \
    (void)b3;                                                  \
    CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_FMA)                    \
    bp += b_stride;                                            \
  }

  const float* HWY_RESTRICT ap = a;
  const float* HWY_RESTRICT bp = b;
  const int64_t groups = k / static_cast<int64_t>(kTileKU);
  for (int64_t q = 0; q < groups; ++q) {
#pragma GCC unroll 16
    for (size_t u = 0; u < kTileKU; ++u) CONVKIT_TILE_STEP(ap + u)
    ap += kTileRows * kTileKU;
  }
  const size_t rest = static_cast<size_t>(k) % kTileKU;
  for (size_t u = 0; u < rest; ++u) CONVKIT_TILE_STEP(ap + u)
#undef CONVKIT_TILE_STEP

  CONVKIT_TILE_FINISH()
}

template <size_t kRows, size_t kVecs>
HWY_NOINLINE void GemmTile(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b,
                           int64_t k, int64_t b_stride, float* HWY_RESTRICT c, int64_t ldc,
                           int64_t n, const TileOps& ops) {
  GemmTileBody<kRows, kVecs>(a, b, k, b_stride, c, ldc, n, ops);
}

#undef CONVKIT_TILE_FMA

// A family of tile variants (packed or indirect): Fn its signature,
// Ptr<kRows, kVecs>() the variant for kRows rows and kVecs vectors.
template <class Family, size_t kVecs, size_t... kR>
constexpr auto MakeTileRow(std::index_sequence<kR...>) {
  return std::array<typename Family::Fn, sizeof...(kR)>{
      {Family::template Ptr<kR + 1, kVecs>()...}};
}

// The variant for m rows (1..MR) and n columns (1..NR): short row blocks go
// to the smaller compile-time tiles (no branches in the FMA loop), and n up
// to a multiple of Lanes uses only as many vectors as it needs.
template <class Family>
inline typename Family::Fn SelectTile(int64_t m, int64_t n) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  const size_t vecs = (static_cast<size_t>(n) + L - 1) / L;
  const size_t row = static_cast<size_t>(m) - 1;
  static constexpr auto kV1 = MakeTileRow<Family, 1>(std::make_index_sequence<kTileRows>());
  if constexpr (kTileVecs >= 2) {
    static constexpr auto kV2 = MakeTileRow<Family, 2>(std::make_index_sequence<kTileRows>());
    if (vecs == 2) return kV2[row];
  }
  if constexpr (kTileVecs >= 3) {
    static constexpr auto kV3 = MakeTileRow<Family, 3>(std::make_index_sequence<kTileRows>());
    if (vecs == 3) return kV3[row];
  }
  if constexpr (kTileVecs >= 4) {
    static constexpr auto kV4 = MakeTileRow<Family, 4>(std::make_index_sequence<kTileRows>());
    if (vecs == 4) return kV4[row];
  }
  return kV1[row];
}

struct PackedTiles {
  using Fn = TileFn;
  template <size_t kRows, size_t kVecs>
  static constexpr Fn Ptr() {
    return &GemmTile<kRows, kVecs>;
  }
};

// The packed tile for m rows and n columns.
inline TileFn GetTile(int64_t m, int64_t n) { return SelectTile<PackedTiles>(m, n); }

// The ir loop over one column panel (tile.h, GemmPanelFn): packed tile t at
// a + t * a_stride.
template <size_t kVecs>
HWY_NOINLINE void GemmPanel(const float* HWY_RESTRICT a, int64_t a_stride, int64_t count,
                            int64_t m_last, const float* HWY_RESTRICT b, int64_t k,
                            int64_t b_stride, float* HWY_RESTRICT c, int64_t ldc, int64_t n,
                            const TileOps& ops) {
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  const int64_t full = m_last == kMR ? count : count - 1;
  // Per-row bias moves down with the tiles; per-column bias stays.
  TileOps op = ops;
  const int64_t bias_step = ops.bias != nullptr && ops.bias_rows ? kMR : 0;
  for (int64_t t = 0; t < full; ++t) {
    GemmTileBody<kTileRows, kVecs>(a + t * a_stride, b, k, b_stride, c + t * kMR * ldc, ldc,
                                   n, op);
    op.bias += bias_step;
  }
  if (full < count) {
    GetTile(m_last, n)(a + full * a_stride, b, k, b_stride, c + full * kMR * ldc, ldc, n, op);
  }
}

inline GemmPanelFn GetGemmPanel(int64_t n) {
  const size_t L = hn::Lanes(hn::ScalableTag<float>());
  const size_t vecs = (static_cast<size_t>(n) + L - 1) / L;
  if constexpr (kTileVecs >= 4) {
    if (vecs == 4) return &GemmPanel<4>;
  }
  if constexpr (kTileVecs >= 3) {
    if (vecs == 3) return &GemmPanel<3>;
  }
  if constexpr (kTileVecs >= 2) {
    if (vecs == 2) return &GemmPanel<2>;
  }
  return &GemmPanel<1>;
}

// This target's tile shape (for planning and the kernel table).
inline TileShape GetTileShape() {
  const hn::ScalableTag<float> d;
  TileShape t;
  t.mr = static_cast<int64_t>(kTileRows);
  t.ku = static_cast<int64_t>(kTileKU);
  t.nv = static_cast<int64_t>(kTileVecs);
  t.lanes = static_cast<int64_t>(hn::Lanes(d));
  t.nr = t.nv * t.lanes;
  return t;
}

// Kernel ids for this target, e.g. "f32_gemm_6x2v__avx2" (op = "gemm",
// "igemm").
inline void TileId(const char* op, char* out, size_t size) {
  std::snprintf(out, size, "f32_%s_%zux%zuv__%s", op, kTileRows, kTileVecs, TargetSuffix());
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_GEMM_TILE_INL_H_
