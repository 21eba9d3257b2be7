#include "tests/testing/random_checkpoints.h"

#include "common/base/status_macros.h"
#include "common/torch_model/checkpoint.h"
#include "common/torch_model/embedding_net.h"

namespace dogsearch::testing {

model::ModelSpec SmallSpec() {
  model::ModelSpec spec;
  spec.architecture = model::kDogFaceNetResNet;
  spec.input.width = spec.input.height = 64;
  spec.embedding_dim = 32;
  spec.stage_widths = {8, 16, 32};
  return spec;
}

absl::Status PublishRandomCheckpoint(const std::string& root, const std::string& version,
                                     int64_t created_unix_seconds, const model::ModelSpec& spec,
                                     double threshold) {
  DS_ASSIGN_OR_RETURN(auto net, model::BuildEmbeddingNet(spec));
  net->eval();
  model::CheckpointManifest m;
  m.version = version;
  m.model = spec;
  m.created_unix_seconds = created_unix_seconds;
  m.metrics.threshold = threshold;
  return model::PublishCheckpoint(root, m, *net).status();
}

}  // namespace dogsearch::testing
