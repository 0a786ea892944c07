// The direct GEMM (oneDNN's brgemm convolution, XNNPACK's indirect GEMM): the
// loop nest of the packed GEMM, jc -> pc -> ic -> jr -> ir, but A is never
// copied. Per MC x KC block the task builds, for each MR-row tile, its
// indirection (direct_gemm.h): row pointers into the NHWC input, one set per
// run of contiguous k, padding taps pointing at a zero row; the indirect tile
// (igemm-inl.h) then reads A in place. Re-included once per target.

#if defined(CONVKIT_LIB_CONV_DIRECT_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVKIT_LIB_CONV_DIRECT_GEMM_INL_H_
#undef CONVKIT_LIB_CONV_DIRECT_GEMM_INL_H_
#else
#define CONVKIT_LIB_CONV_DIRECT_GEMM_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include <algorithm>

#include "hwy/highway.h"
#include "lib/common/geometry.h"
#include "lib/conv/direct_gemm.h"
#include "lib/conv/plan.h"
#include "lib/gemm/igemm-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {

// A[m = (n, oh, ow)][k = (kh, kw, c)]
//     = x[n][oh*sh + kh*dh - pt][ow*sw + kw*dw - pl][g*Cg + c], 0 outside.
// Writes the indirection of rows [m0, m0 + mc) and columns [k0, k0 + kc) of
// group g's A (layout in direct_gemm.h). A run is one tap's channels, or,
// with one group and no horizontal dilation, the channels of several
// adjacent taps of one kernel row, which are contiguous in NHWC, when every
// row of the tile has that span wholly inside the input or wholly in the
// padding (first layers with 3 input channels would otherwise run 3 k at a
// time). Rows past mc point at the zero row (never stored).
HWY_INLINE void BuildIndirection(const ConvGeometry& geo, const float* HWY_RESTRICT x,
                                 int64_t g, int64_t m0, int64_t mc, int64_t k0,
                                 int64_t kc, void* ws) {
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  const int64_t max_runs = MaxRuns(geo, kc);
  const int64_t tiles = DivCeil(mc, kMR);
  int64_t* HWY_RESTRICT lens = static_cast<int64_t*>(ws);
  const float** HWY_RESTRICT ptrs =
      reinterpret_cast<const float**>(lens + tiles * (1 + max_runs));
  const int64_t pixels = geo.oh * geo.ow;
  const int64_t image = geo.h * geo.w * geo.cin;
  const bool merge_kw = geo.groups == 1 && geo.dw == 1;

  // Output coordinates of the first row, then advanced incrementally.
  int64_t n = m0 / pixels;
  int64_t oh = (m0 % pixels) / geo.ow;
  int64_t ow = m0 % geo.ow;
  const float* row_base[kMR];  // image n, channel g*Cg
  int64_t ih0[kMR], iw0[kMR];   // input coordinates of tap (0, 0)

  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t rows = std::min(kMR, mc - tile * kMR);
    for (int64_t i = 0; i < rows; ++i) {
      row_base[i] = x + n * image + g * geo.cg;
      ih0[i] = oh * geo.sh - geo.pt;
      iw0[i] = ow * geo.sw - geo.pl;
      if (++ow == geo.ow) {
        ow = 0;
        if (++oh == geo.oh) {
          oh = 0;
          ++n;
        }
      }
    }
    int64_t* HWY_RESTRICT tile_len = lens + tile * (1 + max_runs);
    const float** HWY_RESTRICT tile_ptr = ptrs + tile * max_runs * kMR;
    int64_t runs = 0;
    int64_t p = 0;
    int64_t t = k0 / geo.cg;
    int64_t c = k0 % geo.cg;
    while (p < kc) {
      const int64_t kh = t / geo.kw, kw = t % geo.kw;
      const int64_t dy = kh * geo.dh;
      const int64_t dx = kw * geo.dw;
      int64_t len = std::min(geo.cg - c, kc - p);  // one tap
      if (merge_kw && kw + 1 < geo.kw) {
        const int64_t run = std::min((geo.kw - kw) * geo.cg - c, kc - p);
        const int64_t last_dx = dx + (c + run - 1) / geo.cg;  // dw == 1
        bool ok = true;
        for (int64_t i = 0; i < rows && ok; ++i) {
          const int64_t ih = ih0[i] + dy;
          const bool row_in = static_cast<uint64_t>(ih) < static_cast<uint64_t>(geo.h);
          const bool all_in = iw0[i] + dx >= 0 && iw0[i] + last_dx < geo.w;
          const bool all_out = iw0[i] + last_dx < 0 || iw0[i] + dx >= geo.w;
          ok = !row_in || all_in || all_out;
        }
        if (ok) len = run;
      }
      len = std::min(len, kMaxRun);
      const float** HWY_RESTRICT run_ptr = tile_ptr + runs * kMR;
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t ih = ih0[i] + dy;
        const int64_t iw = iw0[i] + dx;
        const bool inside = static_cast<uint64_t>(ih) < static_cast<uint64_t>(geo.h) &&
                            static_cast<uint64_t>(iw) < static_cast<uint64_t>(geo.w);
        run_ptr[i] = inside ? row_base[i] + (ih * geo.w + iw) * geo.cin + c : kZeroRow;
      }
      for (int64_t i = rows; i < kMR; ++i) run_ptr[i] = kZeroRow;
      tile_len[1 + runs] = len;
      ++runs;
      p += len;
      c += len;
      t += c / geo.cg;
      c %= geo.cg;
    }
    tile_len[0] = runs;
  }
}

