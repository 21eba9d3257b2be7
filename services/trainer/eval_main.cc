// dogsearch-eval: evaluates a checkpoint on every dog of a folder of identity folders (all
// treated as unseen dogs) and prints one JSON object; optionally writes PCA and ROC PNGs.
//
//   dogsearch-eval --checkpoint deploy/models/<version> --data DIR [--pca_png F] [--roc_png F]
// Without --checkpoint it evaluates the default model: the version named in
// <models_root>/DEFAULT (models_root defaults to deploy/models). --holdout_fraction F
// --holdout_seed S restricts it to the validation dogs of a dogsearch-train run with
// --val_fraction F --seed S.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/base/env_flags.h"
#include "common/base/file_util.h"
#include "common/base/status_macros.h"
#include "common/model/cohort.h"
#include "common/model/score_norm.h"
#include "common/torch_model/checkpoint.h"
#include "common/torch_model/device.h"
#include "common/torch_model/test_time_views.h"
#include "services/trainer/core/augment.h"
#include "services/trainer/core/dataset.h"
#include "services/trainer/core/embed.h"
#include "services/trainer/core/evaluation.h"
#include "services/trainer/core/photo_cache.h"
#include "services/trainer/core/plots.h"
#include "services/trainer/core/search_ranking.h"

ABSL_FLAG(std::string, checkpoint, "", "Checkpoint folder (default: the default model)");
ABSL_FLAG(std::string, models_root, "deploy/models", "Where the default model lives");
ABSL_FLAG(std::string, data, "", "Folder of identity folders: <data>/<dog_id>/*.jpg");
ABSL_FLAG(uint64_t, seed, 0, "Seed for pairs, folds and gallery choice");
ABSL_FLAG(double, holdout_fraction, 0,
          "If > 0: evaluate only the validation dogs of dogsearch-train's split with this "
          "--val_fraction and --holdout_seed (the dogs that run never trained on)");
ABSL_FLAG(uint64_t, holdout_seed, 0, "The training run's --seed (with --holdout_fraction)");
ABSL_FLAG(bool, flip_average, false, "Average each photo's embedding with its mirror's");
ABSL_FLAG(double, test_time_zoom, -1,
          "With the flip: mirror the photo's centre crop of this fraction of its side (in [0.5, "
          "1); 0 = the whole photo; negative = as the checkpoint serves)");
ABSL_FLAG(int, test_time_views, 0,
          "Views averaged per photo with the flip: 2 (the photo and the mirror, of the zoom if "
          "any), 4 (the photo, the zoom and both mirrors; needs a zoom); 0 = as the checkpoint "
          "serves");
ABSL_FLAG(std::string, pca_png, "", "Write a PCA map of the embeddings here");
ABSL_FLAG(bool, thumbnails, false, "Draw photo thumbnails on the PCA map");
ABSL_FLAG(int, pca_dogs, 20, "Dogs on the PCA map (those with the most photos)");
ABSL_FLAG(std::string, roc_png, "", "Write the ROC curve here");
ABSL_FLAG(std::string, gallery_list, "",
          "Write the photos chosen as the identification gallery (one path per line) here, so "
          "that a deployed gallery can be built from exactly the same split");
ABSL_FLAG(uint32_t, gallery_per_dog, 1,
          "Photos per dog in --gallery_list: 1 = the gallery of rank1, 3 = that of "
          "rank1_3_enrolled and searched_rank1_3_enrolled");
ABSL_FLAG(float, dog_centroid_weight, 0.5,
          "The searched_* figures rank dogs as the gateway with this --dog_centroid_weight does "
          "(common/model/dog_score.h); 0 = by the best photo");
ABSL_FLAG(int, threads, 0, "CPU threads (0 = all cores)");
ABSL_FLAG(std::string, embeddings_out, "",
          "Write the embeddings here (binary: \"DSEMB1\\0\\0\", u64 rows, u64 dimension, i32 dog "
          "label per row, then the float32 rows; little-endian). tools/bench/scale_bench "
          "--real_embeddings draws a registry-sized synthetic gallery with their statistics");
