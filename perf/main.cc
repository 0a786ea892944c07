// convkit-perf: is convkit faster than oneDNN and XNNPACK on this machine, on
// these layers, and how close to the hardware is it? For each shape, every
// implementation is prepared (untimed), optionally checked against the double
// reference, warmed up, then timed interleaved rep by rep; the report gives
// median and min times, GFLOP/s, % of the measured FMA peak and convkit's
// speed-ups. Run with --help for the options.
#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "convkit/convkit.h"
#include "lib/common/cache.h"
#include "lib/conv/plan.h"
#include "lib/conv/spec_file.h"
#include "lib/dispatch/targets.h"
#include "lib/ref/backward_ref.h"
#include "lib/ref/check.h"
#include "perf/impl.h"
#include "perf/peak.h"
#include "perf/report.h"
#include "perf/suites.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convkit {
namespace perf {
namespace {

const char kUsage[] =
    "usage: convkit-perf [options]\n"
    "Times convkit against oneDNN, XNNPACK and the naive loop on real layers.\n"
    "\n"
    "shapes (default: --suite quick):\n"
    "  --suite NAME      built-in suite: quick, seeds, resnet50, vgg16, mobilenetv2,\n"
    "                    topologies (60 of benchdnn's network layers), all\n"
    "                    (repeatable)\n"
    "  --shape SPEC      one shape, e.g. n=1,h=56,w=56,ci=64,co=64,k=3x3,s=1,p=1,d=1,g=1\n"
    "                    (repeatable). Fields: n, h, w, ci, co, k (required: h, w,\n"
    "                    ci, co, k), s, p, d, g, bias. k/s/d take A or AxB (height x\n"
    "                    width); p takes A, AxB or top:bottom:left:right. Defaults:\n"
    "                    n=1, s=1, p=0, d=1, g=1, bias=0.\n"
    "  --shapes FILE     one SPEC per line; '#' starts a comment line, and the\n"
    "                    comment just before a spec names it\n"
    "\n"
    "what runs:\n"
    "  --threads N       threads (default: all cores): OpenMP's count, which convkit\n"
    "                    and oneDNN take as their maximum (both use fewer on small\n"
    "                    layers); XNNPACK gets a pthreadpool of N threads\n"
    "  --target T        restrict convkit's dispatch to T or below (AVX3, AVX2, SSE4,\n"
    "                    SSSE3, SCALAR...), oneDNN and XNNPACK to the matching ISA\n"
    "  --impls LIST      only these rows, comma-separated: convkit, onednn (both\n"
    "                    of its rows), onednn_nhwc, onednn_blocked, xnnpack, naive,\n"
    "                    or convkit:<algorithm> (one of convkit's algorithms alone,\n"
    "                    e.g. convkit:nchw_pixel_gemm: no other algorithm's calls\n"
    "                    between its own, which --algos interleaves)\n"
    "  --algos           also time each convkit algorithm separately (convkit:<algo>);\n"
    "                    with --pass bwd_data, the one-shot call (convkit:oneshot,\n"
    "                    packing the weights per call) beside the prepared op\n"
    "  --pass P          fwd (default), bwd_data (dx from dy and the weights) or\n"
    "                    bwd_weights (dw and dbias from x and dy): convkit's\n"
    "                    backward calls against oneDNN's backward primitives\n"
    "                    (forward_training hint; XNNPACK and naive sit out)\n"
    "  --layout L        nhwc (default) or nchw: activations in that layout, and\n"
    "                    with nchw the weights in OIHW (PyTorch's pair); oneDNN\n"
    "                    gets the same layouts (its onednn_nhwc row then runs\n"
    "                    NCHW), XNNPACK (timed in NHWC only) sits out\n"
    "  --post P          fused post-ops added to every shape: relu, relu6, sum\n"
    "                    (y += y_prev, a residual), sum_relu (sum, then ReLU), or\n"
    "                    none (default; a shape's own sum=/min=/max= still apply).\n"
    "                    oneDNN runs them as post-ops; XNNPACK has no sum\n"
    "  --no-naive        do not time the naive loop\n"
    "\n"
    "measurement:\n"
    "  --reps N          timed repetitions per implementation (default 10)\n"
    "  --min-time S      keep repeating until S seconds have passed per shape\n"
    "                    (default 0.3)\n"
    "  --warm MS         with several threads, run each implementation untimed for\n"
    "                    MS milliseconds (default 2, at least once) before each of\n"
    "                    its short timed runs, so that its workers are awake\n"
    "  --drain MS        with several threads, busy-wait MS milliseconds (default 40)\n"
    "                    after each XNNPACK run: its pthreadpool workers spin ~35 ms\n"
    "                    after a run and would take a core from the next runtime\n"
    "  --check           compare every output with the double reference (the tests'\n"
    "                    tolerance) before timing; a mismatch exits with status 1\n"
    "\n"
    "output:\n"
    "  --csv FILE        one row per shape x implementation\n"
    "  --json FILE       the same rows plus the machine description\n"
    "  --quiet           no progress on stderr\n"
    "  --describe        print each compiled target's kernels, tile and the cache\n"
    "                    blocking this machine gets (CONVKIT_CACHE=L1D,L2 to see\n"
    "                    another's), then exit\n"
    "  --help\n"
    "\n"
    "Exit status: 0 success, 1 a --check mismatch, 2 bad arguments or shapes.\n";

// Above this estimated time per run the naive loop is skipped.
constexpr double kNaiveMaxSeconds = 2.0;
// Runs shorter than this (seconds) get the untimed run before each timed one.
constexpr double kShortRun = 0.02;
// The naive loop's own repetition budget: it stops after ~this many seconds.
constexpr double kNaiveBudgetSeconds = 0.5;

struct Args {
  std::vector<Suite> suites;
  int threads = 0;
  std::string target;
  bool algos = false;
  std::string post = "none";  // --post
  bool nchw = false;          // --layout nchw
  Pass pass = Pass::kFwd;     // --pass
  std::vector<std::string> impls;  // empty: all built
  int sweeps = 1;
  int reps = 10;
  double min_time = 0.3;
  double warm_ms = 2.0;
  double drain_ms = 40.0;
  bool check = false;
  bool no_naive = false;
  std::string csv, json;
  bool quiet = false;

