#include "services/gateway/dogsearch_service.h"

namespace dogsearch::gateway {

DogSearchService::DogSearchService(GatewayCore* core, rpc::TokenAuthenticator auth,
                                   metrics::MetricsRegistry* registry)
    : core_(core),
      handlers_(v1::DogSearch::service_full_name(), "dogsearch_gateway", std::move(auth),
                registry) {}

grpc::Status DogSearchService::Search(grpc::ServerContext* ctx, const v1::SearchRequest* req,
                                      v1::SearchResponse* resp) {
  return handlers_.Run(ctx, "Search", [&](absl::Time deadline) {
    return rpc::Into(core_->Search(*req, deadline), resp);
  });
}

grpc::Status DogSearchService::Enroll(grpc::ServerContext* ctx, const v1::EnrollRequest* req,
                                      v1::Dog* resp) {
  return handlers_.Run(ctx, "Enroll", [&](absl::Time deadline) {
    return rpc::Into(core_->Enroll(*req, deadline), resp);
  });
}

grpc::Status DogSearchService::AddPhotos(grpc::ServerContext* ctx, const v1::AddPhotosRequest* req,
                                         v1::AddPhotosResponse* resp) {
  return handlers_.Run(ctx, "AddPhotos", [&](absl::Time deadline) {
    return rpc::Into(core_->AddPhotos(*req, deadline), resp);
  });
}

grpc::Status DogSearchService::RemovePhoto(grpc::ServerContext* ctx,
                                           const v1::RemovePhotoRequest* req, v1::Dog* resp) {
  return handlers_.Run(ctx, "RemovePhoto", [&](absl::Time deadline) {
    return rpc::Into(core_->RemovePhoto(*req, deadline), resp);
  });
}

grpc::Status DogSearchService::GetDog(grpc::ServerContext* ctx, const v1::GetDogRequest* req,
                                      v1::Dog* resp) {
  return handlers_.Run(ctx, "GetDog",
                       [&](absl::Time) { return rpc::Into(core_->GetDog(*req), resp); });
}

grpc::Status DogSearchService::ListDogs(grpc::ServerContext* ctx, const v1::ListDogsRequest* req,
                                        v1::ListDogsResponse* resp) {
  return handlers_.Run(ctx, "ListDogs",
                       [&](absl::Time) { return rpc::Into(core_->ListDogs(*req), resp); });
}

grpc::Status DogSearchService::DeleteDog(grpc::ServerContext* ctx, const v1::DeleteDogRequest* req,
                                         v1::DeleteDogResponse*) {
  return handlers_.Run(ctx, "DeleteDog",
                       [&](absl::Time deadline) { return core_->DeleteDog(*req, deadline); });
}

grpc::Status DogSearchService::Verify(grpc::ServerContext* ctx, const v1::VerifyRequest* req,
                                      v1::VerifyResponse* resp) {
  return handlers_.Run(ctx, "Verify", [&](absl::Time deadline) {
    return rpc::Into(core_->Verify(*req, deadline), resp);
  });
}

grpc::Status DogSearchService::GetModelStatus(grpc::ServerContext* ctx,
                                              const v1::GetModelStatusRequest*,
                                              v1::ModelStatus* resp) {
  return handlers_.Run(ctx, "GetModelStatus", [&](absl::Time) {
    *resp = core_->GetModelStatus();
    return absl::OkStatus();
  });
}

grpc::Status DogSearchService::StartModelUpgrade(grpc::ServerContext* ctx,
                                                 const v1::StartModelUpgradeRequest* req,
                                                 v1::ModelStatus* resp) {
  return handlers_.Run(ctx, "StartModelUpgrade",
                       [&](absl::Time) { return rpc::Into(core_->StartModelUpgrade(*req), resp); });
}

}  // namespace dogsearch::gateway
