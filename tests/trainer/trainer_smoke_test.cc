// End-to-end runs of the training loop on generated dogs: checkpoints, metrics log, observer,
// improvement over an untrained network, exact resume, cancellation, fine-tuning, bad options.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/torch_model/checkpoint.h"
#include "services/trainer/core/dataset.h"
#include "services/trainer/core/distill.h"
#include "services/trainer/core/embed.h"
#include "services/trainer/core/run_state.h"
#include "services/trainer/core/trainer.h"
#include "tests/testing/temp_dir.h"
#include "tests/trainer/synthetic_dogs.h"

namespace dogsearch::trainer {
namespace {
namespace fs = std::filesystem;

class Recorder : public TrainingObserver {
 public:
  void OnStart(uint32_t td, uint32_t, uint32_t vd, uint32_t, uint32_t bpe) override {
    train_dogs = td;
    val_dogs = vd;
    batches_per_epoch = bpe;
  }
  void OnStep(const StepReport& r) override {
    steps.push_back(r);
    if (cancel_after > 0 && steps.size() >= cancel_after) cancel->store(true);
  }
  void OnEpoch(const EpochReport& r) override { epochs.push_back(r); }

  uint32_t train_dogs = 0, val_dogs = 0, batches_per_epoch = 0;
  std::vector<StepReport> steps;
  std::vector<EpochReport> epochs;
  size_t cancel_after = 0;
  std::atomic<bool>* cancel = nullptr;
};

class TrainerSmokeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::set_num_threads(2);
    testing::WriteSyntheticDogs(data_.path(), 16, 5, 32, 1);
  }
  TrainOptions Options(const std::string& out, uint32_t epochs) {
    TrainOptions o;
    o.data_dir = data_.path();
    o.output_dir = out;
    o.model = testing::TinySpec();
    o.p = 4;
    o.k = 3;
    o.epochs = epochs;
    o.learning_rate = 3e-3;
    o.warmup_steps = 2;
    o.validation_fraction = 0.25;
    o.seed = 3;
    o.threads = 2;
    o.run_name = "tiny";
    return o;
  }
  testing::TempDir data_, runs_;
};

double MeanLoss(const std::vector<StepReport>& s, size_t from, size_t to) {
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += s[i].loss;
  return sum / (to - from);
}

