// The pixel-lanes algorithm: NHWC layers with few output channels, where
// the direct GEMM's tiles (output channels in the vector lanes) waste the
// lanes past Cout: DenseNet's 3x3 layers with 12 outputs use 12 of AVX-512's
// 16 lanes. Here the lanes hold output pixels instead, as in the NCHW GEMM
// (Y^T = W^T X^T): a register tile of MR output channels by NV vectors of
// pixels, every lane used whatever Cout, each weight broadcast once for NV
// FMAs. Included once per target by pixel_lanes.cc.
//
// The input is NHWC, so a task first copies the input rows of a block of
// output rows, transposed and zero-padded (pixel_lanes.h: per channel, rows
// of PL + W + PR floats), L pixels by L channels at a time through an
// in-register transpose. With horizontal stride 1, a vector of output
// pixels along a row then reads, for each tap and channel, one vector at a
// fixed offset: the tile is
//
//   for each tap t, channel ci:
//     b[v] = T[ci][q_v + off[t] .. + L)                     (NV vector loads)
//     acc[r][v] += broadcast Wp[t][ci][r] * b[v]            (MR x NV FMAs)
//
// with the weights packed at Create as [Cout / MR panels][taps][Cin][MR].
// Vectors start at each output row's first pixel, or, for rows narrower
// than a vector at stride 1, run on across rows (their lanes in the
// padding columns are computed and not stored). The tile's accumulators go
// through a small buffer to the NHWC output, the sum and clamp post-ops on
// the way; padding taps multiply the block's zeros, so non-finite weights
// need no special case. Each output gets its products in (tap, ci) order,
// whatever the tile or thread.

#if defined(CONVKIT_LIB_CONV_PIXEL_LANES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVKIT_LIB_CONV_PIXEL_LANES_INL_H_
#undef CONVKIT_LIB_CONV_PIXEL_LANES_INL_H_
#else
#define CONVKIT_LIB_CONV_PIXEL_LANES_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <cstring>

#include "hwy/highway.h"
#include "lib/common/cache.h"
#include "lib/common/geometry.h"
#include "lib/conv/pixel_lanes.h"
#include "lib/conv/plan.h"
#include "lib/gemm/tile-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// What one tile reads and writes.
struct PixelTileArgs {
  const float* b[4] = {};          // vector v's input at tap offset 0, channel 0
  const int64_t* toff = nullptr;   // each tap's offset (pixel_lanes.h)
  int64_t taps = 0, cin = 0, cs = 0;
  const float* a = nullptr;        // weights panel: [taps * cin][mr]
  int64_t mr = 0;
  const float* bias = nullptr;     // kRows per-channel biases, or null
  float* c = nullptr;              // out: [kRows][kVecs * L]
};
using PixelTileFn = void (*)(const PixelTileArgs& args);

#define CONVKIT_PL_FMA(r)                                            \
  if constexpr (kRows > r) {                                         \
    const V ar = hn::Set(d, ap[r]);                                  \
    c##r##_0 = hn::MulAdd(ar, b0, c##r##_0);                         \
    if constexpr (kVecs > 1) c##r##_1 = hn::MulAdd(ar, b1, c##r##_1); \
    if constexpr (kVecs > 2) c##r##_2 = hn::MulAdd(ar, b2, c##r##_2); \
    if constexpr (kVecs > 3) c##r##_3 = hn::MulAdd(ar, b3, c##r##_3); \
  }

