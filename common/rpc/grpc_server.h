// Builds and runs a gRPC server the way every dogsearch binary needs it: health checking
// (grpc.health.v1) and reflection enabled before start, optional TLS, message-size limits,
// a bound port known once Start() returns, and a graceful shutdown that first reports
// NOT_SERVING, then lets in-flight RPCs finish until a grace deadline.
//
// Ownership: the services are not owned and must outlive the server. Thread-safe: SetServing
// and Shutdown may be called from any thread; Shutdown is idempotent.
#ifndef DOGSEARCH_COMMON_RPC_GRPC_SERVER_H_
#define DOGSEARCH_COMMON_RPC_GRPC_SERVER_H_

#include <grpcpp/server.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/tls.h"
#include "common/rpc/token_auth.h"

namespace dogsearch::rpc {

struct GrpcServerOptions {
  // host:port to listen on; port 0 picks a free one.
  std::string address = "127.0.0.1:0";
  TlsFiles tls;
  // Largest request and reply accepted, bytes.
  int max_receive_message_bytes = 64 << 20;
  int max_send_message_bytes = 64 << 20;
  // Service names reported by the health service besides "" (the server as a whole), e.g.
  // dogsearch::v1::Index::service_full_name().
  std::vector<std::string> health_service_names;
  // Name used in logs.
  std::string name = "server";
  // The service's token rule, applied to each call's headers before its message is read
  // (common/rpc/early_auth.h). No token: every call proceeds to its handler.
  TokenAuthenticator auth{"", false};
};

class GrpcServer {
 public:
  // Starts serving. Health starts as SERVING for "" and for each service; a binary that is not
  // ready yet calls SetServing(false) right after.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const GrpcServerOptions& options, const std::vector<grpc::Service*>& services);
  ~GrpcServer();  // Shutdown(0) if not yet shut down.
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int port() const { return port_; }
  // Sets the health status of the whole server ("") and of every registered service.
  void SetServing(bool serving);
  // NOT_SERVING, stop accepting calls, wait up to `grace` for in-flight calls, cancel the rest.
  void Shutdown(absl::Duration grace);
  // Blocks until Shutdown has completed.
  void Wait();

 private:
  GrpcServer() = default;

  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> service_names_;
  std::string name_;
  int port_ = 0;
  std::mutex mu_;  // Guards shut_down_.
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace dogsearch::rpc

#endif  // DOGSEARCH_COMMON_RPC_GRPC_SERVER_H_
