// The backward passes' kernels (the GEMMs of backward.h), compiled once per
// target through foreach_target.h: one BLIS-style packed GEMM loop around
// the register tile (tile-inl.h), fed by gathers that pack the activations'
// side per cache block, and the weights' side packed once per call.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "lib/conv/backward.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "hwy/highway.h"
#include "lib/common/aligned.h"
#include "lib/common/cache.h"
#include "lib/common/checked.h"
#include "lib/common/threads.h"
#include "lib/conv/backward.h"
#include "lib/conv/direct_gemm.h"
#include "lib/conv/plan.h"
#include "lib/gemm/igemm-inl.h"
#include "lib/gemm/pixel_tile-inl.h"
#include "lib/gemm/tile-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace HWY_NAMESPACE {
namespace {

constexpr int64_t kMR = static_cast<int64_t>(kTileRows);
constexpr int64_t kKU = static_cast<int64_t>(kTileKU);

// A block: rows [m0, m0 + mc) x columns [k0, k0 + kc) into MR-row panels
// (tile.h's packed A), row(m, k0, kc, tmp) writing A[m][k0 : k0 + kc].
template <class Row>
void PackABlock(int64_t m0, int64_t mc, int64_t k0, int64_t kc, const Row& row, float* tmp,
                float* out) {
  const int64_t kcp = RoundUp(kc, kKU);
  for (int64_t i = 0; i < mc; ++i) {
    row(m0 + i, k0, kc, tmp);
    float* panel = out + (i / kMR) * kcp * kMR + (i % kMR) * kKU;
    for (int64_t p = 0; p < kc; ++p) panel[(p / kKU) * kMR * kKU + p % kKU] = tmp[p];
  }
}

// B block: rows [k0, k0 + kc) x columns [n0, n0 + nc) into NR-column panels
// of kc rows (zero past nc), row(k, n0, nc, tmp) writing B[k][n0 : n0 + nc].
template <class Row>
void PackBBlock(int64_t k0, int64_t kc, int64_t n0, int64_t nc, int64_t nr, const Row& row,
                float* tmp, float* out) {
  const int64_t panels = DivCeil(nc, nr);
  for (int64_t p = 0; p < kc; ++p) {
    row(k0 + p, n0, nc, tmp);
    for (int64_t jp = 0; jp < panels; ++jp) {
      float* dst = out + jp * kc * nr + p * nr;
      const int64_t cols = std::min(nr, nc - jp * nr);
      std::memcpy(dst, tmp + jp * nr, static_cast<size_t>(cols) * sizeof(float));
      std::fill(dst + cols, dst + nr, 0.0f);
    }
  }
}

// Where a block's packed operand is: panel (A: MR-row tile, B: NR-column
// panel) i at p + i * stride.
struct Packed {
  const float* p;
  int64_t stride;
};

// One task of a packed GEMM: batch b, rows [m0, m1), columns [n0, n1), K
// in KC blocks in ascending order. get_a / get_b pack (or point at) a
// block; c_at(b, m, n) is C's element; bias_at(b, m, n) the bias of the
// block starting there (row bias: per row; column bias: whole panels).
template <class GetA, class GetB, class CAt, class BiasAt>
void GemmTask(const Blocking& blk, int64_t nr, int64_t K, int64_t b, int64_t m0, int64_t m1,
              int64_t n0, int64_t n1, const GetA& get_a, const GetB& get_b, const CAt& c_at,
              int64_t ldc, const BiasAt& bias_at, bool bias_rows) {
  for (int64_t jc = n0; jc < n1; jc += blk.nc) {
    const int64_t nc = std::min(blk.nc, n1 - jc);
    for (int64_t pc = 0; pc < K; pc += blk.kc) {
      const int64_t kc = std::min(blk.kc, K - pc);
      const Packed bb = get_b(b, pc, kc, jc, nc);
      for (int64_t ic = m0; ic < m1; ic += blk.mc) {
        const int64_t mc = std::min(blk.mc, m1 - ic);
        const Packed aa = get_a(b, ic, mc, pc, kc);
        const int64_t tiles = DivCeil(mc, kMR);
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const int64_t cols = std::min(nr, nc - jr);
          TileOps ops;
          if (pc == 0) {
            ops.bias = bias_at(b, ic, jc + jr);
            ops.bias_rows = bias_rows;
          } else {
            ops.accumulate = true;
          }
          GetGemmPanel(cols)(aa.p, aa.stride, tiles, mc - (tiles - 1) * kMR,
                             bb.p + (jr / nr) * bb.stride, kc, nr, c_at(b, ic, jc + jr), ldc,
                             cols, ops);
        }
      }
    }
  }
}

// Tasks over batches x M x N in whole tiles (um rows, un columns), run by
// one dynamically scheduled OpenMP loop; per-thread workspace from ws. The
// split minimizes the makespan: rounds of `want` tasks times the largest
// task, slightly favouring fewer tasks (each re-reads the other operand).
// Splitting 14 tiles into 7 tasks of 2 kept one of 2 threads busy 4 rounds
// to the other's 3 (ResNet-50's 14x14 backward data: 1.55x from 1 to 2
// threads against oneDNN's 2.0x).
struct TaskGrid {
  int64_t m_chunk, m_tasks, n_chunk, n_tasks, tasks;
};
TaskGrid MakeGrid(int64_t batches, int64_t M, int64_t N, int64_t um, int64_t un, int want) {
  const int64_t units_m = std::max<int64_t>(1, DivCeil(M, um));
  const int64_t units_n = std::max<int64_t>(1, DivCeil(N, un));
  int64_t best_cm = units_m, best_cn = units_n;
  if (want > 1) {
    const int64_t cap = 8 * static_cast<int64_t>(want);
    double best = INFINITY;
    for (int64_t pm = 1; pm <= std::min(units_m, cap); ++pm) {
      const int64_t cm = DivCeil(units_m, pm), mt = DivCeil(units_m, cm);
      if (mt != pm) continue;  // the same split as a smaller pm
      for (int64_t pn = 1; pn <= std::min(units_n, cap / pm + 1); ++pn) {
        const int64_t cn = DivCeil(units_n, pn), nt = DivCeil(units_n, cn);
        if (nt != pn) continue;
        const int64_t tasks = batches * mt * nt;
        const double rounds = static_cast<double>(DivCeil(tasks, static_cast<int64_t>(want)));
        const double cost = rounds * static_cast<double>(cm * cn) *
                            (1.0 + 0.01 * static_cast<double>(tasks) / want);
        if (cost < best) {
          best = cost;
          best_cm = cm;
          best_cn = cn;
        }
      }
    }
  }
  TaskGrid s;
  s.m_chunk = best_cm * um;
  s.m_tasks = DivCeil(M, s.m_chunk);
  s.n_chunk = best_cn * un;
  s.n_tasks = DivCeil(N, s.n_chunk);
  s.tasks = batches * s.m_tasks * s.n_tasks;
  return s;
}