TEST_F(TrainerSmokeTest, TrainsPublishesLogsAndBeatsAnUntrainedNetwork) {
  Recorder rec;
  const std::string out = runs_.File("run");
  absl::StatusOr<TrainResult> r = Train(Options(out, 16), &rec, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(rec.train_dogs, 12u);
  EXPECT_EQ(rec.val_dogs, 4u);
  EXPECT_EQ(rec.batches_per_epoch, 3u);
  EXPECT_EQ(r->epochs, 16u);
  EXPECT_EQ(r->steps, 48u);
  ASSERT_EQ(rec.steps.size(), 48u);
  ASSERT_EQ(rec.epochs.size(), 16u);
  for (const StepReport& s : rec.steps) {
    EXPECT_TRUE(std::isfinite(s.loss));
    EXPECT_GE(s.active_fraction, 0.0);
    EXPECT_LE(s.active_fraction, 1.0);
    EXPECT_EQ(s.triplets, 12 * 2);  // Semi-hard: one per anchor-positive pair.
    EXPECT_GT(s.images_per_second, 0.0);
  }
  EXPECT_LT(MeanLoss(rec.steps, 36, 48), MeanLoss(rec.steps, 0, 12)) << "loss did not fall";
  for (const EpochReport& e : rec.epochs) EXPECT_TRUE(e.validated);
  EXPECT_EQ(rec.epochs.back().metrics.identities, 4u);
  EXPECT_EQ(rec.epochs.back().metrics.photos, 20u);

  // Published checkpoints: only best and last are kept, both loadable, manifests filled in.
  std::set<std::string> dirs;
  for (const auto& e : fs::directory_iterator(CheckpointRoot(out)))
    dirs.insert(e.path().filename());
  std::set<std::string> want = {r->best_version, r->last_version};
  EXPECT_EQ(dirs, want);
  EXPECT_EQ(r->last_version, "tiny-s48");
  absl::StatusOr<model::LoadedCheckpoint> best =
      model::LoadCheckpoint(CheckpointRoot(out) + "/" + r->best_version);
  ASSERT_TRUE(best.ok()) << best.status();
  EXPECT_EQ(best->manifest.model, testing::TinySpec());
  EXPECT_EQ(best->manifest.dataset_fingerprint, DatasetFingerprint(*ScanDataset(data_.path())));
  EXPECT_NE(best->manifest.training_config_json.find("MINING_STRATEGY_SEMI_HARD"),
            std::string::npos)
      << best->manifest.training_config_json;
  EXPECT_EQ(best->manifest.metrics.verification_accuracy, r->best_metrics.verification_accuracy);

  // metrics.jsonl: one line per step and per epoch.
  const std::string log = testing::ReadAll(out + "/metrics.jsonl");
  std::vector<std::string> lines = absl::StrSplit(log, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 48u + 16u);
  EXPECT_NE(lines.back().find("\"type\":\"epoch\""), std::string::npos);

  // Trained beats untrained on the unseen validation dogs.
  TrainOptions o = Options(out, 1);
  absl::StatusOr<Dataset> all = ScanDataset(data_.path());
  const DatasetSplit split = SplitByIdentity(*all, o.validation_fraction, o.seed);
  const PhotoCache val = *PhotoCache::Load(split.validation, o.model.input, 2);
  torch::manual_seed(0);
  auto untrained = model::BuildEmbeddingNet(o.model);
  ASSERT_TRUE(untrained.ok());
  const auto before = Evaluate(EmbedCache(**untrained, val, {}), {});
  const auto after = Evaluate(EmbedCache(*best->net, val, {}), {});
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_GT(after->metrics.roc_auc, before->metrics.roc_auc + 0.05)
      << "untrained " << before->metrics.roc_auc;
  EXPECT_GT(after->metrics.roc_auc, 0.9);
}

TEST_F(TrainerSmokeTest, ResumeContinuesExactlyAsAnUninterruptedRun) {
  Recorder straight, first, second;
  ASSERT_TRUE(Train(Options(runs_.File("straight"), 4), &straight, nullptr).ok());
  // Interrupted after 2 of 4 epochs (the learning-rate schedule spans all 4).
  std::atomic<bool> cancel{false};
  first.cancel = &cancel;
  first.cancel_after = 6;
  absl::StatusOr<TrainResult> part = Train(Options(runs_.File("split"), 4), &first, &cancel);
  ASSERT_TRUE(part.ok()) << part.status();
  ASSERT_TRUE(part->cancelled);
  ASSERT_EQ(part->last_version, "tiny-s6");
  TrainOptions resume = Options(runs_.File("split"), 4);
  resume.resume = true;
  absl::StatusOr<TrainResult> r = Train(resume, &second, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->steps, 12u);
  ASSERT_EQ(second.steps.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(second.steps[i].step, straight.steps[6 + i].step);
    EXPECT_NEAR(second.steps[i].loss, straight.steps[6 + i].loss, 1e-5) << "step " << i + 7;
  }
  EXPECT_NEAR(second.epochs.back().metrics.roc_auc, straight.epochs.back().metrics.roc_auc, 1e-4);
  // A finished run folder is not silently overwritten by a fresh run.
  EXPECT_EQ(Train(Options(runs_.File("split"), 4), nullptr, nullptr).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(TrainerSmokeTest, CancelStopsBetweenStepsAndKeepsTheLastCheckpoint) {
  std::atomic<bool> cancel{false};
  Recorder rec;
  rec.cancel = &cancel;
  rec.cancel_after = 5;  // Epoch 0 (3 steps) completes and is published; stops in epoch 1.
  const std::string out = runs_.File("cancelled");
  absl::StatusOr<TrainResult> r = Train(Options(out, 50), &rec, &cancel);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->cancelled);
  EXPECT_EQ(r->steps, 5u);
  EXPECT_EQ(r->last_version, "tiny-s3");
  EXPECT_TRUE(model::LoadCheckpoint(CheckpointRoot(out) + "/tiny-s3").ok());
  EXPECT_EQ(LoadRunState(out)->steps_done, 3u);
}

TEST_F(TrainerSmokeTest, FineTunesFromAParentCheckpoint) {
  absl::StatusOr<TrainResult> parent = Train(Options(runs_.File("parent"), 1), nullptr, nullptr);
  ASSERT_TRUE(parent.ok());
  TrainOptions o = Options(runs_.File("child"), 1);
  o.parent_checkpoint = CheckpointRoot(runs_.File("parent")) + "/" + parent->last_version;
  o.model.embedding_dim = 99;  // Ignored: fine-tuning keeps the parent's architecture.
  o.serve_flip = true;         // Not ignored: a serving choice the child makes.
  o.run_name = "child";
  absl::StatusOr<TrainResult> child = Train(o, nullptr, nullptr);
  ASSERT_TRUE(child.ok()) << child.status();
  auto m = model::ReadManifest(CheckpointRoot(runs_.File("child")) + "/" + child->last_version);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->parent_version, parent->last_version);
  EXPECT_EQ(m->model.embedding_dim, 16u);
  EXPECT_TRUE(m->model.flip_average);
}

// A pretrained start's schedule: the trunk at trunk_lr_scale x the rate, the embedding head at
// the full rate (two parameter groups), recorded in the child's training config.
TEST_F(TrainerSmokeTest, TrunkLearningRateScaleSlowsOnlyTheTrunk) {
  absl::StatusOr<TrainResult> parent = Train(Options(runs_.File("p2"), 1), nullptr, nullptr);
  ASSERT_TRUE(parent.ok());
  const std::string parent_dir = CheckpointRoot(runs_.File("p2")) + "/" + parent->last_version;
  auto relative_change = [&](const std::string& child_dir, const std::string& tensor) {
    auto a = model::LoadCheckpoint(parent_dir);
    auto b = model::LoadCheckpoint(child_dir);
    EXPECT_TRUE(a.ok() && b.ok());
    torch::Tensor x, y;
    for (const auto& p : a->net->named_parameters()) {
      if (p.key() == tensor) x = p.value();
    }
    for (const auto& p : b->net->named_parameters()) {
      if (p.key() == tensor) y = p.value();
    }
    return ((y - x).norm() / x.norm()).item<double>();
  };
  std::map<double, std::pair<double, double>> change;  // scale -> (trunk, head)
  for (double scale : {1.0, 1e-3}) {
    const std::string out = runs_.File(scale == 1 ? "c_full" : "c_slow");
    TrainOptions o = Options(out, 2);
    o.parent_checkpoint = parent_dir;
    o.trunk_lr_scale = scale;
    o.run_name = "c";
    absl::StatusOr<TrainResult> child = Train(o, nullptr, nullptr);
    ASSERT_TRUE(child.ok()) << child.status();
    const std::string dir = CheckpointRoot(out) + "/" + child->last_version;
    change[scale] = {relative_change(dir, "stem.conv.weight"),
                     relative_change(dir, "dense.weight")};
    auto m = model::ReadManifest(dir);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->training_config_json.find("trunkLrScale") != std::string::npos ||
                  m->training_config_json.find("trunk_lr_scale") != std::string::npos,
              scale != 1)
        << m->training_config_json;
  }
  // At full rate the trunk moves; at 1e-3 it barely does, while the head moves as much as before.
  EXPECT_GT(change[1.0].first, 0.01);
  EXPECT_LT(change[1e-3].first, change[1.0].first / 20);
  EXPECT_GT(change[1e-3].second, change[1.0].second / 3);
}

