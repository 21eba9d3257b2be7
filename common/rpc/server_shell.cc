#include "common/rpc/server_shell.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/base/env_flags.h"
#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/metrics/metrics_http_server.h"

ABSL_FLAG(std::string, address, "", "host:port for gRPC (default: this server's own port)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate: serve gRPC over TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA: require client certificates signed by it (mutual TLS)");
ABSL_FLAG(std::string, auth_token, "",
          "Bearer token required on mutating RPCs, checked on each call's headers (empty = off)");
ABSL_FLAG(bool, protect_reads, true,
          "With --auth_token: require the token on reads too (default true on the embedding, "
          "index and trainer servers, false on the gateway)");
ABSL_FLAG(int, metrics_port, 0, "Port for /metrics and /healthz (0 = off)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");

namespace dogsearch::rpc {

std::unique_ptr<ServerShell> ServerShell::Init(int argc, char** argv, ServerIdentity id) {
  MakeNewFilesPrivate();
  // Per-server defaults, set before parsing so that the environment and the command line win.
  absl::SetFlag(&FLAGS_address, id.default_address);
  absl::SetFlag(&FLAGS_protect_reads, id.protect_reads_default);
  ParseFlagsWithEnv(argc, argv);
  LogLevel level;
  if (absl::Status s = ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level); !s.ok()) {
    std::fprintf(stderr, "%s_server: %s\n", id.name.c_str(), s.ToString().c_str());
    std::exit(2);
  }
  SetLogLevel(level);
  std::unique_ptr<ServerShell> shell(new ServerShell(
      std::move(id),
      TokenAuthenticator(absl::GetFlag(FLAGS_auth_token), absl::GetFlag(FLAGS_protect_reads))));
  shell->signals_ = ShutdownSignal::Install();  // Before any thread starts.
  return shell;
}

ServerShell::ServerShell(ServerIdentity id, TokenAuthenticator auth)
    : id_(std::move(id)), auth_(std::move(auth)) {}

ServerShell::~ServerShell() { Shutdown(absl::ZeroDuration()); }

absl::Status ServerShell::Serve(const std::vector<grpc::Service*>& services, ServeOptions options) {
  GrpcServerOptions opts;
  opts.address = absl::GetFlag(FLAGS_address);
  opts.tls = {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
              absl::GetFlag(FLAGS_tls_ca)};
  opts.health_service_names = std::move(options.health_names);
  opts.name = id_.name;
  opts.auth = auth_;
  if (options.max_receive_message_bytes > 0) {
    opts.max_receive_message_bytes = options.max_receive_message_bytes;
  }
  auto server = GrpcServer::Start(opts, services);
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  auto metrics =
      metrics::StartMetricsPort(absl::GetFlag(FLAGS_metrics_port), std::move(options.health));
  if (!metrics.ok()) return metrics.status();
  metrics_ = *std::move(metrics);
  // Machine-readable line for supervisors and tests that start the server on port 0.
  std::printf("%s listening on port %d\n", id_.name.c_str(), server_->port());
  std::fflush(stdout);
  return absl::OkStatus();
}

void ServerShell::WaitForSignal() { signals_->Wait(); }

bool ServerShell::SignalledWithin(absl::Duration timeout) {
  return signals_->WaitFor(timeout) >= 0;  // -1: no signal yet.
}

void ServerShell::Shutdown(absl::Duration grace) {
  if (server_) server_->Shutdown(grace);
  if (metrics_) metrics_->Stop();
}

int ServerShell::Fail(const absl::Status& status) const {
  DS_LOG(kError, absl::StrCat(id_.name, "_server_failed")).Kv("status", status);
  return 1;
}

}  // namespace dogsearch::rpc
