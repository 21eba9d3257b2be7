#include "services/trainer/core/train_options.h"

#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/base/proto_json.h"
#include "common/base/status_macros.h"
#include "common/model/checkpoint_manifest.h"
#include "common/model/model_spec_proto.h"

namespace dogsearch::trainer {

model::ModelSpec TrainOptions::DefaultModelSpec() {
  model::ModelSpec s;
  s.architecture = model::kDogFaceNetResNet;
  s.input.width = s.input.height = 96;
  s.input.mean = model::kImageNetMean;
  s.input.std = model::kImageNetStd;
  s.embedding_dim = 128;
  s.dropout = 0.2f;
  s.stage_widths = {32, 64, 128, 256};
  s.blocks_per_stage = 1;
  return s;
}

absl::Status ValidateTrainOptions(const TrainOptions& o) {
  auto bad = [](auto&&... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  if (o.data_dir.empty()) return bad("dataset: no data folder given");
  if (absl::Status s = model::ValidateModelSpec(o.model); !s.ok()) {
    return bad("model: ", s.message());
  }
  if (!(o.margin > 0 && o.margin <= 2) && !o.soft_margin) {
    return bad("margin ", o.margin, " is outside (0, 2]");
  }
  if (o.loss != LossKind::kTriplet) {
    if (!(o.head_scale >= 1 && o.head_scale <= 128)) {
      return bad("head_scale ", o.head_scale, " is outside 1..128");
    }
    const float max_margin = o.loss == LossKind::kArcFace ? 1.5f : 1.f;
    const float m = EffectiveHeadMargin(o);
    if (!(m > 0 && m < max_margin))
      return bad("head_margin ", m, " is outside (0, ", max_margin, ")");
    if (o.head_subcenters < 1 || o.head_subcenters > 16) {
      return bad("head_subcenters ", o.head_subcenters, " is outside 1..16");
    }
    if (!(o.triplet_weight >= 0 && o.triplet_weight <= 10)) {
      return bad("triplet_weight ", o.triplet_weight, " is outside 0..10");
    }
  }
  if (o.p < 2 || o.p > 1024) return bad("identities_per_batch ", o.p, " is outside 2..1024");
  if (o.k < 2 || o.k > 64) return bad("photos_per_identity ", o.k, " is outside 2..64");
  if (size_t{o.p} * o.k > 4096) return bad("batch P*K = ", o.p * o.k, " exceeds 4096");
  if (o.epochs == 0 && o.time_budget_seconds <= 0) {
    return bad("epochs/time_budget_seconds: set at least one");
  }
  if (o.epochs > 100000) return bad("epochs ", o.epochs, " exceeds 100000");
  if (!(o.time_budget_seconds >= 0 && o.time_budget_seconds <= 30 * 24 * 3600.0)) {
    return bad("time_budget_seconds ", o.time_budget_seconds, " is outside 0..30 days");
  }
  if (!(o.learning_rate > 0 && o.learning_rate <= 10)) {
    return bad("learning_rate ", o.learning_rate, " is outside (0, 10]");
  }
  if (!(o.trunk_lr_scale > 0 && o.trunk_lr_scale <= 1)) {
    return bad("trunk_lr_scale ", o.trunk_lr_scale, " is outside (0, 1]");
  }
  if (o.cohort_k.value_or(0) > kMaxCohortK) {
    return bad("cohort_k ", *o.cohort_k, " is more than ", kMaxCohortK);
  }
  if (!(o.distill_weight >= 0 && o.distill_weight <= 1000)) {
    return bad("distill_weight ", o.distill_weight, " is outside 0..1000");
  }
  if (o.teacher_checkpoint.empty() != (o.distill_weight == 0)) {
    return bad(o.teacher_checkpoint.empty() ? "distill_weight needs a teacher"
                                            : "a teacher needs distill_weight > 0");
  }
  if (!(o.ema_decay >= 0 && o.ema_decay < 1)) {
    return bad("ema_decay ", o.ema_decay, " is outside [0, 1)");
  }
  if (!(o.weight_decay >= 0 && o.weight_decay < 1)) {
    return bad("weight_decay ", o.weight_decay, " is outside [0, 1)");
  }
  if (o.warmup_steps > 1'000'000) return bad("warmup_steps ", o.warmup_steps, " is too large");
  if (!(o.gradient_clip_norm >= 0 && std::isfinite(o.gradient_clip_norm))) {
    return bad("gradient_clip_norm ", o.gradient_clip_norm, " must be >= 0");
  }
  if (!(o.validation_fraction >= 0 && o.validation_fraction < 1)) {
    return bad("validation_fraction ", o.validation_fraction, " is outside [0, 1)");
  }
  if (o.threads < 0 || o.threads > 1024) return bad("threads ", o.threads, " is outside 0..1024");
  if (o.loader_threads < 1 || o.loader_threads > 64) {
    return bad("loader_threads ", o.loader_threads, " is outside 1..64");
  }
  if (o.prefetch_batches < 1 || o.prefetch_batches > 64) {
    return bad("prefetch_batches ", o.prefetch_batches, " is outside 1..64");
  }
  if (o.output_dir.empty()) return bad("output: no output folder given");
  if (absl::Status s = model::ValidateVersionName(o.run_name + "-s0"); !s.ok()) {
    return bad("run_name: ", s.message());
  }
  if (o.eval_every_epochs == 0) return bad("eval_every_epochs must be at least 1");
  return absl::OkStatus();
}

const char* LossName(LossKind loss) {
  switch (loss) {
    case LossKind::kTriplet:
      return "triplet";
    case LossKind::kArcFace:
      return "arcface";
    case LossKind::kCosFace:
      return "cosface";
  }
  return "?";
}

absl::StatusOr<LossKind> ParseLoss(const std::string& name) {
  if (name == "triplet") return LossKind::kTriplet;
  if (name == "arcface") return LossKind::kArcFace;
  if (name == "cosface") return LossKind::kCosFace;
  return absl::InvalidArgumentError(
      absl::StrCat("loss '", name, "' is not one of triplet, arcface, cosface"));
}

float EffectiveHeadMargin(const TrainOptions& o) {
  if (o.head_margin != 0) return o.head_margin;
  return o.loss == LossKind::kCosFace ? 0.35f : 0.3f;
}

absl::StatusOr<MiningKind> ParseMining(const std::string& name) {
  if (name == "batch_hard") return MiningKind::kBatchHard;
  if (name == "semi_hard") return MiningKind::kSemiHard;
  if (name == "batch_all") return MiningKind::kBatchAll;
  return absl::InvalidArgumentError(
      absl::StrCat("mining '", name, "' is not one of batch_hard, semi_hard, batch_all"));
}

void ToProto(const TrainOptions& o, v1::TrainingConfig* c) {
  c->set_dataset(o.data_dir);
  model::ToProto(o.model, c->mutable_model());
  c->set_mining(o.mining == MiningKind::kBatchHard  ? v1::MINING_STRATEGY_BATCH_HARD
                : o.mining == MiningKind::kSemiHard ? v1::MINING_STRATEGY_SEMI_HARD
                                                    : v1::MINING_STRATEGY_BATCH_ALL);
  c->set_margin(o.margin);
  c->set_soft_margin(o.soft_margin);
  c->set_identities_per_batch(o.p);
  c->set_photos_per_identity(o.k);
  c->set_epochs(o.epochs);
  c->set_time_budget_seconds(static_cast<uint32_t>(o.time_budget_seconds));
  c->set_optimizer(o.optimizer == OptimizerKind::kAdam ? v1::OPTIMIZER_ADAM : v1::OPTIMIZER_SGD);
  c->set_learning_rate(static_cast<float>(o.learning_rate));
  c->set_weight_decay(static_cast<float>(o.weight_decay));
  if (o.trunk_lr_scale != 1) c->set_trunk_lr_scale(static_cast<float>(o.trunk_lr_scale));
  c->set_warmup_steps(o.warmup_steps);
  c->set_gradient_clip_norm(static_cast<float>(o.gradient_clip_norm));
  c->set_validation_fraction(static_cast<float>(o.validation_fraction));
  c->set_seed(o.seed);
  c->set_threads(static_cast<uint32_t>(o.threads));
  c->set_loss(o.loss == LossKind::kArcFace   ? v1::LOSS_KIND_ARCFACE
              : o.loss == LossKind::kCosFace ? v1::LOSS_KIND_COSFACE
                                             : v1::LOSS_KIND_TRIPLET);
  if (o.loss != LossKind::kTriplet) {
    c->set_head_scale(o.head_scale);
    c->set_head_margin(EffectiveHeadMargin(o));
    c->set_head_subcenters(o.head_subcenters);
    c->set_triplet_weight(o.triplet_weight);
    c->set_head_from_centroids(o.head_from_centroids);
  }
  if (o.ema_decay != 0) c->set_ema_decay(static_cast<float>(o.ema_decay));
  if (o.cohort_k.value_or(0) != 0) c->set_cohort_k(*o.cohort_k);
  if (!o.teacher_checkpoint.empty()) {
    c->set_teacher_version(std::filesystem::path(o.teacher_checkpoint).filename().string());
    c->set_distill_weight(o.distill_weight);
  }
}

absl::Status FromProto(const v1::TrainingConfig& c, TrainOptions* o) {
  if (!c.dataset().empty()) o->data_dir = c.dataset();
  if (c.has_model()) {
    DS_ASSIGN_OR_RETURN(o->model, model::FromProto(c.model()));
  }
  switch (c.mining()) {
    case v1::MINING_STRATEGY_BATCH_HARD:
      o->mining = MiningKind::kBatchHard;
      break;
    case v1::MINING_STRATEGY_SEMI_HARD:
      o->mining = MiningKind::kSemiHard;
      break;
    case v1::MINING_STRATEGY_BATCH_ALL:
      o->mining = MiningKind::kBatchAll;
      break;
    default:
      break;
  }
  if (c.margin() != 0) o->margin = c.margin();
  o->soft_margin = c.soft_margin();
  if (c.identities_per_batch() != 0) o->p = c.identities_per_batch();
  if (c.photos_per_identity() != 0) o->k = c.photos_per_identity();
  if (c.epochs() != 0) o->epochs = c.epochs();
  if (c.time_budget_seconds() != 0) o->time_budget_seconds = c.time_budget_seconds();
  if (c.optimizer() == v1::OPTIMIZER_SGD) o->optimizer = OptimizerKind::kSgd;
  if (c.optimizer() == v1::OPTIMIZER_ADAM) o->optimizer = OptimizerKind::kAdam;
  if (c.learning_rate() != 0) o->learning_rate = c.learning_rate();
  if (c.weight_decay() != 0) o->weight_decay = c.weight_decay();
  if (c.warmup_steps() != 0) o->warmup_steps = c.warmup_steps();
  if (c.gradient_clip_norm() != 0) o->gradient_clip_norm = c.gradient_clip_norm();
  if (c.validation_fraction() != 0) o->validation_fraction = c.validation_fraction();
  if (c.seed() != 0) o->seed = c.seed();
  if (c.threads() != 0) o->threads = static_cast<int>(c.threads());
  switch (c.loss()) {
    case v1::LOSS_KIND_ARCFACE:
      o->loss = LossKind::kArcFace;
      break;
    case v1::LOSS_KIND_COSFACE:
      o->loss = LossKind::kCosFace;
      break;
    case v1::LOSS_KIND_TRIPLET:
      o->loss = LossKind::kTriplet;
      break;
    default:
      break;
  }
  if (c.head_scale() != 0) o->head_scale = c.head_scale();
  if (c.head_margin() != 0) o->head_margin = c.head_margin();
  if (c.head_subcenters() != 0) o->head_subcenters = c.head_subcenters();
  if (c.triplet_weight() != 0) o->triplet_weight = c.triplet_weight();
  if (c.trunk_lr_scale() != 0) o->trunk_lr_scale = c.trunk_lr_scale();
  o->head_from_centroids = c.head_from_centroids();
  if (c.ema_decay() != 0) o->ema_decay = c.ema_decay();
  if (c.cohort_k() != 0) o->cohort_k = c.cohort_k();
  // teacher_version is resolved to a folder by the caller (as parent_version is).
  if (c.distill_weight() != 0) o->distill_weight = c.distill_weight();
  return absl::OkStatus();
}

std::string TrainingConfigJson(const TrainOptions& o) {
  v1::TrainingConfig c;
  ToProto(o, &c);
  return ProtoToJson(c).value_or("{}");
}

}  // namespace dogsearch::trainer
