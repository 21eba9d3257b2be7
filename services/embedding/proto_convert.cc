#include "services/embedding/proto_convert.h"

#include "common/model/model_spec_proto.h"

namespace dogsearch::embedding {

void ToProto(const ModelStatus& s, v1::ModelInfo* out) {
  out->set_version(s.version);
  out->set_state(s.state == ModelState::kReady     ? v1::MODEL_STATE_READY
                 : s.state == ModelState::kLoading ? v1::MODEL_STATE_LOADING
                                                   : v1::MODEL_STATE_FAILED);
  out->set_state_reason(s.reason);
  out->set_is_default(s.is_default);
  out->set_ready_unix_seconds(s.ready_unix_seconds);
  if (!s.model) return;
  const model::CheckpointManifest& m = s.model->manifest();
  model::ToProto(m.model, out->mutable_spec());
  out->set_device(s.model->device());
  out->set_half_precision(s.model->half_precision());
  out->set_numerics(s.model->numerics());
  model::ToProto(m.metrics, out->mutable_metrics());
  out->set_parent_version(m.parent_version);
  out->set_weights_sha256(m.weights_sha256);
  out->set_photos_embedded(s.model->photos_embedded.load());
  if (s.model->cohort() != nullptr) {
    out->set_cohort_size(static_cast<uint32_t>(s.model->cohort()->rows()));
  }
}

}  // namespace dogsearch::embedding
