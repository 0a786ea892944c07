// The NCHW GEMM: for NCHW activations, per image n and group g,
//   Y[o][pixel] = bias[o] + sum_k W[o][k] * B[k][pixel]
// with o the group's output channels, pixel = oh * OW + ow (contiguous in
// NCHW's output plane), k = (ci * KH + kh) * KW + kw (OIHW's order) and
//   B[k][pixel] = x[n][g * Cg + ci][oh * sh + kh * dh - pt][ow * sw + kw * dw - pl]
// (0 in the padding), the im2col matrix transposed: each of its rows is a
// strided walk along one input plane. So the weights are the GEMM's A,
// packed once into MR-row panels (panels.h), and B is packed per KC x NC
// cache block into NR-column panels: the same register tile as the NHWC
// algorithms (tile-inl.h) with M = output channels and N = pixels, and a
// bias per row. Nothing transposes the activations.
//
// Loop nest per task (pixels [m0, m1) of all images, channels [n0, n1) of
// group g): image -> jc (NC pixels) -> pc (KC of K: pack B) -> ic (MC
// channels) -> jr (NR pixels: one B panel) -> ir (MR channels: GemmPanel).
// Re-included once per target.

#if defined(CONVKIT_LIB_CONV_NCHW_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVKIT_LIB_CONV_NCHW_GEMM_INL_H_
#undef CONVKIT_LIB_CONV_NCHW_GEMM_INL_H_
#else
#define CONVKIT_LIB_CONV_NCHW_GEMM_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <algorithm>

#include "hwy/highway.h"
#include "lib/common/geometry.h"
#include "lib/conv/plan.h"
#include "lib/gemm/tile-inl.h"
#include "lib/pack/im2col-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// Packs B[k0 : k0 + kc][j0 : j0 + nc] of image n, group g into NR-column
// panels: out[(jj / NR) * kc * NR + p * NR + jj % NR] = B[k0 + p][j0 + jj],
// zeros past nc in the last panel. Each B row walks the block one output
// row segment at a time (the input row is fixed along it, or wholly in the
// padding), cut where panels end: with stride 1 every piece is a copy of
// contiguous input (zeros where it leaves the row), otherwise a strided walk.
HWY_INLINE void PackNchwBlock(const ConvGeometry& geo, const float* HWY_RESTRICT x,
                              int64_t n, int64_t g, int64_t j0, int64_t nc, int64_t k0,
                              int64_t kc, int64_t nr, float* HWY_RESTRICT out) {
  const int64_t H = geo.h, W = geo.w, OW = geo.ow, sw = geo.sw;
  const int64_t plane = H * W;
  const int64_t panel = kc * nr;  // floats per packed panel
  for (int64_t p = 0; p < kc; ++p) {
    const int64_t k = k0 + p;
    const int64_t c = k / geo.taps, t = k % geo.taps;
    const int64_t kh = t / geo.kw, kw = t % geo.kw;
    const float* HWY_RESTRICT xc = x + (n * geo.cin + g * geo.cg + c) * plane;
    float* HWY_RESTRICT row = out + p * nr;  // panel 0's row p
    int64_t jj = 0, jp = 0, lane = 0;        // column, its panel and lane
    int64_t oh = j0 / OW, ow = j0 % OW;
    while (jj < nc) {
      int64_t len = std::min(nc - jj, OW - ow);  // rest of this output row
      const int64_t ih = oh * geo.sh + kh * geo.dh - geo.pt;
      const bool row_in = ih >= 0 && ih < H;
      // (A row far in the padding would overflow the pointer.)
      const float* HWY_RESTRICT xr = row_in ? xc + ih * W : xc;
      int64_t iw = ow * sw + kw * geo.dw - geo.pl;
      while (len > 0) {
        const int64_t take = std::min(len, nr - lane);
        float* HWY_RESTRICT dst = row + jp * panel + lane;
        if (!row_in) {
          for (int64_t e = 0; e < take; ++e) dst[e] = 0.0f;
        } else if (sw == 1 && iw >= 0 && iw + take <= W) {
          for (int64_t e = 0; e < take; ++e) dst[e] = xr[iw + e];
#if HWY_TARGET != HWY_SCALAR
        } else if (sw == 2 && iw >= 0 && iw + 2 * take - 1 <= W) {
          // Even lanes of two vectors: L outputs per step, never reading
          // past the row's end (the tail goes element by element).
          const hn::ScalableTag<float> d;
          const int64_t L = static_cast<int64_t>(hn::Lanes(d));
          int64_t e = 0;
          for (; e + L <= take && iw + 2 * (e + L) <= W; e += L) {
            const float* src = xr + iw + 2 * e;
            hn::StoreU(hn::ConcatEven(d, hn::LoadU(d, src + L), hn::LoadU(d, src)), d, dst + e);
          }
          for (; e < take; ++e) dst[e] = xr[iw + 2 * e];
#endif
        } else {
          for (int64_t e = 0; e < take; ++e) {
            const int64_t i = iw + e * sw;
            dst[e] = i >= 0 && i < W ? xr[i] : 0.0f;
          }
        }
        iw += take * sw;
        len -= take;
        jj += take;
        lane += take;
        if (lane == nr) {
          lane = 0;
          ++jp;
        }
      }
      ow = 0;
      ++oh;
    }
    if (lane > 0) {  // the last panel's columns past nc
      for (int64_t e = lane; e < nr; ++e) row[jp * panel + e] = 0.0f;
    }
  }
}

