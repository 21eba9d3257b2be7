// What every dogsearch server does around its own work, written once: the flags they share
// (--address, --tls_cert/--tls_key/--tls_ca, --auth_token, --protect_reads, --metrics_port,
// --log_level; each also DOGSEARCH_<FLAG> in the environment), private file modes, signal
// handling, the gRPC server (TLS, the token checked on headers, health, reflection), the
// metrics port, the readiness line "<name> listening on port N", and the ordered shutdown.
// A server's main() declares only its own flags and wires its own parts:
//
//   auto shell = rpc::ServerShell::Init(argc, argv, {"index", "127.0.0.1:50052"});
//   ... build the service with shell->auth() ...
//   if (absl::Status s = shell->Serve({&service}, {v1::Index::service_full_name()}); !s.ok())
//     return shell->Fail(s);
//   shell->WaitForSignal();
//   shell->Shutdown(absl::Seconds(10));
//
// Threading: Init() must run first in main(), before any thread starts (it blocks the
// shutdown signals for every thread created later). The shell is used from main's thread.
#ifndef DOGSEARCH_COMMON_RPC_SERVER_SHELL_H_
#define DOGSEARCH_COMMON_RPC_SERVER_SHELL_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/shutdown_signal.h"
#include "common/rpc/token_auth.h"

namespace dogsearch::metrics {
class MetricsHttpServer;
}

namespace dogsearch::rpc {

struct ServerIdentity {
  std::string name;                   // "index": logs and the readiness line.
  std::string default_address;        // --address when not given.
  bool protect_reads_default = true;  // --protect_reads when not given.
};

struct ServeOptions {
  // Services whose health is reported (besides "" for the server as a whole).
  std::vector<std::string> health_names;
  // Health of the metrics port's /healthz (nullptr: always OK).
  std::function<absl::Status()> health;
  // Largest request accepted (0: GrpcServerOptions' default).
  int max_receive_message_bytes = 0;
};

class ServerShell {
 public:
  // Private file modes, per-server defaults, flags and environment, log level, signals.
  // Exits (status 2) with a message on a bad flag value.
  static std::unique_ptr<ServerShell> Init(int argc, char** argv, ServerIdentity id);
  ~ServerShell();

  const ServerIdentity& id() const { return id_; }
  // The server's token rule (--auth_token, --protect_reads).
  const TokenAuthenticator& auth() const { return auth_; }

  // Starts the gRPC server and the metrics port, then prints the readiness line.
  absl::Status Serve(const std::vector<grpc::Service*>& services, ServeOptions options = {});
  GrpcServer* server() { return server_.get(); }

  // Blocks until SIGTERM or SIGINT.
  void WaitForSignal();
  // True if the signal has come (now or within `timeout`); for loops that run until it does.
  bool SignalledWithin(absl::Duration timeout);
  // NOT_SERVING, stop accepting, let in-flight calls finish within `grace`; stop the metrics port.
  void Shutdown(absl::Duration grace);
  // Logs "<name>_server_failed" with the status; returns main()'s exit code (1).
  int Fail(const absl::Status& status) const;

 private:
  ServerShell(ServerIdentity id, TokenAuthenticator auth);

  const ServerIdentity id_;
  const TokenAuthenticator auth_;
  std::unique_ptr<ShutdownSignal> signals_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<metrics::MetricsHttpServer> metrics_;
};

}  // namespace dogsearch::rpc

#endif  // DOGSEARCH_COMMON_RPC_SERVER_SHELL_H_
