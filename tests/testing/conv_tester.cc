#include "tests/testing/conv_tester.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace convkit {
namespace testing {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Guard pattern: a NaN payload no computation produces.
constexpr uint32_t kGuardBits = 0x7FBADBADu;

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

std::string Coord(const ConvData& d, int64_t index) {
  int64_t oh, ow;
  OutputShape(d.desc, &oh, &ow);
  const int64_t co = d.desc.out_channels;
  std::ostringstream s;
  s << "(n=" << index / co / ow / oh << ", oh=" << index / co / ow % oh
    << ", ow=" << index / co % ow << ", o=" << index % co << ")";
  return s.str();
}

}  // namespace

double Tolerance(double ref, double abs_sum, int64_t k) {
  const double u = std::ldexp(1.0, -24);
  const double n = static_cast<double>(k + 1);
  const double gamma = n * u / (1.0 - n * u);
  const double factor = std::min(gamma, 8.0 * std::sqrt(n) * u);
  return factor * abs_sum + u * std::fabs(ref);
}

void FillRandom(float* p, int64_t count, uint64_t seed) {
  const uint64_t base = SplitMix64(seed);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (count > (1 << 20))
#endif
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t r = SplitMix64(base + static_cast<uint64_t>(i));
    p[i] = static_cast<float>(static_cast<double>(r >> 40) * 0x1p-23 - 1.0);
  }
}

void FillIntegers(float* p, int64_t count, int range, uint64_t seed) {
  const uint64_t base = SplitMix64(seed ^ 0x1234567ull);
  const uint64_t span = static_cast<uint64_t>(2 * range + 1);
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t r = SplitMix64(base + static_cast<uint64_t>(i));
    p[i] = static_cast<float>(static_cast<int64_t>((r >> 33) % span) - range);
  }
}

std::unique_ptr<ConvData> MakeData(const Conv2dDesc& desc, Data data, uint64_t seed) {
  auto d = std::make_unique<ConvData>();
  d->desc = desc;
  d->sizes = Sizes(desc);
  const int64_t ni = std::max<int64_t>(d->sizes.input, 1);
  const int64_t nw = std::max<int64_t>(d->sizes.weights, 1);
  const int64_t nb = std::max<int64_t>(desc.out_channels, 1);
  d->input.reset(new float[ni]);
  d->weights.reset(new float[nw]);
  d->bias.reset(new float[nb]);
  if (data == Data::kIntegers) {
    FillIntegers(d->input.get(), ni, 32, seed * 3 + 0);
    FillIntegers(d->weights.get(), nw, 32, seed * 3 + 1);
    FillIntegers(d->bias.get(), nb, 8, seed * 3 + 2);
  } else {
    FillRandom(d->input.get(), ni, seed * 3 + 0);
    FillRandom(d->weights.get(), nw, seed * 3 + 1);
    FillRandom(d->bias.get(), nb, seed * 3 + 2);
  }
  return d;
}

GuardedOutput::GuardedOutput(int64_t count)
    : count_(count), buffer_(new float[count + 2 * kGuard]) {
  Reset();
}

void GuardedOutput::Reset() {
  float guard;
  std::memcpy(&guard, &kGuardBits, sizeof(guard));
  float* b = buffer_.get();
  std::fill(b, b + kGuard, guard);
  std::fill(b + kGuard + count_, b + 2 * kGuard + count_, guard);
  const float nan = std::numeric_limits<float>::quiet_NaN();
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (count_ > (1 << 20))
#endif
  for (int64_t i = 0; i < count_; ++i) b[kGuard + i] = nan;
}

std::string GuardedOutput::CheckGuards() const {
  const float* b = buffer_.get();
  for (int64_t i = 0; i < kGuard; ++i) {
    if (Bits(b[i]) != kGuardBits) {
      return "guard before the output overwritten at offset -" + std::to_string(kGuard - i);
    }
    if (Bits(b[kGuard + count_ + i]) != kGuardBits) {
      return "guard after the output overwritten at offset +" + std::to_string(i);
    }
  }
  return "";
}

std::unique_ptr<Reference> MakeReference(const ConvData& data) {
  auto ref = std::make_unique<Reference>();
  const Conv2dDesc& d = data.desc;
  const int64_t count = data.sizes.output;
  if (count <= Reference::kMaxFullCheck) {
    ref->value.resize(static_cast<size_t>(count));
    ref->abs_sum.resize(static_cast<size_t>(count));
    const Status s = ReferenceConv2d(d, data.input.get(), data.weights.get(),
                                     data.bias_or_null(), ref->value.data(),
                                     ref->abs_sum.data());
    EXPECT_TRUE(s.ok()) << s.message();
    return ref;
  }
  ref->sampled = true;
  int64_t oh, ow;
  OutputShape(d, &oh, &ow);
  std::set<int64_t> pixels;
  for (int64_t n : {int64_t{0}, d.batch - 1}) {
    for (int64_t y = 0; y < oh; ++y) {
      for (int64_t x = 0; x < ow; ++x) {
        if (y < 2 || y >= oh - 2 || x < 2 || x >= ow - 2) {
          pixels.insert((n * oh + y) * ow + x);
        }
      }
    }
  }
  const int64_t total = d.batch * oh * ow;
  for (uint64_t i = 0; i < 4096; ++i) {
    pixels.insert(static_cast<int64_t>(SplitMix64(i + 77) % static_cast<uint64_t>(total)));
  }
  ref->pixels.assign(pixels.begin(), pixels.end());
  const int64_t co = d.out_channels;
  ref->value.resize(ref->pixels.size() * static_cast<size_t>(co));
  ref->abs_sum.resize(ref->value.size());
  const int64_t np = static_cast<int64_t>(ref->pixels.size());
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 16)
#endif
  for (int64_t i = 0; i < np; ++i) {
    const int64_t p = ref->pixels[i];
    for (int64_t o = 0; o < co; ++o) {
      ReferenceConv2dAt(d, data.input.get(), data.weights.get(), data.bias_or_null(),
                        p / (oh * ow), p / ow % oh, p % ow, o,
                        &ref->value[i * co + o], &ref->abs_sum[i * co + o]);
    }
  }
  return ref;
}

