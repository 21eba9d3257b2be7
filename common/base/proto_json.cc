#include "common/base/proto_json.h"

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"

namespace dogsearch {

absl::StatusOr<std::string> ProtoToJson(const google::protobuf::Message& message, JsonStyle style) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = style.all_fields;
  opts.add_whitespace = style.pretty;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, opts).ok()) {
    return absl::InternalError(absl::StrCat("cannot print a ", message.GetTypeName(), " as JSON"));
  }
  return json;
}

}  // namespace dogsearch
