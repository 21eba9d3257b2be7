#include "common/metrics/metrics_http_server.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace dogsearch::metrics {

absl::StatusOr<int> ListenInBackground(httplib::Server* server, const std::string& host, int port,
                                       std::thread* thread) {
  // httplib's default sets SO_REUSEPORT too, which lets a second process bind a busy port.
  server->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  int bound = -1;
  if (port == 0) {
    bound = server->bind_to_any_port(host);
  } else if (server->bind_to_port(host, port)) {
    bound = port;
  }
  if (bound <= 0) return absl::UnavailableError(absl::StrCat("cannot bind ", host, ":", port));
  *thread = std::thread([server] { server->listen_after_bind(); });
  // httplib's stop() is a no-op until the listener loop runs, and it offers no notification,
  // so wait (bounded, start-up only) until it does; otherwise an early Stop() would hang.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!server->is_running() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  if (!server->is_running()) return absl::InternalError("HTTP listener did not start");
  return bound;
}

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
  auto port = ListenInBackground(s->server_.get(), options.host, options.port, &s->thread_);
  if (!port.ok()) {
    return absl::Status(port.status().code(),
                        absl::StrCat("/metrics: ", port.status().message()));
  }
  s->port_ = *port;
  return s;
}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

void MetricsHttpServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
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