std::string CompareWithReference(const ConvData& data, const Reference& ref,
                                 const float* out, bool exact) {
  const Conv2dDesc& d = data.desc;
  const int64_t k = d.kernel_h * d.kernel_w * (d.in_channels / d.groups);
  const int64_t co = d.out_channels;
  std::ostringstream msg;
  int64_t failures = 0;
  auto check = [&](int64_t index, double r, double m) {
    const double y = out[index];
    const double tol = exact ? 0.0 : Tolerance(r, m, k);
    const bool ok = exact ? (Bits(out[index]) == Bits(static_cast<float>(r)) ||
                             (y == 0.0 && r == 0.0))
                          : std::fabs(y - r) <= tol;
    if (!ok) {
      if (failures < 5) {
        msg << "\n  at " << Coord(data, index) << ": got " << y << " want " << r
            << " tol " << tol << " (|err| " << std::fabs(y - r) << ", K=" << k << ")";
      }
      ++failures;
    }
  };
  if (!ref.sampled) {
    for (int64_t i = 0; i < data.sizes.output; ++i) check(i, ref.value[i], ref.abs_sum[i]);
  } else {
    for (size_t i = 0; i < ref.pixels.size(); ++i) {
      for (int64_t o = 0; o < co; ++o) {
        check(ref.pixels[i] * co + o, ref.value[i * co + o], ref.abs_sum[i * co + o]);
      }
    }
    // Outside the sample, every element must at least have been written.
    int64_t unwritten = 0, first = -1;
    for (int64_t i = 0; i < data.sizes.output; ++i) {
      if (std::isnan(out[i])) {
        if (first < 0) first = i;
        ++unwritten;
      }
    }
    if (unwritten > 0) {
      msg << "\n  " << unwritten << " outputs left unwritten (NaN), first at "
          << Coord(data, first);
      failures += unwritten;
    }
  }
  if (failures == 0) return "";
  std::ostringstream head;
  head << failures << " of " << data.sizes.output << " outputs wrong"
       << (ref.sampled ? " (sampled check)" : "") << msg.str();
  return head.str();
}

Status ConvTester::Run(const ConvData& data, GuardedOutput* out, PlanInfo* info) const {
  Options options;
  options.max_target = target_;
  options.algorithm = algorithm_;
  options.threads = threads_;
  out->Reset();
  std::unique_ptr<Conv2d> op;
  Status s = Conv2d::Create(data.desc, data.weights.get(), data.bias_or_null(), options, &op);
  if (!s.ok()) return s;
  *info = op->info();
  return op->Forward(data.input.get(), out->data());
}

::testing::AssertionResult ConvTester::Test(const ConvData& data,
                                            const Reference& ref) const {
  GuardedOutput out(data.sizes.output);
  PlanInfo info;
  const Status s = Run(data, &out, &info);
  std::ostringstream who;
  if (info.kernel.empty()) {  // creation failed: say what was asked for
    info.algorithm = AlgorithmName(algorithm_);
    info.target = target_;
  }
  who << info.kernel << " [" << info.algorithm << ", " << info.target << ", "
      << threads_ << " threads" << (data_ == Data::kIntegers ? ", exact" : "")
      << "] " << FormatShapeSpec(data.desc);
  if (!s.ok()) return ::testing::AssertionFailure() << who.str() << ": " << s.message();
  if (!target_.empty() && info.target != target_ &&
      !(target_ == "SCALAR" && info.target == "EMU128")) {
    return ::testing::AssertionFailure()
           << who.str() << ": ran on " << info.target << ", asked for " << target_;
  }
  const std::string guards = out.CheckGuards();
  if (!guards.empty()) return ::testing::AssertionFailure() << who.str() << ": " << guards;
  const std::string cmp =
      CompareWithReference(data, ref, out.data(), data_ == Data::kIntegers);
  if (!cmp.empty()) return ::testing::AssertionFailure() << who.str() << ": " << cmp;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ConvTester::Test(const Conv2dDesc& desc) const {
  const std::unique_ptr<ConvData> data = MakeData(desc, data_, seed_);
  const std::unique_ptr<Reference> ref = MakeReference(*data);
  return Test(*data, *ref);
}

Conv2dDesc Spec(const std::string& spec) {
  Conv2dDesc d;
  const Status s = ParseShapeSpec(spec, &d);
  EXPECT_TRUE(s.ok()) << spec << ": " << s.message();
  return d;
}

std::vector<SpecLine> ReadSpecFile(const std::string& path) {
  std::vector<SpecLine> lines;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::string line, comment;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos) continue;
    if (line[start] == '#') {
      comment = line.substr(start);
      continue;
    }
    lines.push_back({line.substr(start), comment, number});
    comment.clear();
  }
  return lines;
}

std::string TestDataDir() {
  const char* env = std::getenv("CONVKIT_TEST_DATA_DIR");
  if (env != nullptr && *env != '\0') return env;
  return CONVKIT_TEST_DATA_DIR;
}

}  // namespace testing
}  // namespace convkit
