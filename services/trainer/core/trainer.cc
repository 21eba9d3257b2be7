#include "services/trainer/core/trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/base/file_util.h"
#include "common/base/heap_retention.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/torch_model/checkpoint.h"
#include "common/torch_model/device.h"
#include "services/trainer/core/batch_loader.h"
#include "services/trainer/core/dataset.h"
#include "services/trainer/core/distill.h"
#include "services/trainer/core/embed.h"
#include "services/trainer/core/evaluation.h"
#include "services/trainer/core/margin_loss.h"
#include "services/trainer/core/normalised_publish.h"
#include "services/trainer/core/photo_cache.h"
#include "services/trainer/core/pk_sampler.h"
#include "services/trainer/core/run_state.h"
#include "services/trainer/core/triplet_loss.h"
#include "services/trainer/core/weight_average.h"

namespace dogsearch::trainer {
namespace fs = std::filesystem;
namespace {

// The embedding head's parameters (the trunk is everything else): the dense layer and its batch
// norm, a member's in an ensemble ("member0.dense.weight"), and an ensemble's projection.
bool IsHeadParameter(absl::string_view key) {
  if (absl::StartsWith(key, "projection.")) return true;
  for (absl::string_view part : absl::StrSplit(key, '.')) {
    if (part == "dense" || part == "embedding_bn") return true;
  }
  return false;
}

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Appends JSON lines; fsynced at every epoch. Owned by the training thread.
class MetricsLog {
 public:
  absl::Status Open(const std::string& path) {
    file_ = std::fopen(path.c_str(), "a");
    if (file_ == nullptr) return ErrnoToStatus(errno, "opening " + path);
    return absl::OkStatus();
  }
  ~MetricsLog() {
    if (file_ != nullptr) std::fclose(file_);
  }
  void Append(const std::string& line) {
    if (file_ != nullptr) std::fprintf(file_, "%s\n", line.c_str());
  }
  void Sync() {
    if (file_ == nullptr) return;
    std::fflush(file_);
    (void)fdatasync(fileno(file_));
  }

 private:
  FILE* file_ = nullptr;
};

std::string StepJson(const StepReport& r) {
  return absl::StrFormat(
      "{\"type\":\"step\",\"epoch\":%d,\"step\":%d,\"loss\":%.6f,\"active_fraction\":%.4f,"
      "\"mean_positive\":%.4f,\"mean_negative\":%.4f,\"lr\":%.6g,\"triplets\":%d,"
      "\"head_accuracy\":%.4f,\"distill_loss\":%.6f,\"step_s\":%.4f,\"data_wait_s\":%.4f,\"loss_"
      "s\":%.4f,\"images_per_"
      "s\":%.1f,"
      "\"elapsed_s\":%.1f}",
      r.epoch, r.step, r.loss, r.active_fraction, r.mean_positive, r.mean_negative, r.learning_rate,
      r.triplets, r.head_accuracy, r.distill_loss, r.step_seconds, r.data_wait_seconds,
      r.loss_seconds, r.images_per_second, r.elapsed_seconds);
}

std::string EpochJson(const EpochReport& r) {
  const model::EvalMetrics& m = r.metrics;
  return absl::StrFormat(
      "{\"type\":\"epoch\",\"epoch\":%d,\"step\":%d,\"elapsed_s\":%.1f,\"validated\":%s,"
      "\"verification_accuracy\":%.4f,\"verification_accuracy_std\":%.4f,\"roc_auc\":%.4f,"
      "\"tar_at_far_1e-3\":%.4f,\"rank1\":%.4f,\"recall_at_5\":%.4f,\"map\":%.4f,"
      "\"full_gallery_top1\":%.4f,\"full_gallery_mrr\":%.4f,\"rank1_3_enrolled\":%.4f,"
      "\"dir_at_fpir_0.05\":%.4f,\"confidence_ece\":%.4f,"
      "\"threshold\":%.4f,\"checkpoint\":\"%s\",\"best\":%s}",
      r.epoch, r.step, r.elapsed_seconds, r.validated ? "true" : "false", m.verification_accuracy,
      m.verification_accuracy_std, m.roc_auc, m.tar_at_far_1e3, m.rank1, m.recall_at_5,
      m.mean_average_precision, m.full_gallery_top1, m.full_gallery_mrr, m.rank1_3_enrolled,
      m.dir_at_fpir_5e2, m.identification.confidence_ece, m.threshold, r.checkpoint_version,
      r.best ? "true" : "false");
}

// Removes a published checkpoint so that no reader sees it half-deleted: rename to a
// temporary (ignored) name first.
void RemoveCheckpoint(const std::string& root, const std::string& version) {
  const std::string dir = root + "/" + version;
  const std::string tmp = root + "/.tmp-remove-" + version;
  std::error_code ec;
  fs::rename(dir, tmp, ec);
  if (!ec) fs::remove_all(tmp, ec);
}

class TrainingRun {
 public:
  TrainingRun(const TrainOptions& o, TrainingObserver* observer, const std::atomic<bool>* cancel)
      : o_(o), observer_(observer), cancel_(cancel) {}

