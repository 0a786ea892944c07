// Buffers that sit against an inaccessible page, so that a kernel reading or
// writing one float outside them faults at once (as dav1d's checkasm and
// XNNPACK's testers place their buffers). Guard values catch writes that
// change memory; only a PROT_NONE page catches reads, and writes that put
// back the bytes they found (a load-blend-store "masked" store).
#ifndef CONVKIT_TESTS_TESTING_PAGE_GUARD_H_
#define CONVKIT_TESTS_TESTING_PAGE_GUARD_H_

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gtest/gtest.h"

namespace convkit {
namespace testing {

class PageGuarded {
 public:
  // kAfter: the last float is followed by a PROT_NONE page (the first float
  // is then only 4-byte aligned). kBefore: the first float follows one.
  enum class Side { kAfter, kBefore };

  PageGuarded(int64_t count, Side side) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t bytes = static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(float);
    const size_t span = (bytes + page - 1) / page * page;
    size_ = span + 2 * page;
    void* map = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
      ADD_FAILURE() << "mmap of " << size_ << " bytes failed";
      map_ = nullptr;
      return;
    }
    map_ = static_cast<char*>(map);
    EXPECT_EQ(mprotect(map_, page, PROT_NONE), 0);
    EXPECT_EQ(mprotect(map_ + page + span, page, PROT_NONE), 0);
    data_ = reinterpret_cast<float*>(side == Side::kAfter ? map_ + page + span - bytes
                                                          : map_ + page);
  }
  ~PageGuarded() {
    if (map_ != nullptr) munmap(map_, size_);
  }
  PageGuarded(const PageGuarded&) = delete;
  PageGuarded& operator=(const PageGuarded&) = delete;

  float* data() { return data_; }
  // Copies count floats of src in (src may be null: leaves it as is).
  float* Fill(const float* src, int64_t count) {
    if (src != nullptr && count > 0) std::memcpy(data_, src, count * sizeof(float));
    return data_;
  }

 private:
  char* map_ = nullptr;
  size_t size_ = 0;
  float* data_ = nullptr;
};

}  // namespace testing
}  // namespace convkit

#endif  // CONVKIT_TESTS_TESTING_PAGE_GUARD_H_