// The weights pass reduces over all output pixels, and each task packs
// both of its operands over that whole reduction: a split into pm x pn
// tasks packs A pn times and B pm times. So: one task per group and thread
// when the groups go round, else pm x pn = threads (whole tiles), the
// split that packs least (pn * M + pm * N).
TaskGrid WeightsGrid(int64_t groups, int64_t M, int64_t N, int64_t nr, int want) {
  const int64_t per_group = std::max<int64_t>(1, DivCeil(want, groups));
  const int64_t units_m = DivCeil(M, kMR), units_n = DivCeil(N, nr);
  int64_t best_pm = 1, best_pn = 1;
  double best = INFINITY;
  for (int64_t pm = 1; pm <= std::min(units_m, per_group); ++pm) {
    const int64_t pn = std::min(units_n, DivCeil(per_group, pm));
    const double cost = static_cast<double>(pn * M + pm * N) /
                        static_cast<double>(std::min(pm * pn, per_group));
    if (cost < best) {
      best = cost;
      best_pm = pm;
      best_pn = pn;
    }
  }
  TaskGrid s;
  s.m_chunk = DivCeil(units_m, best_pm) * kMR;
  s.m_tasks = DivCeil(M, s.m_chunk);
  s.n_chunk = DivCeil(units_n, best_pn) * nr;
  s.n_tasks = DivCeil(N, s.n_chunk);
  s.tasks = groups * s.m_tasks * s.n_tasks;
  return s;
}

template <class Body>
void RunTasks(const TaskGrid& s, int threads, const Body& body) {
  if (threads <= 1) {
    for (int64_t t = 0; t < s.tasks; ++t) body(t, 0);
    return;
  }
#if defined(_OPENMP)
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
#endif
  for (int64_t t = 0; t < s.tasks; ++t) body(t, ThreadIndex());
}

Status OutOfMemory(const char* what) {
  return Status(StatusCode::kOutOfMemory, what,
                std::string("convkit: could not allocate the ") + what);
}

// Backward data. NHWC: rows are input pixels, columns the group's input
// channels, k = t * Ng + o. NCHW: per (image, group), rows the group's
// input channels, columns the image's pixels, k = o * taps + t.
//
// What a geometry and a thread count imply on this target: the GEMM's
// sizes, blocking, task split and per-thread workspace.
struct DataShape {
  int64_t nr, K, kp, HW, OHW, batches, M, N, w_panels, panel_floats, panel_rows;
  bool nchw, phased;
  Blocking blk;
  int64_t mcp, ncp, kcp, max_runs, tiles_max, per_thread;
  TaskGrid split;
  int threads;
};
DataShape MakeDataShape(const ConvGeometry& g, int threads_option) {
  DataShape d;
  const TileShape tile = GetTileShape();
  d.nr = tile.nr;
  d.K = g.taps * g.ng;
  d.kp = RoundUp(d.K, kKU);
  // NCHW packs dY's B blocks (the packed GEMM's blocking); NHWC reads dY
  // in place as the forward direct GEMM does, with its long KC (the B
  // panel in L2): C is reloaded once per KC block, and the 192-deep blocks
  // of the packed blocking ran ResNet-50's 7x7x512 3x3 layer at 98 GFLOP/s
  // against the forward's 185 on AVX3.
  d.blk = g.nchw ? PackedBlockingForK(d.K, tile) : DirectBlockingForK(d.K, tile);
  d.HW = g.h * g.w;
  d.OHW = g.oh * g.ow;
  d.nchw = g.nchw;
  // NHWC with a stride: tiles hold one input row's pixels of one stride
  // phase (iw = pw, pw + sw, ...), so all their rows take the same taps and
  // the taps that fall between strides are left out, not multiplied as
  // zeros; tasks then split input rows (n, ih).
  d.phased = !d.nchw && (g.sh > 1 || g.sw > 1);
  d.batches = d.nchw ? g.n * g.groups : g.groups;
  d.M = d.nchw ? g.cg : d.phased ? g.n * g.h : g.n * d.HW;
  d.N = d.nchw ? d.HW : g.cg;
  // The transposed weights: NHWC as NR-column panels over input channels
  // (K rows each); NCHW as MR-row panels over input channels.
  d.w_panels = d.nchw ? DivCeil(g.cg, kMR) : DivCeil(g.cg, d.nr);
  d.panel_floats = d.nchw ? d.kp * kMR : d.K * d.nr;
  d.panel_rows = d.nchw ? kMR : d.nr;
  const double flops = 2.0 * static_cast<double>(g.n * d.HW) * static_cast<double>(g.cin) *
                       static_cast<double>(d.K);
  const int want = ResolveThreads(threads_option, INT64_MAX, flops);
  d.split = MakeGrid(d.batches, d.M, d.N, d.phased ? 1 : kMR, d.nr, want);
  d.threads = ResolveThreads(threads_option, d.split.tasks, flops);
  d.mcp = RoundUp(std::min(d.blk.mc, RoundUp(d.M, kMR)), kMR);
  d.ncp = RoundUp(std::min(d.blk.nc, RoundUp(d.N, d.nr)), d.nr);
  d.kcp = RoundUp(std::min(d.blk.kc, d.K), kKU);
  // NHWC reads dY in place through row pointers (the indirect tile, as the
  // forward direct GEMM): per MR-row tile and run, a pointer per row, a
  // length and a B offset. NCHW packs dY's B blocks.
  d.max_runs = std::min(g.taps, d.kcp) + 1 + d.kcp / kMaxRun;
  d.tiles_max = std::max(DivCeil(d.mcp, kMR), DivCeil(g.w, kMR));
  const int64_t ind_floats = DivCeil(
      d.tiles_max * (static_cast<int64_t>(sizeof(IgemmA)) + 2 * d.max_runs * 8 +
                     d.max_runs * kMR * 8),
      4);
  // Per thread: NHWC a row buffer and the indirection; NCHW a packed B
  // block and a row buffer.
  d.per_thread = d.nchw ? RoundUp(d.kcp * d.ncp + std::max(d.kcp, d.ncp) + 16, 16)
                        : RoundUp(std::max(d.kcp, d.ncp) + ind_floats + 16, 16);
  return d;
}