  absl::Status Setup();
  absl::StatusOr<TrainResult> Run();

 private:
  absl::Status LoadData();
  absl::Status BuildModel();
  absl::Status BuildHead();
  absl::Status InitHeadFromCentroids();
  absl::Status BuildAverage();
  void BuildOptimizer();
  torch::Tensor Loss(const torch::Tensor& emb, const torch::Tensor& labels, StepReport* rep);
  double LearningRate(uint64_t step, double elapsed) const;
  StepReport Step(const LoadedBatch& batch, uint64_t step, double elapsed);
  absl::Status EndEpoch(uint32_t epoch, uint64_t steps, double elapsed);
  bool Validate(model::EvalMetrics* metrics);
  // Publishes net_ as <run_name>-s<steps> or, for a run's live weights beside their average,
  // <run_name>-live-s<steps>.
  absl::StatusOr<std::string> Publish(const model::EvalMetrics& metrics, uint32_t epoch,
                                      uint64_t steps, bool live_beside_average = false);
  absl::Status PublishLive(uint32_t epoch, uint64_t steps);
  // cohort_k > 0: the best checkpoint once more, score-normalised, as <run_name>-csls-s<step>.
  absl::Status PublishNormalisedBest();
  absl::Status SaveOptimizer(uint64_t steps);
  void RemoveOldOptimizerFiles();
  void Prune();

