#include "services/embedding/embedding_service.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/status_macros.h"
#include "common/image_header/image_header.h"
#include "services/embedding/core/photo_prep.h"
#include "services/embedding/proto_convert.h"

namespace dogsearch::embedding {

namespace {

// Collects the per-photo results of one Embed call; the last one to arrive finishes the call.
struct PendingEmbed {
  std::mutex mu;
  size_t remaining;
  std::vector<std::vector<float>> vectors;
  absl::Status error;  // First error, if any.
};

}  // namespace

EmbeddingService::EmbeddingService(ServiceDeps deps, EmbedLimits limits,
                                   rpc::TokenAuthenticator auth)
    : deps_(std::move(deps)),
      limits_(limits),
      handlers_(v1::Embedding::service_full_name(), "dogsearch_embedding", std::move(auth),
                deps_.metrics) {}

absl::Status EmbeddingService::Validate(const v1::EmbedRequest& req) const {
  if (req.photos_size() == 0) return absl::InvalidArgumentError("Embed needs at least one photo");
  if (req.photos_size() > limits_.max_photos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Embed got ", req.photos_size(), " photos, more than the limit of ", limits_.max_photos));
  }
  uint64_t pixels = 0;
  for (int i = 0; i < req.photos_size(); ++i) {
    if (req.photos(i).name().size() > limits_.max_name_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("photo ", i, ": name longer than ", limits_.max_name_bytes, " bytes"));
    }
    // Unreadable or oversized photos are refused one by one, with their reason, when decoded.
    auto h = image::ReadImageHeader(req.photos(i).data());
    const uint64_t p = h.ok() ? uint64_t{h->width} * h->height : 0;
    if (p <= limits_.image.max_pixels) pixels += p;
    if (pixels > limits_.max_request_pixels) {
      return absl::InvalidArgumentError(
          absl::StrCat("the photos add up to more than ", limits_.max_request_pixels,
                       " pixels at photo ", i, "; send fewer or smaller photos per request"));
    }
  }
  return absl::OkStatus();
}

EmbeddingService::Reactor* EmbeddingService::Embed(Ctx* ctx, const v1::EmbedRequest* req,
                                                   v1::EmbedResponse* resp) {
  return handlers_.RunDeferred(
      ctx, "Embed", [&](absl::Time deadline, rpc::Handlers::Finish finish) {
        absl::Status s = Validate(*req);
        absl::StatusOr<std::shared_ptr<const EmbeddingModel>> model =
            s.ok() ? deps_.repository->Acquire(req->model_version()) : s;
        if (!model.ok()) return finish(model.status());
        const bool queued =
            deps_.decode_pool->TrySchedule([this, ctx, req, resp, m = *model, deadline, finish] {
              DecodeAndQueue(ctx, req, resp, m, deadline, finish);
            });
        if (!queued)
          finish(absl::ResourceExhaustedError("embedding decode queue is full; retry later"));
      });
}

void EmbeddingService::DecodeAndQueue(Ctx* ctx, const v1::EmbedRequest* req,
                                      v1::EmbedResponse* resp,
                                      std::shared_ptr<const EmbeddingModel> model,
                                      absl::Time deadline, rpc::Handlers::Finish finish) {
  if (ctx->IsCancelled()) return finish(absl::CancelledError("request cancelled before decoding"));
  std::vector<PhotoRef> refs;
  for (const auto& p : req->photos()) refs.push_back({p.data(), p.name()});
  auto inputs = PreparePhotos(refs, model->input_spec(), limits_.image);
  if (!inputs.ok()) return finish(inputs.status());
  auto pending = std::make_shared<PendingEmbed>();
  pending->remaining = inputs->size();
  pending->vectors.resize(inputs->size());
  std::vector<BatchItem> items;
  for (size_t i = 0; i < inputs->size(); ++i) {
    BatchItem item;
    item.model = model;
    item.input = std::move((*inputs)[i]);
    item.deadline = deadline;
    item.cancelled = [ctx] { return ctx->IsCancelled(); };
    item.done = [pending, i, resp, model, finish](absl::StatusOr<std::vector<float>> v) {
      std::unique_lock<std::mutex> lock(pending->mu);
      if (v.ok()) {
        pending->vectors[i] = *std::move(v);
      } else if (pending->error.ok()) {
        pending->error = v.status();
      }
      if (--pending->remaining > 0) return;
      lock.unlock();
      if (pending->error.ok()) {
        resp->set_model_version(model->version());
        resp->set_dimension(model->dimension());
        const model::Cohort* cohort = model->cohort();
        for (auto& vec : pending->vectors) {
          v1::EmbeddingVector* e = resp->add_embeddings();
          *e->mutable_values() = {vec.begin(), vec.end()};
          if (cohort != nullptr) e->set_score_offset(cohort->Offset(vec.data()));
        }
      }
      finish(pending->error);
    };
    items.push_back(std::move(item));
  }
  const size_t n = items.size();
  if (absl::Status s = deps_.batcher->Enqueue(std::move(items)); !s.ok()) return finish(s);
  deps_.metrics
      ->GetCounter("dogsearch_embedding_photos_total", "Photos accepted for embedding.",
                   {{"version", model->version()}})
      ->Increment(static_cast<double>(n));
}

