// dogsearch.v1.DogSearch over gRPC: a thin adapter from the RPCs to GatewayCore. Checks the
// bearer token (mutating RPCs always when one is configured; reads when protect_reads), passes
// the caller's deadline down, records per-method metrics. Synchronous gRPC API: every handler
// is short and bounded by the backends' deadlines. Thread-safe (the core is; auth and metrics
// are immutable).
#ifndef DOGSEARCH_SERVICES_GATEWAY_DOGSEARCH_SERVICE_H_
#define DOGSEARCH_SERVICES_GATEWAY_DOGSEARCH_SERVICE_H_

#include "common/metrics/metrics.h"
#include "common/rpc/handler.h"
#include "dogsearch/v1/dogsearch.grpc.pb.h"
#include "services/gateway/core/gateway_core.h"

namespace dogsearch::gateway {

class DogSearchService final : public v1::DogSearch::Service {
 public:
  DogSearchService(GatewayCore* core, rpc::TokenAuthenticator auth,
                   metrics::MetricsRegistry* registry);

  grpc::Status Search(grpc::ServerContext* ctx, const v1::SearchRequest* req,
                      v1::SearchResponse* resp) override;
  grpc::Status Enroll(grpc::ServerContext* ctx, const v1::EnrollRequest* req,
                      v1::Dog* resp) override;
  grpc::Status AddPhotos(grpc::ServerContext* ctx, const v1::AddPhotosRequest* req,
                         v1::AddPhotosResponse* resp) override;
  grpc::Status RemovePhoto(grpc::ServerContext* ctx, const v1::RemovePhotoRequest* req,
                           v1::Dog* resp) override;
  grpc::Status GetDog(grpc::ServerContext* ctx, const v1::GetDogRequest* req,
                      v1::Dog* resp) override;
  grpc::Status ListDogs(grpc::ServerContext* ctx, const v1::ListDogsRequest* req,
                        v1::ListDogsResponse* resp) override;
  grpc::Status DeleteDog(grpc::ServerContext* ctx, const v1::DeleteDogRequest* req,
                         v1::DeleteDogResponse* resp) override;
  grpc::Status Verify(grpc::ServerContext* ctx, const v1::VerifyRequest* req,
                      v1::VerifyResponse* resp) override;
  grpc::Status GetModelStatus(grpc::ServerContext* ctx, const v1::GetModelStatusRequest* req,
                              v1::ModelStatus* resp) override;
  grpc::Status StartModelUpgrade(grpc::ServerContext* ctx, const v1::StartModelUpgradeRequest* req,
                                 v1::ModelStatus* resp) override;

 private:
  GatewayCore* const core_;
  const rpc::Handlers handlers_;  // Auth, deadline, metrics and status mapping of every RPC.
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_DOGSEARCH_SERVICE_H_
