// One constant table of kernels per SIMD target (XNNPACK's gemm-config, BLIS's
// cntx_init): the register tiles' shapes and ids and one task function per
// algorithm, compiled once per target in conv_dispatch.cc and fetched once
// per operator (GetKernelTable). Planning reads shapes from here; Forward only
// partitions and calls the chosen row's task. No SIMD in this header.
#ifndef CONVKIT_LIB_CONV_KERNEL_TABLE_H_
#define CONVKIT_LIB_CONV_KERNEL_TABLE_H_

#include <cstdint>

#include "lib/gemm/tile.h"

namespace convkit {

struct Plan;

// One task of a call's partition (plan.h). GEMM algorithms: group g, GEMM
// rows (output pixels) [m0, m1), the group's output channels [n0, n1) (the
// NCHW GEMM: the same ranges, pixels being its columns).
// Depthwise and naive: output rows (n, oh) [m0, m1) and output channels
// [n0, n1), g = 0.
struct Task {
  int64_t g = 0, m0 = 0, m1 = 0, n0 = 0, n1 = 0;
};

// Runs one task. x: NHWC input, y: NHWC output, ws: this thread's workspace
// (Plan::ws_bytes, 64-byte aligned; null when the algorithm needs none).
// Tasks write disjoint parts of y.
using TaskFn = void (*)(const Plan& plan, const Task& task, const float* x,
                        float* y, void* ws);

struct KernelTable {
  const char* target = "";  // lower-case suffix of kernel ids: "avx2"
  TileShape gemm;           // tile of every GEMM algorithm on this target
  int64_t dw_lanes = 1;     // depthwise: floats per channel vector
  // Kernel ids (XNNPACK style: type, op, MR x NV "v", target).
  const char* gemm_id = "";    // packed-A tile: f32_gemm_6x2v__avx2
  const char* igemm_id = "";   // indirect tile: f32_igemm_6x2v__avx2
  const char* dw_id = "";      // f32_dwconv_4v__avx2
  const char* sw_id = "";      // f32_slidewin_1v__avx2
  const char* pl_id = "";      // f32_pixlanes_6x2v__avx2 (channels x pixel vectors)
  const char* naive_id = "f32_conv_naive";
  // One task function per algorithm (AlgorithmRow::task points here).
  TaskFn im2col_gemm = nullptr;
  TaskFn direct_gemm = nullptr;
  TaskFn shifted_gemm = nullptr;
  TaskFn depthwise = nullptr;
  TaskFn naive = nullptr;
  TaskFn nchw_gemm = nullptr;
  TaskFn nchw_pixel_gemm = nullptr;
  TaskFn sliding_window = nullptr;
  TaskFn pixel_lanes = nullptr;
  // Output pixels per sliding-window tile for a kernel width.
  int64_t (*sw_rows)(int64_t kw) = nullptr;
};

// The table of a compiled target (a bit from dispatch::SelectTarget).
const KernelTable& GetKernelTable(int64_t target);

}  // namespace convkit

#endif  // CONVKIT_LIB_CONV_KERNEL_TABLE_H_
