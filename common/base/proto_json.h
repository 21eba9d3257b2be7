// Protobuf messages as JSON, one way for the whole project: proto field names (snake_case, as
// in the .proto files and the HTTP API), enums by name. Thread-safe.
#ifndef DOGSEARCH_COMMON_BASE_PROTO_JSON_H_
#define DOGSEARCH_COMMON_BASE_PROTO_JSON_H_

#include <string>

#include "absl/status/statusor.h"

namespace google::protobuf {
class Message;
}

namespace dogsearch {

struct JsonStyle {
  bool all_fields = false;  // Print fields at their default values too (API responses).
  bool pretty = false;      // Indented, for files people read (manifests).
};

// INTERNAL when the message cannot be printed (e.g. a string field with invalid UTF-8).
absl::StatusOr<std::string> ProtoToJson(const google::protobuf::Message& message,
                                        JsonStyle style = {});

}  // namespace dogsearch

#endif  // DOGSEARCH_COMMON_BASE_PROTO_JSON_H_