// kRows output channels x kVecs vectors of pixels (accumulators from
// tile-inl.h's macros, rows initialized from their bias).
template <size_t kRows, size_t kVecs>
HWY_NOINLINE void PixelLanesTile(const PixelTileArgs& args) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d);
  const V zero = hn::Zero(d);
  TileOps ops;
  ops.bias = args.bias;
  ops.bias_rows = true;
  const float* HWY_RESTRICT bias = ops.bias;
  float* HWY_RESTRICT c = args.c;
  const size_t ldc = kVecs * L;
  const size_t count[4] = {L, L, L, L};
  CONVKIT_TILE_FOR_ROWS(CONVKIT_TILE_DECL)
  CONVKIT_TILE_INIT_ALL()

  const float* HWY_RESTRICT p0 = args.b[0];
  const float* HWY_RESTRICT p1 = kVecs > 1 ? args.b[1] : p0;
  const float* HWY_RESTRICT p2 = kVecs > 2 ? args.b[2] : p0;
  const float* HWY_RESTRICT p3 = kVecs > 3 ? args.b[3] : p0;
  const float* HWY_RESTRICT ap = args.a;
  const int64_t mr = args.mr, cs = args.cs, cin = args.cin;
  for (int64_t t = 0; t < args.taps; ++t) {
    int64_t o = args.toff[t];
#pragma GCC unroll 4
    for (int64_t ci = 0; ci < cin; ++ci) {
      const V b0 = hn::LoadU(d, p0 + o);
      const V b1 = kVecs > 1 ? hn::LoadU(d, p1 + o) : zero;
      const V b2 = kVecs > 2 ? hn::LoadU(d, p2 + o) : zero;
      const V b3 = kVecs > 3 ? hn::LoadU(d, p3 + o) : zero;
      (void)b1;
      (void)b2;
      (void)b3;
      CONVKIT_TILE_FOR_ROWS(CONVKIT_PL_FMA)
      o += cs;
      ap += mr;
    }
  }
  CONVKIT_TILE_FINISH()
}

#undef CONVKIT_PL_FMA

struct PixelLanesTiles {
  using Fn = PixelTileFn;
  template <size_t kRows, size_t kVecs>
  static constexpr Fn Ptr() {
    return &PixelLanesTile<kRows, kVecs>;
  }
};

// Input row `src` (W pixels xs floats apart, cin channels), with pl zeros
// before it and pr after, to dst + ci * cs + j for j in [0, pl + W + pr).
// The pixels go in blocks of L pixels by L channels, transposed in
// registers by log2(L) rounds of ConcatEven/ConcatOdd over pairs of vectors
// (each round moves the flattened block's lowest index bit to the top;
// log2(L) rounds swap pixel and channel bits); a last block of fewer than
// kMinVectorPixels pixels, and scalable vectors (SVE), copy float by float.
// The padding columns are written a channel at a time (zero loops along a
// row became memset calls: 9% of a 16x16 layer's time).
constexpr int64_t kMinVectorPixels = 6;

#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
template <class D>
HWY_INLINE void TransposeRound(D d, const hn::Vec<D>* HWY_RESTRICT in, hn::Vec<D>* HWY_RESTRICT out) {
  constexpr size_t N = hn::MaxLanes(D());
#pragma GCC unroll 16
  for (size_t k = 0; k < N / 2; ++k) {
    out[k] = hn::ConcatEven(d, in[2 * k + 1], in[2 * k]);
    out[N / 2 + k] = hn::ConcatOdd(d, in[2 * k + 1], in[2 * k]);
  }
}

// The N x N block in r (row i = vector i) transposed in place: log2(N)
// rounds, alternating between r and the scratch s.
template <class D>
HWY_INLINE void TransposeBlock(D d, hn::Vec<D>* HWY_RESTRICT r, hn::Vec<D>* HWY_RESTRICT s) {
  constexpr size_t N = hn::MaxLanes(D());
  static_assert(N == 2 || N == 4 || N == 8 || N == 16, "transpose rounds");
  if constexpr (N == 2 || N == 8) {
    TransposeRound(d, r, s);
    if constexpr (N == 8) {
      TransposeRound(d, s, r);
      TransposeRound(d, r, s);
    }
#pragma GCC unroll 16
    for (size_t k = 0; k < N; ++k) r[k] = s[k];
  } else {  // 4, 16
    TransposeRound(d, r, s);
    TransposeRound(d, s, r);
    if constexpr (N == 16) {
      TransposeRound(d, r, s);
      TransposeRound(d, s, r);
    }
  }
}
#endif

