#include "services/gateway/dogsearch_service.h"

#include "absl/time/clock.h"
#include "common/rpc/status_util.h"

namespace dogsearch::gateway {

using rpc::RpcKind;

DogSearchService::DogSearchService(GatewayCore* core, rpc::TokenAuthenticator auth,
                                   metrics::MetricsRegistry* registry)
    : core_(core),
      auth_(std::move(auth)),
      metrics_(registry, "dogsearch_gateway", "DogSearch",
               {"Search", "Enroll", "AddPhotos", "RemovePhoto", "GetDog", "ListDogs",
                "DeleteDog", "Verify", "GetModelStatus", "StartModelUpgrade"}) {}

template <typename Body>
grpc::Status DogSearchService::Handle(grpc::ServerContext* ctx, const char* method, RpcKind kind,
                                      Body&& body) {
  const absl::Time start = absl::Now();
  absl::Status s = auth_.Check(*ctx, kind);
  if (s.ok()) s = body(absl::FromChrono(ctx->deadline()));
  metrics_.Record(method, s.code(), absl::ToDoubleSeconds(absl::Now() - start));
  return rpc::ToGrpcStatus(s);
}

// Runs a core call returning StatusOr<T> into *resp.
#define DS_INTO(resp, expr)                 \
  [&](absl::Time deadline) -> absl::Status { \
    (void)deadline;                          \
    auto r = (expr);                         \
    if (!r.ok()) return r.status();          \
    *(resp) = *std::move(r);                 \
    return absl::OkStatus();                 \
  }

grpc::Status DogSearchService::Search(grpc::ServerContext* ctx, const v1::SearchRequest* req,
                                      v1::SearchResponse* resp) {
  return Handle(ctx, "Search", RpcKind::kRead, DS_INTO(resp, core_->Search(*req, deadline)));
}

grpc::Status DogSearchService::Enroll(grpc::ServerContext* ctx, const v1::EnrollRequest* req,
                                      v1::Dog* resp) {
  return Handle(ctx, "Enroll", RpcKind::kMutating, DS_INTO(resp, core_->Enroll(*req, deadline)));
}

grpc::Status DogSearchService::AddPhotos(grpc::ServerContext* ctx,
                                         const v1::AddPhotosRequest* req,
                                         v1::AddPhotosResponse* resp) {
  return Handle(ctx, "AddPhotos", RpcKind::kMutating,
                DS_INTO(resp, core_->AddPhotos(*req, deadline)));
}

grpc::Status DogSearchService::RemovePhoto(grpc::ServerContext* ctx,
                                           const v1::RemovePhotoRequest* req, v1::Dog* resp) {
  return Handle(ctx, "RemovePhoto", RpcKind::kMutating,
                DS_INTO(resp, core_->RemovePhoto(*req, deadline)));
}

grpc::Status DogSearchService::GetDog(grpc::ServerContext* ctx, const v1::GetDogRequest* req,
                                      v1::Dog* resp) {
  return Handle(ctx, "GetDog", RpcKind::kRead, DS_INTO(resp, core_->GetDog(*req)));
}

grpc::Status DogSearchService::ListDogs(grpc::ServerContext* ctx, const v1::ListDogsRequest* req,
                                        v1::ListDogsResponse* resp) {
  return Handle(ctx, "ListDogs", RpcKind::kRead, DS_INTO(resp, core_->ListDogs(*req)));
}

grpc::Status DogSearchService::DeleteDog(grpc::ServerContext* ctx,
                                         const v1::DeleteDogRequest* req,
                                         v1::DeleteDogResponse*) {
  return Handle(ctx, "DeleteDog", RpcKind::kMutating,
                [&](absl::Time deadline) { return core_->DeleteDog(*req, deadline); });
}

grpc::Status DogSearchService::Verify(grpc::ServerContext* ctx, const v1::VerifyRequest* req,
                                      v1::VerifyResponse* resp) {
  return Handle(ctx, "Verify", RpcKind::kRead, DS_INTO(resp, core_->Verify(*req, deadline)));
}

grpc::Status DogSearchService::GetModelStatus(grpc::ServerContext* ctx,
                                              const v1::GetModelStatusRequest*,
                                              v1::ModelStatus* resp) {
  return Handle(ctx, "GetModelStatus", RpcKind::kRead, [&](absl::Time) {
    *resp = core_->GetModelStatus();
    return absl::OkStatus();
  });
}

grpc::Status DogSearchService::StartModelUpgrade(grpc::ServerContext* ctx,
                                                 const v1::StartModelUpgradeRequest* req,
                                                 v1::ModelStatus* resp) {
  return Handle(ctx, "StartModelUpgrade", RpcKind::kMutating,
                DS_INTO(resp, core_->StartModelUpgrade(*req)));
}

#undef DS_INTO

}  // namespace dogsearch::gateway