std::map<std::string, torch::Tensor> Weights(const std::string& checkpoint_dir) {
  absl::StatusOr<model::LoadedCheckpoint> c = model::LoadCheckpoint(checkpoint_dir);
  EXPECT_TRUE(c.ok()) << checkpoint_dir << ": " << c.status();
  std::map<std::string, torch::Tensor> w;
  if (!c.ok()) return w;
  for (const auto& p : c->net->named_parameters()) w[p.key()] = p.value().detach().clone();
  for (const auto& b : c->net->named_buffers()) w[b.key()] = b.value().detach().clone();
  return w;
}

bool AllClose(const std::map<std::string, torch::Tensor>& a,
              const std::map<std::string, torch::Tensor>& b, double tol) {
  if (a.size() != b.size() || a.empty()) return false;
  for (const auto& [name, t] : a) {
    if (!b.count(name) ||
        !torch::allclose(t.to(torch::kDouble), b.at(name).to(torch::kDouble), tol, tol)) {
      return false;
    }
  }
  return true;
}

// ema_decay: the published checkpoints hold the weights' moving average (validated as such),
// the training itself is unchanged (the live weights end exactly where a run without the average
// ends, and are published at the end as <run>-live-s<step>), and a resumed run continues both.
TEST_F(TrainerSmokeTest, WeightAverageIsPublishedWithoutChangingTheTraining) {
  ASSERT_TRUE(Train(Options(runs_.File("plain"), 4), nullptr, nullptr).ok());
  TrainOptions o = Options(runs_.File("ema"), 4);
  o.ema_decay = 0.9;
  absl::StatusOr<TrainResult> r = Train(o, nullptr, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->last_version, "tiny-s12");
  EXPECT_EQ(r->live_version, "tiny-live-s12");
  const auto plain = Weights(CheckpointRoot(runs_.File("plain")) + "/tiny-s12");
  const auto live = Weights(CheckpointRoot(runs_.File("ema")) + "/tiny-live-s12");
  const auto average = Weights(CheckpointRoot(runs_.File("ema")) + "/tiny-s12");
  EXPECT_TRUE(AllClose(live, plain, 1e-5)) << "the average changed the training";
  EXPECT_FALSE(AllClose(average, live, 1e-3)) << "the published weights are not the average";
  // With a negligible decay the average is the weights themselves: it is updated every step.
  TrainOptions follow = Options(runs_.File("ema_follow"), 4);
  follow.ema_decay = 1e-9;
  ASSERT_TRUE(Train(follow, nullptr, nullptr).ok());
  EXPECT_TRUE(
      AllClose(Weights(CheckpointRoot(runs_.File("ema_follow")) + "/tiny-s12"), plain, 1e-5));
  auto m = model::ReadManifest(CheckpointRoot(runs_.File("ema")) + "/tiny-s12");
  ASSERT_TRUE(m.ok());
  EXPECT_NE(m->notes.find("moving average"), std::string::npos) << m->notes;
  EXPECT_NE(m->training_config_json.find("ema"), std::string::npos) << m->training_config_json;
  EXPECT_GT(m->metrics.roc_auc, 0.5);  // Validated.

  // Interrupted after 6 of 12 steps and resumed: the same average and live weights.
  std::atomic<bool> cancel{false};
  Recorder first;
  first.cancel = &cancel;
  first.cancel_after = 6;
  TrainOptions split = Options(runs_.File("ema_split"), 4);
  split.ema_decay = 0.9;
  absl::StatusOr<TrainResult> part = Train(split, &first, &cancel);
  ASSERT_TRUE(part.ok() && part->cancelled) << part.status();
  EXPECT_TRUE(part->live_version.empty());  // Only a finished run publishes its live weights.
  split.resume = true;
  absl::StatusOr<TrainResult> rest = Train(split, nullptr, nullptr);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_TRUE(
      AllClose(Weights(CheckpointRoot(runs_.File("ema_split")) + "/tiny-s12"), average, 1e-5));
  EXPECT_TRUE(
      AllClose(Weights(CheckpointRoot(runs_.File("ema_split")) + "/tiny-live-s12"), live, 1e-5));
  // Without its live weights a resumed run refuses rather than train the average.
  fs::remove(StateDir(runs_.File("ema_split")) + "/live-s12.pt");
  split.epochs = 5;
  EXPECT_EQ(Train(split, nullptr, nullptr).status().code(), absl::StatusCode::kFailedPrecondition);
}

