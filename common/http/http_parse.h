// HTTP/1.1 wire format without I/O: parsing a request head (request line + header fields)
// under explicit limits, percent-decoding, query strings, and serialising a response.
// Everything it refuses is a clear InvalidArgument / OutOfRange message, never a crash.
// Pure functions; thread-safe.
#ifndef DOGSEARCH_COMMON_HTTP_HTTP_PARSE_H_
#define DOGSEARCH_COMMON_HTTP_HTTP_PARSE_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/http/http_message.h"

namespace dogsearch::http {

struct HeadLimits {
  size_t max_head_bytes = 16 << 10;  // Request line + all header lines.
  size_t max_headers = 64;
  size_t max_target_bytes = 4 << 10;
};

// Parses `head` (everything before the blank line, without the final CRLF CRLF). Fills
// method, target, path, query, headers, minor_version and content_length. Refuses (with a
// message naming the problem): a malformed request line or header, an HTTP version other
// than 1.0/1.1, obsolete line folding, too many headers, conflicting Content-Length, and any
// Transfer-Encoding (FAILED_PRECONDITION: bodies must declare their length).
absl::Status ParseRequestHead(absl::string_view head, const HeadLimits& limits,
                              HttpRequest* request);

// "%41b+c" -> "Ab c" when plus_is_space. Refuses malformed escapes and NUL bytes.
absl::StatusOr<std::string> PercentDecode(absl::string_view s, bool plus_is_space);

// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}} appended to *out.
absl::Status ParseQueryString(absl::string_view s,
                              std::vector<std::pair<std::string, std::string>>* out);

// Whether the connection stays open after this request (HTTP/1.1 unless "Connection: close";
// HTTP/1.0 only with "Connection: keep-alive").
bool WantsKeepAlive(const HttpRequest& request);

// The status line, headers (plus Content-Length and Connection) and, unless head_only, the body.
std::string SerializeResponse(const HttpResponse& response, bool keep_alive, bool head_only);

const char* ReasonPhrase(int status);

}  // namespace dogsearch::http

#endif  // DOGSEARCH_COMMON_HTTP_HTTP_PARSE_H_
