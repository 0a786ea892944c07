// Stand-ins when convkit-perf is built without oneDNN.
#include "perf/impl.h"

namespace convkit {
namespace perf {

std::unique_ptr<Impl> MakeOnednn(bool, Pass) { return nullptr; }
std::string OnednnVersion() { return ""; }
std::string OnednnLimitIsa(const std::string&) { return ""; }

}  // namespace perf
}  // namespace convkit