// A margin loss fine-tuned from a trained parent with head_from_centroids classifies its
// training dogs from the first step; with random centres it starts near chance.
TEST_F(TrainerSmokeTest, MarginHeadFromCentroidsClassifiesFromTheFirstStep) {
  absl::StatusOr<TrainResult> parent = Train(Options(runs_.File("mp"), 16), nullptr, nullptr);
  ASSERT_TRUE(parent.ok());
  std::map<bool, double> first_accuracy;
  for (bool centroids : {false, true}) {
    Recorder rec;
    TrainOptions o = Options(runs_.File(centroids ? "mc" : "mr"), 1);
    o.parent_checkpoint = CheckpointRoot(runs_.File("mp")) + "/" + parent->last_version;
    o.loss = LossKind::kArcFace;
    o.head_scale = 16;
    o.head_from_centroids = centroids;
    o.run_name = "m";
    absl::StatusOr<TrainResult> r = Train(o, &rec, nullptr);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_FALSE(rec.steps.empty());
    first_accuracy[centroids] = rec.steps[0].head_accuracy;
  }
  EXPECT_GE(first_accuracy[true], 0.75);  // 12 dogs: chance is 1/12.
  EXPECT_LE(first_accuracy[false], 0.34);
}

// cohort_k: the run ends by publishing its best checkpoint once more with a cohort of its
// training dogs, calibrated on normalised distances, and that is the run's result; a
// fine-tune of it keeps the normalisation unless told otherwise.
TEST_F(TrainerSmokeTest, ScoreNormalisedRunPublishesItsBestWithATrainingDogCohort) {
  TrainOptions o = Options(runs_.File("csls"), 2);
  o.cohort_k = 3;
  absl::StatusOr<TrainResult> r = Train(o, nullptr, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string root = CheckpointRoot(runs_.File("csls"));
  absl::StatusOr<RunState> state = LoadRunState(runs_.File("csls"));
  ASSERT_TRUE(state.ok());
  // Named after the plain best it was made from: tiny-s<step> -> tiny-csls-s<step>.
  ASSERT_TRUE(absl::StartsWith(state->best_version, "tiny-s")) << state->best_version;
  EXPECT_EQ(r->best_version, "tiny-csls-s" + state->best_version.substr(6));
  absl::StatusOr<model::LoadedCheckpoint> plain =
      model::LoadCheckpoint(root + "/" + state->best_version, torch::kCPU);
  absl::StatusOr<model::LoadedCheckpoint> normalised =
      model::LoadCheckpoint(root + "/" + r->best_version, torch::kCPU);
  ASSERT_TRUE(plain.ok() && normalised.ok()) << normalised.status();
  EXPECT_EQ(plain->cohort, nullptr);
  ASSERT_NE(normalised->cohort, nullptr);
  EXPECT_EQ(normalised->cohort->rows(), 12u);  // The 12 training dogs, never a validation dog.
  EXPECT_EQ(normalised->cohort->k(), 3u);
  EXPECT_EQ(normalised->manifest.parent_version, state->best_version);
  EXPECT_TRUE(AllClose(Weights(root + "/" + r->best_version),
                       Weights(root + "/" + state->best_version), 0));
  // Calibrated for 1:N answers (on the normalised distances), and those are the run's metrics.
  EXPECT_TRUE(normalised->manifest.metrics.identification.calibrated());
  EXPECT_EQ(r->best_metrics.threshold, normalised->manifest.metrics.threshold);
  EXPECT_NE(normalised->manifest.notes.find("score normalisation"), std::string::npos);

  TrainOptions child = Options(runs_.File("csls_child"), 1);
  child.parent_checkpoint = root + "/" + r->best_version;
  child.run_name = "child";
  absl::StatusOr<TrainResult> c = Train(child, nullptr, nullptr);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->best_version, "child-csls-s3");
  absl::StatusOr<model::CheckpointManifest> cm =
      model::ReadManifest(CheckpointRoot(runs_.File("csls_child")) + "/" + c->best_version);
  ASSERT_TRUE(cm.ok());
  EXPECT_TRUE(cm->score_norm.enabled());
  EXPECT_NE(cm->training_config_json.find("\"cohort_k\":3"), std::string::npos)
      << cm->training_config_json;
  child.output_dir = runs_.File("plain_child");
  child.cohort_k = 0;  // Told otherwise: plain checkpoints.
  c = Train(child, nullptr, nullptr);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->best_version, "child-s3");
}

