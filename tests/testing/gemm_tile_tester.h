// GemmTileTester: checks one register-tile variant against the plain-loop
// twin (ref::GemmTile), XNNPACK's gemm-microkernel-tester style:
//
//   GemmTileTester(shape, "f32_gemm_6x2v__avx2", GetTile).m(5).n(13).k(17)
//       .accumulate(true).Test();
//   GemmTileTester(shape, "f32_igemm_6x2v__avx2", GetIgemmTile).k(40).runs(3)
//       .padding(true).Test();
//
// Panels and row pointers are laid out exactly as the contracts in
// lib/gemm/tile.h say (indirect tiles: K split into `runs` runs of unequal
// lengths, rows past m pointing at NaNs that must not be read, and with
// padding(true) some runs of some rows pointing at a zero row; with
// uniform(true) one pointer set and per-run offsets), C has guard
// columns (ldc > n) and guard rows around it, and the message names the
// kernel id, sizes and position of the first failures.
#ifndef CONVKIT_TESTS_TESTING_GEMM_TILE_TESTER_H_
#define CONVKIT_TESTS_TESTING_GEMM_TILE_TESTER_H_

#include <cstdint>

#include "gtest/gtest.h"
#include "lib/gemm/tile.h"
#include "tests/testing/conv_tester.h"

namespace convkit {
namespace testing {

using GetTileFn = TileFn (*)(int64_t m, int64_t n);
using GetIgemmTileFn = IgemmTileFn (*)(int64_t m, int64_t n);

class GemmTileTester {
 public:
  GemmTileTester(const TileShape& shape, const char* kernel, GetTileFn get)
      : shape_(shape), kernel_(kernel), get_(get), m_(shape.mr), n_(shape.nr) {}
  GemmTileTester(const TileShape& shape, const char* kernel, GetIgemmTileFn get)
      : shape_(shape), kernel_(kernel), get_igemm_(get), m_(shape.mr), n_(shape.nr) {}
  GemmTileTester& m(int64_t v) { m_ = v; return *this; }
  GemmTileTester& n(int64_t v) { n_ = v; return *this; }
  GemmTileTester& k(int64_t v) { k_ = v; return *this; }
  // Extra floats between C rows (ldc = n + c_stride_pad) and B rows
  // (b_stride = NR + b_stride_pad * lanes).
  GemmTileTester& c_stride_pad(int64_t v) { c_pad_ = v; return *this; }
  GemmTileTester& b_stride_pad(int64_t v) { b_pad_ = v; return *this; }
  GemmTileTester& accumulate(bool v) { accumulate_ = v; return *this; }
  GemmTileTester& bias(bool v) { bias_ = v; return *this; }
  // Bias per row (bias[i], the NCHW GEMM's) instead of per column.
  GemmTileTester& bias_rows(bool v) { bias_rows_ = v; return *this; }
  // Post-ops (tile.h): init += scale * C; clamp to [lo, hi] on store.
  GemmTileTester& sum(float scale) { sum_ = true; sum_scale_ = scale; return *this; }
  GemmTileTester& clamp(float lo, float hi) {
    clamp_ = true;
    lo_ = lo;
    hi_ = hi;
    return *this;
  }
  GemmTileTester& data(Data v) { data_ = v; return *this; }
  // Indirect tiles only: K in this many runs, and padding runs; or one row
  // pointer set plus per-run offsets (IgemmA row_stride 0, as interior
  // tiles), which excludes padding.
  GemmTileTester& runs(int64_t v) { runs_ = v; return *this; }
  GemmTileTester& padding(bool v) { padding_ = v; return *this; }
  GemmTileTester& uniform(bool v) { uniform_ = v; return *this; }
  // With uniform: the rows also given as evenly spaced (IgemmA row_step).
  GemmTileTester& strided(bool v) { strided_ = v; return *this; }

  ::testing::AssertionResult Test() const;

 private:
  TileShape shape_;
  const char* kernel_;
  GetTileFn get_ = nullptr;
  GetIgemmTileFn get_igemm_ = nullptr;
  int64_t m_, n_, k_ = 17;
  int64_t runs_ = 1;
  bool padding_ = false;
  bool uniform_ = false;
  bool strided_ = false;
  int64_t c_pad_ = 0, b_pad_ = 0;
  bool accumulate_ = false, bias_ = false;
  bool sum_ = false, clamp_ = false, bias_rows_ = false;
  float sum_scale_ = 1.0f, lo_ = 0.0f, hi_ = 0.0f;
  Data data_ = Data::kRandom;
};

}  // namespace testing
}  // namespace convkit

#endif  // CONVKIT_TESTS_TESTING_GEMM_TILE_TESTER_H_
