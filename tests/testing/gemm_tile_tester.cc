#include "tests/testing/gemm_tile_tester.h"

#include <cmath>
#include <algorithm>
#include <cstring>
#include <sstream>
#include <vector>

#include "lib/common/aligned.h"
#include "lib/ref/ref_kernels.h"

namespace convkit {
namespace testing {
namespace {

constexpr float kGuard = -777.25f;
constexpr int64_t kGuardRows = 2;

void Fill(float* p, int64_t count, Data data, uint64_t seed) {
  if (data == Data::kIntegers) {
    FillIntegers(p, count, 32, seed);
  } else {
    FillRandom(p, count, seed);
  }
}

}  // namespace

::testing::AssertionResult GemmTileTester::Test() const {
  const int64_t mr = shape_.mr, nr = shape_.nr;
  const int64_t b_stride = nr + b_pad_ * shape_.lanes;
  const int64_t ldc = n_ + c_pad_;
  const bool indirect = get_igemm_ != nullptr;
  std::ostringstream who;
  who << kernel_ << " ku=" << shape_.ku << " m=" << m_ << " n=" << n_ << " k=" << k_;
  if (indirect) {
    who << " runs=" << runs_ << (padding_ ? " padding" : "") << (uniform_ ? " uniform" : "")
        << (strided_ ? " strided" : "");
  }
  who
      << (accumulate_ ? " accumulate" : "") << (bias_ ? " bias" : "")
      << (bias_rows_ ? " bias_rows" : "")
      << (sum_ ? " sum=" + std::to_string(sum_scale_) : "")
      << (clamp_ ? " clamp=[" + std::to_string(lo_) + "," + std::to_string(hi_) + "]" : "")
      << " ldc=" << ldc << " b_stride=" << b_stride
      << (data_ == Data::kIntegers ? " exact" : "");
  if (m_ < 1 || m_ > mr || n_ < 1 || n_ > nr || k_ < 1 || runs_ < 1 || runs_ > k_ ||
      (uniform_ && padding_) || (strided_ && !uniform_)) {
    return ::testing::AssertionFailure() << who.str() << ": outside the contract";
  }
  // A panel: mr x k, k-interleaved by ku (tile.h); rows >= m and columns
  // >= k hold NaN, which must not be read.
  const int64_t ku = shape_.ku;
  std::vector<float> a(static_cast<size_t>(mr * ((k_ + ku - 1) / ku * ku)), std::nanf(""));
  std::vector<float> a_rows(static_cast<size_t>(m_ * k_));
  Fill(a_rows.data(), m_ * k_, data_, 1);
  // Indirect: runs of unequal lengths (the first ones shorter), row
  // pointers into a_rows, rows >= m at NaNs, and with padding every third
  // (run, row) at a zero row, whose entries of A are then 0.
  std::vector<int64_t> run_len, run_start;
  std::vector<const float*> ptrs;
  const int64_t zero_offset = 0;
  IgemmA ia;
  const std::vector<float> nans(static_cast<size_t>(k_), std::nanf(""));
  const std::vector<float> zeros(static_cast<size_t>(k_), 0.0f);
  if (indirect) {
    int64_t start = 0;
    for (int64_t r = 0; r < runs_; ++r) {
      const int64_t left = k_ - start, runs_left = runs_ - r;
      const int64_t len = r + 1 == runs_ ? left : std::max<int64_t>(1, (left / runs_left) - (r % 2));
      run_start.push_back(start);
      run_len.push_back(len);
      start += len;
    }
    ptrs.assign(static_cast<size_t>(runs_ * mr), nullptr);
    for (int64_t r = 0; r < runs_; ++r) {
      for (int64_t i = 0; i < mr; ++i) {
        const float* p = nans.data();
        if (i < m_) {
          if (padding_ && (r * mr + i) % 3 == 1) {
            p = zeros.data();
            for (int64_t q = 0; q < run_len[r]; ++q) a_rows[i * k_ + run_start[r] + q] = 0.0f;
          } else {
            p = a_rows.data() + i * k_ + run_start[r];
          }
        }
        ptrs[static_cast<size_t>(r * mr + i)] = p;
      }
    }
    ia.rows = ptrs.data();
    ia.row_stride = mr;
    ia.off = &zero_offset;
    ia.off_stride = 0;
    if (uniform_) {  // row i's base, runs at their start offsets
      for (int64_t i = 0; i < mr; ++i) {
        ptrs[static_cast<size_t>(i)] = i < m_ ? a_rows.data() + i * k_ : nans.data();
      }
      ia.row_stride = 0;
      ia.off = run_start.data();
      ia.off_stride = 1;
      if (strided_) ia.row_step = k_;  // rows < m are k apart
    }
    ia.len = run_len.data();
    ia.runs = runs_;
  }
  for (int64_t p = 0; p < k_; ++p) {
    for (int64_t i = 0; i < m_; ++i) {
      a[ref::PanelIndex(mr, ku, k_, i, p)] = a_rows[i * k_ + p];
    }
  }
  // B panel: k rows of b_stride, vector-aligned, zero-padded past n.
  AlignedFloats b = AllocateFloats(static_cast<size_t>(k_ * b_stride));
  std::vector<float> b_vals(static_cast<size_t>(k_ * n_));
  Fill(b_vals.data(), k_ * n_, data_, 2);
  for (int64_t p = 0; p < k_; ++p) {
    for (int64_t j = 0; j < b_stride; ++j) {
      b[p * b_stride + j] = j < n_ ? b_vals[p * n_ + j] : 0.0f;
    }
  }
  const int64_t nbias = std::max(nr, mr);  // per column, or per row
  AlignedFloats bias = AllocateFloats(static_cast<size_t>(nbias));
  Fill(bias.get(), nbias, data_ == Data::kIntegers ? Data::kIntegers : Data::kRandom, 3);
  if (!bias_rows_) {
    for (int64_t j = n_; j < nr; ++j) bias[j] = 0.0f;
  }
  // C with guard rows above and below and guard columns between rows.
  const int64_t rows = m_ + 2 * kGuardRows;
  std::vector<float> c(static_cast<size_t>(rows * ldc), kGuard);
  float* c0 = c.data() + kGuardRows * ldc;
  std::vector<float> c_init(static_cast<size_t>(m_ * n_));
  Fill(c_init.data(), m_ * n_, data_, 4);
  for (int64_t i = 0; i < m_; ++i) {
    for (int64_t j = 0; j < n_; ++j) {
      c0[i * ldc + j] = accumulate_ || sum_ ? c_init[i * n_ + j] : std::nanf("");
    }
  }
  std::vector<double> want(static_cast<size_t>(m_ * n_)), mag(want.size());
  TileOps ops;
  ops.bias = bias_ ? bias.get() : nullptr;
  ops.bias_rows = bias_rows_;
  ops.accumulate = accumulate_;
  ops.sum = sum_;
  ops.sum_scale = sum_scale_;
  ops.clamp = clamp_;
  ops.lo = lo_;
  ops.hi = hi_;
  ref::GemmTile(mr, ku, a.data(), b.get(), k_, b_stride, c0, ldc, m_, n_, ops, want.data(),
                mag.data());

  if (indirect) {
    get_igemm_(m_, n_)(ia, b.get(), b_stride, c0, ldc, n_, ops);
  } else {
    get_(m_, n_)(a.data(), b.get(), k_, b_stride, c0, ldc, n_, ops);
  }

  std::ostringstream msg;
  int64_t failures = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < ldc; ++j) {
      const int64_t i = r - kGuardRows;
      const float got = c[r * ldc + j];
      const bool inside = i >= 0 && i < m_ && j < n_;
      bool ok;
      double w = kGuard, tol = 0.0;
      if (inside) {
        w = want[i * n_ + j];
        // One more term with the sum post-op (the clamp cannot add error).
        tol = data_ == Data::kIntegers ? 0.0
                                       : Tolerance(w, mag[i * n_ + j], k_ + (sum_ ? 1 : 0));
        ok = std::fabs(got - w) <= tol;
      } else {
        ok = got == kGuard;
      }
      if (!ok) {
        if (failures++ < 5) {
          msg << "\n  at (" << i << "," << j << ")" << (inside ? "" : " [guard]")
              << ": got " << got << " want " << w << " tol " << tol;
        }
      }
    }
  }
  if (failures > 0) {
    return ::testing::AssertionFailure() << who.str() << ": " << failures
                                         << " wrong" << msg.str();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace testing
}  // namespace convkit
