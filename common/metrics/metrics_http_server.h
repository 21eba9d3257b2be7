// A small HTTP server for Prometheus scraping: GET /metrics renders a MetricsRegistry, GET
// /healthz answers 200 "ok" (or 503 with the reason when a health callback says not ready).
// Runs its own listener thread (cpp-httplib's thread pool). Create() binds before it returns,
// so port() is valid at once (port 0 picks a free port). Stop() (also run by the destructor)
// closes the listener and joins the thread. Thread-safe.
#ifndef DOGSEARCH_COMMON_METRICS_METRICS_HTTP_SERVER_H_
#define DOGSEARCH_COMMON_METRICS_METRICS_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/metrics/metrics.h"

namespace httplib {
class Server;
}

namespace dogsearch::metrics {

// Binds `server` (routes already set) to host:port (0 = a free port) without SO_REUSEPORT,
// starts its accept loop on *thread, and returns once it is accepting (httplib's stop() is a
// no-op before that). Returns the bound port; UNAVAILABLE when the port cannot be bound.
// Shared by MetricsHttpServer and the gateway's web server.
absl::StatusOr<int> ListenInBackground(httplib::Server* server, const std::string& host, int port,
                                       std::thread* thread);

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

  int port() const { return port_; }
  void Stop();

 private:
  MetricsHttpServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// What each server's --metrics_port does: nullptr when `port` <= 0 (off), else /metrics and
// /healthz on 0.0.0.0:port (so that a scraper in another container reaches them).
absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartMetricsPort(
    int port, std::function<absl::Status()> health = nullptr);

}  // namespace dogsearch::metrics

#endif  // DOGSEARCH_COMMON_METRICS_METRICS_HTTP_SERVER_H_
