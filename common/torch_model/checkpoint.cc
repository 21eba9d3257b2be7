#include "common/torch_model/checkpoint.h"

#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/base/file_util.h"
#include "common/base/sha256.h"
#include "common/base/status_macros.h"
#include "common/model/score_norm.h"

namespace dogsearch::model {
namespace {

constexpr uint64_t kMaxWeightsBytes = uint64_t{2} << 30;

// Every tensor the network owns, by dotted name. Archive keys use "__" for "." because the
// TorchScript container the archive is built on rejects dots in attribute names.
std::map<std::string, torch::Tensor> NamedTensors(EmbeddingNet& net) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : net.named_parameters(/*recurse=*/true)) out[p.key()] = p.value();
  for (const auto& b : net.named_buffers(/*recurse=*/true)) out[b.key()] = b.value();
  return out;
}

std::string ArchiveKey(const std::string& name) { return absl::StrReplaceAll(name, {{".", "__"}}); }

absl::StatusOr<std::string> SerializeWeights(EmbeddingNet& net) {
  try {
    torch::serialize::OutputArchive archive;
    for (const auto& [name, t] : NamedTensors(net)) {
      archive.write(ArchiveKey(name), t.detach().to(torch::kCPU), /*is_buffer=*/true);
    }
    std::ostringstream out;
    archive.save_to(out);
    return out.str();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("serialising weights: ", e.what()));
  }
}

absl::Status Refuse(const std::string& dir, absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat("checkpoint ", dir, " refused: ", why));
}

// Copies the archive's tensors into `net` after checking names, shapes and dtypes.
absl::Status LoadTensors(const std::string& dir, const std::string& bytes, EmbeddingNet& net) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const std::exception& e) {
    return Refuse(dir, "weights file is not a readable LibTorch archive");
  }
  std::map<std::string, torch::Tensor> expected = NamedTensors(net);
  std::vector<std::string> keys = archive.keys();
  if (keys.size() != expected.size()) {
    return Refuse(dir, absl::StrCat("weights hold ", keys.size(), " tensors, the ",
                                    net.spec().architecture, " spec needs ", expected.size()));
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : expected) {
    torch::Tensor t;
    if (!archive.try_read(ArchiveKey(name), t, /*is_buffer=*/true)) {
      return Refuse(dir, absl::StrCat("weights lack tensor '", name, "'"));
    }
    if (t.sizes() != target.sizes() || t.scalar_type() != target.scalar_type()) {
      std::ostringstream msg;
      msg << "tensor '" << name << "' is " << t.sizes() << " " << t.scalar_type()
          << ", the spec needs " << target.sizes() << " " << target.scalar_type();
      return Refuse(dir, msg.str());
    }
    target.copy_(t);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CheckpointManifest> PublishCheckpoint(const std::string& root,
                                                     CheckpointManifest manifest, EmbeddingNet& net,
                                                     const Cohort* cohort) {
  DS_RETURN_IF_ERROR(ValidateVersionName(manifest.version));
  // The test-time views (flip, zoom, four views) are how the weights are served, not part of the
  // network: a fine-tune may publish its parent's network with another choice.
  ModelSpec weights_spec = manifest.model;
  weights_spec.flip_average = net.spec().flip_average;
  weights_spec.test_time_zoom = net.spec().test_time_zoom;
  weights_spec.test_time_four_views = net.spec().test_time_four_views;
  if (!(weights_spec == net.spec())) {
    return absl::InvalidArgumentError("manifest model spec differs from the network's spec");
  }
  DS_ASSIGN_OR_RETURN(std::string weights, SerializeWeights(net));
  manifest.weights_file = kWeightsFile;
  manifest.weights_sha256 = Sha256::Hex(weights);
  manifest.weights_bytes = weights.size();
  if (manifest.created_unix_seconds == 0)
    manifest.created_unix_seconds = absl::ToUnixSeconds(absl::Now());

  std::vector<std::pair<std::string, std::string>> files;
  manifest.score_norm = ScoreNorm{};
  if (cohort != nullptr) {
    DS_ASSIGN_OR_RETURN(CohortFile f, MakeCohortFile(*cohort, manifest));
    manifest.score_norm = f.entry;
    files.emplace_back(kCohortFile, std::move(f.bytes));
  }
  files.emplace_back(kWeightsFile, std::move(weights));
  files.emplace_back(kManifestFile, ManifestToJson(manifest));
  absl::Status s = PublishDirectory(root, manifest.version, files);
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(
        absl::StrCat("checkpoint ", root, "/", manifest.version, " already exists"));
  }
  DS_RETURN_IF_ERROR(s);
  return manifest;
}

absl::StatusOr<LoadedCheckpoint> LoadCheckpoint(const std::string& dir, torch::Device device) {
  DS_ASSIGN_OR_RETURN(CheckpointManifest manifest, ReadManifest(dir));
  auto bytes = ReadVerifiedFile(absl::StrCat(dir, "/", manifest.weights_file), kMaxWeightsBytes,
                                manifest.weights_bytes, manifest.weights_sha256, "weights file");
  if (!bytes.ok()) return Refuse(dir, bytes.status().message());
  DS_ASSIGN_OR_RETURN(std::shared_ptr<const Cohort> cohort, ReadScoreCohort(dir, manifest));
  auto net = BuildEmbeddingNet(manifest.model);
  if (!net.ok()) return Refuse(dir, net.status().message());
  DS_RETURN_IF_ERROR(LoadTensors(dir, *bytes, **net));
  try {
    (*net)->to(device);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("moving checkpoint ", dir, " to device ", device.str(), ": ", e.what()));
  }
  (*net)->eval();
  return LoadedCheckpoint{std::move(manifest), *std::move(net), std::move(cohort)};
}

absl::StatusOr<int> RemoveStaleTemporaries(const std::string& root) {
  std::error_code ec;
  int removed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    if (absl::StartsWith(entry.path().filename().string(), ".tmp-")) {
      std::filesystem::remove_all(entry.path(), ec);
      if (ec) return ErrnoToStatus(ec.value(), absl::StrCat("remove ", entry.path().string()));
      ++removed;
    }
  }
  if (ec) return ErrnoToStatus(ec.value(), absl::StrCat("list ", root));
  return removed;
}

}  // namespace dogsearch::model