HWY_INLINE void TransposeRow(const float* HWY_RESTRICT src, int64_t W, int64_t pl, int64_t pr,
                             int64_t xs, int64_t cin, float* HWY_RESTRICT dst, int64_t cs) {
  const hn::ScalableTag<float> d;
  (void)d;
  float* HWY_RESTRICT row = dst;
  dst += pl;
  int64_t iw0 = 0;
#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
  using V = hn::Vec<decltype(d)>;
  constexpr size_t N = hn::MaxLanes(d);
  const int64_t n = static_cast<int64_t>(N);
  for (; iw0 < W && W - iw0 >= std::min(n, kMinVectorPixels); iw0 += n) {
    const size_t npx = static_cast<size_t>(std::min(n, W - iw0));
    for (int64_t c0 = 0; c0 < cin; c0 += n) {
      const size_t nch = static_cast<size_t>(std::min(n, cin - c0));
      V r[N], s[N];
      const float* HWY_RESTRICT in = src + iw0 * xs + c0;
      if (nch == N && npx == N) {
#pragma GCC unroll 16
        for (size_t p = 0; p < N; ++p) r[p] = hn::LoadU(d, in + static_cast<int64_t>(p) * xs);
      } else {
#pragma GCC unroll 16
        for (size_t p = 0; p < N; ++p) {
          r[p] = p < npx ? LoadTail(d, in + static_cast<int64_t>(p) * xs, nch) : hn::Zero(d);
        }
      }
      TransposeBlock(d, r, s);
      float* HWY_RESTRICT out = dst + c0 * cs + iw0;
      if (npx == N) {
        for (size_t c = 0; c < nch; ++c) hn::StoreU(r[c], d, out + static_cast<int64_t>(c) * cs);
      } else {
        for (size_t c = 0; c < nch; ++c) StoreTail(d, r[c], out + static_cast<int64_t>(c) * cs, npx);
      }
    }
  }
#endif
  for (int64_t iw = iw0; iw < W; ++iw) {
    for (int64_t ci = 0; ci < cin; ++ci) dst[ci * cs + iw] = src[iw * xs + ci];
  }
  // The padding columns, once the row's lines are in L1 (before the copy,
  // these single floats a channel stride apart took 20% of the task;
  // masked vector stores, 6%).
  for (int64_t j = 0; j < pl; ++j) {
    for (int64_t ci = 0; ci < cin; ++ci) row[ci * cs + j] = 0.0f;
  }
  for (int64_t j = pl + W; j < pl + W + pr; ++j) {
    for (int64_t ci = 0; ci < cin; ++ci) row[ci * cs + j] = 0.0f;
  }
}

// The transposed block (pixel_lanes.h) for output rows [oh0, oh0 +
// blk.rows_out) of image x_img; with zero_tail (a task's first block),
// also zeros past its rows up to the channel stride. Only lanes that are
// never stored read past a block's rows (up to L floats): later, shorter
// blocks of the task leave an earlier block's rows there.
HWY_INLINE void FillPixelLanesBlock(const ConvGeometry& geo, const PixelLanesBlock& blk,
                                    const float* HWY_RESTRICT x_img, int64_t oh0,
                                    bool zero_tail, float* HWY_RESTRICT t) {
  const int64_t P = blk.pitch, cs = blk.cs;
  for (int64_t rb = 0; rb < blk.rows_in; ++rb) {
    const int64_t ih = oh0 * geo.sh - geo.pt + rb;
    float* HWY_RESTRICT row = t + rb * P;
    if (static_cast<uint64_t>(ih) >= static_cast<uint64_t>(geo.h)) {
      for (int64_t ci = 0; ci < geo.cin; ++ci) {
        std::memset(row + ci * cs, 0, static_cast<size_t>(P) * sizeof(float));
      }
      continue;
    }
    TransposeRow(x_img + ih * geo.w * geo.xs, geo.w, geo.pl, geo.pr, geo.xs, geo.cin, row, cs);
  }
  if (zero_tail) {
    const int64_t used = blk.rows_in * P;
    for (int64_t ci = 0; ci < geo.cin; ++ci) {
      std::memset(t + ci * cs + used, 0, static_cast<size_t>(cs - used) * sizeof(float));
    }
  }
}

