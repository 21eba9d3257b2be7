// Checkpoints with random weights for tests of the serving machinery: a small network, each
// publication its own embedding space (fresh random weights), written with the real
// PublishCheckpoint. Needs LibTorch.
#ifndef DOGSEARCH_TESTS_TESTING_RANDOM_CHECKPOINTS_H_
#define DOGSEARCH_TESTS_TESTING_RANDOM_CHECKPOINTS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/model/model_spec.h"

namespace dogsearch::testing {

// 64x64 input, residual widths 8-16-32, 32-d embeddings.
model::ModelSpec SmallSpec();

// Publishes <root>/<version> with `spec` and fresh random weights; `threshold` (0 = none) goes
// into the manifest's metrics.
absl::Status PublishRandomCheckpoint(const std::string& root, const std::string& version,
                                     int64_t created_unix_seconds,
                                     const model::ModelSpec& spec = SmallSpec(),
                                     double threshold = 0);

}  // namespace dogsearch::testing

#endif  // DOGSEARCH_TESTS_TESTING_RANDOM_CHECKPOINTS_H_