// Mean relational distillation loss between two networks' embeddings of the same photos.
double SimilarityDisagreement(model::EmbeddingNet& a, model::EmbeddingNet& b,
                              const PhotoCache& photos) {
  auto tensor = [](const EmbeddingTable& t) {
    return torch::from_blob(const_cast<float*>(t.vectors.data()),
                            {static_cast<int64_t>(t.size()), static_cast<int64_t>(t.dim)})
        .clone();
  };
  return RelationalDistillationLoss(tensor(EmbedCache(a, photos, {})),
                                    tensor(EmbedCache(b, photos, {})))
      .item<double>();
}

// A student trained beside a frozen teacher (of another embedding size) ends with similarities
// closer to the teacher's than the same run without it, on the dogs neither trained on; the
// step reports and the manifest say what was distilled from what.
TEST_F(TrainerSmokeTest, DistillationPullsTheStudentsSimilaritiesTowardsTheTeachers) {
  absl::StatusOr<TrainResult> teacher = Train(Options(runs_.File("teacher"), 6), nullptr, nullptr);
  ASSERT_TRUE(teacher.ok()) << teacher.status();
  const std::string teacher_dir =
      CheckpointRoot(runs_.File("teacher")) + "/" + teacher->last_version;
  std::map<bool, double> disagreement;
  for (bool distil : {false, true}) {
    Recorder rec;
    const std::string out = runs_.File(distil ? "distilled" : "plain");
    TrainOptions o = Options(out, 6);
    o.model.embedding_dim = 8;
    o.seed = 5;  // Another start than the teacher's.
    o.run_name = "student";
    if (distil) {
      o.teacher_checkpoint = teacher_dir;
      o.distill_weight = 50;
    }
    absl::StatusOr<TrainResult> r = Train(o, &rec, nullptr);
    ASSERT_TRUE(r.ok()) << r.status();
    auto student = model::LoadCheckpoint(CheckpointRoot(out) + "/" + r->last_version);
    auto frozen = model::LoadCheckpoint(teacher_dir);
    ASSERT_TRUE(student.ok() && frozen.ok());
    absl::StatusOr<Dataset> all = ScanDataset(data_.path());
    const DatasetSplit split = SplitByIdentity(*all, o.validation_fraction, o.seed);
    const PhotoCache val = *PhotoCache::Load(split.validation, o.model.input, 2);
    disagreement[distil] = SimilarityDisagreement(*student->net, *frozen->net, val);
    if (!distil) {
      EXPECT_EQ(rec.steps.front().distill_loss, 0.0);
      EXPECT_EQ(student->manifest.notes.find("distilled"), std::string::npos);
      continue;
    }
    const size_t n = rec.steps.size();
    ASSERT_GE(n, 12u);
    double first = 0, last = 0;
    for (size_t i = 0; i < 4; ++i) first += rec.steps[i].distill_loss;
    for (size_t i = n - 4; i < n; ++i) last += rec.steps[i].distill_loss;
    EXPECT_GT(first, 0.0);
    EXPECT_LT(last, first) << "the distillation loss did not fall";
    EXPECT_NE(student->manifest.notes.find("distilled from " + teacher->last_version),
              std::string::npos)
        << student->manifest.notes;
    EXPECT_NE(student->manifest.training_config_json.find(teacher->last_version), std::string::npos)
        << student->manifest.training_config_json;
    EXPECT_EQ(student->manifest.model.embedding_dim, 8u);
  }
  std::printf("similarity disagreement with the teacher: plain %.5f, distilled %.5f\n",
              disagreement[false], disagreement[true]);
  EXPECT_LT(disagreement[true], disagreement[false] * 0.7)
      << "plain " << disagreement[false] << ", distilled " << disagreement[true];
}

