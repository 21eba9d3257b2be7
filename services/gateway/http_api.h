// The gateway's HTTP side (HTTPS when given a certificate): the reverse-image-search web page (one
// self-contained HTML file compiled into the binary) and a JSON API under /api/ that mirrors the
// DogSearch RPCs, with the same messages in protobuf's JSON mapping (proto field names), the same
// checks and the same bearer token on mutating calls. Errors are {"code": "NOT_FOUND", "error":
// "..."} with the HTTP status of the gRPC code (400, 401, 404, 409, 412, 429, 503, 504, 500).
//
//   GET    /                          the web page (and /app.js, its script)
//   GET    /healthz                   200 once a model is serving, else 503
//   GET    /api/model                 ModelStatus
//   POST   /api/upgrade               {"version": V} -> ModelStatus            (token)
//   POST   /api/search                multipart: photo, k, photos_per_dog -> SearchResponse
//   POST   /api/verify                multipart: photo_a, photo_b -> VerifyResponse
//   GET    /api/dogs?page_size&page_token          ListDogsResponse
//   POST   /api/dogs                  multipart: dog_id, name, notes, photos... -> Dog (token)
//   GET    /api/dogs/{id}             Dog
//   DELETE /api/dogs/{id}             {}                                       (token)
//   POST   /api/dogs/{id}/photos      multipart: photos... -> AddPhotosResponse (token)
//   DELETE /api/dogs/{id}/photos/{p}  Dog                                      (token)
//   GET    /api/photos/{photo_id}     the stored photo's bytes (immutable; cached privately
//                                     when reads need the token)
//   GET    /api/map?max_points=N      {"points": [{photo_id, dog_id, dog_name, x, y}...]}
//
// The front is common/http's event-driven server: whole-request deadlines, head limits, a
// body limit per route (search takes one photo's worth) checked with the token, the Host and
// the request's origin BEFORE the body is read. Every response carries nosniff,
// frame-ancestors 'none' and a CSP without inline scripts.
//
// Threading: the server's worker pool runs handlers concurrently; the core is thread-safe and
// the server object is only touched by Start/Stop from the owner's thread.
#ifndef DOGSEARCH_SERVICES_GATEWAY_HTTP_API_H_
#define DOGSEARCH_SERVICES_GATEWAY_HTTP_API_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http/http_server.h"
#include "common/metrics/metrics.h"
#include "common/rpc/token_auth.h"
#include "services/gateway/core/gateway_core.h"

namespace dogsearch::gateway {

struct HttpApiOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port.
  // Deadline given to each API call.
  absl::Duration request_timeout = absl::Seconds(30);
  // Gallery photos drawn on the embedding map at most.
  size_t max_map_points = 3000;
  // PEM certificate and key: serve HTTPS instead of HTTP (both or neither).
  std::string tls_cert;
  std::string tls_key;
  // Host names the page may be reached by, besides IP literals and localhost (DNS-rebinding
  // protection); "*" accepts any.
  std::vector<std::string> allowed_hosts;
  int worker_threads = 16;
  size_t max_connections_per_client = 256;
  // Per-route request counts and latency (dogsearch_gateway_http_*); none when null.
  metrics::MetricsRegistry* metrics = nullptr;
};

class HttpApi {
 public:
  static absl::StatusOr<std::unique_ptr<HttpApi>> Start(GatewayCore* core,
                                                        rpc::TokenAuthenticator auth,
                                                        HttpApiOptions options);
  ~HttpApi();  // Stop().
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  int port() const { return port_; }
  void Stop();

 private:
  HttpApi(GatewayCore* core, rpc::TokenAuthenticator auth, HttpApiOptions options);
  std::vector<http::Route> Routes() const;

  GatewayCore* const core_;
  const rpc::TokenAuthenticator auth_;
  const HttpApiOptions options_;
  std::unique_ptr<http::HttpServer> server_;
  int port_ = 0;
};

// The web page and its script (generated from services/gateway/web/ at build time).
extern const char kIndexHtml[];
extern const char kAppJs[];

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_HTTP_API_H_
