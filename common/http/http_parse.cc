#include "common/http/http_parse.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace dogsearch::http {
namespace {

bool IsTokenChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status ParseRequestLine(absl::string_view line, const HeadLimits& limits, HttpRequest* r) {
  std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3 || !IsToken(parts[0])) {
    return absl::InvalidArgumentError("malformed request line");
  }
  if (parts[1].size() > limits.max_target_bytes) {
    return absl::OutOfRangeError(
        absl::StrCat("request target is longer than ", limits.max_target_bytes, " bytes"));
  }
  if (parts[1].empty() || parts[1][0] != '/') {
    return absl::InvalidArgumentError("request target must be a path starting with '/'");
  }
  for (char c : parts[1]) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("request target has a control character");
    }
  }
  if (parts[2] == "HTTP/1.1") {
    r->minor_version = 1;
  } else if (parts[2] == "HTTP/1.0") {
    r->minor_version = 0;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported protocol version '", parts[2].substr(0, 16), "'"));
  }
  r->method = std::string(parts[0]);
  r->target = std::string(parts[1]);
  const size_t q = r->target.find('?');
  r->path = r->target.substr(0, q);
  r->query.clear();
  if (q != std::string::npos) {
    return ParseQueryString(absl::string_view(r->target).substr(q + 1), &r->query);
  }
  return absl::OkStatus();
}

absl::Status AddHeader(absl::string_view line, HttpRequest* r) {
  if (line[0] == ' ' || line[0] == '\t') {
    return absl::InvalidArgumentError("obsolete header line folding is not accepted");
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos || !IsToken(line.substr(0, colon))) {
    return absl::InvalidArgumentError("malformed header line");
  }
  absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return absl::InvalidArgumentError("header value has a control character");
    }
  }
  r->headers.emplace_back(absl::AsciiStrToLower(line.substr(0, colon)), std::string(value));
  return absl::OkStatus();
}

absl::Status ReadBodyFraming(HttpRequest* r) {
  if (r->Header("transfer-encoding") != nullptr) {
    return absl::FailedPreconditionError(
        "Transfer-Encoding is not accepted; send the body with a Content-Length");
  }
  bool seen = false;
  for (const auto& [name, value] : r->headers) {
    if (name != "content-length") continue;
    uint64_t n = 0;
    if (value.empty() || value.size() > 19 ||
        value.find_first_not_of("0123456789") != std::string::npos ||
        !absl::SimpleAtoi(value, &n)) {
      return absl::InvalidArgumentError("Content-Length must be a decimal number");
    }
    if (seen && n != r->content_length) {
      return absl::InvalidArgumentError("conflicting Content-Length headers");
    }
    seen = true;
    r->content_length = n;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseRequestHead(absl::string_view head, const HeadLimits& limits,
                              HttpRequest* request) {
  if (head.size() > limits.max_head_bytes) {
    return absl::OutOfRangeError(
        absl::StrCat("request head is larger than ", limits.max_head_bytes, " bytes"));
  }
  request->headers.clear();
  request->content_length = 0;
  bool first = true;
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    if (first) {
      first = false;
      if (absl::Status s = ParseRequestLine(line, limits, request); !s.ok()) return s;
      continue;
    }
    if (line.empty()) return absl::InvalidArgumentError("empty header line");
    if (request->headers.size() >= limits.max_headers) {
      return absl::OutOfRangeError(absl::StrCat("more than ", limits.max_headers, " headers"));
    }
    if (absl::Status s = AddHeader(line, request); !s.ok()) return s;
  }
  return ReadBodyFraming(request);
}

absl::StatusOr<std::string> PercentDecode(absl::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      const int h = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
      const int l = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (h < 0 || l < 0) return absl::InvalidArgumentError("malformed percent escape");
      c = static_cast<char>(h * 16 + l);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return absl::InvalidArgumentError("NUL byte in an escaped string");
    out.push_back(c);
  }
  return out;
}

absl::Status ParseQueryString(absl::string_view s,
                              std::vector<std::pair<std::string, std::string>>* out) {
  for (absl::string_view pair : absl::StrSplit(s, '&', absl::SkipEmpty())) {
    const size_t eq = pair.find('=');
    auto name = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == absl::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name.ok()) return name.status();
    if (!value.ok()) return value.status();
    out->emplace_back(std::move(*name), std::move(*value));
  }
  return absl::OkStatus();
}

bool WantsKeepAlive(const HttpRequest& request) {
  const std::string* c = request.Header("connection");
  const std::string lower = c == nullptr ? "" : absl::AsciiStrToLower(*c);
  const bool close = absl::StrContains(lower, "close");
  const bool keep = absl::StrContains(lower, "keep-alive");
  return request.minor_version >= 1 ? !close : keep;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 421:
      return "Misdirected Request";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string SerializeResponse(const HttpResponse& response, bool keep_alive, bool head_only) {
  std::string out =
      absl::StrCat("HTTP/1.1 ", response.status, " ", ReasonPhrase(response.status), "\r\n");
  for (const auto& [name, value] : response.headers)
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  absl::StrAppend(&out, "Content-Length: ", response.body.size(), "\r\n",
                  "Connection: ", keep_alive ? "keep-alive" : "close", "\r\n\r\n");
  if (!head_only) out += response.body;
  return out;
}

const std::string* HttpRequest::Header(absl::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

std::string HttpRequest::Query(absl::string_view name) const {
  for (const auto& [n, v] : query) {
    if (n == name) return v;
  }
  return "";
}

bool HttpRequest::HasQuery(absl::string_view name) const {
  for (const auto& [n, v] : query) {
    if (n == name) return true;
  }
  return false;
}

void HttpResponse::Set(absl::string_view name, absl::string_view value) {
  for (auto& [n, v] : headers) {
    if (absl::EqualsIgnoreCase(n, name)) {
      v = std::string(value);
      return;
    }
  }
  headers.emplace_back(std::string(name), std::string(value));
}

void HttpResponse::SetBody(std::string content, absl::string_view content_type) {
  body = std::move(content);
  Set("Content-Type", content_type);
}

const std::string* HttpResponse::Find(absl::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (absl::EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

}  // namespace dogsearch::http