  TrainOptions o_;
  TrainingObserver* observer_;
  const std::atomic<bool>* cancel_;
  torch::Device device_ = torch::kCPU;
  std::string fingerprint_;
  std::optional<PhotoCache> train_, val_;
  std::optional<PkSampler> sampler_;
  std::shared_ptr<model::EmbeddingNet> net_;
  MarginHead head_{nullptr};  // Margin losses only; training-only, saved under state/.
  std::unique_ptr<DistillationTeacher> teacher_;  // distill_weight > 0 only; never trains.
  // ema_decay > 0 only. Between steps net_ holds the live weights; EndEpoch swaps the average
  // in to validate and publish it, then back. The live weights are saved under state/.
  std::optional<WeightAverage> average_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<double> group_lr_scale_;  // Per parameter group: x the schedule's rate.
  std::string parent_version_;
  RunState state_;
  MetricsLog log_;
  TrainResult result_;
  double wait_total_ = 0, loss_total_ = 0, step_total_ = 0;
};

absl::Status TrainingRun::LoadData() {
  DS_ASSIGN_OR_RETURN(Dataset all, ScanDataset(o_.data_dir));
  fingerprint_ = DatasetFingerprint(all);
  const DatasetSplit split = SplitByIdentity(all, o_.validation_fraction, o_.seed);
  const int decode_threads = std::max(1u, std::thread::hardware_concurrency());
  DS_ASSIGN_OR_RETURN(PhotoCache train,
                      PhotoCache::Load(split.train, o_.model.input, decode_threads));
  train_.emplace(std::move(train));
  if (!split.validation.identities.empty()) {
    DS_ASSIGN_OR_RETURN(PhotoCache val,
                        PhotoCache::Load(split.validation, o_.model.input, decode_threads));
    val_.emplace(std::move(val));
  }
  const size_t failed = train_->failed() + (val_ ? val_->failed() : 0);
  if (failed > 0) {
    DS_LOG(kWarning, "photos_skipped")
        .Kv("count", failed)
        .Kv("first_error", train_->failed() ? train_->first_error() : val_->first_error());
  }
  if (const uint32_t k = o_.cohort_k.value_or(0); k > 0) {
    if (!val_) {
      return absl::InvalidArgumentError(
          absl::StrCat("cohort_k ", k,
                       " needs a validation split to calibrate the normalised distances on "
                       "(validation_fraction > 0; cohort_k 0 publishes plain checkpoints)"));
    }
    if (k >= train_->photos_of().size()) {
      return absl::InvalidArgumentError(absl::StrCat("cohort_k ", k, " must be below the ",
                                                     train_->photos_of().size(),
                                                     " training dogs (the cohort's rows)"));
    }
  }
  DS_ASSIGN_OR_RETURN(PkSampler sampler,
                      PkSampler::Create(train_->photos_of(), o_.p, o_.k, o_.seed));
  sampler_.emplace(std::move(sampler));
  if (sampler_->skipped_identities() > 0) {
    DS_LOG(kInfo, "identities_with_one_photo_not_sampled")
        .Kv("count", sampler_->skipped_identities());
  }
  return absl::OkStatus();
}

absl::Status TrainingRun::BuildModel() {
  std::string from;
  if (o_.resume) {
    DS_ASSIGN_OR_RETURN(state_, LoadRunState(o_.output_dir));
    from = CheckpointRoot(o_.output_dir) + "/" + state_.last_version;
  } else if (!o_.parent_checkpoint.empty()) {
    from = o_.parent_checkpoint;
  }
  if (from.empty()) {
    DS_ASSIGN_OR_RETURN(net_, model::BuildEmbeddingNet(o_.model));
    net_->to(device_);
  } else {
    DS_ASSIGN_OR_RETURN(model::LoadedCheckpoint ckpt, model::LoadCheckpoint(from, device_));
    if (o_.resume && !(ckpt.manifest.model == o_.model)) {
      return absl::FailedPreconditionError(
          absl::StrCat("checkpoint ", from, " has a different model spec than this run's options"));
    }
    // Fine-tuning adopts the parent's architecture and input; the flip is a serving choice.
    o_.model = ckpt.manifest.model;
    if (!o_.resume && o_.serve_flip.has_value()) o_.model.flip_average = *o_.serve_flip;
    if (!o_.model.flip_average) o_.model.test_time_zoom = 0.f;  // The zoom is of the mirror,
    if (o_.model.test_time_zoom == 0.f) o_.model.test_time_four_views = false;  // 4 of a zoom.
    // Score normalisation, like the flip, is how the parent was served: a fine-tune keeps it
    // unless told otherwise.
    if (!o_.cohort_k.has_value()) o_.cohort_k = ckpt.cohort ? ckpt.cohort->k() : 0;
    parent_version_ = o_.resume ? ckpt.manifest.parent_version : ckpt.manifest.version;
    net_ = ckpt.net;
  }
  net_->train();
  return absl::OkStatus();
}

// A file that goes with an optimiser file: ("head-", "optimizer-s<N>.pt") -> "head-s<N>.pt".
// head-: a margin loss's classification head; live-: the live weights of a run that publishes
// their average.
std::string CompanionFile(absl::string_view prefix, const std::string& optimizer_file) {
  constexpr absl::string_view kPrefix = "optimizer-";
  if (!absl::StartsWith(optimizer_file, kPrefix)) return "";
  return absl::StrCat(prefix, optimizer_file.substr(kPrefix.size()));
}
std::string HeadFileFor(const std::string& optimizer_file) {
  return CompanionFile("head-", optimizer_file);
}
std::string LiveFileFor(const std::string& optimizer_file) {
  return CompanionFile("live-", optimizer_file);
}

absl::Status TrainingRun::BuildHead() {
  if (o_.loss == LossKind::kTriplet) return absl::OkStatus();
  MarginHeadOptions h;
  h.kind = o_.loss == LossKind::kCosFace ? MarginKind::kCosFace : MarginKind::kArcFace;
  h.classes = static_cast<int64_t>(train_->photos_of().size());
  h.dim = o_.model.embedding_dim;
  h.subcenters = o_.head_subcenters;
  h.scale = o_.head_scale;
  h.margin = EffectiveHeadMargin(o_);
  DS_RETURN_IF_ERROR(ValidateMarginHeadOptions(h));
  head_ = MarginHead(h);
  if (o_.resume && !state_.optimizer_file.empty()) {
    const std::string path = StateDir(o_.output_dir) + "/" + HeadFileFor(state_.optimizer_file);
    if (!fs::exists(path)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "resuming a margin-loss run needs its classification head, ", path, " is missing"));
    }
    torch::load(head_, path);
  }
  head_->to(device_);
  head_->train();
  if (!o_.resume && o_.head_from_centroids) return InitHeadFromCentroids();
  return absl::OkStatus();
}