Status PackData(const ConvGeometry& g, const float* w, const float* bias, int threads_option,
                PackedBackwardData* out) {
  const DataShape d = MakeDataShape(g, threads_option);
  const int64_t nr = d.nr, K = d.K, w_panels = d.w_panels;
  const bool nchw = d.nchw;
  const int threads = ResolveThreads(threads_option, g.groups * w_panels,
                                     static_cast<double>(g.groups * w_panels) * d.panel_floats);
  if (Status st = EnsureThreads(threads); !st.ok()) return st;
  PackedBackwardData p;
  p.geo = g;
  p.wt = AllocateFloats(static_cast<size_t>(g.groups * w_panels * d.panel_floats));
  if (!nchw && bias != nullptr) {
    p.bias = AllocateFloats(static_cast<size_t>(g.groups * w_panels * nr));
    if (!p.bias) return OutOfMemory("backward data buffers");
  }
  p.src_row = Allocate<int64_t>(static_cast<size_t>(g.h * g.kh));
  p.src_col = Allocate<int64_t>(static_cast<size_t>(g.w * g.kw));
  if (!p.wt || !p.src_row || !p.src_col) return OutOfMemory("backward data buffers");
  p.bias_rows = nchw ? bias : nullptr;
  (void)K;
  // One panel (group, block of input channels) per iteration, in parallel.
  // Per tap, blocks of kOB output channels: the panel's source rows (HWIO
  // rows t*Cg + ci, Cout floats apart) are read a cache line at a time into
  // a small buffer and written transposed from there. Reading the strided
  // columns directly thrashed L1 (rows 2-8 KiB apart share a few sets):
  // the pack took longer than the GEMM on ResNet-50's 7x7 layers.
  constexpr int64_t kOB = 16;
  const int64_t panel_floats = d.panel_floats, panel_rows = d.panel_rows;
  float* wt = p.wt.get();
  auto pack_panel = [&](int64_t q) {
    const int64_t grp = q / w_panels, ci0 = q % w_panels * panel_rows;
    const int64_t rows = std::min(g.cg, ci0 + panel_rows) - ci0;
    float* panel = wt + q * panel_floats;
    // Zeros where no source element lands: NCHW's K padding and rows past
    // Cg; NHWC writes whole panel rows below.
    if (nchw) std::fill(panel, panel + panel_floats, 0.0f);
    constexpr int64_t kMaxRows =
        std::max<int64_t>(kMR, static_cast<int64_t>(kTileVecs * HWY_LANES(float)));
    HWY_ALIGN float blk[kMaxRows * kOB];
    for (int64_t t = 0; t < g.taps; ++t) {
      const float* src = w + (t * g.cg + ci0) * g.cout + grp * g.ng;
      for (int64_t o0 = 0; o0 < g.ng; o0 += kOB) {
        const int64_t ob = std::min(kOB, g.ng - o0);
        // Constant trip counts: a variable-length memcpy became rep movsq,
        // slower than the strided reads it replaces.
        if (ob == kOB) {
          for (int64_t r = 0; r < rows; ++r) {
            for (int64_t e = 0; e < kOB; ++e) blk[r * kOB + e] = src[r * g.cout + o0 + e];
          }
        } else {
          for (int64_t r = 0; r < rows; ++r) {
            for (int64_t e = 0; e < ob; ++e) blk[r * kOB + e] = src[r * g.cout + o0 + e];
          }
        }
        for (int64_t o = 0; o < ob; ++o) {
          if (nchw) {  // A[ci][k], k = o * taps + t
            const int64_t k = (o0 + o) * g.taps + t;
            float* dst = panel + (k / kKU) * kMR * kKU + k % kKU;
            for (int64_t r = 0; r < rows; ++r) dst[r * kKU] = blk[r * kOB + o];
          } else {  // B[k][ci], k = t * Ng + o
            float* dst = panel + (t * g.ng + o0 + o) * nr;
            for (int64_t r = 0; r < rows; ++r) dst[r] = blk[r * kOB + o];
            for (int64_t r = rows; r < nr; ++r) dst[r] = 0.0f;
          }
        }
      }
    }
  };
  const int64_t panels_all = g.groups * w_panels;
  if (threads > 1) {
#if defined(_OPENMP)
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
#endif
    for (int64_t q = 0; q < panels_all; ++q) pack_panel(q);
  } else {
    for (int64_t q = 0; q < panels_all; ++q) pack_panel(q);
  }
  if (p.bias) {
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      for (int64_t j = 0; j < w_panels * nr; ++j) {
        p.bias[grp * w_panels * nr + j] = j < g.cg ? bias[grp * g.cg + j] : 0.0f;
      }
    }
  }
  // The output row that kernel row kh of input row ih comes from, or -1
  // (between strides, or outside the output): src_row[ih * KH + kh]; the
  // same for columns. Tables, so the gathers never divide.
  auto fill_source = [](int64_t* table, int64_t in, int64_t taps, int64_t pad,
                        int64_t dil, int64_t stride, int64_t out) {
    for (int64_t i = 0; i < in; ++i) {
      for (int64_t t = 0; t < taps; ++t) {
        const int64_t y = i + pad - t * dil;
        table[i * taps + t] = y >= 0 && y % stride == 0 && y / stride < out ? y / stride : -1;
      }
    }
  };
  fill_source(p.src_row.get(), g.h, g.kh, g.pt, g.dh, g.sh, g.oh);
  fill_source(p.src_col.get(), g.w, g.kw, g.pl, g.dw, g.sw, g.ow);
  *out = std::move(p);
  return Status();
}

size_t DataWorkspaceBytes(const ConvGeometry& g, int threads_option) {
  const DataShape d = MakeDataShape(g, threads_option);
  return static_cast<size_t>(d.per_thread * d.threads) * sizeof(float) + kAlignment;
}