// One vector of a tile's outputs (m channel rows of L pixels, ldc apart,
// at col) to the pixels' outputs (pixel(j): m floats, or null to skip),
// with the sum and clamp post-ops: transposed in registers, then one
// masked store per pixel (a float at a time took 4-8% of a 12-channel
// layer). Returns false where it does not apply (scalable vectors, fewer
// than 4 channels); the caller then stores float by float.
template <class PixelFn>
HWY_INLINE bool StoreTransposed(const float* HWY_RESTRICT col, int64_t ldc, int64_t m,
                                const PixelFn& pixel, const TileOps& ops) {
#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  constexpr size_t N = hn::MaxLanes(d);
  if (m < 4) return false;
  const V scale = hn::Set(d, ops.sum_scale), lo = hn::Set(d, ops.lo), hi = hn::Set(d, ops.hi);
  // Channels in groups of N (AVX2's and SSE4's 6-row tiles exceed 4 lanes).
  for (int64_t c0 = 0; c0 < m; c0 += static_cast<int64_t>(N)) {
    const int64_t rows = std::min(static_cast<int64_t>(N), m - c0);
    V r[N], t[N];
#pragma GCC unroll 16
    for (size_t i = 0; i < N; ++i) {
      r[i] = static_cast<int64_t>(i) < rows
                 ? hn::Load(d, col + (c0 + static_cast<int64_t>(i)) * ldc)
                 : hn::Zero(d);
    }
    TransposeBlock(d, r, t);
    const size_t count = static_cast<size_t>(rows);
    for (size_t j = 0; j < N; ++j) {
      float* HWY_RESTRICT out = pixel(static_cast<int64_t>(j));
      if (out == nullptr) continue;
      out += c0;
      V v = r[j];
      if (ops.sum) v = hn::MulAdd(scale, LoadTail(d, out, count), v);
      if (ops.clamp) v = ClampV(d, v, lo, hi);
      StoreTail(d, v, out, count);
    }
  }
  return true;
#else
  (void)col;
  (void)ldc;
  (void)m;
  (void)pixel;
  (void)ops;
  return false;
#endif
}