// Each training dog's centre from its photos' embeddings under the starting network (aligned,
// unaugmented, no flip).
absl::Status TrainingRun::InitHeadFromCentroids() {
  EmbedOptions eo;
  eo.device = device_;
  const EmbeddingTable t = EmbedCache(*net_, *train_, eo);
  const int64_t n = static_cast<int64_t>(t.size());
  const torch::Tensor emb =
      torch::from_blob(const_cast<float*>(t.vectors.data()), {n, static_cast<int64_t>(t.dim)})
          .to(device_);
  const torch::Tensor labels =
      torch::from_blob(const_cast<int32_t*>(t.labels.data()), {n}, torch::kInt32).to(device_);
  DS_RETURN_IF_ERROR(InitCentresFromEmbeddings(head_, emb, labels));
  DS_LOG(kInfo, "head_from_centroids").Kv("dogs", head_->options().classes).Kv("photos", n);
  return absl::OkStatus();
}

// With ema_decay: the average starts at the network as loaded (on resume, the last published
// checkpoint, which holds the average); the live weights come from state/.
absl::Status TrainingRun::BuildAverage() {
  if (o_.ema_decay <= 0) return absl::OkStatus();
  average_.emplace(*net_, o_.ema_decay);
  if (o_.resume && !state_.optimizer_file.empty()) {
    const std::string path = StateDir(o_.output_dir) + "/" + LiveFileFor(state_.optimizer_file);
    if (!fs::exists(path)) {
      return absl::FailedPreconditionError(
          absl::StrCat("resuming a run that publishes a weight average needs its live weights, ",
                       path, " is missing"));
    }
    DS_RETURN_IF_ERROR(LoadTensorsInto(path, ModuleTensors(*net_)));
  }
  return absl::OkStatus();
}

