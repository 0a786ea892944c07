// GemmTileTester: checks one register-tile variant against the plain-loop
// twin (ref::GemmTile), XNNPACK's gemm-microkernel-tester style:
//
//   GemmTileTester(config, GetTile).m(5).n(13).k(17).accumulate(true).Test();
//
// Panels are packed exactly as the contract in lib/gemm/tile.h says, C has
// guard columns (ldc > n) and guard rows around it, and the message names the
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

class GemmTileTester {
 public:
  GemmTileTester(const TileConfig& config, GetTileFn get)
      : config_(config), get_(get), m_(config.mr), n_(config.nr) {}
  GemmTileTester& m(int64_t v) { m_ = v; return *this; }
  GemmTileTester& n(int64_t v) { n_ = v; return *this; }
  GemmTileTester& k(int64_t v) { k_ = v; return *this; }
  // Extra floats between C rows (ldc = n + c_stride_pad) and B rows
  // (b_stride = NR + b_stride_pad * lanes).
  GemmTileTester& c_stride_pad(int64_t v) { c_pad_ = v; return *this; }
  GemmTileTester& b_stride_pad(int64_t v) { b_pad_ = v; return *this; }
  GemmTileTester& accumulate(bool v) { accumulate_ = v; return *this; }
  GemmTileTester& bias(bool v) { bias_ = v; return *this; }
  GemmTileTester& data(Data v) { data_ = v; return *this; }

  ::testing::AssertionResult Test() const;

 private:
  TileConfig config_;
  GetTileFn get_;
  int64_t m_, n_, k_ = 17;
  int64_t c_pad_ = 0, b_pad_ = 0;
  bool accumulate_ = false, bias_ = false;
  Data data_ = Data::kRandom;
};

}  // namespace testing
}  // namespace convkit

#endif  // CONVKIT_TESTS_TESTING_GEMM_TILE_TESTER_H_
