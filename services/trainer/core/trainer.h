// The training loop: PK batches from the loader, online triplet mining, optimiser step,
// per-epoch validation on identity-disjoint dogs, checkpoints through the common checkpoint
// format. Shared by dogsearch-train and the trainer service; knows nothing of gRPC.
// Includes no LibTorch header (callers stay light).
//
// Run folder (TrainOptions::output_dir):
//   checkpoints/<run_name>-s<step>/   published atomically (common/torch_model/checkpoint.h); after
//                                     each publish only the best (by validation verification
//                                     accuracy) and the last are kept.
//   state/run_state.txt               last/best versions, epoch, step, elapsed time (atomic);
//   state/optimizer-s<step>.pt        optimiser moments of the last checkpoint.
//   state/head-s<step>.pt             margin losses: the training-only classification head.
//   state/live-s<step>.pt             ema_decay > 0: the live weights (checkpoints hold their
//                                     moving average; the run ends by also publishing the live
//                                     weights as checkpoints/<run_name>-live-s<step>/).
//   checkpoints/<run_name>-csls-s<step>/  cohort_k > 0: the run ends by publishing its best
//                                     checkpoint (<run_name>-s<step>) once more with score
//                                     normalisation (normalised_publish.h); never pruned.
//   metrics.jsonl                     one JSON object per step and per epoch.
// Resume (TrainOptions::resume) reloads the last checkpoint and optimiser state and continues
// at the next epoch; the sampler and augmentation depend only on (seed, epoch, batch), so the
// data stream continues as it would have.
// Cancellation: *cancel is polled between steps; the run stops without publishing, and the
// last published checkpoint stays.
// Thread-compatible: Train() runs on the caller's thread; the observer is called from it.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_TRAINER_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_TRAINER_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/model/checkpoint_manifest.h"
#include "services/trainer/core/train_options.h"

namespace dogsearch::trainer {

struct StepReport {
  uint32_t epoch = 0, batch = 0, batches_per_epoch = 0;
  uint64_t step = 0;  // Steps done so far in the run (1 after the first).
  double loss = 0, active_fraction = 0, mean_positive = 0, mean_negative = 0;
  double learning_rate = 0;
  int64_t triplets = 0;
  double head_accuracy = 0;      // Margin losses: share of the batch classified right.
  double distill_loss = 0;       // With a teacher: RelationalDistillationLoss (unweighted).
  double step_seconds = 0;       // Wall time of this step, data wait included.
  double data_wait_seconds = 0;  // Blocked on the loader.
  double loss_seconds = 0;       // Distance matrix + mining + loss (forward only).
  double images_per_second = 0;  // Smoothed over recent steps.
  double elapsed_seconds = 0;    // Training time of the run so far (resumes included).
  double eta_seconds = 0;        // Until the epoch or time limit, whichever comes first.
};

struct EpochReport {
  uint32_t epoch = 0;
  uint64_t step = 0;
  double elapsed_seconds = 0;
  bool validated = false;
  model::EvalMetrics metrics;
  std::string checkpoint_version;  // Published at the end of this epoch ("" if none).
  bool best = false;
};

class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual void OnStart(uint32_t /*train_dogs*/, uint32_t /*train_photos*/,
                       uint32_t /*validation_dogs*/, uint32_t /*validation_photos*/,
                       uint32_t /*batches_per_epoch*/) {}
  virtual void OnStep(const StepReport&) {}
  virtual void OnEpoch(const EpochReport&) {}
};

struct TrainResult {
  bool cancelled = false;
  // Versions under <output_dir>/checkpoints. With cohort_k > 0, best_version (and
  // best_metrics) is the score-normalised <run_name>-csls-s<step> made from the best.
  std::string last_version, best_version;
  // ema_decay > 0 and the run finished: the live weights' checkpoint (<run_name>-live-s<step>);
  // last_version and best_version hold the average.
  std::string live_version;
  model::EvalMetrics best_metrics;
  uint32_t epochs = 0;
  uint64_t steps = 0;
  double seconds = 0;
  double data_wait_fraction = 0;  // Share of step time spent waiting for data.
  double loss_fraction = 0;       // Share of step time spent in distances+mining+loss.
};

// INVALID_ARGUMENT for bad options or data; NOT_FOUND for a missing data folder, parent
// checkpoint or (with resume) run state; FAILED_PRECONDITION when a parent or resumed
// checkpoint does not match the model spec.
absl::StatusOr<TrainResult> Train(const TrainOptions& options, TrainingObserver* observer,
                                  const std::atomic<bool>* cancel);

// "<output_dir>/checkpoints".
std::string CheckpointRoot(const std::string& output_dir);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_TRAINER_H_
