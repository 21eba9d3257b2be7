#include "tools/gpu/kit_json.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace dogsearch::gpu_kit {

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

JsonObject& JsonObject::Num(absl::string_view key, double v) {
  return Raw(key, std::isfinite(v) ? absl::StrFormat("%.6g", v) : "null");
}
JsonObject& JsonObject::Int(absl::string_view key, int64_t v) { return Raw(key, absl::StrCat(v)); }
JsonObject& JsonObject::Str(absl::string_view key, absl::string_view v) {
  return Raw(key, JsonString(v));
}
JsonObject& JsonObject::Bool(absl::string_view key, bool v) {
  return Raw(key, v ? "true" : "false");
}
JsonObject& JsonObject::Raw(absl::string_view key, absl::string_view json) {
  fields_.push_back(absl::StrCat(JsonString(key), ": ", json));
  return *this;
}
std::string JsonObject::Done() const {
  return absl::StrCat("{", absl::StrJoin(fields_, ", "), "}");
}

std::string JsonArray(const std::vector<std::string>& items) {
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

}  // namespace dogsearch::gpu_kit
