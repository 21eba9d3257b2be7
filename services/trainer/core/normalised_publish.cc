#include "services/trainer/core/normalised_publish.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/model/cohort.h"
#include "common/torch_model/checkpoint.h"
#include "services/trainer/core/embed.h"
#include "services/trainer/core/evaluation.h"

namespace dogsearch::trainer {

absl::StatusOr<model::CheckpointManifest> PublishNormalised(const NormalisedPublish& p,
                                                            const PhotoCache& training,
                                                            const PhotoCache& validation) {
  DS_ASSIGN_OR_RETURN(model::LoadedCheckpoint ckpt,
                      model::LoadCheckpoint(p.root + "/" + p.from_version, p.device));
  EmbedOptions eo;
  eo.device = p.device;
  eo.ServeAs(ckpt.manifest.model);
  DS_ASSIGN_OR_RETURN(model::Cohort cohort, BuildDogCohort(*ckpt.net, training, eo, p.cohort_k));
  EmbeddingTable val = EmbedCache(*ckpt.net, validation, eo);
  DS_RETURN_IF_ERROR(SetOffsets(cohort, &val));
  EvalOptions ev;
  ev.seed = p.seed;
  ev.threads = at::get_num_threads();
  DS_ASSIGN_OR_RETURN(EvalResult r, Evaluate(val, ev));

  model::CheckpointManifest m = ckpt.manifest;
  m.version = p.to_version;
  m.parent_version = p.from_version;
  m.metrics = r.metrics;
  m.created_unix_seconds = 0;
  absl::StrAppend(&m.notes, "; served with score normalisation: a cohort of the ", cohort.rows(),
                  " training dogs' mean embeddings (k ", cohort.k(),
                  "), metrics and calibration of the normalised distances");
  return model::PublishCheckpoint(p.root, m, *ckpt.net, &cohort);
}

}  // namespace dogsearch::trainer
