// dogsearch-ensemble: assembles an ensemble checkpoint from trained checkpoints (docs/TRAINING.md,
// "An ensemble"): their weights unchanged, the projection to the served dimension fitted on the
// training dogs of the --holdout_fraction split only, published atomically under --out.
//
//   dogsearch-ensemble --members deploy/models/A,runs/x/checkpoints/B --weights 0.6,0.4
//       --data DIR --holdout_fraction 0.1 --out deploy/models --version NAME
// Then calibrate it like any checkpoint (dogsearch-eval --update_manifest [--write_cohort]).
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/env_flags.h"
#include "common/base/status_macros.h"
#include "common/torch_model/checkpoint.h"
#include "common/torch_model/device.h"
#include "common/torch_model/ensemble_net.h"
#include "services/trainer/core/dataset.h"
#include "services/trainer/core/ensemble_fit.h"
#include "services/trainer/core/photo_cache.h"

ABSL_FLAG(std::string, members, "",
          "Comma-separated checkpoint folders, 2..4; DIR@I is member I (from 0) of the ensemble "
          "checkpoint at DIR, its weights unchanged (to re-assemble an ensemble with another "
          "member)");
ABSL_FLAG(std::string, weights, "", "Comma-separated member weights in (0, 1] (default: equal)");
ABSL_FLAG(std::string, data, "", "Folder of identity folders the members trained on");
ABSL_FLAG(double, holdout_fraction, 0.1,
          "The members' validation share (their runs' --val_fraction): those dogs are left out "
          "of the fit");
ABSL_FLAG(uint64_t, holdout_seed, 0, "The members' runs' --seed");
ABSL_FLAG(uint32_t, dim, 128, "Embedding dimension served");
ABSL_FLAG(bool, flip_average, true, "Serve the test-time flip (part of the model version)");
ABSL_FLAG(std::string, out, "", "Checkpoint root to publish into (e.g. deploy/models)");
ABSL_FLAG(std::string, version, "", "Version of the new checkpoint");
ABSL_FLAG(int, threads, 0, "CPU threads (0 = all cores)");
ABSL_FLAG(std::string, device, "cpu", "auto, cpu, cuda or cuda:N");

namespace dogsearch::trainer {
namespace {

absl::StatusOr<std::vector<float>> ParseWeights(const std::string& text, size_t n) {
  if (text.empty()) return std::vector<float>(n, 1.f);
  std::vector<float> w;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    float v = 0;
    if (!absl::SimpleAtof(part, &v)) {
      return absl::InvalidArgumentError(absl::StrCat("--weights: '", part, "' is not a number"));
    }
    w.push_back(v);
  }
  if (w.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("--weights has ", w.size(), " values for ", n, " members"));
  }
  return w;
}

// A --members entry: the checkpoint at `ref`, or for "DIR@I" member I of the ensemble at DIR
// (its manifest: the ensemble's, with the member's spec, version "VERSION@I" and a note). A
// folder whose own name holds an '@' is taken as it is.
absl::StatusOr<model::LoadedCheckpoint> LoadMember(const std::string& ref, torch::Device device) {
  const size_t at = ref.rfind('@');
  if (at == std::string::npos || std::filesystem::is_directory(ref)) {
    return model::LoadCheckpoint(ref, device);
  }
  const std::string dir = ref.substr(0, at);
  size_t index = 0;
  if (!absl::SimpleAtoi(ref.substr(at + 1), &index)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--members: '", ref, "': what follows '@' is not a member number"));
  }
  DS_ASSIGN_OR_RETURN(model::LoadedCheckpoint c, model::LoadCheckpoint(dir, device));
  auto* ensemble = dynamic_cast<model::EnsembleNet*>(c.net.get());
  if (ensemble == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--members: '", ref, "': ", dir, " is not an ensemble ('@' picks a member of one)"));
  }
  if (index >= ensemble->member_count()) {
    return absl::InvalidArgumentError(absl::StrCat("--members: '", ref, "': ", dir, " has ",
                                                   ensemble->member_count(), " members"));
  }
  c.net = ensemble->shared_member(index);
  c.manifest.model = c.net->spec();
  c.manifest.notes = absl::StrCat("member ", index, " of ", c.manifest.version);
  c.manifest.version = absl::StrCat(c.manifest.version, "@", index);
  c.cohort = nullptr;
  return c;
}

