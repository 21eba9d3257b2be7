#include "common/rpc/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/rpc/early_auth.h"

namespace dogsearch::rpc {

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const GrpcServerOptions& options, const std::vector<grpc::Service*>& services) {
  DS_ASSIGN_OR_RETURN(auto creds, MakeServerCredentials(options.tls));
  if (options.auth.enabled()) {
    creds = WithEarlyAuth(options.tls.empty() ? nullptr : std::move(creds), options.auth);
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<GrpcServer> s(new GrpcServer());
  s->name_ = options.name;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, creds, &s->port_);
  // Without this gRPC sets SO_REUSEPORT, and a second server on a busy port would start and
  // silently take half the traffic instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(options.max_send_message_bytes);
  for (grpc::Service* service : services) builder.RegisterService(service);
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(options.name, ": cannot listen on ", options.address,
                                               " (address in use, bad address, or no permission)"));
  }
  s->service_names_ = options.health_service_names;
  s->SetServing(true);
  DS_LOG(kInfo, "grpc_server_started")
      .Kv("server", options.name)
      .Kv("port", s->port_)
      .Kv("tls", !options.tls.cert_file.empty())
      .Kv("mutual_tls", !options.tls.ca_file.empty());
  return s;
}

GrpcServer::~GrpcServer() { Shutdown(absl::ZeroDuration()); }

void GrpcServer::SetServing(bool serving) {
  if (server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", serving);
  for (const std::string& name : service_names_) health->SetServingStatus(name, serving);
}

void GrpcServer::Shutdown(absl::Duration grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_ || server_ == nullptr) return;
    shut_down_ = true;
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health != nullptr) health->Shutdown();  // Everything reads NOT_SERVING from now on.
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  DS_LOG(kInfo, "grpc_server_stopped").Kv("server", name_);
}

void GrpcServer::Wait() {
  if (server_ != nullptr) server_->Wait();
}

}  // namespace dogsearch::rpc