Status RunData(const PackedBackwardData& p, const float* dy, float* dx, int threads_option,
               void* workspace, size_t workspace_bytes) {
  const ConvGeometry& g = p.geo;
  const DataShape d = MakeDataShape(g, threads_option);
  const int64_t nr = d.nr, K = d.K, kp = d.kp, HW = d.HW, OHW = d.OHW, M = d.M, N = d.N;
  const int64_t w_panels = d.w_panels, kcp = d.kcp, ncp = d.ncp, per_thread = d.per_thread;
  const int64_t max_runs = d.max_runs, tiles_max = d.tiles_max;
  const bool nchw = d.nchw, phased = d.phased;
  const Blocking& blk = d.blk;
  const TaskGrid& split = d.split;
  const int threads = d.threads;
  if (Status st = EnsureThreads(threads); !st.ok()) return st;
  AlignedFloats own;
  float* ws_base = nullptr;
  if (workspace != nullptr && workspace_bytes >= DataWorkspaceBytes(g, threads_option)) {
    ws_base = AlignUp(workspace);
  } else {
    own = AllocateFloats(static_cast<size_t>(per_thread * threads));
    if (!own) return OutOfMemory("backward data buffers");
    ws_base = own.get();
  }
  const float* wt_all = p.wt.get();
  const float* bias_p = p.bias.get();
  const int64_t* src_row = p.src_row.get();
  const int64_t* src_col = p.src_col.get();
  // The output pixel that tap (kh, kw) of input pixel (ih, iw) comes from:
  // false if none.
  auto source = [&](int64_t ih, int64_t iw, int64_t kh, int64_t kw, int64_t* oh, int64_t* ow) {
    *oh = src_row[ih * g.kh + kh];
    *ow = src_col[iw * g.kw + kw];
    return *oh >= 0 && *ow >= 0;
  };
  struct {
    const float* dy;
    float* dx;
    const float* bias;
  } job{dy, dx, p.bias_rows};

  RunTasks(split, threads, [&](int64_t task, int thread) {
    float* b_ws = ws_base + thread * per_thread;  // NCHW only
    float* tmp = nchw ? b_ws + kcp * ncp : b_ws;
    const int64_t ni = task % split.n_tasks, rest = task / split.n_tasks;
    const int64_t mi = rest % split.m_tasks, b = rest / split.m_tasks;
    const int64_t m0 = mi * split.m_chunk, m1 = std::min(M, m0 + split.m_chunk);
    const int64_t n0 = ni * split.n_chunk, n1 = std::min(N, n0 + split.n_chunk);
    if (phased) {
      const int64_t grp = b;
      IgemmA* tiles = reinterpret_cast<IgemmA*>(tmp + std::max(kcp, ncp));
      int64_t* lens = reinterpret_cast<int64_t*>(tiles + tiles_max);
      int64_t* boffs = lens + tiles_max * max_runs;
      const float** ptrs = reinterpret_cast<const float**>(boffs + tiles_max * max_runs);
      static const int64_t kZeroOffset = 0;
      for (int64_t jc = n0; jc < n1; jc += blk.nc) {
        const int64_t nc = std::min(blk.nc, n1 - jc);
        const int64_t panels = DivCeil(nc, nr);
        for (int64_t pc = 0; pc < K; pc += blk.kc) {
          const int64_t kc = std::min(blk.kc, K - pc);
          TileOps ops;
          if (pc == 0) {
            ops.bias = bias_p != nullptr ? bias_p + grp * w_panels * nr + jc : nullptr;
          } else {
            ops.accumulate = true;
          }
          for (int64_t r = m0; r < m1; ++r) {
            const int64_t n = r / g.h, ih = r % g.h;
            for (int64_t pw = 0; pw < std::min(g.sw, g.w); ++pw) {
              const int64_t cols = DivCeil(g.w - pw, g.sw);  // iw = pw + j * sw
              const int64_t count = DivCeil(cols, kMR);
              for (int64_t tile = 0; tile < count; ++tile) {
                const int64_t rows = std::min(kMR, cols - tile * kMR);
                int64_t* tl = lens + tile * max_runs;
                int64_t* tb = boffs + tile * max_runs;
                const float** tp = ptrs + tile * max_runs * kMR;
                int64_t runs = 0, p = 0, t = pc / g.ng, o = pc % g.ng;
                while (p < kc) {
                  const int64_t len = std::min(std::min(g.ng - o, kc - p), kMaxRun);
                  const int64_t oh = src_row[ih * g.kh + t / g.kw];
                  if (oh >= 0) {
                    const float** rp = tp + runs * kMR;
                    bool any = false;
                    for (int64_t i = 0; i < kMR; ++i) {
                      const int64_t iw = pw + (tile * kMR + i) * g.sw;
                      const int64_t ow = i < rows ? src_col[iw * g.kw + t % g.kw] : -1;
                      rp[i] = ow >= 0 ? job.dy + ((n * g.oh + oh) * g.ow + ow) * g.ys +
                                            grp * g.ng + o
                                      : kZeroRow;
                      any |= ow >= 0;
                    }
                    if (any) {
                      tl[runs] = len;
                      tb[runs] = p;
                      ++runs;
                    }
                  }
                  p += len;
                  o += len;
                  if (o == g.ng) {
                    o = 0;
                    ++t;
                  }
                }
                IgemmA& a = tiles[tile];
                a.rows = tp;
                a.row_stride = kMR;
                a.off = &kZeroOffset;
                a.off_stride = 0;
                a.len = tl;
                a.runs = runs;
                a.b_off = tb;
                a.skip = nullptr;
                a.row_step = 0;
              }
              IgemmBlock(tiles, count, kMR, cols - (count - 1) * kMR,
                         wt_all + ((grp * w_panels + jc / nr) * K + pc) * nr, K * nr, panels,
                         nc - (panels - 1) * nr,
                         job.dx + ((n * g.h + ih) * g.w + pw) * g.xs + grp * g.cg + jc,
                         g.sw * g.xs, ops, BlockHints());
            }
          }
        }
      }
    } else if (!nchw) {
      const int64_t grp = b;
      // Indirection per MR-row tile of dX (input pixels): for each run (one
      // tap's Ng channels, or part of them) a pointer per row into dY at the
      // tap's source pixel, or at the zero row.
      IgemmA* tiles = reinterpret_cast<IgemmA*>(tmp + std::max(kcp, ncp));
      int64_t* lens = reinterpret_cast<int64_t*>(tiles + tiles_max);
      const float** ptrs = reinterpret_cast<const float**>(lens + tiles_max * max_runs);
      static const int64_t kZeroOffset = 0;
      // 1x1, stride 1, no padding: every dX pixel's one tap is the same dY
      // pixel, so the row pointers need no coordinates (their divisions
      // were a sixth of a 56x56 64 -> 64 layer's time).
      const bool pointwise = g.taps == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 &&
                             g.pl == 0 && g.pb == 0 && g.pr == 0;
      for (int64_t jc = n0; jc < n1; jc += blk.nc) {
        const int64_t nc = std::min(blk.nc, n1 - jc);
        const int64_t panels = DivCeil(nc, nr);
        for (int64_t pc = 0; pc < K; pc += blk.kc) {
          const int64_t kc = std::min(blk.kc, K - pc);
          for (int64_t ic = m0; ic < m1; ic += blk.mc) {
            const int64_t mc = std::min(blk.mc, m1 - ic);
            const int64_t count = DivCeil(mc, kMR);
            for (int64_t tile = 0; tile < count; ++tile) {
              const int64_t rows = std::min(kMR, mc - tile * kMR);
              int64_t n_[kMR], ih_[kMR], iw_[kMR];
              if (!pointwise) {
                for (int64_t i = 0; i < rows; ++i) {
                  const int64_t m = ic + tile * kMR + i;
                  n_[i] = m / HW;
                  ih_[i] = m % HW / g.w;
                  iw_[i] = m % g.w;
                }
              }
              int64_t* tl = lens + tile * max_runs;
              const float** tp = ptrs + tile * max_runs * kMR;
              int64_t runs = 0, p = 0, t = pc / g.ng, o = pc % g.ng;
              while (p < kc) {
                const int64_t len = std::min(std::min(g.ng - o, kc - p), kMaxRun);
                const float** rp = tp + runs * kMR;
                if (pointwise) {  // dX pixel m takes dY pixel m
                  const float* row0 = job.dy + (ic + tile * kMR) * g.ys + grp * g.ng + o;
                  for (int64_t i = 0; i < kMR; ++i) rp[i] = i < rows ? row0 + i * g.ys : kZeroRow;
                } else {
                  for (int64_t i = 0; i < kMR; ++i) {
                    int64_t oh, ow;
                    rp[i] = i < rows && source(ih_[i], iw_[i], t / g.kw, t % g.kw, &oh, &ow)
                                ? job.dy + ((n_[i] * g.oh + oh) * g.ow + ow) * g.ys +
                                      grp * g.ng + o
                                : kZeroRow;
                  }
                }
                tl[runs++] = len;
                p += len;
                o += len;
                if (o == g.ng) {
                  o = 0;
                  ++t;
                }
              }
              IgemmA& a = tiles[tile];
              a.rows = tp;
              a.row_stride = kMR;
              a.off = &kZeroOffset;
              a.off_stride = 0;
              a.len = tl;
              a.runs = runs;
              a.b_off = nullptr;
              a.skip = nullptr;
              a.row_step = 0;
            }
            TileOps ops;
            if (pc == 0) {
              ops.bias = bias_p != nullptr ? bias_p + grp * w_panels * nr + jc : nullptr;
            } else {
              ops.accumulate = true;
            }
            IgemmBlock(tiles, count, kMR, mc - (count - 1) * kMR,
                       wt_all + ((grp * w_panels + jc / nr) * K + pc) * nr, K * nr, panels,
                       nc - (panels - 1) * nr, job.dx + ic * g.xs + grp * g.cg + jc, g.xs,
                       ops, BlockHints());
          }
        }
      }
    } else {
      const int64_t n = b / g.groups, grp = b % g.groups;
      // B[o * taps + t][pixel (ih, iw)] = dY[n][g*Ng+o][oh][ow] at the source.
      auto b_row = [&](int64_t k, int64_t j0, int64_t nc, float* out) {
        const int64_t o = k / g.taps, t = k % g.taps, kh = t / g.kw, kw = t % g.kw;
        const float* plane = job.dy + (n * g.cout + grp * g.ng + o) * OHW;
        int64_t ih = j0 / g.w, iw = j0 % g.w;
        for (int64_t j = 0; j < nc; ++j) {
          int64_t oh, ow;
          out[j] = source(ih, iw, kh, kw, &oh, &ow) ? plane[oh * g.ow + ow] : 0.0f;
          if (++iw == g.w) {
            iw = 0;
            ++ih;
          }
        }
      };
      auto get_a = [&](int64_t, int64_t ic, int64_t, int64_t pc, int64_t) {
        return Packed{wt_all + (grp * w_panels + ic / kMR) * kp * kMR + pc * kMR, kp * kMR};
      };
      auto get_b = [&](int64_t, int64_t pc, int64_t kc, int64_t jc, int64_t nc) {
        PackBBlock(pc, kc, jc, nc, nr, b_row, tmp, b_ws);
        return Packed{b_ws, kc * nr};
      };
      auto c_at = [&](int64_t, int64_t ci, int64_t j) {
        return job.dx + (n * g.cin + grp * g.cg + ci) * HW + j;
      };
      auto bias_at = [&](int64_t, int64_t ci, int64_t) -> const float* {
        return job.bias != nullptr ? job.bias + grp * g.cg + ci : nullptr;
      };
      GemmTask(blk, nr, K, b, m0, m1, n0, n1, get_a, get_b, c_at, HW, bias_at, true);
    }
  });
  return Status();
}