  // Whether implementation `name` (or its family: "onednn" covers both
  // layouts) was asked for.
  bool Wants(const std::string& name) const {
    if (name == "naive" && no_naive) return false;
    if (impls.empty()) return true;
    for (const std::string& i : impls) {
      if (i == name || (i == "onednn" && name.rfind("onednn_", 0) == 0)) return true;
    }
    return false;
  }
};

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "convkit-perf: %s\n", message.c_str());
  std::exit(2);
}

// Validates a spec line: exit status 2 naming the bad field.
Conv2dDesc ParseSpecOrDie(const std::string& spec, const std::string& where) {
  Conv2dDesc d;
  Status s = ParseShapeSpec(spec, &d);
  if (s.ok()) s = Validate(d);
  if (!s.ok()) {
    Fail(where + ": bad shape \"" + spec + "\": field " + s.field() + ": " + s.message());
  }
  return d;
}

Suite ReadShapesFile(const std::string& path) {
  std::vector<SpecLine> lines;
  if (!ReadSpecLines(path, &lines)) Fail("cannot read --shapes file " + path);
  Suite suite;
  const size_t slash = path.find_last_of('/');
  suite.name = path.substr(slash == std::string::npos ? 0 : slash + 1);
  for (const SpecLine& l : lines) {
    ParseSpecOrDie(l.spec, path + ":" + std::to_string(l.line));
    suite.shapes.push_back({l.comment.empty() ? l.spec : l.comment, l.spec});
  }
  return suite;
}

