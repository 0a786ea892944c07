// The FP32 peak convkit-perf reports against: an FMA microbenchmark for the
// dispatched target, run on the requested number of threads at once.
// Compiled per target like the kernels; each thread runs 12 independent
// MulAdd chains on whole vectors (enough to cover FMA latency x throughput on
// current x86 and Arm cores: 4 cycles x 2 pipes = 8).

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "perf/peak.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <chrono>

#include "hwy/highway.h"
#include "lib/common/threads.h"

HWY_BEFORE_NAMESPACE();
namespace convkit {
namespace perf {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Keeps the loops' results alive.
volatile float g_sink = 0.0f;

// iterations x 12 MulAdds on one thread; returns a value so nothing is
// optimized away.
HWY_NOINLINE float FmaLoop(int64_t iterations, float seed) {
  const hn::ScalableTag<float> d;
  const auto m = hn::Set(d, 0.999999f);
  const auto c = hn::Set(d, 1e-7f);
  auto a0 = hn::Set(d, seed), a1 = hn::Set(d, seed + 1), a2 = hn::Set(d, seed + 2);
  auto a3 = hn::Set(d, seed + 3), a4 = hn::Set(d, seed + 4), a5 = hn::Set(d, seed + 5);
  auto a6 = hn::Set(d, seed + 6), a7 = hn::Set(d, seed + 7), a8 = hn::Set(d, seed + 8);
  auto a9 = hn::Set(d, seed + 9), a10 = hn::Set(d, seed + 10), a11 = hn::Set(d, seed + 11);
  for (int64_t i = 0; i < iterations; ++i) {
    a0 = hn::MulAdd(a0, m, c);
    a1 = hn::MulAdd(a1, m, c);
    a2 = hn::MulAdd(a2, m, c);
    a3 = hn::MulAdd(a3, m, c);
    a4 = hn::MulAdd(a4, m, c);
    a5 = hn::MulAdd(a5, m, c);
    a6 = hn::MulAdd(a6, m, c);
    a7 = hn::MulAdd(a7, m, c);
    a8 = hn::MulAdd(a8, m, c);
    a9 = hn::MulAdd(a9, m, c);
    a10 = hn::MulAdd(a10, m, c);
    a11 = hn::MulAdd(a11, m, c);
  }
  const auto sum = hn::Add(hn::Add(hn::Add(a0, a1), hn::Add(a2, a3)),
                           hn::Add(hn::Add(hn::Add(a4, a5), hn::Add(a6, a7)),
                                   hn::Add(hn::Add(a8, a9), hn::Add(a10, a11))));
  return hn::GetLane(sum);
}

int64_t Lanes() { return static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>())); }

// GFLOP/s of `threads` threads each running the loop at once (best of 5).
double FmaPeak(int threads) {
  const int64_t iterations = 20'000'000 / Lanes() + 1'000'000;
  double best = 0.0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    float total = 0.0f;
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads) reduction(+ : total)
#endif
    { total += FmaLoop(iterations, static_cast<float>(ThreadIndex())); }
    g_sink = total;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double flops = 2.0 * 12.0 * static_cast<double>(Lanes()) *
                         static_cast<double>(iterations) * threads;
    if (flops / seconds > best) best = flops / seconds;
  }
  return best / 1e9;
}

}  // namespace HWY_NAMESPACE
}  // namespace perf
}  // namespace convkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "lib/dispatch/targets.h"
#include "perf/peak.h"

namespace convkit {
namespace perf {

HWY_EXPORT(FmaPeak);

double MeasureFmaPeak(const std::string& target, int threads) {
  int64_t bit = 0;
  if (!dispatch::SelectTarget(target, &bit).ok()) return 0.0;
  return CONVKIT_DISPATCH(FmaPeak, bit)(threads);
}

}  // namespace perf
}  // namespace convkit
#endif  // HWY_ONCE