// Backward weights, as dW^T: per group, rows the group's output channels,
// columns k = t * Cg + ci, reduction over the N * OH * OW output pixels:
//   C[o][k] = sum_p dY[p][g*Ng + o] * im2col[p][k]
// A (dY^T) is the small side and is transposed into MR-row panels; B (the
// im2col rows) is copied a tap's channels at a time (NHWC: contiguous) into
// NR-column panels. C is [Cout][KH][KW][Cg] (OHWI), turned into the
// caller's layout at the end (weights-sized).
Status BackwardWeightsOhwi(const BackwardJob& job) {
  const ConvGeometry& g = job.geo;
  const TileShape tile = GetTileShape();
  const int64_t nr = tile.nr;
  const int64_t P = g.n * g.oh * g.ow;  // the reduction
  const int64_t M = g.ng, N = g.taps * g.cg;
  const Blocking blk = PackedBlockingForK(P, tile);
  const int64_t OHW = g.oh * g.ow;
  const double flops = 2.0 * static_cast<double>(P) * static_cast<double>(N) *
                       static_cast<double>(g.cout);
  const int want = ResolveThreads(job.threads, INT64_MAX, flops);
  const TaskGrid split = WeightsGrid(g.groups, M, N, nr, want);
  const int threads = ResolveThreads(job.threads, split.tasks, flops);
  if (Status st = EnsureThreads(threads); !st.ok()) return st;
  const int64_t mcp = RoundUp(std::min(blk.mc, RoundUp(M, kMR)), kMR);
  const int64_t ncp = RoundUp(std::min(blk.nc, RoundUp(N, nr)), nr);
  const int64_t kcp = RoundUp(std::min(blk.kc, P), kKU);
  const int64_t per_thread = RoundUp(mcp * kcp + kcp * ncp + std::max(kcp, ncp) + 16, 16);
  AlignedFloats ws = AllocateFloats(static_cast<size_t>(per_thread * threads));
  AlignedFloats ohwi = AllocateFloats(static_cast<size_t>(g.cout * N));
  if (!ws || !ohwi) return OutOfMemory("backward weights buffers");
  const int64_t x_c = g.nchw ? g.h * g.w : 1;  // next input channel
  const int64_t y_c = g.nchw ? OHW : 1;        // next output channel

  RunTasks(split, threads, [&](int64_t task, int thread) {
    float* a_ws = ws.get() + thread * per_thread;
    float* b_ws = a_ws + mcp * kcp;
    float* tmp = b_ws + kcp * ncp;
    const int64_t ni = task % split.n_tasks, rest = task / split.n_tasks;
    const int64_t mi = rest % split.m_tasks, grp = rest / split.m_tasks;
    const int64_t m0 = mi * split.m_chunk, m1 = std::min(M, m0 + split.m_chunk);
    const int64_t n0 = ni * split.n_chunk, n1 = std::min(N, n0 + split.n_chunk);
    // A = dY^T: rows o in [o0, o0 + mc), pixels [p0, p0 + kc), transposed
    // into MR-row panels (k-interleaved by KU).
    auto get_a = [&](int64_t, int64_t o0, int64_t mc, int64_t p0, int64_t kc) {
      const int64_t panel = RoundUp(kc, kKU) * kMR;
      int64_t n = p0 / OHW, q = p0 % OHW;
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = g.nchw ? job.dy + (n * g.cout + grp * g.ng + o0) * OHW + q
                                  : job.dy + (n * OHW + q) * g.ys + grp * g.ng + o0;
        float* dst = a_ws + (p / kKU) * kMR * kKU + p % kKU;
        for (int64_t i = 0; i < mc; ++i) {
          dst[(i / kMR) * panel + (i % kMR) * kKU] = src[i * y_c];
        }
        if (++q == OHW) {
          q = 0;
          ++n;
        }
      }
      return Packed{a_ws, panel};
    };
    // B = im2col rows: pixel p, columns k in [k0, k0 + nc), a tap's
    // channels at a time (zeros where the tap is in the padding).
    auto b_row = [&](int64_t p, int64_t k0, int64_t nc, float* out) {
      const int64_t n = p / OHW, oh = p % OHW / g.ow, ow = p % g.ow;
      int64_t j = 0, t = k0 / g.cg, ci = k0 % g.cg;
      while (j < nc) {
        const int64_t len = std::min(g.cg - ci, nc - j);
        const int64_t ih = oh * g.sh + t / g.kw * g.dh - g.pt;
        const int64_t iw = ow * g.sw + t % g.kw * g.dw - g.pl;
        if (ih >= 0 && ih < g.h && iw >= 0 && iw < g.w) {
          const int64_t c = grp * g.cg + ci;
          const float* src = g.nchw ? job.x + ((n * g.cin + c) * g.h + ih) * g.w + iw
                                    : job.x + ((n * g.h + ih) * g.w + iw) * g.xs + c;
          if (x_c == 1) {
            std::memcpy(out + j, src, static_cast<size_t>(len) * sizeof(float));
          } else {
            for (int64_t e = 0; e < len; ++e) out[j + e] = src[e * x_c];
          }
        } else {
          std::fill(out + j, out + j + len, 0.0f);
        }
        j += len;
        ci = 0;
        ++t;
      }
    };
    auto get_b = [&](int64_t, int64_t pc, int64_t kc, int64_t jc, int64_t nc) {
      PackBBlock(pc, kc, jc, nc, nr, b_row, tmp, b_ws);
      return Packed{b_ws, kc * nr};
    };
    auto c_at = [&](int64_t, int64_t o, int64_t k) {
      return ohwi.get() + (grp * g.ng + o) * N + k;
    };
    auto no_bias = [](int64_t, int64_t, int64_t) -> const float* { return nullptr; };
    GemmTask(blk, nr, P, grp, m0, m1, n0, n1, get_a, get_b, c_at, N, no_bias, false);
  });
  // OHWI -> HWIO: dw[(t * Cg + ci) * Cout + o] = C[o][t * Cg + ci], in
  // 32 x 32 blocks so that neither side strides through memory.
