// One implementation convkit-perf times: convkit (each algorithm), the naive
// loop, oneDNN, XNNPACK. Prepare does everything that is not timed (weight
// packing or reordering, layout conversion of the input); Run is the timed
// call; Output converts the result to NHWC for --check (not timed).
#ifndef CONVKIT_PERF_IMPL_H_
#define CONVKIT_PERF_IMPL_H_

#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "convkit/convkit.h"

namespace convkit {
namespace perf {

// 64-byte aligned floats, as frameworks allocate tensors (PyTorch, oneDNN's
// own memory objects): every implementation reads and writes aligned
// buffers, so none pays for cache-line splits the others do not.
template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64)));
  }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(64)); }
  bool operator==(const AlignedAllocator&) const { return true; }
  bool operator!=(const AlignedAllocator&) const { return false; }
};
using Floats = std::vector<float, AlignedAllocator<float>>;

// One shape's tensors in convkit's layouts (NHWC input, HWIO weights).
// What is timed (--pass): the forward convolution, or one backward pass.
enum class Pass { kFwd, kBwdData, kBwdWeights };
const char* PassName(Pass pass);

struct ShapeData {
  Conv2dDesc desc;
  Floats input, weights, bias;  // bias empty if !desc.has_bias
  // With the sum post-op, the output's contents before the (checked) first
  // run; empty otherwise. Implementations start their output from it.
  Floats prev;
  // Backward passes: d(loss)/dy (output-sized); empty for the forward pass.
  Floats dy;
  const float* bias_or_null() const { return bias.empty() ? nullptr : bias.data(); }
  const float* prev_or_null() const { return prev.empty() ? nullptr : prev.data(); }
};

struct RunConfig {
  int threads = 1;
  std::string target;  // --target ("" = best)
  Pass pass = Pass::kFwd;
};

class Impl {
 public:
  virtual ~Impl() = default;
  // The CSV "impl" column: convkit, convkit:<algo>, onednn_nhwc,
  // onednn_blocked, xnnpack, naive.
  virtual std::string name() const = 0;
  // False (with the reason) if this implementation cannot run the shape.
  virtual bool Prepare(const ShapeData& data, const RunConfig& config,
                       std::string* why) = 0;
  virtual void Run() = 0;
  // The result (after Run) in the descriptor's layouts: the output, or for
  // backward data dx, for backward weights dw.
  virtual void Output(std::vector<float>* nhwc) = 0;
  // What actually runs (kernel id, oneDNN's implementation name...).
  virtual std::string detail() const { return ""; }
  virtual std::string target() const { return ""; }
  virtual size_t workspace_bytes() const { return 0; }
};

// convkit with one algorithm (kAuto: "convkit"; else "convkit:<algo>"), and
// the naive loop (convkit's Algorithm::kNaive: "naive").
std::unique_ptr<Impl> MakeConvkit(Algorithm algorithm);
// convkit's one-shot backward-data call (packs the weights per call).
std::unique_ptr<Impl> MakeConvkitOneShot();
std::unique_ptr<Impl> MakeNaive();

// Comparators, compiled only when found (perf/meson.build); the factories
// return null otherwise. Version strings name the library and its source.
std::unique_ptr<Impl> MakeOnednn(bool blocked, Pass pass);
std::string OnednnVersion();  // "" when not built
// Restricts oneDNN to the ISA matching a Highway target name; returns a note
// when there is no exact match ("" when exact or not built).
std::string OnednnLimitIsa(const std::string& target);
std::unique_ptr<Impl> MakeXnnpack();
std::string XnnpackVersion();  // "" when not built
// Restricts XNNPACK to the ISA level of a Highway target name (before its
// first use); returns a note saying what it did ("" without a target or
// when not built).
std::string XnnpackLimitIsa(const std::string& target);

}  // namespace perf
}  // namespace convkit

#endif  // CONVKIT_PERF_IMPL_H_