// --post: the named post-ops on desc; false for an unknown name.
bool ApplyPost(const std::string& post, Conv2dDesc* d) {
  if (post == "none") return true;
  if (post == "relu" || post == "sum_relu") d->output_min = 0.0f;
  if (post == "relu6") {
    d->output_min = 0.0f;
    d->output_max = 6.0f;
  }
  if (post == "sum" || post == "sum_relu") d->has_sum = true;
  return post == "relu" || post == "relu6" || post == "sum" || post == "sum_relu";
}

int ParseInt(const std::string& flag, const std::string& value, int min, int max = 1 << 20) {
  char* end = nullptr;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v < min || v > max) {
    Fail(flag + " needs an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
         "], got \"" + value + "\"");
  }
  return static_cast<int>(v);
}

// An output file's path: not a flag (--csv --quiet would write "--quiet"),
// and writable now, so that a bad path fails before any timing.
std::string OutputPath(const std::string& flag, const std::string& path) {
  if (path.empty() || path.rfind("--", 0) == 0) {
    Fail(flag + " needs a file name, got \"" + path + "\"");
  }
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) Fail(flag + ": cannot write \"" + path + "\": " + std::strerror(errno));
  std::fclose(f);
  return path;
}

double ParseNonNegative(const std::string& flag, const std::string& value,
                        const char* unit) {
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(v >= 0)) {
    Fail(flag + " needs " + unit + " >= 0, got \"" + value + "\"");
  }
  return v;
}

// The kernel table of every compiled target and the blocking the cache
// sizes give (the README's table comes from here).
void Describe() {
  const CacheSizes caches = GetCacheSizes();
  std::printf("caches: L1d %lld KiB, L2 %lld KiB per core\n\n",
              static_cast<long long>(caches.l1d >> 10), static_cast<long long>(caches.l2 >> 10));
  std::printf("| target | packed tile | indirect tile | depthwise | MR x NR | KU | "
              "direct MC/KC/NC (K = 576) | packed MC/KC/NC (K = 576) |\n");
  std::printf("| --- | --- | --- | --- | --- | ---: | --- | --- |\n");
  Conv2dDesc d;
  if (!ParseShapeSpec("n=1,h=56,w=56,ci=64,co=256,k=3x3,p=1", &d).ok()) std::abort();
  const ConvGeometry geo = MakeGeometry(d);
  for (int64_t bits = dispatch::CompiledTargetBits(); bits != 0; bits &= bits - 1) {
    const int64_t target = dispatch::BestOf(bits);
    const KernelTable& kt = GetKernelTable(target);
    const TileShape& t = kt.gemm;
    const Blocking direct = DirectBlocking(geo, t), packed = PackedBlocking(geo, t);
    std::printf("| %s | %s | %s | %s | %lldx%lld | %lld | %lld / %lld / %lld | %lld / %lld / %lld |\n",
                dispatch::TargetName(target), kt.gemm_id, kt.igemm_id, kt.dw_id,
                static_cast<long long>(t.mr), static_cast<long long>(t.nr),
                static_cast<long long>(t.ku), static_cast<long long>(direct.mc),
                static_cast<long long>(direct.kc), static_cast<long long>(direct.nc),
                static_cast<long long>(packed.mc), static_cast<long long>(packed.kc),
                static_cast<long long>(packed.nc));
  }
}