#if defined(_OPENMP)
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
#endif
  for (int64_t k0 = 0; k0 < N; k0 += 32) {
    for (int64_t o0 = 0; o0 < g.cout; o0 += 32) {
      for (int64_t k = k0; k < std::min(N, k0 + 32); ++k) {
        for (int64_t o = o0; o < std::min(g.cout, o0 + 32); ++o) {
          job.dw[k * g.cout + o] = ohwi[o * N + k];
        }
      }
    }
  }
  return Status();
}

// Backward weights written as HWIO: rows k = t * Cg + ci, columns the
// group's output channels, reduction over the N * OH * OW output pixels;
// A (the transposed im2col) gathered element by element. For few output
// pixels or many output channels per tap row (BackwardWeights).
Status BackwardWeightsHwio(const BackwardJob& job) {
  const ConvGeometry& g = job.geo;
  const TileShape tile = GetTileShape();
  const int64_t nr = tile.nr;
  const int64_t P = g.n * g.oh * g.ow;  // the reduction
  const int64_t M = g.taps * g.cg, N = g.ng;
  const Blocking blk = PackedBlockingForK(P, tile);
  const int64_t OHW = g.oh * g.ow;
  const double flops = 2.0 * static_cast<double>(P) * static_cast<double>(M) *
                       static_cast<double>(g.cout);
  const int want = ResolveThreads(job.threads, INT64_MAX, flops);
  const TaskGrid split = WeightsGrid(g.groups, M, N, nr, want);
  const int threads = ResolveThreads(job.threads, split.tasks, flops);
  if (Status st = EnsureThreads(threads); !st.ok()) return st;
  const int64_t mcp = RoundUp(std::min(blk.mc, RoundUp(M, kMR)), kMR);
  const int64_t ncp = RoundUp(std::min(blk.nc, RoundUp(N, nr)), nr);
  const int64_t kcp = RoundUp(std::min(blk.kc, P), kKU);
  const int64_t per_thread = RoundUp(mcp * kcp + kcp * ncp + std::max(kcp, ncp) + 16, 16);
  AlignedFloats ws = AllocateFloats(static_cast<size_t>(per_thread * threads));
  if (!ws) return OutOfMemory("backward weights buffers");
  // Element strides of the activations: next channel, next input column.
  const int64_t x_c = g.nchw ? g.h * g.w : 1;
  const int64_t y_c = g.nchw ? OHW : 1;

  RunTasks(split, threads, [&](int64_t task, int thread) {
    float* a_ws = ws.get() + thread * per_thread;
    float* b_ws = a_ws + mcp * kcp;
    float* tmp = b_ws + kcp * ncp;
    const int64_t ni = task % split.n_tasks, rest = task / split.n_tasks;
    const int64_t mi = rest % split.m_tasks, grp = rest / split.m_tasks;
    const int64_t m0 = mi * split.m_chunk, m1 = std::min(M, m0 + split.m_chunk);
    const int64_t n0 = ni * split.n_chunk, n1 = std::min(N, n0 + split.n_chunk);
    // A[t * Cg + ci][p] = x at output pixel p's tap t, channel g*Cg + ci.
    auto a_row = [&](int64_t k, int64_t p0, int64_t kc, float* out) {
      const int64_t t = k / g.cg, ci = k % g.cg, kh = t / g.kw, kw = t % g.kw;
      int64_t n = p0 / OHW, oh = p0 % OHW / g.ow, ow = p0 % g.ow;
      for (int64_t p = 0; p < kc; ++p) {
        const int64_t ih = oh * g.sh + kh * g.dh - g.pt, iw = ow * g.sw + kw * g.dw - g.pl;
        const bool in = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
        const int64_t c = grp * g.cg + ci;
        // Offsets only for pixels inside: far in the padding they overflow.
        out[p] = !in ? 0.0f
                     : job.x[g.nchw ? ((n * g.cin + c) * g.h + ih) * g.w + iw
                                    : ((n * g.h + ih) * g.w + iw) * g.xs + c];
        if (++ow == g.ow) {
          ow = 0;
          if (++oh == g.oh) {
            oh = 0;
            ++n;
          }
        }
      }
      (void)x_c;
    };
    // B[p][o] = dY at output pixel p, channel g*Ng + o.
    auto b_row = [&](int64_t p, int64_t o0, int64_t nc, float* out) {
      const int64_t n = p / OHW, q = p % OHW;
      const int64_t c0 = grp * g.ng + o0;
      const float* src =
          g.nchw ? job.dy + (n * g.cout + c0) * OHW + q : job.dy + (n * OHW + q) * g.ys + c0;
      for (int64_t j = 0; j < nc; ++j) out[j] = src[j * y_c];
    };
    auto get_a = [&](int64_t, int64_t ic, int64_t mc, int64_t pc, int64_t kc) {
      PackABlock(ic, mc, pc, kc, a_row, tmp, a_ws);
      return Packed{a_ws, RoundUp(kc, kKU) * kMR};
    };
    auto get_b = [&](int64_t, int64_t pc, int64_t kc, int64_t jc, int64_t nc) {
      PackBBlock(pc, kc, jc, nc, nr, b_row, tmp, b_ws);
      return Packed{b_ws, kc * nr};
    };
    auto c_at = [&](int64_t, int64_t k, int64_t o) { return job.dw + k * g.cout + grp * g.ng + o; };
    auto no_bias = [](int64_t, int64_t, int64_t) -> const float* { return nullptr; };
    GemmTask(blk, nr, P, grp, m0, m1, n0, n1, get_a, get_b, c_at, g.cout, no_bias, false);
  });
  return Status();
}

