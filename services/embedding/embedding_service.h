// gRPC adapter of the embedding core: dogsearch.v1.Embedding over a ModelRepository and a
// DynamicBatcher. Embed validates the request, pins one model for the whole request (so every
// vector in a reply comes from the version the reply names, even if the default changes
// meanwhile), decodes and preprocesses photos on a bounded worker pool (in parallel with
// inference on the batcher's thread), then queues them for batching. Model administration
// (LoadModel waits for the load, bounded by the call's deadline) runs on a separate small pool.
// Bearer tokens guard LoadModel, UnloadModel and SetDefaultModel. Thread-safe; everything it
// is given must outlive it.
#ifndef DOGSEARCH_SERVICES_EMBEDDING_EMBEDDING_SERVICE_H_
#define DOGSEARCH_SERVICES_EMBEDDING_EMBEDDING_SERVICE_H_

#include <string>

#include "common/base/thread_pool.h"
#include "common/image_header/image_header.h"
#include "common/metrics/metrics.h"
#include "common/rpc/handler.h"
#include "dogsearch/v1/embedding.grpc.pb.h"
#include "services/embedding/core/batcher.h"
#include "services/embedding/core/model_repository.h"

namespace dogsearch::embedding {

struct EmbedLimits {
  int max_photos = 64;
  // Header pixels of all photos in one request: decoding cost bounded before decoding.
  uint64_t max_request_pixels = 100'000'000;
  size_t max_name_bytes = 256;
  image::ImageLimits image;
};

struct ServiceDeps {
  ModelRepository* repository;
  DynamicBatcher* batcher;
  ThreadPool* decode_pool;
  ThreadPool* admin_pool;
  std::string model_dir;  // LoadModel looks for <model_dir>/<version>.
  metrics::MetricsRegistry* metrics;
};

class EmbeddingService final : public v1::Embedding::CallbackService {
 public:
  EmbeddingService(ServiceDeps deps, EmbedLimits limits, rpc::TokenAuthenticator auth);

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* Embed(Ctx*, const v1::EmbedRequest*, v1::EmbedResponse*) override;
  Reactor* ListModels(Ctx*, const v1::ListModelsRequest*, v1::ListModelsResponse*) override;
  Reactor* GetModel(Ctx*, const v1::GetModelRequest*, v1::ModelInfo*) override;
  Reactor* LoadModel(Ctx*, const v1::LoadModelRequest*, v1::ModelInfo*) override;
  Reactor* UnloadModel(Ctx*, const v1::UnloadModelRequest*, v1::UnloadModelResponse*) override;
  Reactor* SetDefaultModel(Ctx*, const v1::SetDefaultModelRequest*, v1::ModelInfo*) override;

 private:
  absl::Status Validate(const v1::EmbedRequest& req) const;
  // Ends the call through `finish` (never through ctx->DefaultReactor() a second time: gRPC
  // 1.51's DefaultReactor() placement-news a fresh reactor on every call, so a second call
  // reset the one gRPC had bound and the reply was lost).
  void DecodeAndQueue(Ctx* ctx, const v1::EmbedRequest* req, v1::EmbedResponse* resp,
                      std::shared_ptr<const EmbeddingModel> model, absl::Time deadline,
                      rpc::Handlers::Finish finish);

  const ServiceDeps deps_;
  const EmbedLimits limits_;
  const rpc::Handlers handlers_;
};

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_EMBEDDING_SERVICE_H_
