// convkit-perf's built-in suites: real network layers in the shape syntax.
#ifndef CONVKIT_PERF_SUITES_H_
#define CONVKIT_PERF_SUITES_H_

#include <string>
#include <vector>

namespace convkit {
namespace perf {

struct SuiteShape {
  std::string name;  // layer name, e.g. "resnet50:layer1.0.conv2"
  std::string spec;  // e.g. "n=1,h=56,w=56,ci=64,co=64,k=3x3,p=1"
};

struct Suite {
  std::string name;
  std::vector<SuiteShape> shapes;
};

// Names of the built-in suites, in --help order.
std::vector<std::string> SuiteNames();
// The suite (false if unknown). "all" is the union of the network suites.
bool GetSuite(const std::string& name, Suite* suite);

}  // namespace perf
}  // namespace convkit

#endif  // CONVKIT_PERF_SUITES_H_
