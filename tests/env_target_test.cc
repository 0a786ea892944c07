// Run by meson with CONVKIT_TARGET set in the environment (read once, at the
// first call): checks that it restricts dispatch, or that an unknown value
// is reported naming CONVKIT_TARGET. Usage: env_target_test EXPECTED
// where EXPECTED is a target name or "error"; or "best=T": the best target
// this CPU supports must be T, and automatic dispatch must pick it (run under
// qemu-x86_64-static -cpu Haswell | Westmere | Nehalem, or qemu-aarch64-static, by
// scripts/qemu-suite.py).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "convkit/convkit.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s EXPECTED_TARGET|error\n", argv[0]);
    return 2;
  }
  const char* env = std::getenv("CONVKIT_TARGET");
  std::string expected = argv[1];
  if (expected.rfind("best=", 0) == 0) {
    const std::string best = convkit::SupportedTargets().front();
    convkit::Conv2dDesc d;
    convkit::PlanInfo info;
    const bool ok = convkit::ParseShapeSpec("h=5,w=5,ci=3,co=4,k=3", &d).ok() &&
                    convkit::QueryPlan(d, convkit::Options(), &info).ok();
    std::printf("best supported target %s, dispatch picks %s, want %s\n", best.c_str(),
                info.target.c_str(), expected.c_str() + 5);
    return ok && best == expected.substr(5) && info.target == best ? 0 : 1;
  }
  convkit::Conv2dDesc d;
  if (!convkit::ParseShapeSpec("h=5,w=5,ci=3,co=4,k=3", &d).ok()) return 1;
  std::vector<float> x(75, 1.0f), w(108, 1.0f), y(36, 0.0f);
  convkit::PlanInfo info;
  const convkit::Status q = convkit::QueryPlan(d, convkit::Options(), &info);
  const convkit::Status r =
      convkit::Conv2dForward(d, x.data(), w.data(), nullptr, y.data());
  if (expected == "error") {
    const bool ok = !q.ok() && q.field() == "CONVKIT_TARGET" && !r.ok() &&
                    r.field() == "CONVKIT_TARGET" && y[0] == 0.0f;
    std::printf("CONVKIT_TARGET=%s -> %s\n", env ? env : "(unset)", q.message().c_str());
    return ok ? 0 : 1;
  }
  // The expected target, or the best supported one below it.
  std::string want;
  if (!convkit::ResolveTarget(expected, &want).ok()) return 1;
  std::printf("CONVKIT_TARGET=%s -> %s (%s), want %s\n", env ? env : "(unset)",
              info.target.c_str(), info.kernel.c_str(), want.c_str());
  bool ok = q.ok() && r.ok() && info.target == want && y[0] == 27.0f;
  // The API's limit comes first; removing it ("") gives the environment
  // back; "BEST" overrides it.
  const std::string fallback = convkit::CompiledTargets().back();
  convkit::PlanInfo after;
  ok &= convkit::SetMaxTarget(fallback).ok() &&
        convkit::QueryPlan(d, convkit::Options(), &after).ok() && after.target == fallback;
  ok &= convkit::SetMaxTarget("").ok() &&
        convkit::QueryPlan(d, convkit::Options(), &after).ok() && after.target == want;
  std::string best;
  ok &= convkit::ResolveTarget("BEST", &best).ok() && convkit::SetMaxTarget("BEST").ok() &&
        convkit::QueryPlan(d, convkit::Options(), &after).ok() && after.target == best;
  std::printf("SetMaxTarget: %s, then \"\" -> %s, then BEST -> %s\n", fallback.c_str(),
              want.c_str(), best.c_str());
  return ok ? 0 : 1;
}