// Backward weights, NHWC with whole vectors of output channels per group:
// dW in HWIO directly, C rows (t, ci) by columns o, reduced over output
// pixels that the pixel tile reads in place (pixel_tile-inl.h): nothing is
// packed or transposed. Pixels in chunks of whole output rows, x's and
// dY's slices of a chunk in half of L2; per chunk and tap, the runs of
// output pixels whose tap lands inside the input (padding taps are left
// out, not multiplied as zeros). Each output sums its products in
// ascending pixel order, chunk after chunk: bit-identical for every thread
// count. Tasks split row tiles (tap, block of MR channels) and columns.
Status BackwardWeightsPixels(const BackwardJob& job) {
  const ConvGeometry& g = job.geo;
  const TileShape tile = GetTileShape();
  const int64_t nr = tile.nr;
  const int64_t cgt = DivCeil(g.cg, kMR);  // row tiles per tap
  const int64_t M = g.taps * cgt, N = g.ng;
  const int64_t rows_all = g.n * g.oh;
  const double flops = 2.0 * static_cast<double>(g.n * g.oh * g.ow) *
                       static_cast<double>(g.taps * g.cg) * static_cast<double>(g.cout);
  const int want = ResolveThreads(job.threads, INT64_MAX, flops);
  const TaskGrid split = MakeGrid(g.groups, M, N, 1, nr, want);
  const int threads = ResolveThreads(job.threads, split.tasks, flops);
  if (Status st = EnsureThreads(threads); !st.ok()) return st;
  const int64_t per_pixel = (g.ng + g.cg) * static_cast<int64_t>(sizeof(float));
  const int64_t chunk_rows = std::max<int64_t>(
      1, GetCacheSizes().l2 / 2 / std::max<int64_t>(per_pixel * g.ow, 1));
  const int64_t chunks = DivCeil(rows_all, chunk_rows);
  // Runs of chunk j and tap t: runs[start[j * taps + t] .. start[... + 1]).
  AlignedArray<PixelRun> runs = Allocate<PixelRun>(static_cast<size_t>(g.taps * rows_all));
  AlignedArray<int64_t> start = Allocate<int64_t>(static_cast<size_t>(chunks * g.taps + 1));
  if (!runs || !start) return OutOfMemory("backward weights buffers");
  int64_t count = 0;
  for (int64_t j = 0; j < chunks; ++j) {
    const int64_t r1 = std::min(rows_all, (j + 1) * chunk_rows);
    for (int64_t t = 0; t < g.taps; ++t) {
      start[j * g.taps + t] = count;
      const int64_t kh = t / g.kw, kw = t % g.kw;
      const int64_t lo_num = g.pl - kw * g.dw, hi_num = g.w - 1 + g.pl - kw * g.dw;
      const int64_t ow_lo = lo_num > 0 ? DivCeil(lo_num, g.sw) : 0;
      const int64_t ow_hi = hi_num < 0 ? 0 : std::min(g.ow, hi_num / g.sw + 1);
      if (ow_lo >= ow_hi) continue;
      for (int64_t r = j * chunk_rows; r < r1; ++r) {
        const int64_t n = r / g.oh, oh = r % g.oh;
        const int64_t ih = oh * g.sh + kh * g.dh - g.pt;
        if (ih < 0 || ih >= g.h) continue;
        const int64_t iw = ow_lo * g.sw + kw * g.dw - g.pl;
        const PixelRun run{((n * g.h + ih) * g.w + iw) * g.xs,
                           ((n * g.oh + oh) * g.ow + ow_lo) * g.ys, ow_hi - ow_lo};
        // A run that continues the previous one in both tensors (whole rows
        // of 1x1 stride-1 layers, the centre taps of padded ones) joins it:
        // 7x7 layers otherwise run the tile 7 pixels at a time.
        PixelRun* last = count > start[j * g.taps + t] ? &runs[count - 1] : nullptr;
        if (last != nullptr && run.a == last->a + last->len * g.sw * g.xs &&
            run.b == last->b + last->len * g.ys) {
          last->len += run.len;
        } else {
          runs[count++] = run;
        }
      }
    }
  }
  start[chunks * g.taps] = count;
  const int64_t a_step = g.sw * g.xs;
  RunTasks(split, threads, [&](int64_t task, int) {
    const int64_t ni = task % split.n_tasks, rest = task / split.n_tasks;
    const int64_t mi = rest % split.m_tasks, grp = rest / split.m_tasks;
    const int64_t m0 = mi * split.m_chunk, m1 = std::min(M, m0 + split.m_chunk);
    const int64_t n0 = ni * split.n_chunk, n1 = std::min(N, n0 + split.n_chunk);
    for (int64_t j = 0; j < chunks; ++j) {
      for (int64_t mt = m0; mt < m1; ++mt) {
        const int64_t t = mt / cgt, ci0 = mt % cgt * kMR;
        const int64_t rows = std::min(kMR, g.cg - ci0);
        const int64_t first = start[j * g.taps + t], nruns = start[j * g.taps + t + 1] - first;
        if (j > 0 && nruns == 0) continue;
        const float* x = job.x + grp * g.cg + ci0;
        for (int64_t jc = n0; jc < n1; jc += nr) {
          const int64_t cols = std::min(nr, n1 - jc);
          TileOps ops;
          ops.accumulate = j > 0;
          GetPixelTile(rows, cols)(x, a_step, job.dy + grp * g.ng + jc, g.ys, runs.get() + first,
                                   nruns,
                                   job.dw + (t * g.cg + ci0) * g.cout + grp * g.ng + jc,
                                   g.cout, cols, ops);
        }
      }
    }
  });
  return Status();
}