#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX2
// Lanes [lo, hi) (0 <= lo <= hi <= Lanes).
template <class D>
HWY_INLINE hn::Mask<D> LaneRange(D d, int64_t lo, int64_t hi) {
  return hn::AndNot(hn::FirstN(d, static_cast<size_t>(lo)), hn::FirstN(d, static_cast<size_t>(hi)));
}

// PackNchwBlock for strides 1 and 2 on targets whose masked loads never
// touch masked lanes: vector by vector of L pixels, then tap by tap, then
// channel by channel. A vector's pixels lie in at most a few output rows;
// for one tap each row piece is a run of one input row, contiguous (stride
// 1: one masked load, lanes in the padding or past nc masked off) or every
// other float (stride 2: two masked loads of the 2L floats the run spans,
// their even lanes), the same lanes and offsets for every channel. The
// per-piece bookkeeping of the walk above (a third of a 56x56 3x3 layer's
// time) is then paid once per vector and tap instead of once per channel,
// row and panel.
HWY_INLINE void PackNchwBlockVec(const ConvGeometry& geo, const float* HWY_RESTRICT x,
                                int64_t n, int64_t g, int64_t j0, int64_t nc, int64_t k0,
                                int64_t kc, int64_t nr, float* HWY_RESTRICT out) {
  const hn::ScalableTag<float> d;
  using M = hn::Mask<decltype(d)>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const int64_t H = geo.h, W = geo.w, OW = geo.ow, sw = geo.sw;
  const int64_t plane = H * W;
  const int64_t taps = geo.taps;
  const float* HWY_RESTRICT xg = x + (n * geo.cin + g * geo.cg) * plane;
  constexpr int kMaxPieces = 4;
  const int64_t c_first = k0 / taps, c_last = (k0 + kc - 1) / taps;  // channels touched
  const int64_t end = RoundUp(nc, L);
  for (int64_t jj = 0; jj < RoundUp(nc, nr); jj += L) {
    float* HWY_RESTRICT dst = out + (jj / nr) * kc * nr + jj % nr;  // row p at dst + p * nr
    if (jj >= end) {  // whole vectors past nc in the last panel
      for (int64_t p = 0; p < kc; ++p) hn::StoreU(hn::Zero(d), d, dst + p * nr);
      continue;
    }
    const int64_t cnt = std::min(L, nc - jj);
    // The vector's pieces: lanes [a, b) in output row oh, lane e at ow0 + e.
    int64_t pa[kMaxPieces], pb[kMaxPieces], poh[kMaxPieces], pow0[kMaxPieces];
    int pieces = 0;
    {
      int64_t oh = (j0 + jj) / OW, ow = (j0 + jj) % OW, a = 0;
      while (a < cnt && pieces < kMaxPieces) {
        const int64_t len = std::min(cnt - a, OW - ow);
        pa[pieces] = a;
        pb[pieces] = a + len;
        poh[pieces] = oh;
        pow0[pieces] = ow - a;
        ++pieces;
        a += len;
        ++oh;
        ow = 0;
      }
      if (a < cnt) pieces = -1;  // rows shorter than L / kMaxPieces: element by element
    }
    for (int64_t t = 0; t < taps; ++t) {
      const int64_t kh = t / geo.kw, kw = t % geo.kw;
      // This tap's loads: lanes [lo, hi) of offset off (from plane c's start).
      // Stride 2: mask2 and the load at off + L hold the run's second L
      // floats (lanes from L / 2 on).
      M mask[kMaxPieces], mask2[kMaxPieces];
      int64_t off[kMaxPieces];
      int loads = 0;
      bool whole = false;  // stride 1: one load of all L lanes
      for (int q = 0; q < pieces; ++q) {
        const int64_t ih = poh[q] * geo.sh + kh * geo.dh - geo.pt;
        if (ih < 0 || ih >= H) continue;
        // Lane 0's column (lane e reads column iw0 + sw * e).
        const int64_t iw0 = pow0[q] * sw + kw * geo.dw - geo.pl;
        // Lanes whose column is in [0, W): iw0 + sw * e >= 0 and < W.
        const int64_t lo = std::max(pa[q], iw0 >= 0 ? 0 : (-iw0 + sw - 1) / sw);
        const int64_t hi = std::min(pb[q], W - iw0 <= 0 ? 0 : (W - iw0 + sw - 1) / sw);
        if (lo >= hi) continue;
        if (sw == 1) {
          whole = lo == 0 && hi == L;
          mask[loads] = LaneRange(d, lo, hi);
        } else {  // floats [2 lo, 2 hi - 1) of the 2L from iw0
          mask[loads] = LaneRange(d, std::min(2 * lo, L), std::min(2 * hi - 1, L));
          mask2[loads] = LaneRange(d, std::max(2 * lo - L, int64_t{0}),
                                   std::max(2 * hi - 1 - L, int64_t{0}));
        }
        off[loads] = ih * W + iw0;
        ++loads;
      }
      for (int64_t c = c_first; c <= c_last; ++c) {
        const int64_t p = c * taps + t - k0;
        if (p < 0 || p >= kc) continue;
        const float* HWY_RESTRICT xc = xg + c * plane;
        hn::Vec<decltype(d)> v;
        if (pieces < 0) {  // element by element
          HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)] = {};
          for (int64_t e = 0; e < cnt; ++e) {
            const int64_t j = j0 + jj + e;
            const int64_t ih = (j / OW) * geo.sh + kh * geo.dh - geo.pt;
            const int64_t iw = (j % OW) * sw + kw * geo.dw - geo.pl;
            buf[e] = ih >= 0 && ih < H && iw >= 0 && iw < W ? xc[ih * W + iw] : 0.0f;
          }
          v = hn::Load(d, buf);
        } else if (loads == 1 && whole) {
          v = hn::LoadU(d, xc + off[0]);
        } else if (sw == 1) {
          v = hn::Zero(d);
          for (int q = 0; q < loads; ++q) v = hn::Or(v, hn::MaskedLoad(mask[q], d, xc + off[q]));
        } else {
          v = hn::Zero(d);
          for (int q = 0; q < loads; ++q) {
            const float* src = xc + off[q];
            v = hn::Or(v, hn::ConcatEven(d, hn::MaskedLoad(mask2[q], d, src + L),
                                         hn::MaskedLoad(mask[q], d, src)));
          }
        }
        hn::StoreU(v, d, dst + p * nr);
      }
    }
  }
}
#endif

