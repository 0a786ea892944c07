#include "perf/report.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace convkit {
namespace perf {
namespace {

bool Ok(const Row& r) { return r.status == "ok" && !std::isnan(r.median_ms); }

std::string Num(double v, int digits) {
  if (std::isnan(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

// Six significant digits: tiny layers have sub-microsecond-scale figures.
std::string Sig(double v) {
  if (std::isnan(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double v) { return std::isnan(v) ? "null" : Sig(v); }

double GeoMean(const std::vector<double>& v) {
  if (v.empty()) return NAN;
  double s = 0.0;
  for (double x : v) s += std::log(x);
  return std::exp(s / static_cast<double>(v.size()));
}

std::string Times(double v) { return std::isnan(v) ? "-" : Num(v, 2) + "x"; }

}  // namespace

void FillSpeedups(std::vector<Row>* rows) {
  double onednn = NAN, xnnpack = NAN, naive = NAN;
  for (const Row& r : *rows) {
    if (!Ok(r)) continue;
    if (r.impl.rfind("onednn", 0) == 0) {
      onednn = std::isnan(onednn) ? r.median_ms : std::min(onednn, r.median_ms);
    } else if (r.impl == "xnnpack") {
      xnnpack = r.median_ms;
    } else if (r.impl == "naive") {
      naive = r.median_ms;
    }
  }
  double peer = onednn;
  if (std::isnan(peer) || (!std::isnan(xnnpack) && xnnpack < peer)) peer = xnnpack;
  for (Row& r : *rows) {
    if (!Ok(r) || r.impl.rfind("convkit", 0) != 0) continue;
    r.vs_onednn = onednn / r.median_ms;
    r.vs_xnnpack = xnnpack / r.median_ms;
    r.vs_best_peer = peer / r.median_ms;
    r.vs_naive = naive / r.median_ms;
  }
}

void PrintHeader(const Machine& m, FILE* out) {
  std::fprintf(out, "convkit-perf  convkit %s\n", m.convkit.c_str());
  std::fprintf(out, "  machine:  %s\n", m.cpu.c_str());
  std::fprintf(out, "  target:   %s, %d thread%s; measured FMA peak %.1f GFLOP/s\n",
               m.target.c_str(), m.threads, m.threads == 1 ? "" : "s", m.peak_gflops);
  std::fprintf(out, "  compiler: %s\n", m.compiler.c_str());
  std::fprintf(out, "  oneDNN:   %s\n", m.onednn.empty() ? "not built" : m.onednn.c_str());
  std::fprintf(out, "  XNNPACK:  %s\n", m.xnnpack.empty() ? "not built" : m.xnnpack.c_str());
  for (const std::string& note : m.notes) std::fprintf(out, "  note:     %s\n", note.c_str());
  std::fprintf(out, "\n");
}

void PrintShape(const std::vector<Row>& rows, FILE* out) {
  if (rows.empty()) return;
  const Row& first = rows.front();
  std::fprintf(out, "%s  %s  (%.3f GFLOP)\n", first.name.c_str(), first.shape.c_str(),
               first.flops / 1e9);
  std::fprintf(out, "  %-20s %-8s %10s %10s %9s %7s  %s\n", "impl", "status", "median ms",
               "min ms", "GFLOP/s", "%peak", "detail");
  for (const Row& r : rows) {
    const std::string status = r.status + (r.noisy ? "!" : "");
    std::fprintf(out, "  %-20s %-8s %10s %10s %9s %7s  %s\n", r.impl.c_str(), status.c_str(),
                 Num(r.median_ms, 3).c_str(), Num(r.min_ms, 3).c_str(),
                 Num(r.gflops, 1).c_str(), Num(r.pct_peak, 1).c_str(), r.detail.c_str());
  }
  for (const Row& r : rows) {
    if (r.impl != "convkit" || !Ok(r)) continue;
    std::fprintf(out, "  convkit speed-up: vs oneDNN %s, vs XNNPACK %s, vs best peer %s, vs naive %s\n",
                 Times(r.vs_onednn).c_str(), Times(r.vs_xnnpack).c_str(),
                 Times(r.vs_best_peer).c_str(), Times(r.vs_naive).c_str());
  }
  std::fprintf(out, "\n");
  std::fflush(out);
}

void PrintSuiteSummary(const std::string& suite, const std::vector<Row>& rows, FILE* out) {
  std::vector<double> onednn, xnnpack, peer, pct;
  int won = 0, lost = 0, below = 0, noisy = 0, timed = 0;
  const Row* worst = nullptr;
  for (const Row& r : rows) {
    if (Ok(r)) {
      ++timed;
      if (r.noisy) ++noisy;
    }
    if (r.impl != "convkit" || !Ok(r)) continue;
    if (!std::isnan(r.vs_onednn)) onednn.push_back(r.vs_onednn);
    if (!std::isnan(r.vs_xnnpack)) xnnpack.push_back(r.vs_xnnpack);
    if (!std::isnan(r.pct_peak)) pct.push_back(r.pct_peak);
    if (!std::isnan(r.vs_best_peer)) {
      peer.push_back(r.vs_best_peer);
      (r.vs_best_peer >= 1.0 ? won : lost)++;
      if (r.vs_best_peer < 0.9) ++below;
      if (worst == nullptr || r.vs_best_peer < worst->vs_best_peer) worst = &r;
    }
  }
  std::fprintf(out, "== suite %s: convkit geomean speed-up vs oneDNN %s, vs XNNPACK %s, "
               "vs best peer %s; geomean %%peak %s\n",
               suite.c_str(), Times(GeoMean(onednn)).c_str(), Times(GeoMean(xnnpack)).c_str(),
               Times(GeoMean(peer)).c_str(), Num(GeoMean(pct), 1).c_str());
  if (!peer.empty()) {
    std::fprintf(out, "== shapes won %d, lost %d, below 0.9x %d (vs best peer); worst: %s (%s) at %s\n",
                 won, lost, below, worst->name.c_str(), worst->shape.c_str(),
                 Times(worst->vs_best_peer).c_str());
  }
  std::fprintf(out, "== noisy rows (median > 2x min): %d of %d%s\n", noisy, timed,
               noisy > 0 ? ": rerun those with nothing else running, or with --sweeps 3" : "");
  std::fprintf(out, "\n");
  std::fflush(out);
}

bool WriteCsv(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream f(path);
  if (!f.good()) return false;
  f << "suite,name,shape,impl,threads,target,status,median_ms,min_ms,gflops,pct_peak,"
       "workspace_bytes,reps,speedup_vs_onednn,speedup_vs_xnnpack,speedup_vs_best_peer,"
       "speedup_vs_naive,noisy,sweeps,detail\n";
  for (const Row& r : rows) {
    f << CsvField(r.suite) << ',' << CsvField(r.name) << ',' << CsvField(r.shape) << ','
      << CsvField(r.impl) << ',' << r.threads << ',' << CsvField(r.target) << ','
      << r.status << ',' << Sig(r.median_ms) << ',' << Sig(r.min_ms) << ','
      << Sig(r.gflops) << ',' << Sig(r.pct_peak) << ',' << r.workspace_bytes << ','
      << r.reps << ',' << Sig(r.vs_onednn) << ',' << Sig(r.vs_xnnpack) << ','
      << Sig(r.vs_best_peer) << ',' << Sig(r.vs_naive) << ',' << (r.noisy ? 1 : 0) << ','
      << r.sweeps << ',' << CsvField(r.detail)
      << '\n';
  }
  return f.good();
}

bool WriteJson(const std::string& path, const Machine& m, const std::vector<Row>& rows) {
  std::ofstream f(path);
  if (!f.good()) return false;
  f << "{\n  \"machine\": {\"cpu\": " << JsonString(m.cpu)
    << ", \"target\": " << JsonString(m.target) << ", \"threads\": " << m.threads
    << ", \"compiler\": " << JsonString(m.compiler) << ", \"convkit\": " << JsonString(m.convkit)
    << ", \"onednn\": " << JsonString(m.onednn) << ", \"xnnpack\": " << JsonString(m.xnnpack)
    << ", \"peak_gflops\": " << JsonNumber(m.peak_gflops) << ", \"notes\": [";
  for (size_t i = 0; i < m.notes.size(); ++i) f << (i ? ", " : "") << JsonString(m.notes[i]);
  f << "]},\n  \"rows\": [\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    f << "    {\"suite\": " << JsonString(r.suite) << ", \"name\": " << JsonString(r.name)
      << ", \"shape\": " << JsonString(r.shape) << ", \"impl\": " << JsonString(r.impl)
      << ", \"threads\": " << r.threads << ", \"target\": " << JsonString(r.target)
      << ", \"status\": " << JsonString(r.status) << ", \"median_ms\": " << JsonNumber(r.median_ms)
      << ", \"min_ms\": " << JsonNumber(r.min_ms) << ", \"gflops\": " << JsonNumber(r.gflops)
      << ", \"pct_peak\": " << JsonNumber(r.pct_peak)
      << ", \"workspace_bytes\": " << r.workspace_bytes << ", \"reps\": " << r.reps
      << ", \"speedup_vs_onednn\": " << JsonNumber(r.vs_onednn)
      << ", \"speedup_vs_xnnpack\": " << JsonNumber(r.vs_xnnpack)
      << ", \"speedup_vs_best_peer\": " << JsonNumber(r.vs_best_peer)
      << ", \"speedup_vs_naive\": " << JsonNumber(r.vs_naive)
      << ", \"noisy\": " << (r.noisy ? "true" : "false") << ", \"sweeps\": " << r.sweeps
      << ", \"detail\": " << JsonString(r.detail) << "}" << (i + 1 < rows.size() ? "," : "")
      << "\n";
  }
  f << "  ]\n}\n";
  return f.good();
}

}  // namespace perf
}  // namespace convkit
