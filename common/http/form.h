// Request bodies of HTML forms: multipart/form-data (RFC 7578) and
// application/x-www-form-urlencoded, parsed into named parts under a part-count limit.
// Parts point into the body they were parsed from (no copies): keep the body alive.
// Pure functions; thread-safe.
#ifndef DOGSEARCH_COMMON_HTTP_FORM_H_
#define DOGSEARCH_COMMON_HTTP_FORM_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dogsearch::http {

struct FormPart {
  std::string name;
  std::string filename;      // Empty for plain fields.
  std::string content_type;  // As sent, may be empty.
  absl::string_view data;    // Into the body (multipart); into `storage` (urlencoded).
  std::string storage;       // Owns decoded bytes for urlencoded fields.
};

class Form {
 public:
  Form() = default;
  Form(Form&&) = default;  // Moving keeps parts' data valid (the vector's buffer moves whole).
  Form& operator=(Form&&) = default;
  Form(const Form&) = delete;
  Form& operator=(const Form&) = delete;

  // Parses `body` according to `content_type` (the request's Content-Type header). A body of
  // any other type gives an empty form. INVALID_ARGUMENT names what is malformed; more than
  // max_parts parts is OUT_OF_RANGE.
  static absl::StatusOr<Form> Parse(absl::string_view content_type, absl::string_view body,
                                    size_t max_parts);

  const std::vector<FormPart>& parts() const { return parts_; }
  // First part called `name`, or nullptr.
  const FormPart* Find(absl::string_view name) const;
  // Its data, or "" when absent.
  std::string Value(absl::string_view name) const;

 private:
  std::vector<FormPart> parts_;
};

// The value of a parameter of a header such as `multipart/form-data; boundary="x"` or
// `form-data; name="photo"; filename="a.jpg"` (quotes and backslash escapes removed), or ""
// when absent. Parameter names compare case-insensitively.
std::string HeaderParameter(absl::string_view header_value, absl::string_view parameter);

}  // namespace dogsearch::http

#endif  // DOGSEARCH_COMMON_HTTP_FORM_H_