// One parameter group without a trunk learning-rate scale (as before it existed, so that saved
// optimiser states stay loadable); with one, group 0 is the trunk and group 1 the heads.
void TrainingRun::BuildOptimizer() {
  std::vector<torch::Tensor> trunk, heads;
  for (const auto& p : net_->named_parameters()) {
    (IsHeadParameter(p.key()) && o_.trunk_lr_scale != 1 ? heads : trunk).push_back(p.value());
  }
  if (head_) {
    for (const torch::Tensor& t : head_->parameters()) {
      (o_.trunk_lr_scale != 1 ? heads : trunk).push_back(t);
    }
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(trunk);
  if (!heads.empty()) groups.emplace_back(heads);
  group_lr_scale_ = {heads.empty() ? 1.0 : o_.trunk_lr_scale, 1.0};
  if (o_.optimizer == OptimizerKind::kAdam) {
    optimizer_ = std::make_unique<torch::optim::Adam>(
        groups, torch::optim::AdamOptions(o_.learning_rate).weight_decay(o_.weight_decay));
  } else {
    optimizer_ =
        std::make_unique<torch::optim::SGD>(groups, torch::optim::SGDOptions(o_.learning_rate)
                                                        .momentum(0.9)
                                                        .nesterov(true)
                                                        .weight_decay(o_.weight_decay));
  }
}

absl::Status TrainingRun::Setup() {
  DS_RETURN_IF_ERROR(ValidateTrainOptions(o_));
  DS_ASSIGN_OR_RETURN(device_, model::ParseDevice(o_.device));
  at::set_num_threads(o_.threads > 0
                          ? o_.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  torch::manual_seed(o_.seed);
  DS_RETURN_IF_ERROR(MakeDirs(CheckpointRoot(o_.output_dir)));
  if (!o_.resume && LoadRunState(o_.output_dir).ok()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "'", o_.output_dir, "' already holds a training run; resume it or choose another folder"));
  }
  try {
    DS_RETURN_IF_ERROR(BuildModel());
    DS_RETURN_IF_ERROR(LoadData());
    DS_RETURN_IF_ERROR(BuildHead());
    DS_RETURN_IF_ERROR(BuildAverage());
    if (!o_.teacher_checkpoint.empty()) {
      DS_ASSIGN_OR_RETURN(
          teacher_, DistillationTeacher::Load(o_.teacher_checkpoint, o_.model.input, device_));
    }
    BuildOptimizer();
    const std::string opt_path = StateDir(o_.output_dir) + "/" + state_.optimizer_file;
    if (o_.resume && !state_.optimizer_file.empty()) {
      if (fs::exists(opt_path)) {
        torch::load(*optimizer_, opt_path);
      } else {  // Weights are intact; only the optimiser's moments restart.
        DS_LOG(kWarning, "optimizer_state_missing").Kv("file", opt_path);
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("setting up training: ", e.what()));
  }
  (void)model::RemoveStaleTemporaries(CheckpointRoot(o_.output_dir));
  return log_.Open(o_.output_dir + "/metrics.jsonl");
}

double TrainingRun::LearningRate(uint64_t step, double elapsed) const {
  double progress = 0;
  if (o_.epochs > 0) {
    progress = static_cast<double>(step) /
               (static_cast<double>(o_.epochs) * sampler_->batches_per_epoch());
  }
  if (o_.time_budget_seconds > 0) progress = std::max(progress, elapsed / o_.time_budget_seconds);
  progress = std::clamp(progress, 0.0, 1.0);
  const double warm = o_.warmup_steps > 0 ? std::min(1.0, (step + 1.0) / o_.warmup_steps) : 1.0;
  return o_.learning_rate * warm * 0.5 * (1 + std::cos(M_PI * progress));
}

StepReport TrainingRun::Step(const LoadedBatch& batch, uint64_t step, double elapsed) {
  const auto start = Clock::now();
  const int64_t n = static_cast<int64_t>(batch.batch.photos.size());
  const model::InputSpec& in = o_.model.input;
  torch::Tensor x = torch::from_blob(const_cast<float*>(batch.pixels.data()),
                                     {n, 3, int64_t{in.height}, int64_t{in.width}});
  torch::Tensor labels =
      torch::from_blob(const_cast<int32_t*>(batch.batch.labels.data()), {n}, torch::kInt32);
  if (device_.is_cuda()) {
    x = x.pin_memory().to(device_, /*non_blocking=*/true);
    labels = labels.pin_memory().to(device_, /*non_blocking=*/true);
  }
  const double lr = LearningRate(step, elapsed);
  for (size_t g = 0; g < optimizer_->param_groups().size(); ++g) {
    optimizer_->param_groups()[g].options().set_lr(lr * group_lr_scale_[g]);
  }
  const torch::Tensor teacher_emb = teacher_ ? teacher_->Embed(x) : torch::Tensor();
  torch::Tensor emb = net_->forward(x);
  const auto loss_start = Clock::now();
  StepReport rep;
  torch::Tensor loss = Loss(emb, labels, &rep);
  if (teacher_) {
    const torch::Tensor distill = RelationalDistillationLoss(emb, teacher_emb);
    rep.distill_loss = distill.item<double>();
    loss = loss + o_.distill_weight * distill;
  }
  const double loss_seconds = Since(loss_start);
  optimizer_->zero_grad();
  loss.backward();
  if (o_.gradient_clip_norm > 0) {
    torch::nn::utils::clip_grad_norm_(net_->parameters(), o_.gradient_clip_norm);
  }
  optimizer_->step();
  if (average_) average_->Update(*net_, step);
  rep.loss = loss.item<double>();
  rep.learning_rate = lr;
  rep.loss_seconds = loss_seconds;
  rep.data_wait_seconds = batch.wait_seconds;
  rep.step_seconds = Since(start) + batch.wait_seconds;
  return rep;
}

// The run's objective on one batch; fills the report's loss statistics (the triplet figures are
// reported for every objective: they cost a 64x64 distance matrix).
torch::Tensor TrainingRun::Loss(const torch::Tensor& emb, const torch::Tensor& labels,
                                StepReport* rep) {
  TripletLossOptions lo;
  lo.mining = o_.mining;
  lo.margin = o_.margin;
  lo.soft_margin = o_.soft_margin;
  TripletLossResult t = TripletLoss(emb, labels, lo);
  rep->active_fraction = t.active_fraction;
  rep->mean_positive = t.mean_positive;
  rep->mean_negative = t.mean_negative;
  rep->triplets = t.triplets;
  if (!head_) return t.loss;
  MarginLossResult m = MarginLoss(head_, emb, labels);
  rep->head_accuracy = m.accuracy;
  if (o_.triplet_weight > 0) return m.loss + o_.triplet_weight * t.loss;
  return m.loss;
}

absl::StatusOr<std::string> TrainingRun::Publish(const model::EvalMetrics& metrics, uint32_t epoch,
                                                 uint64_t steps, bool live_beside_average) {
  model::CheckpointManifest m;
  m.version = absl::StrCat(o_.run_name, live_beside_average ? "-live-s" : "-s", steps);
  m.model = o_.model;
  m.training_config_json = TrainingConfigJson(o_);
  m.dataset_fingerprint = fingerprint_;
  m.metrics = metrics;
  m.parent_version = parent_version_;
  m.epoch = epoch;
  m.step = steps;
  m.notes = absl::StrCat("train ", train_->photos_of().size(), " dogs / ", train_->size(),
                         " photos; validation ", val_ ? val_->photos_of().size() : 0, " dogs / ",
                         val_ ? val_->size() : 0, " photos (identity-disjoint)");
  if (teacher_) {
    absl::StrAppend(&m.notes, "; distilled from ", teacher_->version(), " (relational, weight ",
                    o_.distill_weight, ")");
  }
  if (live_beside_average) {
    absl::StrAppend(&m.notes, "; the live weights of a run that publishes their average");
  } else if (average_) {
    absl::StrAppend(&m.notes, "; weights: their moving average (ema_decay ", o_.ema_decay, ")");
  }
  const std::string root = CheckpointRoot(o_.output_dir);
  if (fs::exists(root + "/" + m.version)) RemoveCheckpoint(root, m.version);  // Crashed earlier.
  absl::StatusOr<model::CheckpointManifest> written = model::PublishCheckpoint(root, m, *net_);
  if (!written.ok()) return written.status();
  return m.version;
}

absl::Status TrainingRun::SaveOptimizer(uint64_t steps) {
  const std::string dir = StateDir(o_.output_dir);
  DS_RETURN_IF_ERROR(MakeDirs(dir));
  const std::string name = absl::StrCat("optimizer-s", steps, ".pt");
  const std::string tmp = dir + "/.tmp-" + name;
  const std::string head_name = HeadFileFor(name);
  const std::string head_tmp = dir + "/.tmp-" + head_name;
  const std::string live_name = LiveFileFor(name);
  const std::string live_tmp = dir + "/.tmp-" + live_name;
  try {
    torch::save(*optimizer_, tmp);
    if (head_) torch::save(head_, head_tmp);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("saving optimizer state: ", e.what()));
  }
  if (average_) DS_RETURN_IF_ERROR(SaveTensors(ModuleTensors(*net_), live_tmp));
  // Companions first: the optimiser file's presence implies theirs.
  if (head_) {
    DS_RETURN_IF_ERROR(SyncPath(head_tmp));
    DS_RETURN_IF_ERROR(RenameDurably(head_tmp, dir + "/" + head_name));
  }
  if (average_) {
    DS_RETURN_IF_ERROR(SyncPath(live_tmp));
    DS_RETURN_IF_ERROR(RenameDurably(live_tmp, dir + "/" + live_name));
  }
  DS_RETURN_IF_ERROR(SyncPath(tmp));
  DS_RETURN_IF_ERROR(RenameDurably(tmp, dir + "/" + name));
  state_.optimizer_file = name;
  return absl::OkStatus();
}

