// The micro-kernel contract: the innermost piece of the loop nest
// jc -> pc -> ic -> jr -> ir -> (tile), written once with Highway in
// tile-inl.h and compiled for every target. No SIMD here.
//
// BLIS letters, for one group of an NHWC convolution:
//   Y[M x N] = A[M x K] * B[K x N]
//   M = batch * out_h * out_w   (output pixels; row m is pixel (n, oh, ow))
//   N = out_channels / groups   (the group's output channels)
//   K = kernel_h * kernel_w * in_channels / groups   (k = (kh, kw, ci))
// A is the virtual im2col matrix (never built whole: packed MR rows at a time,
// a KC-deep cache block at a time); B is the HWIO weights, already a K x Cout
// matrix, packed once per operator NR columns at a time.
//
// Tile contract, f32_gemm_<MR>x<NV>v__<target>, NR = NV * Lanes:
//
//   C[0:m, 0:n] = post(init + Apanel * Bpanel), with (TileOps)
//     init = accumulate ? C                                  (later K blocks)
//          : sum ? fma(sum_scale, C, b) : b                  (sum post-op)
//     b = bias ? (bias_rows ? bias[i] : bias[j]) : 0
//     post(v) = clamp ? (v < lo ? lo : v > hi ? hi : v) : v  (NaN passes)
//
//          k ->  (KU = 4 shown)             <- NR = NV vectors ->
//   Apanel +----------+----------+   Bpanel +---------------------+
//          |a00 .. a03|a04 .. a07|          |b00 b01 ....... b0,NR|  row-major:
//          |a10 .. a13|a14 .. a17| MR       |b10 ...              |  B[p][j] at
//          |..        |..        |          |..                   |  b[p * b_stride + j]
//          +----------+----------+          +---------------------+ k
//   A is column-major in groups of KU columns: each group stores MR rows of
//   KU consecutive k, A[i][p] at a[(p / KU) * MR * KU + i * KU + p % KU]
//   (KU = 1 is plain column-major). So the im2col packer copies runs of KU
//   contiguous input channels, and the tile still finds every broadcast at a
//   compile-time offset from one pointer.
//
//   - 1 <= m <= MR (a tile with m rows reads only rows i < m of each Apanel
//     column), 1 <= n <= NV * Lanes, k >= 1. All counts are in elements. The
//     last group may be partial: its columns p >= k are never read.
//   - Bpanel rows are b_stride >= NV * Lanes apart and zero-padded to b_stride
//     columns, so B loads are whole vectors; b is vector-aligned.
//   - bias (if not null and !accumulate) holds whole vectors (zero-padded).
//   - C is row-major with row stride ldc; only C[0:m, 0:n] is read
//     (accumulate or sum) or written; otherwise the tile never reads C.
//   - The fused post-ops of the convolution (its sum and clamp) are these
//     init and post steps: the caller asks for the sum on the first K block
//     and the clamp on the last, so no second pass over C exists.
//   - Every C element gets the same operation sequence whatever m, n and the
//     tile variant: acc = init; for p in 0..k-1: acc = fma(A[i][p], B[p][j],
//     acc) (mul + add on targets without FMA). So results do not depend on
//     how M and N are split between tiles or threads.
//
// Indirect tile contract, f32_igemm_<MR>x<NV>v__<target> (XNNPACK's igemm):
// the same C update, but A is read in place from the input through row
// pointers, K being a sequence of runs of contiguous k:
//
//   C[0:m, 0:n] = post(init + sum over runs r, p < len[r] of
//                              A_r[i][p] * B[k_r + p][j])
//   A_r[i] = rows[r * row_stride + i] + off[r * off_stride]
//
//   with k_r = len[0] + ... + len[r-1] (the runs tile the tile's K range in
//   order), or k_r = b_off[r] when given (ascending; runs left out are
//   taps whose rows would all read zeros) and B as above. Two ways to give the rows (IgemmA): one pointer
//   set per run (row_stride = MR, off_stride = 0, off[0] = 0), as for tiles
//   that touch the padding; or one set for all runs plus per-run offsets
//   (row_stride = 0, off_stride = 1), as for interior tiles, whose runs are
//   the same offsets from each row's first tap; such a tile may also give
//   row_step, rows[i] = rows[0] + i * row_step for i < m (the pixels of one
//   output row, or of a 1x1 layer): then only rows[0] is read (or set).
//   For i < m, A_r[i] points at len[r] readable floats: a run of input
//   channels (one kernel tap, or a whole kernel row when its taps are
//   adjacent in memory), or a zero row for taps in the padding, or the
//   same values in a zero-padded copy (direct_gemm.h's border windows).
//   Same rules for m, n, B, bias and C as the packed tile, and the same
//   operation sequence per element (k ascending), so both tiles give
//   bit-identical results on the same K blocking (but for products with
//   the padding's zeros that the indirect tile may leave out, b_off and
//   skip below: at most the sign of an exact zero).
//
// KU per target: 8 on AVX3/AVX2 (32-byte runs), 4 on SSE4/SSSE3/EMU128/Arm
// (16-byte runs, one 128-bit move), 1 on SCALAR.
//
// Register budget per target (why MR x NV):
//   AVX3 (32 zmm, 16 lanes): 14x2v = 28 accumulators + 2 B vectors + 1 A
//       broadcast = 31 registers; NR = 32. Per k step 16 loads feed 28 FMAs,
//       within two loads per FMA pair, and 28 independent chains cover the
//       4-cycle FMA latency on two FMA pipes. C one vector wide: two
//       adjacent tiles of evenly spaced rows run as one of 28 x 1v (28 + 1
//       + 1 registers; IgemmBlock), so one B load feeds 28 FMAs, not 14.
//   AVX2 (16 ymm, 8 lanes): 6x2v = 12 + 2 + 1 = 15 registers; NR = 16.
//       Larger tiles spill (measured: 55-75 GFLOP/s against ~99-116).
//   SSE4, SSSE3 (16 xmm, 4 lanes, no FMA): 6x2v = 12 + 2 + 1, plus one
//       temporary for the separate multiply = 16; NR = 8.
//   SCALAR (1 lane): 4x4v = 16 accumulators in the 16 xmm registers; NR = 4.
//   EMU128 (4 lanes, emulated): 4x2v; NR = 8.
//   NEON/SVE (32 registers): 8x3v = 24 + 3 + 1 = 28; NR = 3 * Lanes.
#ifndef CONVKIT_LIB_GEMM_TILE_H_
#define CONVKIT_LIB_GEMM_TILE_H_

