// Plain data for one HTTP/1.1 exchange, shared by the server, its parser and route handlers.
// Header names are stored lower-cased; values as sent (trimmed). No I/O here.
#ifndef DOGSEARCH_COMMON_HTTP_HTTP_MESSAGE_H_
#define DOGSEARCH_COMMON_HTTP_HTTP_MESSAGE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace dogsearch::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent (upper case by RFC 9110 convention).
  std::string target;  // Raw request target, e.g. "/api/dogs?page_size=10".
  std::string path;    // Target before '?', not decoded.
  std::vector<std::pair<std::string, std::string>> query;  // Decoded name=value pairs.
  HeaderList headers;                                      // Lower-case names.
  int minor_version = 1;                                   // HTTP/1.<minor>.
  uint64_t content_length = 0;
  std::vector<std::string> path_params;  // Decoded "{}" segments of the matched route.
  std::string body;  // Empty until the admission check has passed and the body is read.
  std::string peer;  // Client address ("127.0.0.1", "::1").
  bool tls = false;

  // First value of a header (name in lower case), or nullptr.
  const std::string* Header(absl::string_view lower_name) const;
  // First value of a query parameter, or "" when absent.
  std::string Query(absl::string_view name) const;
  bool HasQuery(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;  // Names as they should be sent.
  std::string body;

  void Set(absl::string_view name, absl::string_view value);
  void SetBody(std::string content, absl::string_view content_type);
  const std::string* Find(absl::string_view name) const;  // Case-insensitive.
};

}  // namespace dogsearch::http

#endif  // DOGSEARCH_COMMON_HTTP_HTTP_MESSAGE_H_