void TrainingRun::RemoveOldOptimizerFiles() {
  // Only after the run state names the new file: a crash in between must leave the file the
  // saved state points at.
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(StateDir(o_.output_dir), ec)) {
    const std::string name = e.path().filename().string();
    const bool old_optimizer =
        absl::StartsWith(name, "optimizer-") && name != state_.optimizer_file;
    bool old_companion = false;
    for (absl::string_view prefix : {"head-", "live-"}) {
      old_companion |=
          absl::StartsWith(name, prefix) && name != CompanionFile(prefix, state_.optimizer_file);
    }
    if (old_optimizer || old_companion) {
      fs::remove(e.path(), ec);
    }
  }
}

void TrainingRun::Prune() {
  absl::StatusOr<std::vector<model::CheckpointManifest>> all =
      model::ListCheckpoints(CheckpointRoot(o_.output_dir));
  if (!all.ok()) return;
  for (const model::CheckpointManifest& m : *all) {
    if (m.version != state_.last_version && m.version != state_.best_version &&
        absl::StartsWith(m.version, o_.run_name + "-s")) {
      RemoveCheckpoint(CheckpointRoot(o_.output_dir), m.version);
    }
  }
}

// The validation figures of net_ as it is; false if there is no validation split or it failed.
bool TrainingRun::Validate(model::EvalMetrics* metrics) {
  if (!val_) return false;
  EmbedOptions eo;
  eo.device = device_;
  eo.ServeAs(o_.model);
  eo.flip_average = o_.flip_average_eval || o_.model.flip_average;
  EvalOptions ev;
  ev.seed = o_.seed;
  ev.threads = at::get_num_threads();
  absl::StatusOr<EvalResult> r = Evaluate(EmbedCache(*net_, *val_, eo), ev);
  if (!r.ok()) {
    DS_LOG(kWarning, "validation_skipped").Kv("reason", r.status());
    return false;
  }
  *metrics = r->metrics;
  return true;
}

