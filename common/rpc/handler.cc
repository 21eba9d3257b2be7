#include "common/rpc/handler.h"

#include <google/protobuf/descriptor.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/rpc/early_auth.h"
#include "common/rpc/status_util.h"

namespace dogsearch::rpc {
namespace {

std::vector<std::string> MethodNames(absl::string_view service_full_name) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(service_full_name));
  std::vector<std::string> names;
  for (int i = 0; service && i < service->method_count(); ++i) {
    names.push_back(service->method(i)->name());
  }
  return names;
}

absl::string_view ShortName(absl::string_view full_name) {
  const size_t dot = full_name.rfind('.');
  return dot == absl::string_view::npos ? full_name : full_name.substr(dot + 1);
}

}  // namespace

Handlers::Handlers(absl::string_view service_full_name, absl::string_view metrics_prefix,
                   TokenAuthenticator auth, metrics::MetricsRegistry* registry)
    : service_(service_full_name),
      auth_(std::move(auth)),
      metrics_(registry, metrics_prefix, ShortName(service_full_name),
               MethodNames(service_full_name)) {
  for (const std::string& name : MethodNames(service_)) {
    const bool read = ReadMethods().count(absl::StrCat("/", service_, "/", name)) > 0;
    methods_[name] = Method{name, read ? RpcKind::kRead : RpcKind::kMutating};
  }
}

const Handlers::Method* Handlers::Find(absl::string_view method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? nullptr : &it->second;
}

absl::Status Handlers::Admit(const grpc::ServerContextBase& ctx, absl::string_view method,
                             const Method* m) const {
  if (m == nullptr) {
    return absl::InternalError(
        absl::StrCat("handler names '", method, "', which is not a method of ", service_));
  }
  return auth_.Check(ctx, m->kind);
}

void Handlers::Record(const Method* m, absl::StatusCode code, absl::Time start) const {
  if (m != nullptr) metrics_.Record(m->name, code, absl::ToDoubleSeconds(absl::Now() - start));
}

absl::Status Handlers::Handle(const grpc::ServerContextBase& ctx, absl::string_view method,
                              absl::FunctionRef<absl::Status(absl::Time)> body) const {
  const absl::Time start = absl::Now();
  const Method* m = Find(method);
  absl::Status s = Admit(ctx, method, m);
  if (s.ok()) s = body(absl::FromChrono(ctx.deadline()));
  Record(m, s.code(), start);
  return s;
}

grpc::Status Handlers::Run(grpc::ServerContext* ctx, absl::string_view method,
                           absl::FunctionRef<absl::Status(absl::Time)> body) const {
  return ToGrpcStatus(Handle(*ctx, method, body));
}

grpc::ServerUnaryReactor* Handlers::RunInline(
    grpc::CallbackServerContext* ctx, absl::string_view method,
    absl::FunctionRef<absl::Status(absl::Time)> body) const {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(Handle(*ctx, method, body)));
  return reactor;
}

grpc::ServerUnaryReactor* Handlers::RunDeferred(
    grpc::CallbackServerContext* ctx, absl::string_view method,
    absl::FunctionRef<void(absl::Time, Finish)> body) const {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const absl::Time start = absl::Now();
  const Method* m = Find(method);
  Finish finish = [this, reactor, start, m](const absl::Status& s) {
    Record(m, s.code(), start);
    reactor->Finish(ToGrpcStatus(s));
  };
  if (absl::Status s = Admit(*ctx, method, m); !s.ok()) {
    finish(s);
    return reactor;
  }
  body(absl::FromChrono(ctx->deadline()), std::move(finish));
  return reactor;
}

}  // namespace dogsearch::rpc
