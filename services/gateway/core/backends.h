// What the gateway core needs from the embedding and index services, as plain interfaces over
// the protobuf messages of their contracts. The gRPC implementations live in
// services/gateway/grpc_backends.h; tests may substitute their own. Every call carries the
// deadline of the request it serves (absl::InfiniteFuture() for background work, which the
// implementation caps). Implementations must be thread-safe.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_BACKENDS_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_BACKENDS_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dogsearch/v1/embedding.pb.h"
#include "dogsearch/v1/index.pb.h"

namespace dogsearch::gateway {

class EmbeddingBackend {
 public:
  virtual ~EmbeddingBackend() = default;
  virtual absl::StatusOr<v1::EmbedResponse> Embed(const v1::EmbedRequest& request,
                                                  absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::ModelInfo> GetModel(const std::string& version,
                                                 absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::ListModelsResponse> ListModels(absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::ModelInfo> LoadModel(const std::string& version, bool make_default,
                                                  absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::ModelInfo> SetDefaultModel(const std::string& version,
                                                        absl::Time deadline) = 0;
  virtual absl::Status UnloadModel(const std::string& version, absl::Time deadline) = 0;
};

class IndexBackend {
 public:
  virtual ~IndexBackend() = default;
  virtual absl::StatusOr<v1::CollectionInfo> CreateCollection(
      const v1::CreateCollectionRequest& request, absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::CollectionInfo> GetCollection(const std::string& name,
                                                           absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::ListCollectionsResponse> ListCollections(absl::Time deadline) = 0;
  virtual absl::Status DropCollection(const std::string& name, absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::UpsertResponse> Upsert(const v1::UpsertRequest& request,
                                                    absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& request,
                                                    absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& request,
                                              absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::VectorSearchResponse> Search(const v1::VectorSearchRequest& request,
                                                          absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::AliasInfo> SetAlias(const v1::SetAliasRequest& request,
                                                 absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::ListAliasesResponse> ListAliases(absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::ListRecordIdsResponse> ListRecordIds(
      const v1::ListRecordIdsRequest& request, absl::Time deadline) = 0;
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_BACKENDS_H_