// At the end of a run that publishes the average: the live weights too, as
// <run_name>-live-s<step> (validated; never pruned, never "best"), so that the two can be
// compared.
absl::Status TrainingRun::PublishLive(uint32_t epoch, uint64_t steps) {
  model::EvalMetrics metrics;
  Validate(&metrics);
  DS_ASSIGN_OR_RETURN(std::string version,
                      Publish(metrics, epoch, steps, /*live_beside_average=*/true));
  result_.live_version = version;
  return absl::OkStatus();
}

absl::Status TrainingRun::PublishNormalisedBest() {
  NormalisedPublish p;
  p.root = CheckpointRoot(o_.output_dir);
  p.from_version = state_.best_version;
  // Named after the weights it holds: <run_name>-s<step> -> <run_name>-csls-s<step>.
  const std::string prefix = o_.run_name + "-s";
  p.to_version = absl::StartsWith(p.from_version, prefix)
                     ? absl::StrCat(o_.run_name, "-csls-s", p.from_version.substr(prefix.size()))
                     : absl::StrCat(o_.run_name, "-csls-s", state_.steps_done);
  p.cohort_k = *o_.cohort_k;
  p.seed = o_.seed;
  p.device = device_;
  if (fs::exists(p.root + "/" + p.to_version)) RemoveCheckpoint(p.root, p.to_version);
  DS_ASSIGN_OR_RETURN(model::CheckpointManifest m, PublishNormalised(p, *train_, *val_));
  result_.best_version = m.version;
  result_.best_metrics = m.metrics;
  DS_LOG(kInfo, "published_normalised").Kv("version", m.version).Kv("from", p.from_version);
  return absl::OkStatus();
}

absl::Status TrainingRun::EndEpoch(uint32_t epoch, uint64_t steps, double elapsed) {
  EpochReport rep;
  rep.epoch = epoch;
  rep.step = steps;
  if (average_) average_->Swap(*net_);  // Validate and publish the average.
  rep.validated = Validate(&rep.metrics);
  absl::StatusOr<std::string> version = Publish(rep.metrics, epoch, steps);
  if (average_) average_->Swap(*net_);  // The live weights train on.
  if (!version.ok()) return version.status();
  rep.checkpoint_version = *version;
  const bool no_validation = !rep.validated;
  rep.best = no_validation || rep.metrics.verification_accuracy > state_.best_accuracy;
  state_.last_version = rep.checkpoint_version;
  if (rep.best) {
    state_.best_version = rep.checkpoint_version;
    state_.best_accuracy = rep.metrics.verification_accuracy;
    result_.best_metrics = rep.metrics;
  }
  state_.epochs_done = epoch + 1;
  state_.steps_done = steps;
  rep.elapsed_seconds = elapsed;
  state_.elapsed_seconds = elapsed;
  DS_RETURN_IF_ERROR(SaveOptimizer(steps));
  DS_RETURN_IF_ERROR(SaveRunState(o_.output_dir, state_));
  RemoveOldOptimizerFiles();
  Prune();
  log_.Append(EpochJson(rep));
  log_.Sync();
  if (observer_ != nullptr) observer_->OnEpoch(rep);
  return absl::OkStatus();
}

