// oneDNN's own benchdnn corner cases (tests/data/corpus, see its README),
// shapes nobody on this project chose. Every shape runs on the best target
// and on the portable fallback; every 16th shape (a fixed sample of 633) runs
// on the other targets. Odd-numbered shapes get a bias. Shapes whose output
// exceeds 2^26 elements (one: a 4480x2976x64 depthwise layer with 3.2 GB
// tensors) are checked at a documented sample of output pixels
// (ReferenceOutputs in lib/ref/check.h) plus an every-element NaN scan.
// CONVKIT_CORPUS_EVERY=N makes every target run every Nth shape only
// (scripts/qemu-suite.py, under emulation).
#include <cstdlib>
#include <string>
#include <vector>

#include "convkit/convkit.h"
#include "gtest/gtest.h"
#include "tests/testing/conv_tester.h"
#include "tests/testing/targets.h"

namespace convkit {
namespace testing {
namespace {

constexpr size_t kSampleEvery = 16;

class CorpusTest : public TargetTest {};
CONVKIT_INSTANTIATE_PER_TARGET(CorpusTest);

TEST_P(CorpusTest, BenchdnnEdge) {
  const std::vector<SpecLine> lines =
      ReadSpecFile(TestDataDir() + "/corpus/benchdnn-edge.spec");
  ASSERT_GT(lines.size(), 10000u);
  bool full = target() == BestTarget() || target() == FallbackTarget();
  size_t every = kSampleEvery;
  if (const char* env = std::getenv("CONVKIT_CORPUS_EVERY")) {
    every = static_cast<size_t>(std::strtoul(env, nullptr, 10));
    ASSERT_GE(every, 1u) << "CONVKIT_CORPUS_EVERY=" << env;
    full = false;
  }
  size_t tested = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!full && i % every != 0) continue;
    Conv2dDesc d;
    const Status s = ParseShapeSpec(lines[i].spec, &d);
    ASSERT_TRUE(s.ok()) << "line " << lines[i].line << ": " << s.message();
    d.has_bias = i % 2 == 1;
    EXPECT_TRUE(ConvTester().target(target()).seed(i).Test(d))
        << lines[i].comment << " (line " << lines[i].line << ")";
    ++tested;
  }
  RecordProperty("shapes", static_cast<int>(tested));
  if (!full) {
    EXPECT_GE(tested, (lines.size() - 1) / every);
  }
}

}  // namespace
}  // namespace testing
}  // namespace convkit