// One task: group g, pixels [m0, m1) of the N * OH * OW (split at images),
// output channels [n0, n1) of the group (n0 a multiple of MR).
inline HWY_NOINLINE void NchwGemmTask(const Plan& plan, const Task& task, const float* x,
                                      float* y, void* ws) {
  const ConvGeometry& geo = plan.geo;
  const Blocking& blk = plan.blocks;
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  constexpr int64_t kKU = static_cast<int64_t>(kTileKU);
  const int64_t nr = plan.kernels->gemm.nr;
  const int64_t K = geo.k;
  const int64_t pixels = geo.oh * geo.ow;
  const int64_t a_stride = RoundUp(K, kKU) * kMR;  // between MR-row panels
  const int64_t a_panels = DivCeil(geo.ng, kMR);
  float* b = static_cast<float*>(ws);
  // 1x1, stride 1, no padding: B is x itself (row k = input channel k, its
  // pixels contiguous), read in place with a row stride of H * W floats;
  // only a last panel narrower than NR is packed (the tile reads whole
  // vectors). Packing B took a third of these layers' time (ResNet-50's
  // 56x56 1x1 layers ran at half the NHWC speed).
  const bool in_place = geo.taps == 1 && geo.sh == 1 && geo.sw == 1 && geo.pt == 0 &&
                        geo.pb == 0 && geo.pl == 0 && geo.pr == 0;
  for (int64_t m = task.m0; m < task.m1;) {
    const int64_t n = m / pixels;
    const int64_t p0 = m % pixels;
    const int64_t p1 = std::min(pixels, p0 + (task.m1 - m));
    for (int64_t jc = p0; jc < p1; jc += blk.nc) {
      const int64_t nc = std::min(blk.nc, p1 - jc);
      for (int64_t pc = 0; pc < K; pc += blk.kc) {
        const int64_t kc = std::min(blk.kc, K - pc);
        const int64_t full = in_place ? nc / nr * nr : 0;  // columns read in place
        if (full < nc) {
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX2
          // (With few channels per tap, as in 3-channel first layers, each
          // vector's per-tap setup is not repaid: ResNet-50's conv1 packs
          // faster through the walk, 1.22 against 1.37 ms.)
          if ((geo.sw == 1 || geo.sw == 2) && geo.cg >= 8) {
            PackNchwBlockVec(geo, x, n, task.g, jc + full, nc - full, pc, kc, nr, b);
          } else  // NOLINT: the #else branch below
#endif
          {
            PackNchwBlock(geo, x, n, task.g, jc + full, nc - full, pc, kc, nr, b);
          }
        }
        const float* xb = x + (n * geo.cin + task.g * geo.cg + pc) * pixels + jc;
        for (int64_t ic = task.n0; ic < task.n1; ic += blk.mc) {
          const int64_t mc = std::min(blk.mc, task.n1 - ic);
          const int64_t tiles = DivCeil(mc, kMR);
          const float* a = plan.weights + (task.g * a_panels + ic / kMR) * a_stride + pc * kMR;
          const int64_t o = task.g * geo.ng + ic;  // first output channel
          TileOps ops = BlockOps(plan, plan.bias != nullptr ? plan.bias + o : nullptr, pc, kc);
          ops.bias_rows = true;
          float* c = y + (n * geo.cout + o) * pixels + jc;
          for (int64_t jr = 0; jr < nc; jr += nr) {
            const int64_t cols = std::min(nr, nc - jr);
            const bool direct = jr < full;
            GetGemmPanel(cols)(a, a_stride, tiles, mc - (tiles - 1) * kMR,
                               direct ? xb + jr : b + ((jr - full) / nr) * kc * nr, kc,
                               direct ? pixels : nr, c + jr, pixels, cols, ops);
          }
        }
      }
    }
    m += p1 - p0;
  }
}

