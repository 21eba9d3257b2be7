#include "services/gateway/core/model_setup.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/model/identification.h"
#include "common/model/model_spec_proto.h"

namespace dogsearch::gateway {

std::string CollectionFor(const std::string& version, const ModelSetupOptions& options) {
  return options.collection_prefix + version;
}

absl::StatusOr<ModelTarget> PrepareModel(EmbeddingBackend* embedding, const std::string& version,
                                         const ModelSetupOptions& options,
                                         const std::atomic<bool>* cancel) {
  const absl::Time give_up = absl::Now() + options.load_timeout;
  auto info = embedding->GetModel(version, absl::Now() + options.call_timeout);
  if (!info.ok() && absl::IsNotFound(info.status())) {
    DS_LOG(kInfo, "gateway_loading_model").Kv("version", version);
    info =
        embedding->LoadModel(version, false, std::min(give_up, absl::Now() + options.call_timeout));
    if (!info.ok() && absl::IsAlreadyExists(info.status())) {
      info = embedding->GetModel(version, absl::Now() + options.call_timeout);
    }
  }
  while (info.ok() && info->state() == v1::MODEL_STATE_LOADING) {
    if (cancel && cancel->load()) return absl::CancelledError("stopping");
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(absl::StrCat("model ", version, " still loading after ",
                                                      absl::FormatDuration(options.load_timeout)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    info = embedding->GetModel(version, absl::Now() + options.call_timeout);
  }
  if (!info.ok()) return info.status();
  if (info->state() != v1::MODEL_STATE_READY) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model ", version, " is not ready in the embedding service: ", info->state_reason()));
  }
  ModelTarget t;
  t.version = version;
  t.collection = CollectionFor(version, options);
  t.dimension = info->spec().embedding_dim();
  t.score_normalised = info->cohort_size() > 0;
  t.spec = info->spec();
  t.metrics = info->metrics();
  t.threshold = info->metrics().threshold() > 0 ? static_cast<float>(info->metrics().threshold())
                                                : options.default_threshold;
  t.confidence_center = static_cast<float>(info->metrics().confidence_center());
  t.confidence_scale = static_cast<float>(info->metrics().confidence_scale());
  t.identification = model::FromProto(info->metrics()).identification;
  if (absl::Status s = model::ValidateIdentificationCalibration(t.identification); !s.ok()) {
    DS_LOG(kWarning, "gateway_identification_calibration_ignored")
        .Kv("version", version)
        .Kv("reason", s);
    t.identification = {};
  }
  if (t.dimension == 0) {
    return absl::FailedPreconditionError(absl::StrCat("model ", version, " reports no dimension"));
  }
  return t;
}

absl::Status EnsureCollection(IndexBackend* index, const ModelTarget& target,
                              const ModelSetupOptions& options) {
  v1::CreateCollectionRequest req;
  req.set_name(target.collection);
  req.set_dimension(target.dimension);
  req.set_metric(v1::METRIC_COSINE);
  req.set_model_version(target.version);
  *req.mutable_hnsw() = options.hnsw;
  req.set_vector_encoding(options.vector_encoding);
  req.set_max_records(options.max_records);
  auto created = index->CreateCollection(req, absl::Now() + options.call_timeout);
  if (created.ok()) {
    DS_LOG(kInfo, "gateway_collection_created").Kv("collection", target.collection);
    return absl::OkStatus();
  }
  if (!absl::IsAlreadyExists(created.status())) return created.status();
  DS_ASSIGN_OR_RETURN(v1::CollectionInfo info,
                      index->GetCollection(target.collection, absl::Now() + options.call_timeout));
  if (info.model_version() != target.version || info.dimension() != target.dimension) {
    return absl::FailedPreconditionError(absl::StrCat(
        "index collection ", target.collection, " holds model ", info.model_version(), " (",
        info.dimension(), "-d), not ", target.version, " (", target.dimension, "-d)"));
  }
  return absl::OkStatus();
}

}  // namespace dogsearch::gateway