// Backward weights: read in place where dY's channels per group are whole
// vectors in NHWC (BackwardWeightsPixels; ResNet-50 at 1 thread on AVX3:
// geomean 0.60x -> 0.96x of oneDNN's jit); else dW^T with the transposed
// dY as A (BackwardWeightsOhwi)
// where there are enough output pixels to pay for the final transpose and
// at least as many columns (taps x Cg) as output channels per group; else
// dW directly (BackwardWeightsHwio). Measured on resnet50's layers at 1
// thread: the first 1.2-2.1x faster on layers with 196+ output pixels and
// taps x Cg >= Cout/G, 0.2-0.9x elsewhere.
Status BackwardWeights(const BackwardJob& job) {
  const ConvGeometry& g = job.geo;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  if (!g.nchw && g.ng % lanes == 0) return BackwardWeightsPixels(job);
  const bool ohwi = g.n * g.oh * g.ow >= 128 && g.taps * g.cg >= g.ng;
  return ohwi ? BackwardWeightsOhwi(job) : BackwardWeightsHwio(job);
}

}  // namespace

Status BackwardData(const BackwardJob& job) {
  PackedBackwardData p;
  Status s = PackData(job.geo, job.weights, job.bias, job.threads, &p);
  if (!s.ok()) return s;
  return RunData(p, job.dy, job.dx, job.threads, nullptr, 0);
}

Status RunBackwardForTarget(const BackwardJob& job) {
  return job.pass == BackwardPass::kData ? BackwardData(job) : BackwardWeights(job);
}
Status PackBackwardDataForTarget(const ConvGeometry& geo, const float* hwio, const float* bias,
                                 int threads, PackedBackwardData* out) {
  return PackData(geo, hwio, bias, threads, out);
}
size_t BackwardDataWorkspaceForTarget(const ConvGeometry& geo, int threads) {
  return DataWorkspaceBytes(geo, threads);
}
Status RunBackwardDataForTarget(const PackedBackwardData& p, const float* dy, float* dx,
                                int threads, void* workspace, size_t workspace_bytes) {
  return RunData(p, dy, dx, threads, workspace, workspace_bytes);
}

}  // namespace HWY_NAMESPACE
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "lib/dispatch/targets.h"

namespace convkit {

HWY_EXPORT(RunBackwardForTarget);
HWY_EXPORT(PackBackwardDataForTarget);
HWY_EXPORT(BackwardDataWorkspaceForTarget);
HWY_EXPORT(RunBackwardDataForTarget);

Status RunBackward(const BackwardJob& job, int64_t target) {
  return CONVKIT_DISPATCH(RunBackwardForTarget, target)(job);
}

Status PackBackwardData(const ConvGeometry& geo, const float* hwio, const float* bias,
                        int threads, int64_t target, PackedBackwardData* out) {
  Status s = CONVKIT_DISPATCH(PackBackwardDataForTarget, target)(geo, hwio, bias, threads, out);
  if (s.ok()) out->target = target;
  return s;
}

size_t BackwardDataWorkspaceBytes(const PackedBackwardData& p, int threads) {
  return CONVKIT_DISPATCH(BackwardDataWorkspaceForTarget, p.target)(p.geo, threads);
}

Status RunBackwardData(const PackedBackwardData& p, const float* dy, float* dx, int threads,
                       void* workspace, size_t workspace_bytes) {
  return CONVKIT_DISPATCH(RunBackwardDataForTarget, p.target)(p, dy, dx, threads, workspace,
                                                              workspace_bytes);
}

}  // namespace convkit
#endif  // HWY_ONCE