// nchw_pixel_gemm: NCHW through NHWC's mapping, pixels the GEMM's rows and
// output channels its columns, for layers whose planes are too small for the
// GEMM above (a 7x7 plane is 49 pixels: 4 vectors of 16 on AVX3, 77% of the
// lanes used; as rows, 3 tiles of 14 and one of 7 use every lane). A is
// packed from the planes (PackIm2colNchwToPanels), B is the weights in the
// NHWC panels, and C accumulates in a per-thread block in the tile's
// row-major layout; the tile column of the last K block is then written
// through StoreToPlanes, which applies the sum and clamp post-ops (bias was
// the accumulators' start) on its way into the output planes.

// y[img][o0 + j][p] = post(c[i][j]) for rows i < rows (pixel m0 + i of the
// batch: image img, plane position p) and columns j < n: each vector of a
// row's channels is scattered one plane apart (measured a little faster
// than gathering a column's pixels and storing them whole: 7.7% against 9%
// of a 7x7 512 -> 2048 1x1 layer on Zen 5).
HWY_INLINE void StoreToPlanes(const Plan& plan, const float* HWY_RESTRICT c, int64_t ldc,
                              int64_t m0, int64_t rows, int64_t o0, int64_t n,
                              float* HWY_RESTRICT y) {
  const ConvGeometry& geo = plan.geo;
  const PostOps& post = plan.post;
  const int64_t P = geo.oh * geo.ow;
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  // Lane offsets j * P as int32; larger planes go element by element.
  const bool vector_ok = P <= (int64_t{1} << 30) / L;
  const auto idx = hn::Mul(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(vector_ok ? P : 0)));
  const auto scale = hn::Set(d, post.sum_scale);
  const auto lo = hn::Set(d, post.lo), hi = hn::Set(d, post.hi);
  int64_t img = m0 / P, p = m0 % P;
  for (int64_t i = 0; i < rows; ++i) {
    const float* HWY_RESTRICT ci = c + i * ldc;
    float* HWY_RESTRICT yi = y + (img * geo.cout + o0) * P + p;
    int64_t j = 0;
    if (vector_ok) {
      for (; j + L <= n; j += L) {
        auto v = hn::LoadU(d, ci + j);
        float* HWY_RESTRICT dst = yi + j * P;
        if (post.sum) v = hn::MulAdd(scale, hn::GatherIndex(d, dst, idx), v);
        if (post.clamp) v = ClampV(d, v, lo, hi);
        hn::ScatterIndex(v, d, dst, idx);
      }
    }
    for (; j < n; ++j) {  // the sum and clamp as above, one float
      float v = ci[j];
      float* HWY_RESTRICT dst = yi + j * P;
      if (post.sum) v = post.sum_scale * *dst + v;
      if (post.clamp) v = v < post.lo ? post.lo : v > post.hi ? post.hi : v;
      *dst = v;
    }
    if (++p == P) {
      p = 0;
      ++img;
    }
  }
}

