// The gateway core's backends over gRPC: one channel each to the embedding and index services
// (TLS, bearer token, round-robin over embedding replicas, retries of UNAVAILABLE on idempotent
// reads, short reconnect backoff so a restarted backend is found again within about a second).
// Deadlines: the request's own, capped by the core. Stubs are thread-safe.
#ifndef DOGSEARCH_SERVICES_GATEWAY_GRPC_BACKENDS_H_
#define DOGSEARCH_SERVICES_GATEWAY_GRPC_BACKENDS_H_

#include <memory>

#include "common/rpc/channel.h"
#include "dogsearch/v1/embedding.grpc.pb.h"
#include "dogsearch/v1/index.grpc.pb.h"
#include "services/gateway/core/backends.h"

namespace dogsearch::gateway {

class GrpcEmbeddingBackend : public EmbeddingBackend {
 public:
  GrpcEmbeddingBackend(std::shared_ptr<grpc::Channel> channel, rpc::ChannelOptions options);
  absl::StatusOr<v1::EmbedResponse> Embed(const v1::EmbedRequest& request,
                                          absl::Time deadline) override;
  absl::StatusOr<v1::ModelInfo> GetModel(const std::string& version, absl::Time deadline) override;
  absl::StatusOr<v1::ListModelsResponse> ListModels(absl::Time deadline) override;
  absl::StatusOr<v1::ModelInfo> LoadModel(const std::string& version, bool make_default,
                                          absl::Time deadline) override;
  absl::StatusOr<v1::ModelInfo> SetDefaultModel(const std::string& version,
                                                absl::Time deadline) override;
  absl::Status UnloadModel(const std::string& version, absl::Time deadline) override;

 private:
  std::unique_ptr<v1::Embedding::Stub> stub_;
  const rpc::ChannelOptions options_;
};

class GrpcIndexBackend : public IndexBackend {
 public:
  GrpcIndexBackend(std::shared_ptr<grpc::Channel> channel, rpc::ChannelOptions options);
  absl::StatusOr<v1::CollectionInfo> CreateCollection(const v1::CreateCollectionRequest& request,
                                                      absl::Time deadline) override;
  absl::StatusOr<v1::CollectionInfo> GetCollection(const std::string& name,
                                                   absl::Time deadline) override;
  absl::StatusOr<v1::ListCollectionsResponse> ListCollections(absl::Time deadline) override;
  absl::Status DropCollection(const std::string& name, absl::Time deadline) override;
  absl::StatusOr<v1::UpsertResponse> Upsert(const v1::UpsertRequest& request,
                                            absl::Time deadline) override;
  absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& request,
                                            absl::Time deadline) override;
  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& request, absl::Time deadline) override;
  absl::StatusOr<v1::VectorSearchResponse> Search(const v1::VectorSearchRequest& request,
                                                  absl::Time deadline) override;
  absl::StatusOr<v1::AliasInfo> SetAlias(const v1::SetAliasRequest& request,
                                         absl::Time deadline) override;
  absl::StatusOr<v1::ListAliasesResponse> ListAliases(absl::Time deadline) override;
  absl::StatusOr<v1::ListRecordIdsResponse> ListRecordIds(const v1::ListRecordIdsRequest& request,
                                                          absl::Time deadline) override;

 private:
  std::unique_ptr<v1::Index::Stub> stub_;
  const rpc::ChannelOptions options_;
};

// Channel options for a backend: the idempotent methods of that service marked retryable.
rpc::ChannelOptions EmbeddingChannelOptions(rpc::ChannelOptions base);
rpc::ChannelOptions IndexChannelOptions(rpc::ChannelOptions base);

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_GRPC_BACKENDS_H_
