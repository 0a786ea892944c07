// Target names, the process-wide limit and the choice of target per call.
#include "lib/dispatch/targets.h"

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <mutex>

#include "hwy/targets.h"

namespace convkit {
namespace dispatch {
namespace {

// The process-wide limit: kUnset until the first use reads CONVKIT_TARGET.
constexpr int64_t kUnset = -1;
constexpr int64_t kBadEnv = -2;  // CONVKIT_TARGET holds an unknown name
std::atomic<int64_t> g_limit{kUnset};
std::mutex g_env_mutex;
std::string g_env_value;  // for the error message; guarded by g_env_mutex

std::string Upper(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

int64_t FallbackBit() {
  const int64_t compiled = CompiledTargetBits();
  return (compiled & HWY_EMU128) ? HWY_EMU128 : HWY_SCALAR;
}

int64_t LoadLimit() {
  int64_t limit = g_limit.load(std::memory_order_acquire);
  if (limit != kUnset) return limit;
  std::lock_guard<std::mutex> lock(g_env_mutex);
  limit = g_limit.load(std::memory_order_acquire);
  if (limit != kUnset) return limit;
  const char* env = std::getenv("CONVKIT_TARGET");
  int64_t bit = 0;
  if (env != nullptr && !ParseTargetLimit(env, &bit)) {
    g_env_value = env;
    bit = kBadEnv;
  }
  g_limit.store(bit, std::memory_order_release);
  return bit;
}

// "(this build has SVE_256, SVE2, SVE, NEON, SCALAR)": the names a caller
// may give, best first, from what was compiled for this architecture.
std::string KnownTargetsHint() {
  std::string names;
  const int64_t compiled = CompiledTargetBits();
  for (int b = 0; b < 63; ++b) {
    const int64_t t = int64_t{1} << b;
    if ((compiled & t) == 0) continue;
    names += names.empty() ? "" : ", ";
    names += (t == HWY_SCALAR || t == HWY_EMU128) ? "SCALAR" : hwy::TargetName(t);
  }
  return " (this build has " + names + ", or BEST)";
}

}  // namespace

int64_t CompiledTargetBits() { return HWY_TARGETS; }

int64_t HwySupportedTargets() {
  // Read once: Highway 1.0.3 runs cpuid on every call, which traps to the
  // hypervisor in a VM (2-4% of a small backward call's time in perf
  // record, since every one-shot call selects its target).
  static const int64_t bits = static_cast<int64_t>(hwy::SupportedTargets());
  return bits;
}

const char* TargetName(int64_t target) { return hwy::TargetName(target); }

bool ParseTargetLimit(const std::string& name, int64_t* bit) {
  const std::string upper = Upper(name);
  if (upper.empty() || upper == "BEST") {
    *bit = 0;
    return true;
  }
  if (upper == "SCALAR" || upper == "EMU128") {
    *bit = FallbackBit();
    return true;
  }
  for (int b = 0; b < 63; ++b) {
    const int64_t t = int64_t{1} << b;
    if (t == HWY_SCALAR || t == HWY_EMU128) continue;
    if (upper == hwy::TargetName(t)) {
      *bit = t;
      return true;
    }
  }
  return false;
}

Status SelectTarget(const std::string& limit, int64_t* target) {
  int64_t limit_bit = 0;
  if (!limit.empty()) {
    if (!ParseTargetLimit(limit, &limit_bit)) {
      return Status(StatusCode::kInvalidArgument, "max_target",
                    "convkit: max_target \"" + limit +
                        "\" is not a Highway target name" + KnownTargetsHint());
    }
  } else {
    limit_bit = LoadLimit();
    if (limit_bit == kBadEnv) {
      std::lock_guard<std::mutex> lock(g_env_mutex);
      return Status(StatusCode::kInvalidArgument, "CONVKIT_TARGET",
                    "convkit: CONVKIT_TARGET=\"" + g_env_value +
                        "\" is not a Highway target name" + KnownTargetsHint());
    }
  }
  // Lower bits are better targets: "no better than limit" keeps bits >= it.
  const int64_t allowed = limit_bit == 0 ? ~int64_t{0} : ~(limit_bit - 1);
  const int64_t usable = CompiledTargetBits() & HwySupportedTargets() & allowed;
  // The portable fallback runs on every CPU even if SupportedTargets omits it.
  const int64_t chosen = usable != 0 ? BestOf(usable) : FallbackBit();
  *target = chosen;
  return Status();
}

}  // namespace dispatch

Status SetMaxTarget(const std::string& name) {
  int64_t bit = 0;
  if (!dispatch::ParseTargetLimit(name, &bit)) {
    return Status(StatusCode::kInvalidArgument, "target",
                  "convkit: \"" + name +
                      "\" is not a Highway target name" + dispatch::KnownTargetsHint());
  }
  // "" removes the API's limit, so that CONVKIT_TARGET (next in order)
  // applies again: re-read at the next use. "BEST" is an explicit "none".
  dispatch::g_limit.store(name.empty() ? dispatch::kUnset : bit, std::memory_order_release);
  return Status();
}

std::string MaxTarget() {
  const int64_t bit = dispatch::LoadLimit();
  if (bit == 0 || bit == dispatch::kBadEnv) return "";
  return dispatch::TargetName(bit);
}

std::vector<std::string> CompiledTargets() {
  std::vector<std::string> names;
  for (int64_t bits = dispatch::CompiledTargetBits(); bits != 0; bits &= bits - 1) {
    names.push_back(dispatch::TargetName(dispatch::BestOf(bits)));
  }
  return names;
}

std::vector<std::string> SupportedTargets() {
  std::vector<std::string> names;
  const int64_t fallback = dispatch::FallbackBit();
  for (int64_t bits = dispatch::CompiledTargetBits(); bits != 0; bits &= bits - 1) {
    const int64_t t = dispatch::BestOf(bits);
    if ((dispatch::HwySupportedTargets() & t) != 0 || t == fallback) {
      names.push_back(dispatch::TargetName(t));
    }
  }
  return names;
}

Status ResolveTarget(const std::string& limit, std::string* target) {
  int64_t bit = 0;
  Status status = dispatch::SelectTarget(limit, &bit);
  if (status.ok()) *target = dispatch::TargetName(bit);
  return status;
}

}  // namespace convkit