#include <cstdint>

namespace convkit {

// A target's register tile: MR rows by NR = NV * lanes columns; the packed A
// panel is k-interleaved by KU.
struct TileShape {
  int64_t mr = 0, nv = 0, lanes = 0, nr = 0, ku = 1;
};

// Largest KC any blocking uses (ChooseBlocking): bounds packed A blocks and
// the zero row the indirect tile reads for taps in the padding.
constexpr int64_t kMaxBlockKC = 1024;

// Where a tile's accumulators start and what its store applies (the contract
// above): bias and accumulate as before, plus the convolution's fused
// post-ops on the blocks that carry them.
struct TileOps {
  const float* bias = nullptr;  // first K block: init from bias (if not null)
  bool bias_rows = false;       // bias[i] per row i (NCHW: a row is a channel)
                                // instead of bias[j] per column
  bool accumulate = false;      // later K blocks: init from C
  bool sum = false;             // first K block: init += sum_scale * C
  float sum_scale = 1.0f;
  bool clamp = false;           // last K block: clamp to [lo, hi] on store
  float lo = 0.0f, hi = 0.0f;
};

// Signature shared by every tile variant (pointers and sizes only: no vector
// type crosses a function boundary).
using TileFn = void (*)(const float* a, const float* b, int64_t k,
                        int64_t b_stride, float* c, int64_t ldc, int64_t n,
                        const TileOps& ops);

// Where an indirect tile finds A (see the contract above).
struct IgemmA {
  const float* const* rows = nullptr;
  int64_t row_stride = 0;  // MR: a pointer set per run; 0: one set
  const int64_t* off = nullptr;
  int64_t off_stride = 0;  // 1: an offset per run; 0: off[0] for all
  const int64_t* len = nullptr;
  int64_t runs = 0;
  // Optional, with a pointer set per run: run r reads B from row b_off[r]
  // (ascending) instead of right after run r - 1, so runs whose rows are
  // all zero can be left out (backward data between strides; forward tiles
  // along a padded border).
  const int64_t* b_off = nullptr;
  // Optional, with a pointer set per run: rows run r may leave out, as
  // skip[r] = first + 16 * last (kSkipNone = 0): its first `first` and last
  // `last` rows of the tile (each 0 or 1), whose pointers are the zero row
  // (a tile along the left or right padding). The tile may still multiply
  // them (variants with few rows do); results differ at most in the sign
  // of an exact zero.
  const int64_t* skip = nullptr;
  // Optional, with one pointer set (row_stride 0): nonzero when rows[i] is
  // rows[0] + i * row_step for every row the tile reads; then only rows[0]
  // is read, and the direct GEMM sets no other.
  int64_t row_step = 0;
};
constexpr int64_t kSkipNone = 0;

// What the direct GEMM's plan tells IgemmBlock (igemm-inl.h) about its
// blocks, chosen per layer from the run-time cache sizes (plan.cc,
// DirectBlocking), where each measured faster; all false elsewhere.
struct BlockHints {
  // Hint the next tile's C rows into the cache for writing: outputs of at
  // least 4x L2, whose lines come from L3 or memory (first layers with 12.8
  // MB out and 27 products per output ran 30% faster; smaller outputs ran
  // 3-7% slower with the hint). Where the output stays in L3 between calls
  // (one layer timed alone, 8-17 MB out, 32 MiB L3) the hint costs 2-8%;
  // but once other work has passed through L3 (the layers before it, or
  // convkit-perf's peers between repetitions) VGG's first layer took 1.22
  // ms without it against 0.75 with, so it stays at 4x L2.
  bool prefetch_c = false;
  // 1x1 layers whose input is at least 4x L2 and whose two tiles' A and
  // B block fit in 3/4 of L1: hint the next tile's input rows into L1.
  // Each tile reads its 14 rows a column at a time, 14 lines 256 bytes
  // apart at once, which the hardware prefetchers did not bring in ahead
  // from memory: MaskNet's 256x256 64 -> 64 layer took 2.4 ms against 3.4
  // (alternating runs), 256x256 128 -> 32 5% less. Where A and B do not
  // fit, the hint evicted B (128 input channels and 64 outputs on 128x128:
  // 4% slower).
  bool prefetch_a = false;
  // C one vector wide (with MR < 8, also C whose last panel is): may run
  // two adjacent tiles of evenly spaced rows as one of 2 MR rows in that
  // panel (on targets with the registers), where those rows'
  // inputs in one K block fit in 3/4 of L1 (1x1 layers with 512 input
  // channels, 57 KB, ran 20% slower paired).
  bool pair_tiles = false;
  // The packed weights exceed L2 (they come from L3 or memory every call):
  // the last M block of each weight block prefetches the next weight block
  // into L2 during its later tiles (IgemmBlock).
  bool prefetch_b = false;
};

// Weights a block will read next (IgemmBlock): `panels` runs of `floats`
// floats, `stride` floats apart from base.
struct NextB {
  const float* base = nullptr;
  int64_t panels = 0, floats = 0, stride = 0;
};

using IgemmTileFn = void (*)(const IgemmA& a, const float* b, int64_t b_stride,
                             float* c, int64_t ldc, int64_t n, const TileOps& ops);

// The ir loop of a column panel (the macro-kernel's inner loop in one call):
// `count` packed tiles of MR rows down C (the last m_last rows), tile t's A
// at a + t * a_stride floats, all with the same B panel, n and ops.
using GemmPanelFn = void (*)(const float* a, int64_t a_stride, int64_t count,
                             int64_t m_last, const float* b, int64_t k,
                             int64_t b_stride, float* c, int64_t ldc, int64_t n,
                             const TileOps& ops);

}  // namespace convkit

#endif  // CONVKIT_LIB_GEMM_TILE_H_