// One task: output rows (n, oh) [m0, m1), output channels [n0, n1) (n0 a
// multiple of the panel height).
HWY_NOINLINE inline void PixelLanesTask(const Plan& plan, const Task& task, const float* x,
                                        float* y, void* ws) {
  const ConvGeometry& geo = plan.geo;
  const hn::ScalableTag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  constexpr int64_t kNV = static_cast<int64_t>(kTileVecs);
  const int64_t mr = PixelLanesPanelRows(geo, plan.kernels->gemm.mr);
  const int64_t OH = geo.oh, OW = geo.ow, ys = geo.ys, K = geo.k;
  const int64_t rows_out = std::max<int64_t>(plan.blocks.mc, 1);
  const PixelLanesBlock full = PixelLanesBlockOf(geo, L, rows_out);
  float* HWY_RESTRICT t = static_cast<float*>(ws);
  int64_t* HWY_RESTRICT toff =
      reinterpret_cast<int64_t*>(static_cast<char*>(ws) + RoundUp(geo.cin * full.cs * 4, 64));
  const TileOps ops = BlockOps(plan, nullptr, 0, K);
  // The tile's outputs: kRows x kNV vectors, at most MR x kNV.
  HWY_ALIGN float buf[kTileRows * kTileVecs * HWY_MAX_BYTES / sizeof(float)];

  int64_t row = task.m0;
  while (row < task.m1) {
    const int64_t img = row / OH, oh0 = row % OH;
    const int64_t rows = std::min(std::min(rows_out, task.m1 - row), OH - oh0);
    // The block's layout: the full one's channel stride, its own rows.
    PixelLanesBlock blk = full;
    blk.rows_out = rows;
    blk.rows_in = (rows - 1) * geo.sh + (geo.kh - 1) * geo.dh + 1;
    const int64_t P = blk.pitch;
    for (int64_t kh = 0; kh < geo.kh; ++kh) {
      for (int64_t kw = 0; kw < geo.kw; ++kw) toff[kh * geo.kw + kw] = kh * geo.dh * P + kw * geo.dw;
    }
    FillPixelLanesBlock(geo, blk, x + img * geo.h * geo.w * geo.xs, oh0, row == task.m0, t);

    // Vector slots: per output row DivCeil(OW, L) vectors, or (flat) the
    // block's positions q = r * P + ow in vectors of L.
    const int64_t per_row = DivCeil(OW, L);
    const int64_t positions = (rows - 1) * P + OW;
    const int64_t slots = blk.flat ? DivCeil(positions, L) : rows * per_row;
    float* HWY_RESTRICT y_img = y + img * OH * OW * ys;
    for (int64_t s0 = 0; s0 < slots; s0 += kNV) {
      const int64_t nv = std::min(kNV, slots - s0);
      PixelTileArgs args;
      for (int64_t v = 0; v < nv; ++v) {
        const int64_t s = s0 + v;
        const int64_t q = blk.flat ? s * L : (s / per_row) * geo.sh * P + (s % per_row) * L;
        args.b[v] = t + q;
      }
      args.toff = toff;
      args.taps = geo.taps;
      args.cin = geo.cin;
      args.cs = blk.cs;
      args.mr = mr;
      args.c = buf;
      const int64_t ldc = nv * L;
      for (int64_t c0 = task.n0; c0 < task.n1; c0 += mr) {
        const int64_t m = std::min(mr, task.n1 - c0);
        args.a = plan.weights + (c0 / mr) * K * mr;
        args.bias = plan.bias != nullptr ? plan.bias + c0 : nullptr;
        SelectTile<PixelLanesTiles>(m, ldc)(args);
        // Lanes to outputs: each pixel's m channels, with the post-ops.
        for (int64_t v = 0; v < nv; ++v) {
          const int64_t s = s0 + v;
          // Pixel j of this vector: its output, or null (not stored).
          const auto pixel = [&](int64_t j) -> float* {
            int64_t oh, ow;
            if (blk.flat) {
              const int64_t q = s * L + j;
              if (q >= positions) return nullptr;
              oh = oh0 + q / P;
              ow = q % P;
              if (ow >= OW) return nullptr;
            } else {
              ow = (s % per_row) * L + j;
              if (ow >= OW) return nullptr;
              oh = oh0 + s / per_row;
            }
            return y_img + (oh * OW + ow) * ys + c0;
          };
          if (StoreTransposed(buf + v * L, ldc, m, pixel, ops)) continue;
          for (int64_t j = 0; j < L; ++j) {
            float* HWY_RESTRICT out = pixel(j);
            if (out == nullptr) continue;
            const float* HWY_RESTRICT col = buf + v * L + j;
            for (int64_t r = 0; r < m; ++r) {
              float val = col[r * ldc];
              if (ops.sum) val += ops.sum_scale * out[r];
              if (ops.clamp) val = val < ops.lo ? ops.lo : val > ops.hi ? ops.hi : val;
              out[r] = val;
            }
          }
        }
      }
    }
    row += rows;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_CONV_PIXEL_LANES_INL_H_