// One task: group g, rows [m0, m1), columns [n0, n1) of the GEMM.
inline HWY_NOINLINE void DirectGemmTask(const Plan& plan, const Task& task, const float* x,
                                 float* y, void* ws) {
  const ConvGeometry& geo = plan.geo;
  const Blocking& blk = plan.blocks;
  constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
  const int64_t nr = plan.kernels->gemm.nr;
  const int64_t K = geo.k;
  for (int64_t jc = task.n0; jc < task.n1; jc += blk.nc) {
    const int64_t jc_end = std::min(jc + blk.nc, task.n1);
    for (int64_t pc = 0; pc < K; pc += blk.kc) {
      const int64_t kc = std::min(blk.kc, K - pc);
      const int64_t max_runs = MaxRuns(geo, kc);
      for (int64_t ic = task.m0; ic < task.m1; ic += blk.mc) {
        const int64_t mc = std::min(blk.mc, task.m1 - ic);
        const int64_t tiles = DivCeil(mc, kMR);
        BuildIndirection(geo, x, task.g, ic, mc, pc, kc, ws);
        const int64_t* lens = static_cast<const int64_t*>(ws);
        const float* const* ptrs =
            reinterpret_cast<const float* const*>(lens + tiles * (1 + max_runs));
        const bool accumulate = pc > 0;
        for (int64_t jr = jc; jr < jc_end; jr += nr) {
          const int64_t n = std::min(nr, jc_end - jr);
          const int64_t panel = task.g * plan.b_panels + jr / nr;
          const float* b = plan.weights + (panel * K + pc) * nr;
          const float* bias = !accumulate && plan.bias != nullptr ? plan.bias + panel * nr : nullptr;
          const IgemmTileFn full = GetIgemmTile(kMR, n);
          float* c = y + ic * geo.cout + task.g * geo.ng + jr;
          for (int64_t tile = 0; tile < tiles; ++tile) {
            const int64_t m = std::min(kMR, mc - tile * kMR);
            const IgemmTileFn fn = m == kMR ? full : GetIgemmTile(m, n);
            const int64_t* tile_len = lens + tile * (1 + max_runs);
            fn(ptrs + tile * max_runs * kMR, tile_len + 1, tile_len[0], b, nr,
               c + tile * kMR * geo.cout, geo.cout, n, bias, accumulate);
          }
        }
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#endif  // CONVKIT_LIB_CONV_DIRECT_GEMM_INL_H_
