// dogsearch-train: trains an embedding network on a folder of identity folders and writes
// checkpoints, a metrics log and live progress. Wiring only; the work is in core/trainer.h.
//
//   dogsearch-train --data ../shared/datasets/dogfacenet/after_4_bis --out runs/r1
//       --time_budget 1800 [--config cfg.json] [--mining semi_hard] ...
// --config takes a dogsearch.v1.TrainingConfig in protobuf JSON; flags set to other than
// their default override it. Every flag also reads DOGSEARCH_<FLAG>. Prints one JSON summary on
// stdout.
#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <set>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/base/env_flags.h"
#include "common/base/file_util.h"
#include "services/trainer/core/trainer.h"

ABSL_FLAG(std::string, data, "", "Dataset folder: <data>/<dog_id>/*.jpg");
ABSL_FLAG(std::string, out, "", "Run folder (checkpoints/, state/, metrics.jsonl)");
ABSL_FLAG(std::string, config, "", "dogsearch.v1.TrainingConfig as JSON (flags override it)");
ABSL_FLAG(std::string, architecture, "dogfacenet_resnet",
          "dogfacenet_resnet, mobilenet_v2 or seed_inception");
ABSL_FLAG(int, input_size, 96, "Square input side, pixels");
ABSL_FLAG(std::string, stage_widths, "32,64,128,256", "Residual stage widths");
ABSL_FLAG(int, blocks_per_stage, 1, "Residual blocks per stage");
ABSL_FLAG(int, embedding_dim, 128, "Embedding length");
ABSL_FLAG(double, dropout, 0.2, "Dropout before the dense layer");
ABSL_FLAG(std::string, mining, "semi_hard", "batch_hard, semi_hard or batch_all");
ABSL_FLAG(double, margin, 0.2, "Triplet margin (plain L2)");
ABSL_FLAG(bool, soft_margin, false, "Soft-margin loss log(1+exp(d_ap-d_an))");
ABSL_FLAG(std::string, loss, "triplet", "triplet, arcface or cosface");
ABSL_FLAG(double, head_scale, 30, "Margin losses: logit scale s");
ABSL_FLAG(double, head_margin, 0, "Margin losses: margin m (0 = 0.3 arcface, 0.35 cosface)");
ABSL_FLAG(int, subcenters, 1, "Margin losses: sub-centres per dog (sub-center ArcFace)");
ABSL_FLAG(double, triplet_weight, 0, "Margin losses: weight of an added triplet loss");
ABSL_FLAG(bool, embedding_bn, false, "Batch norm on the embedding before L2 (BNNeck)");
ABSL_FLAG(bool, serve_flip, false,
          "Model spec: serve and validate the mean embedding of a photo and its mirror image");
ABSL_FLAG(int, p, 16, "Dogs per batch");
ABSL_FLAG(int, k, 4, "Photos per dog per batch");
ABSL_FLAG(int, epochs, 0, "Epoch limit (0 = none)");
ABSL_FLAG(double, time_budget, 0, "Training time limit, seconds (0 = none)");
ABSL_FLAG(std::string, optimizer, "adam", "adam or sgd");
ABSL_FLAG(double, lr, 3e-4, "Peak learning rate");
ABSL_FLAG(double, weight_decay, 5e-4, "Weight decay");
ABSL_FLAG(double, ema_decay, 0,
          "Publish the moving average of the weights with this decay per step (0 = off; "
          "e.g. 0.999)");
ABSL_FLAG(uint32_t, cohort_k, 0,
          "Score normalisation: end the run by publishing its best checkpoint once more as "
          "<run_name>-csls-s<step> with a cohort of the training dogs (this many nearest per "
          "hubness) and a calibration of the normalised distances (0 = plain checkpoints; "
          "unset on a fine-tune: the parent's)");
ABSL_FLAG(std::string, teacher, "",
          "Distillation: a checkpoint folder whose pairwise similarities within each batch the "
          "student's are pulled towards (relational; needs --distill_weight)");
ABSL_FLAG(double, distill_weight, 0, "Distillation: weight of the relational loss (0..1000)");
ABSL_FLAG(bool, head_from_centroids, false,
          "Margin losses: start each dog's centre at its mean embedding under the starting "
          "network (for a fine-tune)");
ABSL_FLAG(double, trunk_lr_scale, 1,
          "The trunk's learning rate as a multiple of --lr (the embedding head keeps --lr); "
          "below 1 for a pretrained start");
