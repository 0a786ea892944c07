#include "lib/common/aligned.h"

#include <atomic>
#include <cstdio>
#include <cstring>

namespace convkit {
namespace {

std::atomic<int64_t> g_fail_at{0};      // 0: off
std::atomic<int64_t> g_alloc_count{0};  // since FailAllocationAt
std::atomic<bool> g_guarded{false};
std::atomic<int64_t> g_violations{0};
std::atomic<int64_t> g_live{0};

// Guarded layout: [size_t bytes | pad to 64][64 guard][data][64 guard].
constexpr size_t kGuardBytes = kAlignment;
constexpr unsigned char kGuardByte = 0xC5;

}  // namespace

namespace debug {

bool FailNextAllocation() {
  const int64_t at = g_fail_at.load(std::memory_order_relaxed);
  if (at == 0) return false;
  return g_alloc_count.fetch_add(1, std::memory_order_relaxed) + 1 == at;
}

void FailAllocationAt(int64_t n) {
  g_alloc_count.store(0, std::memory_order_relaxed);
  g_fail_at.store(n < 0 ? 0 : n, std::memory_order_relaxed);
}
int64_t AllocationsSinceArm() { return g_alloc_count.load(std::memory_order_relaxed); }
void SetGuardedAllocations(bool on) { g_guarded.store(on, std::memory_order_relaxed); }
bool GuardedAllocations() { return g_guarded.load(std::memory_order_relaxed); }
int64_t GuardViolations() { return g_violations.load(std::memory_order_relaxed); }
void ResetGuardViolationsForTest(int64_t value) { g_violations.store(value); }
int64_t LiveAllocations() { return g_live.load(std::memory_order_relaxed); }

}  // namespace debug

void* AllocateBytes(size_t bytes, bool* guarded) {
  *guarded = false;
  if (bytes == 0 || bytes > SIZE_MAX - 4 * kAlignment) return nullptr;
  if (debug::FailNextAllocation()) return nullptr;
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (!g_guarded.load(std::memory_order_relaxed)) {
    void* p = std::aligned_alloc(kAlignment, rounded);
    if (p != nullptr) g_live.fetch_add(1, std::memory_order_relaxed);
    return p;
  }
  unsigned char* base = static_cast<unsigned char*>(
      std::aligned_alloc(kAlignment, kAlignment + 2 * kGuardBytes + rounded));
  if (base == nullptr) return nullptr;
  std::memcpy(base, &bytes, sizeof(bytes));
  unsigned char* data = base + kAlignment + kGuardBytes;
  std::memset(data - kGuardBytes, kGuardByte, kGuardBytes);
  // The rounding slack belongs to the trailing guard too.
  std::memset(data + bytes, kGuardByte, rounded - bytes + kGuardBytes);
  *guarded = true;
  g_live.fetch_add(1, std::memory_order_relaxed);
  return data;
}

void FreeDeleter::operator()(void* p) const {
  if (p == nullptr) return;
  g_live.fetch_sub(1, std::memory_order_relaxed);
  if (!guarded) {
    std::free(p);
    return;
  }
  unsigned char* data = static_cast<unsigned char*>(p);
  unsigned char* base = data - kGuardBytes - kAlignment;
  size_t bytes;
  std::memcpy(&bytes, base, sizeof(bytes));
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  bool ok = true;
  for (size_t i = 0; i < kGuardBytes; ++i) ok &= data[-1 - static_cast<ptrdiff_t>(i)] == kGuardByte;
  for (size_t i = bytes; i < rounded + kGuardBytes; ++i) ok &= data[i] == kGuardByte;
  if (!ok) {
    g_violations.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "convkit: guard zone of a %zu-byte internal buffer overwritten\n",
                 bytes);
  }
  std::free(base);
}

}  // namespace convkit