absl::Status Run() {
  const int threads = ThreadsOrAllCores(absl::GetFlag(FLAGS_threads));
  at::set_num_threads(threads);
  const std::vector<std::string> dirs =
      absl::StrSplit(absl::GetFlag(FLAGS_members), ',', absl::SkipEmpty());
  if (absl::GetFlag(FLAGS_data).empty() || absl::GetFlag(FLAGS_out).empty()) {
    return absl::InvalidArgumentError("--data and --out are required");
  }
  DS_RETURN_IF_ERROR(model::ValidateVersionName(absl::GetFlag(FLAGS_version)));
  const double holdout = absl::GetFlag(FLAGS_holdout_fraction);
  if (!(holdout > 0 && holdout < 1)) {
    return absl::InvalidArgumentError(
        "--holdout_fraction must be in (0, 1): the projection is fitted on training dogs only");
  }
  DS_ASSIGN_OR_RETURN(std::vector<float> weights,
                      ParseWeights(absl::GetFlag(FLAGS_weights), dirs.size()));
  DS_ASSIGN_OR_RETURN(torch::Device device, model::ParseDevice(absl::GetFlag(FLAGS_device)));
  std::vector<EnsembleMember> members;
  std::vector<model::CheckpointManifest> manifests;
  for (size_t i = 0; i < dirs.size(); ++i) {
    DS_ASSIGN_OR_RETURN(model::LoadedCheckpoint c, LoadMember(dirs[i], device));
    members.push_back({c.net, weights[i]});
    manifests.push_back(c.manifest);
  }
  DS_ASSIGN_OR_RETURN(model::ModelSpec spec, EnsembleSpecFor(members, absl::GetFlag(FLAGS_dim),
                                                             absl::GetFlag(FLAGS_flip_average)));
  DS_ASSIGN_OR_RETURN(Dataset ds, ScanDataset(absl::GetFlag(FLAGS_data)));
  DatasetSplit split = SplitByIdentity(ds, holdout, absl::GetFlag(FLAGS_holdout_seed));
  DS_ASSIGN_OR_RETURN(PhotoCache training, PhotoCache::Load(split.train, spec.input, threads));
  EmbedOptions eo;
  eo.device = device;
  DS_ASSIGN_OR_RETURN(FittedEnsemble fit,
                      FitEnsemble(members, spec.embedding_dim, spec.flip_average, training, eo));

  model::CheckpointManifest m;
  m.version = absl::GetFlag(FLAGS_version);
  m.model = fit.net->spec();
  m.parent_version = manifests[0].version;
  m.dataset_fingerprint = manifests[0].dataset_fingerprint;
  std::vector<std::string> parts;
  for (size_t i = 0; i < manifests.size(); ++i) {
    parts.push_back(absl::StrFormat("%s (weight %.2f: %s)", manifests[i].version, weights[i],
                                    manifests[i].notes));
  }
  m.notes = absl::StrFormat(
      "ensemble of %s; projection: the top %u principal axes of %zu training photos' "
      "concatenated embeddings%s (%.4f of their variance), held-out share %.2f seed %u left out",
      absl::StrJoin(parts, " + "), spec.embedding_dim, fit.photos,
      spec.flip_average ? ", flip-averaged" : "", fit.variance_kept, holdout,
      absl::GetFlag(FLAGS_holdout_seed));
  DS_ASSIGN_OR_RETURN(model::CheckpointManifest written,
                      model::PublishCheckpoint(absl::GetFlag(FLAGS_out), m, *fit.net));
  std::printf(
      "{\"version\":\"%s\",\"members\":%zu,\"training_photos\":%zu,"
      "\"variance_kept\":%.6f,\"weights_bytes\":%llu}\n",
      written.version.c_str(), members.size(), fit.photos, fit.variance_kept,
      static_cast<unsigned long long>(written.weights_bytes));
  return absl::OkStatus();
}

}  // namespace
}  // namespace dogsearch::trainer

int main(int argc, char** argv) {
  dogsearch::ParseFlagsWithEnv(argc, argv);
  return dogsearch::ToolExitCode("dogsearch-ensemble", dogsearch::trainer::Run());
}
