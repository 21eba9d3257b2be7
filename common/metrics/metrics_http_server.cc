#include "common/metrics/metrics_http_server.h"

#include "absl/strings/str_cat.h"
#include "common/http/http_server.h"

namespace dogsearch::metrics {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Create(
    const MetricsHttpOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics port ", options.port, " is out of range 0..65535"));
  }
  MetricsRegistry* registry =
      options.registry != nullptr ? options.registry : &MetricsRegistry::Default();
  auto health = options.health;
  std::vector<http::Route> routes;
  routes.push_back({"GET", "/metrics", 0, nullptr,
                    [registry](const http::HttpRequest&, http::HttpResponse& res) {
                      res.SetBody(registry->RenderText(),
                                  "text/plain; version=0.0.4; charset=utf-8");
                    }});
  routes.push_back(
      {"GET", "/healthz", 0, nullptr, [health](const http::HttpRequest&, http::HttpResponse& res) {
         absl::Status st = health ? health() : absl::OkStatus();
         res.status = st.ok() ? 200 : 503;
         res.SetBody(st.ok() ? "ok\n" : absl::StrCat(st.message(), "\n"), "text/plain");
       }});
  http::HttpServerOptions so;
  so.host = options.host;
  so.port = options.port;
  so.worker_threads = 2;
  so.allowed_hosts = {"*"};  // Scrapers name this host however their network does.
  so.default_headers = {{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}};
  auto server = http::HttpServer::Start(std::move(so), std::move(routes));
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        absl::StrCat("/metrics: ", server.status().message()));
  }
  std::unique_ptr<MetricsHttpServer> s(new MetricsHttpServer());
  s->server_ = std::move(*server);
  return s;
}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

int MetricsHttpServer::port() const { return server_->port(); }

void MetricsHttpServer::Stop() {
  if (server_) server_->Stop();
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartMetricsPort(
    int port, std::function<absl::Status()> health) {
  if (port <= 0) return std::unique_ptr<MetricsHttpServer>();
  MetricsHttpOptions options;
  options.host = "0.0.0.0";
  options.port = port;
  options.health = std::move(health);
  return MetricsHttpServer::Create(options);
}

}  // namespace dogsearch::metrics
