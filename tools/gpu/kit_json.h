// A small JSON object writer for the kit's report (keys in insertion order; numbers printed
// with enough digits; strings escaped).
#ifndef DOGSEARCH_TOOLS_GPU_KIT_JSON_H_
#define DOGSEARCH_TOOLS_GPU_KIT_JSON_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace dogsearch::gpu_kit {

std::string JsonString(absl::string_view s);

class JsonObject {
 public:
  JsonObject& Num(absl::string_view key, double v);
  JsonObject& Int(absl::string_view key, int64_t v);
  JsonObject& Str(absl::string_view key, absl::string_view v);
  JsonObject& Bool(absl::string_view key, bool v);
  JsonObject& Raw(absl::string_view key, absl::string_view json);  // An object or array.
  std::string Done() const;

 private:
  std::vector<std::string> fields_;
};

std::string JsonArray(const std::vector<std::string>& items);

}  // namespace dogsearch::gpu_kit

#endif  // DOGSEARCH_TOOLS_GPU_KIT_JSON_H_
