// A loaded, verified embedding model: immutable after it is made, shared by reference count,
// so a reload or unload never pulls a model from under a batch that is running on it (the
// batch holds a shared_ptr; memory is freed when the last holder lets go).
// No LibTorch here: TorchEmbeddingModel implements it; tests use fakes.
#ifndef DOGSEARCH_SERVICES_EMBEDDING_CORE_EMBEDDING_MODEL_H_
#define DOGSEARCH_SERVICES_EMBEDDING_CORE_EMBEDDING_MODEL_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/model/checkpoint_manifest.h"
#include "common/model/cohort.h"

namespace dogsearch::embedding {

class EmbeddingModel {
 public:
  virtual ~EmbeddingModel() = default;

  // Embeds `n` inputs laid out back to back (each 3 x height x width floats, CHW, already
  // normalised per the input spec). Returns n * dimension() floats, each row unit length.
  // Thread-safe: concurrent calls are allowed.
  virtual absl::StatusOr<std::vector<float>> Embed(const float* inputs, int n) const = 0;

  virtual const model::CheckpointManifest& manifest() const = 0;
  // "cpu" or "cuda:N".
  virtual std::string device() const = 0;
  virtual bool half_precision() const { return false; }
  // How the version's serving precision is computed here (dogsearch.v1.ModelInfo.numerics).
  virtual std::string numerics() const { return "float32"; }
  // The score-normalisation cohort (dogsearch.v1.ScoreNormalisation), or null: every vector
  // this model returns carries its offset under it.
  virtual const model::Cohort* cohort() const { return nullptr; }

  const std::string& version() const { return manifest().version; }
  uint32_t dimension() const { return manifest().model.embedding_dim; }
  const model::InputSpec& input_spec() const { return manifest().model.input; }
  size_t input_floats() const { return size_t{3} * input_spec().width * input_spec().height; }

  // Photos embedded by this model (statistics only).
  mutable std::atomic<uint64_t> photos_embedded{0};
};

// Checks a model's output on a probe batch: n rows of the model's dimension, finite, unit
// length within 1e-3. FAILED_PRECONDITION saying what is wrong.
absl::Status CheckProbeOutput(const std::vector<float>& out, int n, uint32_t dimension);

// A fixed, deterministic probe batch for a model's input size (smooth patterns, not zeros).
std::vector<float> ProbeBatch(const model::InputSpec& spec, int n);

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_CORE_EMBEDDING_MODEL_H_
