#include "services/gateway/grpc_backends.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/status_util.h"

namespace dogsearch::gateway {
namespace {

// Calls `method` with a context carrying the deadline and the token; maps the status.
template <typename Stub, typename Req, typename Resp, typename Method>
absl::StatusOr<Resp> Call(Stub* stub, Method method, const rpc::ChannelOptions& options,
                          const Req& req, absl::Time deadline, const char* backend) {
  grpc::ClientContext ctx;
  rpc::PrepareContext(&ctx, options, std::max(absl::Milliseconds(1), deadline - absl::Now()));
  Resp resp;
  grpc::Status s = (stub->*method)(&ctx, req, &resp);
  if (!s.ok()) {
    absl::Status st = rpc::FromGrpcStatus(s);
    if (absl::IsUnavailable(st) || absl::IsDeadlineExceeded(st)) {
      return absl::Status(st.code(), absl::StrCat(backend, " service: ", st.message()));
    }
    return st;
  }
  return resp;
}

}  // namespace

rpc::ChannelOptions EmbeddingChannelOptions(rpc::ChannelOptions base) {
  for (const char* m : {"Embed", "GetModel", "ListModels"}) {
    base.idempotent_methods.push_back(absl::StrCat("dogsearch.v1.Embedding/", m));
  }
  base.round_robin = true;
  return base;
}

rpc::ChannelOptions IndexChannelOptions(rpc::ChannelOptions base) {
  // Upserts and deletes are idempotent too (same ids, same vectors).
  for (const char* m : {"Search", "Get", "GetCollection", "ListCollections", "Upsert", "Delete",
                        "SetAlias", "ListAliases", "ListRecordIds"}) {
    base.idempotent_methods.push_back(absl::StrCat("dogsearch.v1.Index/", m));
  }
  return base;
}

GrpcEmbeddingBackend::GrpcEmbeddingBackend(std::shared_ptr<grpc::Channel> channel,
                                           rpc::ChannelOptions options)
    : stub_(v1::Embedding::NewStub(channel)), options_(std::move(options)) {}

absl::StatusOr<v1::EmbedResponse> GrpcEmbeddingBackend::Embed(const v1::EmbedRequest& request,
                                                              absl::Time deadline) {
  return Call<v1::Embedding::Stub, v1::EmbedRequest, v1::EmbedResponse>(
      stub_.get(), &v1::Embedding::Stub::Embed, options_, request, deadline, "embedding");
}

absl::StatusOr<v1::ModelInfo> GrpcEmbeddingBackend::GetModel(const std::string& version,
                                                             absl::Time deadline) {
  v1::GetModelRequest req;
  req.set_version(version);
  return Call<v1::Embedding::Stub, v1::GetModelRequest, v1::ModelInfo>(
      stub_.get(), &v1::Embedding::Stub::GetModel, options_, req, deadline, "embedding");
}

absl::StatusOr<v1::ListModelsResponse> GrpcEmbeddingBackend::ListModels(absl::Time deadline) {
  return Call<v1::Embedding::Stub, v1::ListModelsRequest, v1::ListModelsResponse>(
      stub_.get(), &v1::Embedding::Stub::ListModels, options_, v1::ListModelsRequest(), deadline,
      "embedding");
}

absl::StatusOr<v1::ModelInfo> GrpcEmbeddingBackend::LoadModel(const std::string& version,
                                                              bool make_default,
                                                              absl::Time deadline) {
  v1::LoadModelRequest req;
  req.set_version(version);
  req.set_make_default(make_default);
  return Call<v1::Embedding::Stub, v1::LoadModelRequest, v1::ModelInfo>(
      stub_.get(), &v1::Embedding::Stub::LoadModel, options_, req, deadline, "embedding");
}

absl::StatusOr<v1::ModelInfo> GrpcEmbeddingBackend::SetDefaultModel(const std::string& version,
                                                                    absl::Time deadline) {
  v1::SetDefaultModelRequest req;
  req.set_version(version);
  return Call<v1::Embedding::Stub, v1::SetDefaultModelRequest, v1::ModelInfo>(
      stub_.get(), &v1::Embedding::Stub::SetDefaultModel, options_, req, deadline, "embedding");
}

absl::Status GrpcEmbeddingBackend::UnloadModel(const std::string& version, absl::Time deadline) {
  v1::UnloadModelRequest req;
  req.set_version(version);
  return Call<v1::Embedding::Stub, v1::UnloadModelRequest, v1::UnloadModelResponse>(
             stub_.get(), &v1::Embedding::Stub::UnloadModel, options_, req, deadline, "embedding")
      .status();
}

GrpcIndexBackend::GrpcIndexBackend(std::shared_ptr<grpc::Channel> channel,
                                   rpc::ChannelOptions options)
    : stub_(v1::Index::NewStub(channel)), options_(std::move(options)) {}

#define DS_INDEX_CALL(Method, Req, Resp, req)                                                      \
  Call<v1::Index::Stub, Req, Resp>(stub_.get(), &v1::Index::Stub::Method, options_, req, deadline, \
                                   "index")

absl::StatusOr<v1::CollectionInfo> GrpcIndexBackend::CreateCollection(
    const v1::CreateCollectionRequest& request, absl::Time deadline) {
  return DS_INDEX_CALL(CreateCollection, v1::CreateCollectionRequest, v1::CollectionInfo, request);
}

absl::StatusOr<v1::CollectionInfo> GrpcIndexBackend::GetCollection(const std::string& name,
                                                                   absl::Time deadline) {
  v1::GetCollectionRequest req;
  req.set_name(name);
  return DS_INDEX_CALL(GetCollection, v1::GetCollectionRequest, v1::CollectionInfo, req);
}

absl::StatusOr<v1::ListCollectionsResponse> GrpcIndexBackend::ListCollections(absl::Time deadline) {
  return DS_INDEX_CALL(ListCollections, v1::ListCollectionsRequest, v1::ListCollectionsResponse,
                       v1::ListCollectionsRequest());
}

absl::Status GrpcIndexBackend::DropCollection(const std::string& name, absl::Time deadline) {
  v1::DropCollectionRequest req;
  req.set_name(name);
  return DS_INDEX_CALL(DropCollection, v1::DropCollectionRequest, v1::DropCollectionResponse, req)
      .status();
}

absl::StatusOr<v1::UpsertResponse> GrpcIndexBackend::Upsert(const v1::UpsertRequest& request,
                                                            absl::Time deadline) {
  return DS_INDEX_CALL(Upsert, v1::UpsertRequest, v1::UpsertResponse, request);
}

absl::StatusOr<v1::DeleteResponse> GrpcIndexBackend::Delete(const v1::DeleteRequest& request,
                                                            absl::Time deadline) {
  return DS_INDEX_CALL(Delete, v1::DeleteRequest, v1::DeleteResponse, request);
}

absl::StatusOr<v1::GetResponse> GrpcIndexBackend::Get(const v1::GetRequest& request,
                                                      absl::Time deadline) {
  return DS_INDEX_CALL(Get, v1::GetRequest, v1::GetResponse, request);
}

absl::StatusOr<v1::VectorSearchResponse> GrpcIndexBackend::Search(
    const v1::VectorSearchRequest& request, absl::Time deadline) {
  return DS_INDEX_CALL(Search, v1::VectorSearchRequest, v1::VectorSearchResponse, request);
}

absl::StatusOr<v1::AliasInfo> GrpcIndexBackend::SetAlias(const v1::SetAliasRequest& request,
                                                         absl::Time deadline) {
  return DS_INDEX_CALL(SetAlias, v1::SetAliasRequest, v1::AliasInfo, request);
}

absl::StatusOr<v1::ListAliasesResponse> GrpcIndexBackend::ListAliases(absl::Time deadline) {
  return DS_INDEX_CALL(ListAliases, v1::ListAliasesRequest, v1::ListAliasesResponse,
                       v1::ListAliasesRequest());
}

absl::StatusOr<v1::ListRecordIdsResponse> GrpcIndexBackend::ListRecordIds(
    const v1::ListRecordIdsRequest& request, absl::Time deadline) {
  return DS_INDEX_CALL(ListRecordIds, v1::ListRecordIdsRequest, v1::ListRecordIdsResponse, request);
}

#undef DS_INDEX_CALL

}  // namespace dogsearch::gateway
