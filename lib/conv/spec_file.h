// Files of shape specs, one per line (the corpus, convkit-perf --shapes):
// '#' starts a comment line, and the comment just before a spec names it.
#ifndef CONVKIT_LIB_CONV_SPEC_FILE_H_
#define CONVKIT_LIB_CONV_SPEC_FILE_H_

#include <string>
#include <vector>

namespace convkit {

struct SpecLine {
  std::string spec;     // trimmed
  std::string comment;  // the preceding '#' line without '#', trimmed; or ""
  int line = 0;         // 1-based line number
};

// Reads every spec line of path (without parsing them); false if the file
// cannot be read.
bool ReadSpecLines(const std::string& path, std::vector<SpecLine>* lines);

}  // namespace convkit

#endif  // CONVKIT_LIB_CONV_SPEC_FILE_H_
