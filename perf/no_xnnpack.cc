// Stand-ins when convkit-perf is built without XNNPACK.
#include "perf/impl.h"

namespace convkit {
namespace perf {

std::unique_ptr<Impl> MakeXnnpack() { return nullptr; }
std::string XnnpackVersion() { return ""; }
std::string XnnpackLimitIsa(const std::string&) { return ""; }

}  // namespace perf
}  // namespace convkit
