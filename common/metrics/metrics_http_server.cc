#include "common/metrics/metrics_http_server.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"

namespace dogsearch::metrics {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Create(
    const MetricsHttpOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics port ", options.port,
                                                   " is out of range 0..65535"));
  }
  std::unique_ptr<MetricsHttpServer> s(new MetricsHttpServer());
  s->server_ = std::make_unique<httplib::Server>();
  MetricsRegistry* registry =
      options.registry != nullptr ? options.registry : &MetricsRegistry::Default();
  s->server_->Get("/metrics", [registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry->RenderText(), "text/plain; version=0.0.4; charset=utf-8");
  });
  auto health = options.health;
  s->server_->Get("/healthz", [health](const httplib::Request&, httplib::Response& res) {
    absl::Status st = health ? health() : absl::OkStatus();
    res.status = st.ok() ? 200 : 503;
    res.set_content(st.ok() ? "ok\n" : absl::StrCat(st.message(), "\n"), "text/plain");
  });
  if (options.port == 0) {
    s->port_ = s->server_->bind_to_any_port(options.host);
  } else if (s->server_->bind_to_port(options.host, options.port)) {
    s->port_ = options.port;
  } else {
    s->port_ = -1;
  }
  if (s->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for /metrics on ", options.host,
                                               ":", options.port));
  }
  s->thread_ = std::thread([srv = s->server_.get()] { srv->listen_after_bind(); });
  return s;
}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

void MetricsHttpServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace dogsearch::metrics
