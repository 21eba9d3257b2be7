// The embedding server's own flags (the shared server flags are common/rpc/server_shell's)
// and what they configure: the model directory and the first model, the LibTorch device,
// threads and batching, the request limits, the directory watcher and the trainer subscriber.
// Also the LibTorch model loader and the batch metrics the server wires in. Read once, at
// start-up, by main().
#ifndef DOGSEARCH_SERVICES_EMBEDDING_EMBEDDING_FLAGS_H_
#define DOGSEARCH_SERVICES_EMBEDDING_EMBEDDING_FLAGS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/metrics/metrics.h"
#include "services/embedding/checkpoint_subscriber.h"
#include "services/embedding/core/batcher.h"
#include "services/embedding/core/model_repository.h"
#include "services/embedding/core/torch_model.h"
#include "services/embedding/embedding_service.h"

namespace dogsearch::embedding {

struct EmbeddingConfig {
  std::string model_dir;
  std::string first_model;  // Empty: no checkpoint yet.
  std::string device;       // Resolved ("cpu", "cuda:0").
  int torch_threads = 1;    // As set in LibTorch.
  TorchOptions torch;
  BatcherOptions batch;
  int decode_threads = 2;
  EmbedLimits limits;
  int max_loaded_models = 3;
  bool watch_make_default = false;
  absl::Duration watch_interval;
  std::string trainer_address;  // Empty: follow no trainer.
  SubscriberOptions subscriber;
};

// Also sets LibTorch's thread count (--threads, or the usable cores less one).
EmbeddingConfig EmbeddingConfigFromFlags();

// Loads <model_dir>/<version> with LibTorch, counting loads by outcome.
ModelLoader TorchLoader(const EmbeddingConfig& config, metrics::MetricsRegistry* registry);

// Batch size, queue wait and forward-pass time histograms.
BatchObserver BatchMetrics(metrics::MetricsRegistry* registry);

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_EMBEDDING_FLAGS_H_