ABSL_FLAG(int, warmup_steps, 100, "Linear warm-up steps");
ABSL_FLAG(double, clip, 0, "Gradient norm clip (0 = off)");
ABSL_FLAG(double, val_fraction, 0.1, "Share of dogs held out for validation");
ABSL_FLAG(uint64_t, seed, 0, "Seed for split, sampling, augmentation, initialisation");
ABSL_FLAG(int, threads, 0, "LibTorch intra-op threads (0 = all cores)");
ABSL_FLAG(int, loader_threads, 1, "Decode/augment threads");
ABSL_FLAG(std::string, device, "auto", "auto, cpu, cuda, cuda:N");
ABSL_FLAG(bool, resume, false, "Continue the run in --out");
ABSL_FLAG(std::string, parent, "", "Checkpoint folder to fine-tune from");
ABSL_FLAG(std::string, run_name, "run", "Checkpoint versions are <run_name>-s<step>");
ABSL_FLAG(int, eval_every, 1, "Validate and checkpoint every N epochs");
ABSL_FLAG(bool, flip_eval, false, "Flip-average embeddings in validation");
ABSL_FLAG(bool, augment, true, "Augment training photos");
ABSL_FLAG(double, crop_area_min, 0.7, "Augmentation: smallest crop area (share of the photo)");
ABSL_FLAG(double, crop_area_max, 1.0, "Augmentation: largest crop area (> 1 zooms out)");
ABSL_FLAG(double, rotation, 10, "Augmentation: rotation range, +- degrees");
ABSL_FLAG(double, erase, 0, "Augmentation: random-erasing probability");
ABSL_FLAG(double, progress_every, 10, "Seconds between progress lines (0 = every step)");

namespace dogsearch::trainer {
namespace {

std::atomic<bool> g_cancel{false};
void OnSignal(int) { g_cancel.store(true); }

// Flags named on the command line (filled by main before parsing): a flag given its default
// value there (`--cohort_k 0`, `--serve_flip=false`) still overrides what a parent would pass on.
std::set<std::string>& NamedFlags() {
  static auto* named = new std::set<std::string>;
  return *named;
}

void RecordNamedFlags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (a == "--") break;
    if (!absl::ConsumePrefix(&a, "-")) continue;  // A value, not a flag.
    (void)absl::ConsumePrefix(&a, "-");
    const absl::string_view name = a.substr(0, a.find('='));
    NamedFlags().insert(std::string(name));
    if (absl::StartsWith(name, "no")) NamedFlags().insert(std::string(name.substr(2)));
  }
}

// Set on the command line or (through the environment) to another value than its default.
bool Given(const char* name) {
  const absl::CommandLineFlag* f = absl::FindCommandLineFlag(name);
  return f != nullptr && (NamedFlags().count(name) > 0 || f->CurrentValue() != f->DefaultValue());
}