// One task: group g, pixels [m0, m1) of the batch (GEMM rows), the group's
// output channels [n0, n1) (n0 a multiple of NR). Workspace: the packed A
// block (MC x KC), then the C block: MC x NR, the panel at hand, when K is
// one block (each panel is stored as soon as it is done); else MC x the
// task's channels rounded to NR, accumulated over the K blocks.
inline HWY_NOINLINE void NchwPixelGemmTask(const Plan& plan, const Task& task, const float* x,
                                           float* y, void* ws) {
  const ConvGeometry& geo = plan.geo;
  const Blocking& blk = plan.blocks;
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  constexpr int64_t kKU = static_cast<int64_t>(kTileKU);
  const int64_t nr = plan.kernels->gemm.nr;
  const int64_t K = geo.k;
  float* a = static_cast<float*>(ws);
  float* cblk = a + RoundUp(blk.mc, kMR) * RoundUp(blk.kc, kKU);
  const bool one_block = K <= blk.kc;
  const int64_t ldcb = one_block ? nr : RoundUp(task.n1 - task.n0, nr);
  for (int64_t ic = task.m0; ic < task.m1; ic += blk.mc) {
    const int64_t mc = std::min(blk.mc, task.m1 - ic);
    const int64_t tiles = DivCeil(mc, kMR);
    for (int64_t pc = 0; pc < K; pc += blk.kc) {
      const int64_t kc = std::min(blk.kc, K - pc);
      PackIm2colNchwToPanels<kTileRows, kTileKU>(geo, x, task.g, ic, mc, pc, kc, a);
      const int64_t panel_stride = RoundUp(kc, kKU) * kMR;
      for (int64_t jr = task.n0; jr < task.n1; jr += nr) {
        const int64_t n = std::min(nr, task.n1 - jr);
        const int64_t panel = task.g * plan.b_panels + jr / nr;
        const float* b = plan.weights + (panel * K + pc) * nr;
        TileOps ops;
        if (pc == 0) {
          ops.bias = plan.bias != nullptr ? plan.bias + panel * nr : nullptr;
        } else {
          ops.accumulate = true;
        }
        float* c = one_block ? cblk : cblk + (jr - task.n0);
        GetGemmPanel(n)(a, panel_stride, tiles, mc - (tiles - 1) * kMR, b, kc, nr, c, ldcb, n,
                        ops);
        if (pc + kc == K) StoreToPlanes(plan, c, ldcb, ic, mc, task.g * geo.ng + jr, n, y);
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_CONV_NCHW_GEMM_INL_H_