TEST_F(TrainerSmokeTest, BadOptionsAreRefusedNamingTheField) {
  auto code_and_message = [&](TrainOptions o) {
    absl::Status s = Train(o, nullptr, nullptr).status();
    return std::make_pair(s.code(), std::string(s.message()));
  };
  TrainOptions o = Options(runs_.File("bad"), 1);
  o.p = 1;
  auto [c1, m1] = code_and_message(o);
  EXPECT_EQ(c1, absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m1.find("identities_per_batch"), std::string::npos) << m1;
  o = Options(runs_.File("bad"), 0);
  auto [c2, m2] = code_and_message(o);
  EXPECT_NE(m2.find("epochs"), std::string::npos) << m2;
  o = Options(runs_.File("bad"), 1);
  o.data_dir = runs_.File("nowhere");
  EXPECT_EQ(code_and_message(o).first, absl::StatusCode::kNotFound);
  o = Options(runs_.File("bad"), 1);
  o.p = 40;  // Only 12 training dogs.
  EXPECT_EQ(code_and_message(o).first, absl::StatusCode::kInvalidArgument);
  o = Options(runs_.File("bad2"), 1);
  o.resume = true;
  EXPECT_EQ(code_and_message(o).first, absl::StatusCode::kNotFound);
  o = Options(runs_.File("bad"), 1);
  o.trunk_lr_scale = 0;
  EXPECT_NE(code_and_message(o).second.find("trunk_lr_scale"), std::string::npos);
  o.trunk_lr_scale = 1.5;
  EXPECT_NE(code_and_message(o).second.find("trunk_lr_scale"), std::string::npos);
  o = Options(runs_.File("bad"), 1);
  o.ema_decay = 1;
  EXPECT_NE(code_and_message(o).second.find("ema_decay"), std::string::npos);
  o = Options(runs_.File("bad"), 1);
  o.device = "tpu";
  EXPECT_EQ(code_and_message(o).first, absl::StatusCode::kInvalidArgument);
  o = Options(runs_.File("bad"), 1);
  o.cohort_k = 12;  // Not below the 12 training dogs.
  EXPECT_NE(code_and_message(o).second.find("cohort_k 12 must be below"), std::string::npos);
  o.cohort_k = 3;
  o.validation_fraction = 0;
  EXPECT_NE(code_and_message(o).second.find("needs a validation split"), std::string::npos);
  o.cohort_k = kMaxCohortK + 1;
  EXPECT_NE(code_and_message(o).second.find("cohort_k"), std::string::npos);
  o = Options(runs_.File("bad"), 1);
  o.distill_weight = 1;
  EXPECT_NE(code_and_message(o).second.find("distill_weight needs a teacher"), std::string::npos);
  o.teacher_checkpoint = runs_.File("nowhere");
  o.distill_weight = 0;
  EXPECT_NE(code_and_message(o).second.find("a teacher needs distill_weight"), std::string::npos);
  o.distill_weight = 2000;
  EXPECT_NE(code_and_message(o).second.find("distill_weight 2000"), std::string::npos);
  o.distill_weight = 1;
  EXPECT_EQ(code_and_message(o).first, absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dogsearch::trainer