std::string Clock(double s) {
  const int t = static_cast<int>(s);
  return absl::StrFormat("%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
}

class ProgressPrinter : public TrainingObserver {
 public:
  explicit ProgressPrinter(double every) : every_(every) {}
  void OnStart(uint32_t td, uint32_t tp, uint32_t vd, uint32_t vp, uint32_t bpe) override {
    std::fprintf(stderr,
                 "training on %u dogs / %u photos, validating on %u dogs / %u photos, %u batches "
                 "per epoch\n",
                 td, tp, vd, vp, bpe);
  }
  void OnStep(const StepReport& r) override {
    if (every_ > 0 && r.elapsed_seconds - last_ < every_) return;
    last_ = r.elapsed_seconds;
    std::fprintf(
        stderr,
        "epoch %u [%u/%u] step %llu | %.1f img/s %.2f step/s | loss %.4f active %.2f acc %.2f "
        "kd %.4f d+ %.3f d- %.3f | lr %.2e | elapsed %s ETA %s\n",
        r.epoch, r.batch + 1, r.batches_per_epoch, static_cast<unsigned long long>(r.step),
        r.images_per_second, r.step_seconds > 0 ? 1.0 / r.step_seconds : 0.0, r.loss,
        r.active_fraction, r.head_accuracy, r.distill_loss, r.mean_positive, r.mean_negative,
        r.learning_rate, Clock(r.elapsed_seconds).c_str(), Clock(r.eta_seconds).c_str());
  }
  void OnEpoch(const EpochReport& r) override {
    const model::EvalMetrics& m = r.metrics;
    std::fprintf(stderr,
                 "epoch %u done at %s: verification %.4f +- %.4f, ROC AUC %.4f, TAR@FAR=1e-3 %.4f, "
                 "rank-1 %.4f, recall@5 %.4f, mAP %.4f, top-1 %.4f, DIR@FPIR=0.05 %.4f -> %s%s\n",
                 r.epoch, Clock(r.elapsed_seconds).c_str(), m.verification_accuracy,
                 m.verification_accuracy_std, m.roc_auc, m.tar_at_far_1e3, m.rank1, m.recall_at_5,
                 m.mean_average_precision, m.full_gallery_top1, m.dir_at_fpir_5e2,
                 r.checkpoint_version.c_str(), r.best ? " (best)" : "");
  }

 private:
  double every_;
  double last_ = -1e9;
};

absl::Status BuildOptions(TrainOptions* o) {
  if (!absl::GetFlag(FLAGS_config).empty()) {
    absl::StatusOr<std::string> json = ReadFile(absl::GetFlag(FLAGS_config), 1 << 20);
    if (!json.ok()) return json.status();
    ::dogsearch::v1::TrainingConfig c;
    auto st = google::protobuf::util::JsonStringToMessage(*json, &c);
    if (!st.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config ", absl::GetFlag(FLAGS_config), ": ", st.ToString()));
    }
    if (absl::Status s = FromProto(c, o); !s.ok()) return s;
  }
  model::ModelSpec& m = o->model;
  if (Given("architecture")) m.architecture = absl::GetFlag(FLAGS_architecture);
  if (Given("input_size")) m.input.width = m.input.height = absl::GetFlag(FLAGS_input_size);
  if (Given("stage_widths")) {
    m.stage_widths.clear();
    for (absl::string_view w :
         absl::StrSplit(absl::GetFlag(FLAGS_stage_widths), ',', absl::SkipEmpty())) {
      uint32_t v = 0;
      if (!absl::SimpleAtoi(w, &v))
        return absl::InvalidArgumentError("--stage_widths: not a number list");
      m.stage_widths.push_back(v);
    }
  }
  if (Given("blocks_per_stage")) m.blocks_per_stage = absl::GetFlag(FLAGS_blocks_per_stage);
  if (Given("embedding_dim")) m.embedding_dim = absl::GetFlag(FLAGS_embedding_dim);
  if (Given("embedding_bn")) m.embedding_batchnorm = absl::GetFlag(FLAGS_embedding_bn);
  if (Given("serve_flip")) {
    m.flip_average = absl::GetFlag(FLAGS_serve_flip);
    o->serve_flip = m.flip_average;  // Also over a parent's choice (a fine-tune).
  }
  if (Given("dropout")) m.dropout = static_cast<float>(absl::GetFlag(FLAGS_dropout));
  if (m.architecture == model::kSeedInception && !Given("stage_widths")) m.stage_widths.clear();
  if (m.architecture == model::kSeedInception && !Given("blocks_per_stage")) m.blocks_per_stage = 0;
  if (Given("mining")) {
    absl::StatusOr<MiningKind> k = ParseMining(absl::GetFlag(FLAGS_mining));
    if (!k.ok()) return k.status();
    o->mining = *k;
  }
  if (Given("loss")) {
    absl::StatusOr<LossKind> l = ParseLoss(absl::GetFlag(FLAGS_loss));
    if (!l.ok()) return l.status();
    o->loss = *l;
  }
  if (Given("head_scale")) o->head_scale = static_cast<float>(absl::GetFlag(FLAGS_head_scale));
  if (Given("head_margin")) o->head_margin = static_cast<float>(absl::GetFlag(FLAGS_head_margin));
  if (Given("subcenters")) o->head_subcenters = absl::GetFlag(FLAGS_subcenters);
  if (Given("triplet_weight")) {
    o->triplet_weight = static_cast<float>(absl::GetFlag(FLAGS_triplet_weight));
  }
  if (Given("margin")) o->margin = static_cast<float>(absl::GetFlag(FLAGS_margin));
  if (Given("soft_margin")) o->soft_margin = absl::GetFlag(FLAGS_soft_margin);
  if (Given("p")) o->p = absl::GetFlag(FLAGS_p);
  if (Given("k")) o->k = absl::GetFlag(FLAGS_k);
  if (Given("epochs")) o->epochs = absl::GetFlag(FLAGS_epochs);
  if (Given("time_budget")) o->time_budget_seconds = absl::GetFlag(FLAGS_time_budget);
  if (Given("optimizer")) {
    const std::string opt = absl::GetFlag(FLAGS_optimizer);
    if (opt != "adam" && opt != "sgd")
      return absl::InvalidArgumentError("--optimizer must be adam or sgd");
    o->optimizer = opt == "adam" ? OptimizerKind::kAdam : OptimizerKind::kSgd;
  }
  if (Given("lr")) o->learning_rate = absl::GetFlag(FLAGS_lr);
  if (Given("weight_decay")) o->weight_decay = absl::GetFlag(FLAGS_weight_decay);
  if (Given("trunk_lr_scale")) o->trunk_lr_scale = absl::GetFlag(FLAGS_trunk_lr_scale);
  if (Given("ema_decay")) o->ema_decay = absl::GetFlag(FLAGS_ema_decay);
  if (Given("cohort_k")) o->cohort_k = absl::GetFlag(FLAGS_cohort_k);
  if (Given("head_from_centroids")) {
    o->head_from_centroids = absl::GetFlag(FLAGS_head_from_centroids);
  }
  if (Given("warmup_steps")) o->warmup_steps = absl::GetFlag(FLAGS_warmup_steps);
  if (Given("clip")) o->gradient_clip_norm = absl::GetFlag(FLAGS_clip);
  if (Given("val_fraction")) o->validation_fraction = absl::GetFlag(FLAGS_val_fraction);
  if (Given("seed")) o->seed = absl::GetFlag(FLAGS_seed);
  if (Given("threads")) o->threads = absl::GetFlag(FLAGS_threads);
  if (Given("data")) o->data_dir = absl::GetFlag(FLAGS_data);
  o->output_dir = absl::GetFlag(FLAGS_out);
  o->loader_threads = absl::GetFlag(FLAGS_loader_threads);
  o->device = absl::GetFlag(FLAGS_device);
  o->resume = absl::GetFlag(FLAGS_resume);
  o->parent_checkpoint = absl::GetFlag(FLAGS_parent);
  o->teacher_checkpoint = absl::GetFlag(FLAGS_teacher);
  if (Given("distill_weight"))
    o->distill_weight = static_cast<float>(absl::GetFlag(FLAGS_distill_weight));
  o->run_name = absl::GetFlag(FLAGS_run_name);
  o->eval_every_epochs = static_cast<uint32_t>(std::max(0, absl::GetFlag(FLAGS_eval_every)));
  o->flip_average_eval = absl::GetFlag(FLAGS_flip_eval);
  o->augment.enabled = absl::GetFlag(FLAGS_augment);
  o->augment.crop_area_min = static_cast<float>(absl::GetFlag(FLAGS_crop_area_min));
  o->augment.crop_area_max = static_cast<float>(absl::GetFlag(FLAGS_crop_area_max));
  o->augment.rotation_degrees = static_cast<float>(absl::GetFlag(FLAGS_rotation));
  o->augment.erase_probability = static_cast<float>(absl::GetFlag(FLAGS_erase));
  if (!(o->augment.crop_area_min > 0 && o->augment.crop_area_min <= o->augment.crop_area_max &&
        o->augment.crop_area_max <= 4)) {
    return absl::InvalidArgumentError("--crop_area_min/max: need 0 < min <= max <= 4");
  }
  if (!(o->augment.erase_probability >= 0 && o->augment.erase_probability <= 1)) {
    return absl::InvalidArgumentError("--erase: a probability in [0, 1]");
  }
  if (!(o->augment.rotation_degrees >= 0 && o->augment.rotation_degrees <= 90)) {
    return absl::InvalidArgumentError("--rotation: 0..90 degrees");
  }
  return ValidateTrainOptions(*o);
}

int Main() {
  TrainOptions options;
  if (absl::Status s = BuildOptions(&options); !s.ok()) {
    std::fprintf(stderr, "dogsearch-train: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  ProgressPrinter printer(absl::GetFlag(FLAGS_progress_every));
  absl::StatusOr<TrainResult> r = Train(options, &printer, &g_cancel);
  if (!r.ok()) {
    std::fprintf(stderr, "dogsearch-train: %s\n", r.status().ToString().c_str());
    return 1;
  }
  const model::EvalMetrics& m = r->best_metrics;
  std::printf(
      "{\"cancelled\":%s,\"best_checkpoint\":\"%s\",\"last_checkpoint\":\"%s\",\"epochs\":%u,"
      "\"steps\":%llu,\"seconds\":%.1f,\"data_wait_fraction\":%.4f,\"loss_fraction\":%.4f,"
      "\"verification_accuracy\":%.4f,\"roc_auc\":%.4f,\"tar_at_far_1e-3\":%.4f,\"rank1\":%.4f,"
      "\"recall_at_5\":%.4f,\"map\":%.4f}\n",
      r->cancelled ? "true" : "false",
      r->best_version.empty()
          ? ""
          : (CheckpointRoot(options.output_dir) + "/" + r->best_version).c_str(),
      r->last_version.empty()
          ? ""
          : (CheckpointRoot(options.output_dir) + "/" + r->last_version).c_str(),
      r->epochs, static_cast<unsigned long long>(r->steps), r->seconds, r->data_wait_fraction,
      r->loss_fraction, m.verification_accuracy, m.roc_auc, m.tar_at_far_1e3, m.rank1,
      m.recall_at_5, m.mean_average_precision);
  return r->cancelled ? 130 : 0;
}

}  // namespace
}  // namespace dogsearch::trainer

int main(int argc, char** argv) {
  dogsearch::trainer::RecordNamedFlags(argc, argv);
  dogsearch::ParseFlagsWithEnv(argc, argv);
  return dogsearch::trainer::Main();
}
