// An HTTP/1.1 server (HTTPS with a certificate) built to face the open network: one event
// loop thread does all socket I/O without blocking (epoll), so slow or idle clients cost a
// socket and a buffer, never a thread; complete requests run on a bounded worker pool.
//
// Every request is held to:
//   - a deadline for the whole request head (TLS handshake included), not per read;
//   - limits on the head's size, header count and target length (431 / 414-style errors);
//   - the matched route's admission check (token) and then its body limit, applied to the head
//     and the declared Content-Length BEFORE any body byte is read; a refused body is never
//     buffered (Expect: 100-continue is answered only after admission);
//   - a body deadline of body_base_timeout + length / min_body_rate;
//   - a Host check against allowed_hosts (DNS rebinding) and, for unsafe methods, a
//     same-origin check on Origin / Sec-Fetch-Site (cross-site forms and no-cors fetches);
//   - connection caps, in total and per client address.
// Responses are written by the loop too (slow readers hold no worker), with default_headers
// added to each. Chunked request bodies are refused (411).
//
// Threading: Start() spawns the loop thread and the workers; handlers run on workers, may
// run concurrently and must be thread-safe. Stop() (and the destructor) closes the listener
// and every connection, lets running handlers finish, and joins all threads. Loop state is
// owned by the loop thread; `done_` (finished responses) is the only structure shared with
// the workers, guarded by done_mu_.
#ifndef DOGSEARCH_COMMON_HTTP_HTTP_SERVER_H_
#define DOGSEARCH_COMMON_HTTP_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/http_message.h"
#include "common/http/http_parse.h"

namespace dogsearch::http {

struct Route {
  std::string method;  // "GET" (also answers HEAD), "POST", "DELETE", "PUT".
  // "/api/dogs/{}/photos": literal segments and "{}" segments that capture one decoded,
  // non-empty path segment into HttpRequest::path_params.
  std::string pattern;
  uint64_t max_body_bytes = 0;
  // Optional: runs on the loop thread with the head only (body empty); a non-OK status is
  // answered at once and the body is never read. Must be cheap and must not block.
  std::function<absl::Status(const HttpRequest&)> admit;
  std::function<void(const HttpRequest&, HttpResponse&)> handle;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;          // 0 picks a free port.
  std::string tls_cert;  // PEM chain and key: HTTPS (both or neither).
  std::string tls_key;
  int worker_threads = 8;
  size_t max_queued_requests = 256;  // Beyond: 503.
  size_t max_connections = 4096;     // Beyond: refused at accept.
  size_t max_connections_per_client = 256;
  HeadLimits head;
  absl::Duration head_timeout = absl::Seconds(10);  // Also the keep-alive idle limit.
  absl::Duration body_base_timeout = absl::Seconds(10);
  double min_body_bytes_per_second = 32 << 10;
  absl::Duration write_base_timeout = absl::Seconds(10);
  double min_write_bytes_per_second = 32 << 10;
  // Host header names accepted besides IP literals and "localhost" (port ignored). A single
  // "*" accepts any Host (no DNS-rebinding protection).
  std::vector<std::string> allowed_hosts;
  HeaderList default_headers;  // Added to every response that does not set them.
  // Renders errors the server itself answers (404, 405, 408, 413, 431, ..., and refused
  // admissions): http_status plus the reason. Default: text/plain.
  std::function<HttpResponse(int http_status, const absl::Status& reason)> render_error;
  // Called for a refused admission to pick its HTTP status. Default: 403 for
  // PERMISSION_DENIED, 401 for UNAUTHENTICATED, 400 otherwise.
  std::function<int(const absl::Status&)> http_status_of;
};

// Whether `host_header` (a Host value, maybe with a port) names an allowed host: an IP
// literal, "localhost", or one of `allowed` (case-insensitive; "*" allows all).
bool HostAllowed(absl::string_view host_header, const std::vector<std::string>& allowed);

// For unsafe methods: OK unless the browser says the request comes from another site
// (Sec-Fetch-Site other than same-origin/none, or an Origin whose host:port differs from Host).
// Requests from non-browser clients (no such headers) pass.
absl::Status CheckSameOrigin(const HttpRequest& request);

class HttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                           std::vector<Route> routes);
  ~HttpServer();  // Stop().
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  void Stop();
  // Open connections right now, in any state (tests, metrics).
  size_t open_connections() const;

  struct Impl;  // http_server.cc: the loop's state and its lock discipline.

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dogsearch::http

#endif  // DOGSEARCH_COMMON_HTTP_HTTP_SERVER_H_
