// convkit-perf's results: one Row per shape x implementation, printed as a
// table, summarized per suite, and written as CSV and JSON.
#ifndef CONVKIT_PERF_REPORT_H_
#define CONVKIT_PERF_REPORT_H_

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace convkit {
namespace perf {

struct Machine {
  std::string cpu, target, compiler, convkit, onednn, xnnpack;
  int threads = 0;
  double peak_gflops = 0.0;  // measured FMA peak for target x threads
  std::vector<std::string> notes;
};

struct Row {
  std::string suite, name, shape, impl, target, status = "skipped", detail;
  int threads = 0, reps = 0;
  int sweeps = 1;      // sweeps run; the row is the one with the lowest median
  bool noisy = false;  // median > 2 x min: the machine was busy during the run
  double flops = 0.0;
  double median_ms = NAN, min_ms = NAN, gflops = NAN, pct_peak = NAN;
  size_t workspace_bytes = 0;
  // convkit rows: peer time / this time (NaN when the peer did not run).
  double vs_onednn = NAN, vs_xnnpack = NAN, vs_best_peer = NAN, vs_naive = NAN;
};

// Fills the speed-ups of one shape's convkit rows from its peers' medians
// (oneDNN: the faster of its two layouts).
void FillSpeedups(std::vector<Row>* shape_rows);

void PrintHeader(const Machine& machine, FILE* out);
void PrintShape(const std::vector<Row>& shape_rows, FILE* out);
// Geometric-mean speed-ups of "convkit" vs oneDNN, XNNPACK and the best peer,
// shapes won and lost, those below 0.9x, the worst shape, and how many rows
// were noisy.
void PrintSuiteSummary(const std::string& suite, const std::vector<Row>& rows, FILE* out);

bool WriteCsv(const std::string& path, const std::vector<Row>& rows);
bool WriteJson(const std::string& path, const Machine& machine, const std::vector<Row>& rows);

}  // namespace perf
}  // namespace convkit

#endif  // CONVKIT_PERF_REPORT_H_
