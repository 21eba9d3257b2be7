// Everything that determines a training run, its validation, and its conversion to and from
// dogsearch.v1.TrainingConfig (protobuf messages only; no gRPC, no LibTorch). The fields that
// the proto does not carry (device, output folder, loader threads, augmentation, evaluation
// cadence) are run-time choices that do not change what the model learns, except augmentation,
// whose defaults are fixed and documented in augment.h.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_TRAIN_OPTIONS_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_TRAIN_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/model/model_spec.h"
#include "dogsearch/v1/model.pb.h"
#include "services/trainer/core/augment_options.h"
#include "services/trainer/core/mining_kind.h"

namespace dogsearch::trainer {

enum class OptimizerKind { kAdam, kSgd };
// kTriplet: the triplet loss alone. kArcFace / kCosFace: a margin softmax over the training dogs
// (margin_loss.h), plus triplet_weight x the triplet loss.
enum class LossKind { kTriplet, kArcFace, kCosFace };

// Most nearest cohort vectors per hubness (TrainingConfig.cohort_k).
inline constexpr uint32_t kMaxCohortK = 1000;

struct TrainOptions {
  // What is learnt (mirrors dogsearch.v1.TrainingConfig).
  std::string data_dir;
  model::ModelSpec model = DefaultModelSpec();
  MiningKind mining = MiningKind::kSemiHard;
  float margin = 0.2f;
  bool soft_margin = false;
  LossKind loss = LossKind::kTriplet;
  float head_scale = 30.f;           // Margin losses: s.
  float head_margin = 0.f;           // Margin losses: m (0 = 0.3 ArcFace, 0.35 CosFace).
  uint32_t head_subcenters = 1;      // Margin losses: sub-centres per dog.
  float triplet_weight = 0.f;        // Margin losses: weight of an added triplet loss.
  bool head_from_centroids = false;  // Margin losses: centres start at the dogs' mean embeddings.
  uint32_t p = 16, k = 4;
  uint32_t epochs = 0;
  double time_budget_seconds = 0;
  OptimizerKind optimizer = OptimizerKind::kAdam;
  double learning_rate = 3e-4;
  double weight_decay = 5e-4;
  double trunk_lr_scale = 1;  // The trunk's learning rate / learning_rate (see TrainingConfig).
  uint32_t warmup_steps = 100;
  double ema_decay = 0;  // Publish the weights' moving average (TrainingConfig.ema_decay); 0 = off.
  double gradient_clip_norm = 0;
  double validation_fraction = 0.1;
  uint64_t seed = 0;
  int threads = 0;                // Intra-op threads; 0 = all cores.
  std::string parent_checkpoint;  // Checkpoint directory to fine-tune from ("" = scratch).
  // Relational distillation (TrainingConfig.teacher_version / distill_weight): the teacher's
  // checkpoint directory ("" = none) and the loss weight (> 0 exactly when a teacher is set).
  std::string teacher_checkpoint;
  float distill_weight = 0.f;
  // Set: the published checkpoints serve the test-time flip (or not) whatever the parent did;
  // unset: a fine-tune keeps the parent's choice (a run from scratch: model.flip_average).
  std::optional<bool> serve_flip;
  // TrainingConfig.cohort_k. Unset: a fine-tune keeps its parent's (0 for a plain parent); a
  // run from scratch: 0.
  std::optional<uint32_t> cohort_k;

  // How it runs.
  std::string output_dir;        // Run folder: checkpoints/, state/, metrics.jsonl.
  std::string run_name = "run";  // Checkpoint versions are <run_name>-s<step>.
  std::string device = "auto";   // "auto", "cpu", "cuda", "cuda:N".
  bool resume = false;           // Continue the run saved in output_dir.
  int loader_threads = 1;
  int prefetch_batches = 4;
  AugmentOptions augment;
  uint32_t eval_every_epochs = 1;
  bool flip_average_eval = false;

  static model::ModelSpec DefaultModelSpec();
};

// INVALID_ARGUMENT naming the first bad field.
absl::Status ValidateTrainOptions(const TrainOptions& options);

// The proto fields into/out of `options` (run-time fields untouched). `dataset` is kept as given.
void ToProto(const TrainOptions& options, ::dogsearch::v1::TrainingConfig* config);
absl::Status FromProto(const ::dogsearch::v1::TrainingConfig& config, TrainOptions* options);
std::string TrainingConfigJson(const TrainOptions& options);

const char* LossName(LossKind loss);
absl::StatusOr<LossKind> ParseLoss(const std::string& name);
// head_margin with its default filled in.
float EffectiveHeadMargin(const TrainOptions& options);
absl::StatusOr<MiningKind> ParseMining(const std::string& name);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_TRAIN_OPTIONS_H_