EmbeddingService::Reactor* EmbeddingService::ListModels(Ctx* ctx, const v1::ListModelsRequest*,
                                                        v1::ListModelsResponse* resp) {
  return handlers_.RunInline(ctx, "ListModels", [&](absl::Time) {
    for (const ModelStatus& m : deps_.repository->List()) ToProto(m, resp->add_models());
    resp->set_default_version(deps_.repository->default_version());
    return absl::OkStatus();
  });
}

EmbeddingService::Reactor* EmbeddingService::GetModel(Ctx* ctx, const v1::GetModelRequest* req,
                                                      v1::ModelInfo* resp) {
  return handlers_.RunInline(ctx, "GetModel", [&](absl::Time) {
    auto m = deps_.repository->Get(req->version());
    if (m.ok()) ToProto(*m, resp);
    return m.status();
  });
}

EmbeddingService::Reactor* EmbeddingService::LoadModel(Ctx* ctx, const v1::LoadModelRequest* req,
                                                       v1::ModelInfo* resp) {
  return handlers_.RunDeferred(
      ctx, "LoadModel", [&](absl::Time deadline, rpc::Handlers::Finish finish) {
        absl::Status s = model::ValidateVersionName(req->version());
        if (s.ok() && !std::filesystem::is_directory(deps_.model_dir + "/" + req->version())) {
          s = absl::NotFoundError(
              absl::StrCat("no checkpoint ", req->version(), " in ", deps_.model_dir));
        }
        if (s.ok()) s = deps_.repository->StartLoad(req->version(), req->make_default());
        if (!s.ok()) return finish(s);
        const bool queued = deps_.admin_pool->TrySchedule([this, req, resp, deadline, finish] {
          auto status = deps_.repository->WaitUntilLoaded(
              req->version(), std::min(deadline - absl::Now(), absl::Minutes(10)));
          absl::Status result = status.status();
          if (status.ok()) {
            ToProto(*status, resp);
            if (status->state == ModelState::kFailed) {
              result = absl::FailedPreconditionError(
                  absl::StrCat("checkpoint ", req->version(), " refused: ", status->reason));
            }
          }
          finish(result);
        });
        if (!queued) finish(absl::ResourceExhaustedError("busy"));
      });
}

EmbeddingService::Reactor* EmbeddingService::UnloadModel(Ctx* ctx,
                                                         const v1::UnloadModelRequest* req,
                                                         v1::UnloadModelResponse*) {
  return handlers_.RunInline(ctx, "UnloadModel",
                             [&](absl::Time) { return deps_.repository->Unload(req->version()); });
}

EmbeddingService::Reactor* EmbeddingService::SetDefaultModel(Ctx* ctx,
                                                             const v1::SetDefaultModelRequest* req,
                                                             v1::ModelInfo* resp) {
  return handlers_.RunInline(ctx, "SetDefaultModel", [&](absl::Time) {
    DS_RETURN_IF_ERROR(deps_.repository->SetDefault(req->version()));
    auto m = deps_.repository->Get(req->version());
    if (m.ok()) ToProto(*m, resp);
    return absl::OkStatus();
  });
}

}  // namespace dogsearch::embedding