ABSL_FLAG(bool, update_manifest, false,
          "Replace the checkpoint's stored metrics (the 1:1 threshold and confidence, the 1:N "
          "calibration) with this evaluation's; run it on dogs the model never saw. With "
          "--cohort or --write_cohort the cohort also becomes the checkpoint's served score "
          "normalisation (copied in as cohort.bin) and the calibration is of normalised distances");
ABSL_FLAG(std::string, view, "aligned",
          "aligned: the photos as they are; loose: each photo zoomed out and shifted (a looser "
          "crop, see photo_cache.h)");
ABSL_FLAG(std::string, cohort, "",
          "Score-normalise every figure against this cohort file (common/model/cohort.h) instead "
          "of the checkpoint's own (a checkpoint with score normalisation is evaluated as served)");
ABSL_FLAG(bool, ignore_cohort, false,
          "Plain L2 distances even where the checkpoint serves score normalisation");
ABSL_FLAG(std::string, write_cohort, "",
          "Build a cohort from the training dogs of the --holdout_fraction split (each dog's "
          "mean embedding under this checkpoint, as served), write it here and evaluate with it");
ABSL_FLAG(uint32_t, cohort_k, 10, "With --write_cohort: nearest cohort vectors per hubness");
ABSL_FLAG(float, cohort_weight, 1.0,
          "With --write_cohort: the share of the (one-sided) CSLS correction applied, in (0, 1] "
          "(docs/TRAINING.md compares 1, 0.5 and 0.25)");
ABSL_FLAG(int, batch, 64, "Photos per forward pass");
ABSL_FLAG(bool, as_served, true,
          "Run the network as the embedding service does (batch norms folded, the spec's "
          "serving precision); false: the trained network in float32, as the trainer validates");
ABSL_FLAG(std::string, device, "cpu", "auto, cpu, cuda or cuda:N");