Args ParseArgs(int argc, char** argv) {
  Args args;
  Suite custom;
  custom.name = "custom";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Fail(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a == "--describe") {
      Describe();
      std::exit(0);
    } else if (a == "--suite") {
      const std::string name = value();
      // "all" runs the network suites one after the other, each with its own
      // summary, then an overall one.
      const std::vector<std::string> names =
          name == "all" ? std::vector<std::string>{"seeds", "resnet50", "vgg16", "mobilenetv2",
                                                   "topologies"}
                        : std::vector<std::string>{name};
      for (const std::string& n : names) {
        Suite s;
        if (!GetSuite(n, &s)) {
          std::string known;
          for (const std::string& k : SuiteNames()) known += " " + k;
          Fail("unknown suite \"" + n + "\" (known:" + known + ")");
        }
        args.suites.push_back(s);
      }
    } else if (a == "--shape") {
      const std::string spec = value();
      ParseSpecOrDie(spec, "--shape");
      custom.shapes.push_back({spec, spec});
    } else if (a == "--shapes") {
      args.suites.push_back(ReadShapesFile(value()));
    } else if (a == "--threads") {
      // More threads than 4 per core only time-slice (and thousands make
      // OpenMP runtimes crash or take minutes to start).
      const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      args.threads = ParseInt(a, value(), 1, std::min(kMaxThreads, 4 * cores));
    } else if (a == "--target") {
      args.target = value();
      std::string resolved;
      if (!ResolveTarget(args.target, &resolved).ok()) {
        Fail("--target: \"" + args.target + "\" is not a Highway target name");
      }
    } else if (a == "--reps") {
      args.reps = ParseInt(a, value(), 1);
    } else if (a == "--min-time") {
      args.min_time = ParseNonNegative(a, value(), "seconds");
    } else if (a == "--warm") {
      args.warm_ms = ParseNonNegative(a, value(), "milliseconds");
    } else if (a == "--drain") {
      args.drain_ms = ParseNonNegative(a, value(), "milliseconds");
    } else if (a == "--check") {
      args.check = true;
    } else if (a == "--pass") {
      const std::string p = value();
      if (p == "fwd") {
        args.pass = Pass::kFwd;
      } else if (p == "bwd_data") {
        args.pass = Pass::kBwdData;
      } else if (p == "bwd_weights") {
        args.pass = Pass::kBwdWeights;
      } else {
        Fail("--pass needs fwd, bwd_data or bwd_weights, got \"" + p + "\"");
      }
    } else if (a == "--layout") {
      const std::string l = value();
      if (l != "nhwc" && l != "nchw") Fail("--layout needs nhwc or nchw, got \"" + l + "\"");
      args.nchw = l == "nchw";
    } else if (a == "--post") {
      args.post = value();
      Conv2dDesc probe;
      if (!ApplyPost(args.post, &probe)) {
        Fail("--post needs none, relu, relu6, sum or sum_relu, got \"" + args.post + "\"");
      }
    } else if (a == "--algos") {
      args.algos = true;
    } else if (a == "--no-naive") {
      args.no_naive = true;
    } else if (a == "--impls") {
      const std::string list = value();
      size_t start = 0;
      while (start <= list.size()) {
        const size_t comma = std::min(list.find(',', start), list.size());
        const std::string name = list.substr(start, comma - start);
        static const char* const kKnown[] = {"convkit", "onednn", "onednn_nhwc",
                                             "onednn_blocked", "xnnpack", "naive"};
        Algorithm algo;
        const bool convkit_algo = name.rfind("convkit:", 0) == 0 &&
                                  ParseAlgorithm(name.substr(8), &algo) &&
                                  algo != Algorithm::kAuto;
        if (!convkit_algo &&
            std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) {
          Fail("--impls: unknown implementation \"" + name +
               "\" (known: convkit, onednn, onednn_nhwc, onednn_blocked, xnnpack, naive, "
               "convkit:<algorithm>)");
        }
        args.impls.push_back(name);
        start = comma + 1;
      }
    } else if (a == "--sweeps") {
      args.sweeps = ParseInt(a, value(), 1);
    } else if (a == "--csv") {
      args.csv = OutputPath(a, value());
    } else if (a == "--json") {
      args.json = OutputPath(a, value());
    } else if (a == "--quiet") {
      args.quiet = true;
    } else {
      Fail("unknown option \"" + a + "\" (see --help)");
    }
  }
  if (!custom.shapes.empty()) args.suites.push_back(custom);
  if (args.suites.empty()) {
    Suite quick;
    GetSuite("quick", &quick);
    args.suites.push_back(quick);
  }
  if (args.threads == 0) {
    args.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  return args;
}