absl::StatusOr<TrainResult> TrainingRun::Run() {
  const uint32_t per_epoch = sampler_->batches_per_epoch();
  if (observer_ != nullptr) {
    observer_->OnStart(static_cast<uint32_t>(train_->photos_of().size()),
                       static_cast<uint32_t>(train_->size()),
                       val_ ? static_cast<uint32_t>(val_->photos_of().size()) : 0,
                       val_ ? static_cast<uint32_t>(val_->size()) : 0, per_epoch);
  }
  LoaderOptions lo;
  lo.threads = o_.loader_threads;
  lo.prefetch = o_.prefetch_batches;
  lo.seed = o_.seed;
  lo.start_epoch = state_.epochs_done;
  BatchLoader loader(*train_, *sampler_, o_.model.input, o_.augment, lo);
  const auto start = Clock::now();
  const double prior = state_.elapsed_seconds;
  uint64_t steps = state_.steps_done;
  double rate = 0;
  bool stop = false;
  for (uint32_t epoch = state_.epochs_done; !stop; ++epoch) {
    if (o_.epochs > 0 && epoch >= o_.epochs) break;
    torch::manual_seed(o_.seed + epoch);
    uint32_t b = 0;
    for (; b < per_epoch; ++b) {
      if (cancel_ != nullptr && cancel_->load()) {
        result_.cancelled = true;
        stop = true;
        break;
      }
      const double elapsed = prior + Since(start);
      if (o_.time_budget_seconds > 0 && elapsed >= o_.time_budget_seconds) {
        stop = true;
        break;
      }
      const LoadedBatch batch = loader.Next();
      StepReport rep;
      try {
        rep = Step(batch, steps, elapsed);
      } catch (const std::exception& e) {
        return absl::InternalError(absl::StrCat("training step ", steps, ": ", e.what()));
      }
      ++steps;
      wait_total_ += rep.data_wait_seconds;
      loss_total_ += rep.loss_seconds;
      step_total_ += rep.step_seconds;
      const double ips = batch.batch.photos.size() / std::max(rep.step_seconds, 1e-9);
      rate = rate == 0 ? ips : 0.9 * rate + 0.1 * ips;
      rep.epoch = epoch;
      rep.batch = b;
      rep.batches_per_epoch = per_epoch;
      rep.step = steps;
      rep.images_per_second = rate;
      rep.elapsed_seconds = prior + Since(start);
      const double steps_per_s = rate / batch.batch.photos.size();
      double eta =
          o_.epochs > 0 ? (static_cast<double>(o_.epochs) * per_epoch - steps) / steps_per_s : 0;
      if (o_.time_budget_seconds > 0) {
        const double left = o_.time_budget_seconds - rep.elapsed_seconds;
        eta = eta > 0 ? std::min(eta, left) : left;
      }
      rep.eta_seconds = std::max(0.0, eta);
      log_.Append(StepJson(rep));
      if (observer_ != nullptr) observer_->OnStep(rep);
    }
    if (result_.cancelled) break;
    if (b == 0 && stop) {  // Budget ran out exactly at an epoch boundary.
      if (epoch > 0 && state_.steps_done != steps) {
        DS_RETURN_IF_ERROR(EndEpoch(epoch - 1, steps, prior + Since(start)));
      }
      break;
    }
    const bool last = stop || (o_.epochs > 0 && epoch + 1 >= o_.epochs);
    if (last || (epoch + 1) % o_.eval_every_epochs == 0) {
      DS_RETURN_IF_ERROR(EndEpoch(epoch, steps, prior + Since(start)));
    }
  }
  if (average_ && !result_.cancelled && steps > 0 && state_.steps_done == steps) {
    DS_RETURN_IF_ERROR(PublishLive(state_.epochs_done - 1, steps));
  }
  result_.last_version = state_.last_version;
  result_.best_version = state_.best_version;
  if (o_.cohort_k.value_or(0) > 0 && !result_.cancelled && !state_.best_version.empty() &&
      state_.steps_done == steps) {
    DS_RETURN_IF_ERROR(PublishNormalisedBest());
  }
  result_.epochs = state_.epochs_done;
  result_.steps = steps;
  result_.seconds = prior + Since(start);
  result_.data_wait_fraction = step_total_ > 0 ? wait_total_ / step_total_ : 0;
  result_.loss_fraction = step_total_ > 0 ? loss_total_ / step_total_ : 0;
  return result_;
}

}  // namespace

std::string CheckpointRoot(const std::string& output_dir) { return output_dir + "/checkpoints"; }

absl::StatusOr<TrainResult> Train(const TrainOptions& options, TrainingObserver* observer,
                                  const std::atomic<bool>* cancel) {
  // Steps free and reallocate the same big tensors: keep their pages (1.15-1.8x the images/s
  // on 2 cores, the larger the activations the more; docs/TRAINING.md, "Keeping freed tensor
  // memory").
  ScopedHeapRetention keep_freed_memory;
  TrainingRun run(options, observer, cancel);
  DS_RETURN_IF_ERROR(run.Setup());
  return run.Run();
}

}  // namespace dogsearch::trainer
