// The pixel-reduction register tile (the backward-weights pass, NHWC): C
// rows are consecutive channels of one input pixel, C columns consecutive
// output channels, and the reduction runs over pixels with both operands
// read in place:
//   C[r][j] += sum over runs, p < len of  x[a + p * a_step + r] * dy[b + p * b_step + j]
// (x: kRows broadcasts from one input pixel's channels; dy: kVecs vectors
// of one output pixel's channels). No packing: oneDNN's jit backward
// weights reads its operands the same way. Same accumulators, edges and
// store as tile-inl.h; the columns must be whole vectors (n = kVecs * L),
// since dy's rows are read with plain loads. Re-included once per target.

#if defined(CONVKIT_LIB_GEMM_PIXEL_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVKIT_LIB_GEMM_PIXEL_TILE_INL_H_
#undef CONVKIT_LIB_GEMM_PIXEL_TILE_INL_H_
#else
#define CONVKIT_LIB_GEMM_PIXEL_TILE_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "hwy/highway.h"
#include "lib/gemm/tile-inl.h"
#include "lib/gemm/tile.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// A run of consecutive output pixels of one output row whose tap lands
// inside the input: x offset, dy offset (floats), pixel count.
struct PixelRun {
  int64_t a, b, len;
};

using PixelTileFn = void (*)(const float* x, int64_t a_step, const float* dy, int64_t b_step,
                             const PixelRun* runs, int64_t nruns, float* c, int64_t ldc,
                             int64_t n, const TileOps& ops);

#define CONVKIT_PIXEL_FMA(r)                                          \
  if constexpr (kRows > r) {                                          \
    const V av = hn::Set(d, ap[r]);                                   \
    c##r##_0 = hn::MulAdd(av, b0, c##r##_0);                          \
    if constexpr (kVecs > 1) c##r##_1 = hn::MulAdd(av, b1, c##r##_1); \
    if constexpr (kVecs > 2) c##r##_2 = hn::MulAdd(av, b2, c##r##_2); \
    if constexpr (kVecs > 3) c##r##_3 = hn::MulAdd(av, b3, c##r##_3); \
  }

// GCC 12 auto-vectorizes the scalar target's loop two pixels at a time and
// then reads dy's row one pixel past the run's end (valgrind: 8 bytes past
// dy on SCALAR only): keep that target's loop scalar.
#if HWY_TARGET == HWY_SCALAR && HWY_COMPILER_GCC_ACTUAL
#define CONVKIT_PIXEL_TILE_ATTR __attribute__((optimize("no-tree-vectorize")))
#else
#define CONVKIT_PIXEL_TILE_ATTR
#endif

template <size_t kRows, size_t kVecs>
CONVKIT_PIXEL_TILE_ATTR HWY_NOINLINE void PixelTile(const float* HWY_RESTRICT x, int64_t a_step,
                            const float* HWY_RESTRICT dy, int64_t b_step,
                            const PixelRun* HWY_RESTRICT runs, int64_t nruns,
                            float* HWY_RESTRICT c, int64_t ldc, int64_t n, const TileOps& ops) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);
  const float* HWY_RESTRICT bias = ops.bias;
  size_t count[4] = {L, L, L, L};
  count[kVecs - 1] = static_cast<size_t>(n) - (kVecs - 1) * L;
  const V zero = hn::Zero(d);
  CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_DECL)
  CONVKIT_TILE_INIT_ALL()
  for (int64_t run = 0; run < nruns; ++run) {
    const float* HWY_RESTRICT ap = x + runs[run].a;
    const float* HWY_RESTRICT bp = dy + runs[run].b;
    const int64_t len = runs[run].len;
    _Pragma("GCC unroll 4") for (int64_t p = 0; p < len; ++p) {
      const V b0 = hn::LoadU(d, bp);
      const V b1 = kVecs > 1 ? hn::LoadU(d, bp + L) : zero;
      const V b2 = kVecs > 2 ? hn::LoadU(d, bp + 2 * L) : zero;
      const V b3 = kVecs > 3 ? hn::LoadU(d, bp + 3 * L) : zero;
      (void)b1;
      (void)b2;
      (void)b3;
      CONVKIT_TILE_FOR_ROWS(CONVKIT_PIXEL_FMA)
      ap += a_step;
      bp += b_step;
    }
  }
  CONVKIT_TILE_FINISH()
}

#undef CONVKIT_PIXEL_FMA
#undef CONVKIT_PIXEL_TILE_ATTR

struct PixelTiles {
  using Fn = PixelTileFn;
  template <size_t kRows, size_t kVecs>
  static constexpr Fn Ptr() {
    return &PixelTile<kRows, kVecs>;
  }
};

// The tile for m rows (1..MR) and n columns (whole vectors, 1..NR).
inline PixelTileFn GetPixelTile(int64_t m, int64_t n) { return SelectTile<PixelTiles>(m, n); }

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_GEMM_PIXEL_TILE_INL_H_
