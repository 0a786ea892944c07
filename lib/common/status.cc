// Status, the one error type of the public API.
#include <utility>

#include "convkit/convkit.h"

namespace convkit {

Status::Status(StatusCode code, std::string field, std::string message)
    : code_(code), field_(std::move(field)), message_(std::move(message)) {}

const char* Version() { return CONVKIT_VERSION_STRING; }

}  // namespace convkit
