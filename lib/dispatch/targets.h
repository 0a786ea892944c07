// Target selection for convkit's dispatch: which Highway target a call runs,
// given what was compiled, what the CPU supports and the user's limit
// (Options::max_target, SetMaxTarget(), CONVKIT_TARGET). Dispatch happens once
// per call (or once per operator), never per tile.
//
// Why not plain HWY_DYNAMIC_DISPATCH: it indexes the HWY_EXPORT table with
// Highway's process-wide chosen target, which convkit cannot restrict per call
// or per operator without also changing every other Highway user in the
// process. CONVKIT_DISPATCH indexes the same table with a target chosen here.
#ifndef CONVKIT_LIB_DISPATCH_TARGETS_H_
#define CONVKIT_LIB_DISPATCH_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "hwy/highway.h"

namespace convkit {
namespace dispatch {

// Targets compiled into convkit (the HWY_TARGETS of its dispatch files).
int64_t CompiledTargetBits();
// hwy::SupportedTargets(), read once per process.
int64_t HwySupportedTargets();

// Best (lowest-bit) target in `bits`; 0 if none.
inline int64_t BestOf(int64_t bits) { return bits & -bits; }

// Highway's name for one target bit ("AVX3", "SCALAR"...).
const char* TargetName(int64_t target);

// Parses a limit name (case-insensitive; "SCALAR" and "EMU128" both mean the
// portable fallback). Sets *bit to the target bit; "" or "BEST" give 0 (no
// limit). Returns false for unknown names.
bool ParseTargetLimit(const std::string& name, int64_t* bit);

// Chooses the target for a call: the best compiled, CPU-supported target no
// better than `limit` (or the process-wide limit when `limit` is empty).
// Errors name "max_target" or "CONVKIT_TARGET" for unknown names.
Status SelectTarget(const std::string& limit, int64_t* target);

// Index of `target` in a table made by HWY_EXPORT in a translation unit
// compiled with the same HWY_TARGETS as convkit's (all of convkit is).
inline size_t TableIndex(int64_t target) {
#if (HWY_TARGETS & (HWY_TARGETS - 1)) == 0
  (void)target;
  return 0;  // single-target build: HWY_EXPORT makes a one-entry table
#else
  if (target == HWY_SCALAR || target == HWY_EMU128) {
    return HWY_MAX_DYNAMIC_TARGETS + 1;  // the fallback entry
  }
  return static_cast<size_t>(
      hwy::Num0BitsBelowLS1Bit_Nonzero64(static_cast<uint64_t>(
          HWY_CHOSEN_TARGET_SHIFT(target))));
#endif
}

}  // namespace dispatch
}  // namespace convkit

// The per-target function FUNC exported with HWY_EXPORT, for `target` (a bit
// returned by SelectTarget, hence compiled).
#define CONVKIT_DISPATCH(FUNC, target) \
  (*(HWY_DISPATCH_TABLE(FUNC)[::convkit::dispatch::TableIndex(target)]))

#endif  // CONVKIT_LIB_DISPATCH_TARGETS_H_
