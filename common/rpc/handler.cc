#include "common/rpc/handler.h"

#include <google/protobuf/descriptor.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/rpc/early_auth.h"
#include "common/rpc/status_util.h"

namespace dogsearch::rpc {
namespace {

const google::protobuf::ServiceDescriptor* FindService(absl::string_view full_name) {
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      std::string(full_name));
}

std::vector<std::string> MethodNames(const google::protobuf::ServiceDescriptor* service) {
  std::vector<std::string> names;
  for (int i = 0; service && i < service->method_count(); ++i) {
    names.push_back(service->method(i)->name());
  }
  return names;
}

}  // namespace

Handlers::Handlers(const google::protobuf::ServiceDescriptor* service,
                   absl::string_view metrics_prefix, TokenAuthenticator auth,
                   metrics::MetricsRegistry* registry)
    : service_(service ? service->full_name() : "unknown"),
      auth_(std::move(auth)),
      metrics_(registry, metrics_prefix, service ? service->name() : "unknown",
               MethodNames(service)) {
  for (const std::string& name : MethodNames(service)) {
    const bool read = ReadMethods().count(absl::StrCat("/", service_, "/", name)) > 0;
    kinds_[name] = read ? RpcKind::kRead : RpcKind::kMutating;
  }
}

Handlers::Handlers(absl::string_view service_full_name, absl::string_view metrics_prefix,
                   TokenAuthenticator auth, metrics::MetricsRegistry* registry)
    : Handlers(FindService(service_full_name), metrics_prefix, std::move(auth), registry) {}

absl::StatusOr<RpcKind> Handlers::KindOf(absl::string_view method) const {
  auto it = kinds_.find(method);
  if (it == kinds_.end()) {
    return absl::InternalError(
        absl::StrCat("handler names '", method, "', which is not a method of ", service_));
  }
  return it->second;
}

absl::Status Handlers::Admit(const grpc::ServerContextBase& ctx, absl::string_view method) const {
  absl::StatusOr<RpcKind> kind = KindOf(method);
  if (!kind.ok()) return kind.status();
  return auth_.Check(ctx, *kind);
}

void Handlers::Record(absl::string_view method, absl::StatusCode code, absl::Time start) const {
  metrics_.Record(method, code, absl::ToDoubleSeconds(absl::Now() - start));
}

grpc::Status Handlers::Run(grpc::ServerContext* ctx, absl::string_view method,
                           absl::FunctionRef<absl::Status(absl::Time)> body) const {
  const absl::Time start = absl::Now();
  absl::Status s = Admit(*ctx, method);
  if (s.ok()) s = body(absl::FromChrono(ctx->deadline()));
  Record(method, s.code(), start);
  return ToGrpcStatus(s);
}

grpc::ServerUnaryReactor* Handlers::RunInline(
    grpc::CallbackServerContext* ctx, absl::string_view method,
    absl::FunctionRef<absl::Status(absl::Time)> body) const {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const absl::Time start = absl::Now();
  absl::Status s = Admit(*ctx, method);
  if (s.ok()) s = body(absl::FromChrono(ctx->deadline()));
  Record(method, s.code(), start);
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

grpc::ServerUnaryReactor* Handlers::RunDeferred(
    grpc::CallbackServerContext* ctx, absl::string_view method,
    absl::FunctionRef<void(absl::Time, Finish)> body) const {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const absl::Time start = absl::Now();
  Finish finish = [this, reactor, start, name = std::string(method)](const absl::Status& s) {
    Record(name, s.code(), start);
    reactor->Finish(ToGrpcStatus(s));
  };
  if (absl::Status s = Admit(*ctx, method); !s.ok()) {
    finish(s);
    return reactor;
  }
  body(absl::FromChrono(ctx->deadline()), std::move(finish));
  return reactor;
}

}  // namespace dogsearch::rpc
