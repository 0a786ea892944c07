// The consumers' program (scripts/consumers.sh): the public header, the
// compile-time version macros, one convolution checked.
#include <cstdio>
#include <vector>
#include "convkit/convkit.h"
#if !defined(CONVKIT_VERSION_MAJOR)
#error no version macro
#endif
int main() {
  convkit::Conv2dDesc d;
  if (!convkit::ParseShapeSpec("h=5,w=5,ci=3,co=4,k=3", &d).ok()) return 1;
  std::vector<float> x(75, 1.0f), w(108, 1.0f), y(36);
  const convkit::Status s = convkit::Conv2dForward(d, x.data(), w.data(), nullptr, y.data());
  std::printf("%s %s y0=%g (version %s / %d)\n", s.ok() ? "ok" : s.message().c_str(),
              convkit::Version(), y[0], CONVKIT_VERSION_STRING, CONVKIT_VERSION_NUMBER);
  return s.ok() && y[0] == 27.0f ? 0 : 1;
}