namespace dogsearch::trainer {
namespace {

absl::StatusOr<std::string> DefaultCheckpoint(const std::string& root) {
  absl::StatusOr<std::string> name = ReadFile(root + "/DEFAULT", 256);
  if (!name.ok()) {
    return absl::NotFoundError(absl::StrCat("no --checkpoint and no default model (", root,
                                            "/DEFAULT): ", name.status().message()));
  }
  return root + "/" + std::string(absl::StripAsciiWhitespace(*name));
}

// The cohort to normalise with, if any: --cohort / --write_cohort, else the checkpoint's own
// (as served) unless --ignore_cohort. `training` = the dogs the checkpoint's run trained on
// (never the evaluated ones).
absl::StatusOr<std::shared_ptr<const model::Cohort>> CohortFor(const Dataset& training,
                                                               const model::LoadedCheckpoint& ckpt,
                                                               const EmbedOptions& eo,
                                                               int threads) {
  const std::string in = absl::GetFlag(FLAGS_cohort), out = absl::GetFlag(FLAGS_write_cohort);
  const bool ignore = absl::GetFlag(FLAGS_ignore_cohort);
  if (!in.empty() + !out.empty() + ignore > 1) {
    return absl::InvalidArgumentError("give one of --cohort, --write_cohort, --ignore_cohort");
  }
  if (ignore && absl::GetFlag(FLAGS_update_manifest)) {
    // The checkpoint would keep serving normalised distances with a plain calibration.
    return absl::InvalidArgumentError("--update_manifest cannot take --ignore_cohort's figures");
  }
  if (ignore) return std::shared_ptr<const model::Cohort>();
  if (!in.empty()) {
    absl::StatusOr<std::string> bytes = ReadFile(in, 1ull << 30);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<model::Cohort> c = model::Cohort::Parse(*bytes);
    if (!c.ok()) return absl::InvalidArgumentError(absl::StrCat(in, ": ", c.status().message()));
    return std::make_shared<const model::Cohort>(*std::move(c));
  }
  if (out.empty()) return ckpt.cohort;
  if (absl::GetFlag(FLAGS_holdout_fraction) <= 0) {
    return absl::InvalidArgumentError(
        "--write_cohort needs --holdout_fraction: the cohort is built from the training dogs");
  }
  absl::StatusOr<PhotoCache> cache = PhotoCache::Load(training, ckpt.manifest.model.input, threads);
  if (!cache.ok()) return cache.status();
  absl::StatusOr<model::Cohort> c = BuildDogCohort(
      *ckpt.net, *cache, eo, absl::GetFlag(FLAGS_cohort_k), absl::GetFlag(FLAGS_cohort_weight));
  if (!c.ok()) return c.status();
  if (absl::Status s = WriteFileAtomic(out, c->Serialize()); !s.ok()) return s;
  return std::make_shared<const model::Cohort>(*std::move(c));
}

// The test-time views to evaluate: the checkpoint's served ones with --flip_average,
// --test_time_zoom and --test_time_views applied. INVALID_ARGUMENT naming the flag for a
// combination that could not be served, or for other views than the served ones with
// --update_manifest (it would calibrate what is not served).
absl::StatusOr<model::ModelSpec> EvaluatedViews(const model::ModelSpec& served) {
  model::ModelSpec views = served;
  views.flip_average = absl::GetFlag(FLAGS_flip_average) || served.flip_average;
  if (const double zoom = absl::GetFlag(FLAGS_test_time_zoom); zoom >= 0) {
    views.test_time_zoom = static_cast<float>(zoom);
    if (zoom == 0) views.test_time_four_views = false;
    if (absl::Status s = model::ValidateModelSpec(views); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--test_time_zoom: ", s.message()));
    }
  }
  if (const int n = absl::GetFlag(FLAGS_test_time_views); n != 0) {
    if (n != 2 && n != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("--test_time_views: ", n, " is not 2 or 4 (0 = as served)"));
    }
    views.flip_average = true;
    views.test_time_four_views = n == 4;
    if (absl::Status s = model::ValidateModelSpec(views); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--test_time_views: ", s.message()));
    }
  }
  if (absl::GetFlag(FLAGS_update_manifest) &&
      (views.flip_average != served.flip_average || views.test_time_zoom != served.test_time_zoom ||
       views.test_time_four_views != served.test_time_four_views)) {
    return absl::InvalidArgumentError(
        "--update_manifest would calibrate other test-time views than the checkpoint serves");
  }
  return views;
}

absl::Status Run() {
  const auto start = std::chrono::steady_clock::now();
  const int threads = ThreadsOrAllCores(absl::GetFlag(FLAGS_threads));
  at::set_num_threads(threads);
  if (absl::GetFlag(FLAGS_data).empty()) return absl::InvalidArgumentError("--data is required");
  const std::string view = absl::GetFlag(FLAGS_view);
  if (view != "aligned" && view != "loose") {
    return absl::InvalidArgumentError("--view must be aligned or loose");
  }
  SearchRankingOptions so;
  so.centroid_weight = absl::GetFlag(FLAGS_dog_centroid_weight);
  if (!(so.centroid_weight >= 0 && so.centroid_weight <= 1)) {
    return absl::InvalidArgumentError("--dog_centroid_weight must be in [0, 1]");
  }
  const uint32_t per_dog = absl::GetFlag(FLAGS_gallery_per_dog);
  if (per_dog != 1 && per_dog != 3) {
    return absl::InvalidArgumentError("--gallery_per_dog must be 1 or 3");
  }
  std::string dir = absl::GetFlag(FLAGS_checkpoint);
  if (dir.empty()) {
    absl::StatusOr<std::string> d = DefaultCheckpoint(absl::GetFlag(FLAGS_models_root));
    if (!d.ok()) return d.status();
    dir = *d;
  }
  absl::StatusOr<torch::Device> device = model::ParseDevice(absl::GetFlag(FLAGS_device));
  if (!device.ok()) return device.status();
  absl::StatusOr<model::LoadedCheckpoint> ckpt = model::LoadCheckpoint(dir, *device);
  if (!ckpt.ok()) return ckpt.status();
  if (absl::GetFlag(FLAGS_as_served)) ckpt->net->PrepareForServing();
  absl::StatusOr<Dataset> ds = ScanDataset(absl::GetFlag(FLAGS_data));
  if (!ds.ok()) return ds.status();
  const double holdout = absl::GetFlag(FLAGS_holdout_fraction);
  if (holdout < 0 || holdout >= 1) {
    return absl::InvalidArgumentError("--holdout_fraction must be in [0, 1)");
  }
  Dataset training;
  if (holdout > 0) {
    DatasetSplit split = SplitByIdentity(*ds, holdout, absl::GetFlag(FLAGS_holdout_seed));
    ds->identities = std::move(split.validation.identities);
    training = std::move(split.train);
  }
  absl::StatusOr<PhotoCache> cache = PhotoCache::Load(*ds, ckpt->manifest.model.input, threads);
  if (!cache.ok()) return cache.status();
  if (cache->failed() > 0) {
    std::fprintf(stderr, "dogsearch-eval: skipped %zu unreadable photos (first: %s)\n",
                 cache->failed(), cache->first_error().c_str());
  }
  if (view == "loose") {
    cache->MapImages([](size_t i, const cv::Mat& m) { return LooseCropView(m, 0x1005e + i); });
  }
  EmbedOptions eo;
  eo.batch_size = absl::GetFlag(FLAGS_batch);
  DS_ASSIGN_OR_RETURN(const model::ModelSpec served_views, EvaluatedViews(ckpt->manifest.model));
  eo.ServeAs(served_views);
  eo.device = *device;
  absl::StatusOr<std::shared_ptr<const model::Cohort>> cohort =
      CohortFor(training, *ckpt, eo, threads);
  if (!cohort.ok()) return cohort.status();
  EmbeddingTable table = EmbedCache(*ckpt->net, *cache, eo);
  if (const std::string out = absl::GetFlag(FLAGS_embeddings_out); !out.empty()) {
    std::string bytes("DSEMB1\0\0", 8);
    const uint64_t header[2] = {table.size(), table.dim};
    bytes.append(reinterpret_cast<const char*>(header), sizeof(header));
    bytes.append(reinterpret_cast<const char*>(table.labels.data()),
                 table.labels.size() * sizeof(int32_t));
    bytes.append(reinterpret_cast<const char*>(table.vectors.data()),
                 table.vectors.size() * sizeof(float));
    if (absl::Status s = WriteFileAtomic(out, bytes); !s.ok()) return s;
  }
  if (*cohort != nullptr) {
    if (absl::Status s = SetOffsets(**cohort, &table); !s.ok()) return s;
  }
  EvalOptions ev;
  ev.seed = absl::GetFlag(FLAGS_seed);
  ev.threads = threads;
  absl::StatusOr<EvalResult> r = Evaluate(table, ev);
  if (!r.ok()) return r.status();
  const SearchedFigures searched = AsSearched(table, ev.seed, so, threads);
  if (!absl::GetFlag(FLAGS_pca_png).empty()) {
    PcaPlotOptions po;
    po.max_dogs = absl::GetFlag(FLAGS_pca_dogs);
    po.thumbnails = absl::GetFlag(FLAGS_thumbnails);
    std::vector<cv::Mat> thumbs;
    if (po.thumbnails) {
      for (size_t i = 0; i < cache->size(); ++i) thumbs.push_back(cache->image(i));
    }
    if (absl::Status s = WritePcaPlot(table, thumbs, po, absl::GetFlag(FLAGS_pca_png)); !s.ok())
      return s;
  }
  if (!absl::GetFlag(FLAGS_roc_png).empty()) {
    if (absl::Status s = WriteRocPlot(r->roc, r->metrics.roc_auc, absl::GetFlag(FLAGS_roc_png));
        !s.ok()) {
      return s;
    }
  }
  if (const std::string list = absl::GetFlag(FLAGS_gallery_list); !list.empty()) {
    std::string lines;
    for (uint32_t row : Identify(table, ev.seed, per_dog).gallery)
      absl::StrAppend(&lines, cache->path(row), "\n");
    if (absl::Status s = WriteFileAtomic(list, lines); !s.ok()) return s;
  }
  const model::EvalMetrics& m = r->metrics;
  if (absl::GetFlag(FLAGS_update_manifest)) {
    model::CheckpointManifest updated = ckpt->manifest;
    updated.metrics = m;
    if (*cohort != nullptr && *cohort != ckpt->cohort) {
      if (absl::Status s = model::AttachScoreCohort(dir, **cohort, &updated); !s.ok()) return s;
    }
    if (absl::Status s = WriteFileAtomic(dir + "/manifest.json", model::ManifestToJson(updated));
        !s.ok()) {
      return s;
    }
  }
  std::string bins;
  for (const CalibrationBin& b : r->calibration_check.bins) {
    absl::StrAppend(&bins, bins.empty() ? "" : ",",
                    absl::StrFormat("{\"lo\":%.1f,\"count\":%u,\"stated\":%.4f,\"observed\":%.4f}",
                                    b.lo, b.count, b.stated, b.observed));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "{\"checkpoint\":\"%s\",\"verification_accuracy\":%.4f,\"verification_accuracy_std\":%.4f,"
      "\"roc_auc\":%.4f,\"tar_at_far_1e-3\":%.4f,\"rank1\":%.4f,\"recall_at_5\":%.4f,"
      "\"map\":%.4f,\"threshold\":%.4f,\"confidence_center\":%.4f,\"confidence_scale\":%.4f,"
      "\"dogs\":%u,\"photos\":%u,\"pairs\":%u,"
      "\"full_gallery_top1\":%.4f,\"full_gallery_mrr\":%.4f,\"rank1_3_enrolled\":%.4f,"
      "\"searched_rank1_3_enrolled\":%.4f,\"searched_full_gallery_top1\":%.4f,"
      "\"searched_full_gallery_mrr\":%.4f,\"dog_centroid_weight\":%.2f,"
      "\"dir_at_fpir_0.01\":%.4f,\"dir_at_fpir_0.05\":%.4f,\"dir_at_fpir_0.1\":%.4f,"
      "\"served_threshold_fpir_0.05\":%.4f,\"served_threshold_dir_0.05\":%.4f,"
      "\"confidence_ece\":%.4f,\"search_fmr_scale\":%.3f,\"confidence_bins\":[%s],\"view\":\"%s\","
      "\"skipped_photos\":%zu,\"flip_average\":%s,\"test_time_zoom\":%.3f,\"test_time_views\":%d,"
      "\"cohort_k\":%u,\"cohort_weight\":%.3f,\"numerics\":\"%s\",\"seconds\":%.1f}\n",
      ckpt->manifest.version.c_str(), m.verification_accuracy, m.verification_accuracy_std,
      m.roc_auc, m.tar_at_far_1e3, m.rank1, m.recall_at_5, m.mean_average_precision, m.threshold,
      m.confidence_center, m.confidence_scale, m.identities, m.photos, m.pairs, m.full_gallery_top1,
      m.full_gallery_mrr, m.rank1_3_enrolled, searched.rank1_3_enrolled, searched.full_gallery_top1,
      searched.full_gallery_mrr, so.centroid_weight, m.dir_at_fpir_1e2, m.dir_at_fpir_5e2,
      m.dir_at_fpir_1e1, r->model_fpir_5e2, r->model_dir_5e2, m.identification.confidence_ece,
      r->calibration_check.search_fmr_scale, bins.c_str(), absl::GetFlag(FLAGS_view).c_str(),
      cache->failed(), eo.flip_average ? "true" : "false", eo.test_time_zoom,
      model::TestTimeViewCount(served_views), *cohort != nullptr ? (*cohort)->k() : 0u,
      *cohort != nullptr ? (*cohort)->weight() : 0.0f, model::NumericsName(ckpt->net->numerics()),
      seconds);
  return absl::OkStatus();
}

}  // namespace
}  // namespace dogsearch::trainer

int main(int argc, char** argv) {
  dogsearch::ParseFlagsWithEnv(argc, argv);
  return dogsearch::ToolExitCode("dogsearch-eval", dogsearch::trainer::Run());
}
