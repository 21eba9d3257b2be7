// A small HTTP server for Prometheus scraping: GET /metrics renders a MetricsRegistry, GET
// /healthz answers 200 "ok" (or 503 with the reason when a health callback says not ready).
// Runs on common/http's event-driven server. Create() binds before it returns, so port() is
// valid at once (port 0 picks a free port). Stop() (also run by the destructor) closes the
// listener and joins its threads. Thread-safe.
#ifndef DOGSEARCH_COMMON_METRICS_METRICS_HTTP_SERVER_H_
#define DOGSEARCH_COMMON_METRICS_METRICS_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/metrics/metrics.h"

namespace dogsearch::http {
class HttpServer;
}

namespace dogsearch::metrics {

struct MetricsHttpOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  // Not owned; must outlive the server. nullptr = MetricsRegistry::Default().
  MetricsRegistry* registry = nullptr;
  // Optional: OK when the process is ready; its message is returned with 503 otherwise.
  std::function<absl::Status()> health;
};

class MetricsHttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Create(
      const MetricsHttpOptions& options);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const;
  void Stop();

 private:
  MetricsHttpServer() = default;

  std::unique_ptr<http::HttpServer> server_;
};

// What each server's --metrics_port does: nullptr when `port` <= 0 (off), else /metrics and
// /healthz on 0.0.0.0:port (so that a scraper in another container reaches them).
absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartMetricsPort(
    int port, std::function<absl::Status()> health = nullptr);

}  // namespace dogsearch::metrics

#endif  // DOGSEARCH_COMMON_METRICS_METRICS_HTTP_SERVER_H_