double Seconds(std::chrono::steady_clock::time_point a,
               std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void Fill(Floats* v, std::mt19937* rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& x : *v) x = dist(*rng);
}

ShapeData MakeShapeData(const Conv2dDesc& desc, unsigned seed) {
  ShapeData data;
  data.desc = desc;
  const TensorSizes sizes = Sizes(desc);
  std::mt19937 rng(seed);
  data.input.resize(static_cast<size_t>(sizes.input));
  data.weights.resize(static_cast<size_t>(sizes.weights));
  data.bias.resize(static_cast<size_t>(sizes.bias));
  Fill(&data.input, &rng);
  Fill(&data.weights, &rng);
  Fill(&data.bias, &rng);
  if (desc.has_sum) {
    data.prev.resize(static_cast<size_t>(sizes.output));
    Fill(&data.prev, &rng);
  }
  return data;
}

// The naive loop's speed on this machine, to predict whether a shape's run
// stays under kNaiveMaxSeconds.
double NaiveGflops(const RunConfig& config) {
  Conv2dDesc d;
  if (!ParseShapeSpec("n=1,h=20,w=20,ci=32,co=32,k=3x3,p=1", &d).ok()) std::abort();
  const ShapeData data = MakeShapeData(d, 1);
  std::unique_ptr<Impl> naive = MakeNaive();
  std::string why;
  if (!naive->Prepare(data, config, &why)) return 1.0;
  naive->Run();
  const auto start = std::chrono::steady_clock::now();
  int runs = 0;
  do {
    naive->Run();
    ++runs;
  } while (Seconds(start, std::chrono::steady_clock::now()) < 0.05);
  return Flops(d) * runs / Seconds(start, std::chrono::steady_clock::now()) / 1e9;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0 || line.rfind("Model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown CPU";
}

std::string Compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#else
  return "unknown compiler";
#endif
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Timed {
  std::unique_ptr<Impl> impl;
  Row row;
  std::vector<double> times;
  int max_reps = 0;  // 0: no cap beyond the rounds
  bool active = false;
};

// Runs one shape: prepare, check, warm up, interleaved timing. Returns the
// rows (one per implementation) and whether any check failed.
std::vector<Row> RunShape(const Args& args, const std::string& suite,
                          const SuiteShape& shape, const RunConfig& config,
                          double naive_gflops, double peak, bool check, bool* mismatch) {
  Conv2dDesc desc = ParseSpecOrDie(shape.spec, shape.name);
  ApplyPost(args.post, &desc);
  if (args.nchw) {
    desc.layout = Layout::kNchw;
    desc.weights_layout = WeightsLayout::kOihw;
  }
  const double flops = Flops(desc);
  ShapeData data;
  try {
    data = MakeShapeData(desc, 12345);
    if (args.pass != Pass::kFwd) {
      std::mt19937 rng(777);
      data.dy.resize(static_cast<size_t>(Sizes(desc).output));
      Fill(&data.dy, &rng);
    }
  } catch (const std::bad_alloc&) {
    const TensorSizes t = Sizes(desc);
    Fail(shape.name + ": out of memory for its tensors (" +
         std::to_string((t.input + t.weights + t.bias + t.output) * 4 >> 20) + " MiB of floats)");
  }

  std::vector<Timed> impls;
  auto add = [&](std::unique_ptr<Impl> impl) {
    if (impl && args.Wants(impl->name())) impls.push_back({std::move(impl), Row(), {}, 0, false});
  };
  add(MakeConvkit(Algorithm::kAuto));
  if (args.pass == Pass::kFwd) {
    for (Algorithm a : ApplicableAlgorithms(desc)) {
      const bool named = !args.impls.empty() &&
                         std::find(args.impls.begin(), args.impls.end(),
                                   std::string("convkit:") + AlgorithmName(a)) != args.impls.end();
      if (named || (args.algos && args.Wants("convkit") && a != Algorithm::kNaive)) {
        impls.push_back({MakeConvkit(a), Row(), {}, 0, false});
      }
    }
  }
  if (args.algos && args.Wants("convkit") && args.pass == Pass::kBwdData) {
    impls.push_back({MakeConvkitOneShot(), Row(), {}, 0, false});
  }
  add(MakeOnednn(false, args.pass));
  add(MakeOnednn(true, args.pass));
  add(MakeXnnpack());
  add(MakeNaive());

  ref::ReferenceOutputs reference;
  std::vector<double> bwd_value, bwd_abs;  // backward passes: dx or dw
  int64_t bwd_terms = 0;
  if (check && args.pass == Pass::kFwd) {
    const Status s = ref::ComputeReference(desc, data.input.data(), data.weights.data(),
                                           data.bias_or_null(), &reference, data.prev_or_null());
    if (!s.ok()) Fail(shape.spec + ": " + s.message());
  } else if (check) {
    const TensorSizes sz = Sizes(desc);
    int64_t oh = 0, ow = 0;
    if (!OutputShape(desc, &oh, &ow).ok()) Fail(shape.spec + ": bad shape");
    if (args.pass == Pass::kBwdData) {
      bwd_value.resize(static_cast<size_t>(sz.input));
      bwd_abs.resize(bwd_value.size());
      ref::BackwardData(desc, data.dy.data(), data.weights.data(), nullptr, bwd_value.data(),
                        bwd_abs.data());
      bwd_terms = desc.kernel_h * desc.kernel_w * desc.out_channels / desc.groups;
    } else {
      bwd_value.resize(static_cast<size_t>(sz.weights));
      bwd_abs.resize(bwd_value.size());
      std::vector<double> db(static_cast<size_t>(desc.out_channels)), dba(db.size());
      ref::BackwardWeights(desc, data.input.data(), data.dy.data(), bwd_value.data(),
                           bwd_abs.data(), db.data(), dba.data());
      bwd_terms = desc.batch * oh * ow;
    }
  }

  for (Timed& t : impls) {
    Row& r = t.row;
    r.suite = suite;
    r.name = shape.name;
    r.shape = FormatShapeSpec(desc);
    r.impl = t.impl->name();
    r.threads = config.threads;
    r.flops = flops;
    if (r.impl == "naive") {
      const double estimate = flops / (naive_gflops * 1e9);
      if (estimate > kNaiveMaxSeconds) {
        r.status = "skipped";
        char buf[96];
        std::snprintf(buf, sizeof(buf), "one run would take ~%.0f s", estimate);
        r.detail = buf;
        continue;
      }
      t.max_reps = std::max(1, std::min(args.reps, static_cast<int>(
                                                       kNaiveBudgetSeconds / estimate)));
    }
    std::string why;
    if (!t.impl->Prepare(data, config, &why)) {
      r.status = "skipped";
      r.detail = why;
      continue;
    }
    r.detail = t.impl->detail();
    r.target = t.impl->target().empty() ? config.target : t.impl->target();
    r.workspace_bytes = t.impl->workspace_bytes();
    t.impl->Run();  // warm-up (and the checked run)
    if (check) {
      std::vector<float> out;
      t.impl->Output(&out);
      std::string diff;
      if (args.pass == Pass::kFwd) {
        diff = ref::CompareWithReference(desc, reference, out.data(), false);
      } else {
        int64_t bad = 0;
        for (size_t i = 0; i < bwd_value.size() && i < out.size(); ++i) {
          const double tol = ref::Tolerance(bwd_value[i], bwd_abs[i], bwd_terms);
          if (!(std::fabs(out[i] - bwd_value[i]) <= tol)) {
            if (bad++ == 0) {
              diff = "at " + std::to_string(i) + ": got " + std::to_string(out[i]) + " want " +
                     std::to_string(bwd_value[i]);
            }
          }
        }
        if (out.size() != bwd_value.size()) diff = "wrong result size";
        if (bad > 0) diff = std::to_string(bad) + " results wrong, first " + diff;
      }
      if (!diff.empty()) {
        r.status = "mismatch";
        r.detail += (r.detail.empty() ? "" : "; ") + diff.substr(0, diff.find('\n'));
        std::fprintf(stderr, "convkit-perf: MISMATCH %s on %s: %s\n", r.impl.c_str(),
                     shape.spec.c_str(), diff.c_str());
        *mismatch = true;
        continue;
      }
    }
    r.status = "ok";
    t.active = true;
  }

  // Interleaved: every active implementation once per round. With several
  // threads on a small VM, runtimes fight over the cores: pthreadpool's
  // workers spin ~35 ms after each run (each XNNPACK run is followed by a
  // busy-wait, --drain), and sleeping between runs lets idle
  // vCPUs halt, so the next call waits for the host to wake them (measured:
  // whole 4 ms scheduler ticks on 0.1 ms layers). So each short timed run
  // follows untimed runs of the same implementation (--warm), with no
  // sleep: its own workers are awake and the cores busy.
  auto busy_wait = [](double ms) {
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::duration<double, std::milli>(ms);
    while (std::chrono::steady_clock::now() < until) {
    }
  };
  const auto start = std::chrono::steady_clock::now();
  for (int round = 0;; ++round) {
    bool any = false;
    // Each round starts one implementation later, so that none is always
    // the one timed right after another runtime's threads.
    for (size_t i = 0; i < impls.size(); ++i) {
      Timed& t = impls[(i + static_cast<size_t>(round)) % impls.size()];
      if (!t.active || (t.max_reps > 0 && static_cast<int>(t.times.size()) >= t.max_reps)) {
        continue;
      }
      // (Only for short runs: a long run's wake-up cost is noise, and the
      // naive loop would take twice as long.)
      const bool multi = config.threads > 1;
      if (multi && (t.times.empty() || t.times.back() < kShortRun)) {
        const auto warm_start = std::chrono::steady_clock::now();
        do {
          t.impl->Run();
        } while (Seconds(warm_start, std::chrono::steady_clock::now()) * 1e3 < args.warm_ms);
      }
      const auto a = std::chrono::steady_clock::now();
      t.impl->Run();
      t.times.push_back(Seconds(a, std::chrono::steady_clock::now()));
      if (multi && t.impl->name() == "xnnpack") busy_wait(args.drain_ms);
      any = true;
    }
    const bool enough = round + 1 >= args.reps &&
                        Seconds(start, std::chrono::steady_clock::now()) >= args.min_time;
    if (!any || enough || round >= 100000) break;
  }

  std::vector<Row> rows;
  for (Timed& t : impls) {
    Row r = t.row;
    if (!t.times.empty()) {
      r.reps = static_cast<int>(t.times.size());
      r.median_ms = Median(t.times) * 1e3;
      r.min_ms = *std::min_element(t.times.begin(), t.times.end()) * 1e3;
      r.noisy = r.median_ms > 2.0 * r.min_ms;
      r.gflops = flops / (r.median_ms * 1e-3) / 1e9;
      r.pct_peak = peak > 0 ? 100.0 * r.gflops / peak : 0.0;
    }
    rows.push_back(r);
  }
  return rows;
}

int Main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  RunConfig config;
  config.threads = args.threads;
  config.target = args.target;
  config.pass = args.pass;
#if defined(_OPENMP)
  omp_set_num_threads(args.threads);
#endif

  Machine machine;
  machine.cpu = CpuModel();
  if (!ResolveTarget(args.target, &machine.target).ok()) machine.target = args.target;
  machine.threads = args.threads;
  machine.compiler = Compiler();
  machine.convkit = Version();
  machine.onednn = OnednnVersion();
  machine.xnnpack = XnnpackVersion();
  if (!machine.onednn.empty()) {
    const std::string note = OnednnLimitIsa(args.target);
    if (!note.empty()) machine.notes.push_back(note);
  }
  if (!machine.xnnpack.empty()) {
    const std::string note = XnnpackLimitIsa(args.target);
    if (!note.empty()) machine.notes.push_back(note);
  }
  machine.peak_gflops = MeasureFmaPeak(args.target, args.threads);
  const double naive_gflops = args.Wants("naive") ? NaiveGflops(config) : 0.0;
  PrintHeader(machine, stdout);

  size_t total = 0;
  for (const Suite& s : args.suites) total += s.shapes.size();
  total *= static_cast<size_t>(args.sweeps);
  // best[suite][shape]: per implementation, the row of the sweep with the
  // lowest median so far.
  std::vector<std::vector<std::vector<Row>>> best(args.suites.size());
  for (size_t i = 0; i < args.suites.size(); ++i) best[i].resize(args.suites[i].shapes.size());
  bool mismatch = false;
  size_t done = 0;
  for (int sweep = 0; sweep < args.sweeps; ++sweep) {
    const bool last = sweep + 1 == args.sweeps;
    for (size_t si = 0; si < args.suites.size(); ++si) {
      const Suite& suite = args.suites[si];
      for (size_t hi = 0; hi < suite.shapes.size(); ++hi) {
        const SuiteShape& shape = suite.shapes[hi];
        ++done;
        if (!args.quiet) {
          std::fprintf(stderr, "[%zu/%zu] %s%s %s\n", done, total,
                       args.sweeps > 1 ? ("sweep " + std::to_string(sweep + 1) + ": ").c_str()
                                       : "",
                       shape.name.c_str(), shape.spec.c_str());
        }
        std::vector<Row> rows = RunShape(args, suite.name, shape, config, naive_gflops,
                                         machine.peak_gflops, args.check && sweep == 0,
                                         &mismatch);
        std::vector<Row>& kept = best[si][hi];
        if (kept.empty()) {
          kept = rows;
        } else {
          for (size_t i = 0; i < rows.size() && i < kept.size(); ++i) {
            const bool better = rows[i].status == "ok" &&
                                (kept[i].status != "ok" || rows[i].median_ms < kept[i].median_ms);
            if (better) kept[i] = rows[i];
          }
        }
        for (Row& r : kept) r.sweeps = sweep + 1;
        if (last) {
          FillSpeedups(&kept);
          PrintShape(kept, stdout);
        }
      }
      if (last) {
        std::vector<Row> suite_rows;
        for (const std::vector<Row>& rows : best[si]) {
          suite_rows.insert(suite_rows.end(), rows.begin(), rows.end());
        }
        PrintSuiteSummary(suite.name, suite_rows, stdout);
      }
    }
  }
  std::vector<Row> all;
  for (const auto& suite_rows : best) {
    for (const std::vector<Row>& rows : suite_rows) all.insert(all.end(), rows.begin(), rows.end());
  }
  if (args.suites.size() > 1) PrintSuiteSummary("all of the above", all, stdout);
  if (!args.csv.empty() && !WriteCsv(args.csv, all)) Fail("cannot write " + args.csv);
  if (!args.json.empty() && !WriteJson(args.json, machine, all)) Fail("cannot write " + args.json);
  if (mismatch) {
    std::fprintf(stderr, "convkit-perf: --check found mismatches (see above)\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace perf
}  // namespace convkit

int main(int argc, char** argv) { return convkit::perf::Main(argc, argv); }
