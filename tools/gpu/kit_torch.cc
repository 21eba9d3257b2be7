#include "tools/gpu/kit_torch.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/torch_model/checkpoint.h"
#include "common/torch_model/device.h"
#include "common/torch_model/embedding_net.h"
#include "services/trainer/core/triplet_loss.h"

namespace dogsearch::gpu_kit {
namespace {

absl::StatusOr<std::string> Publish(const std::string& root, const std::string& version,
                                    model::CheckpointManifest manifest, model::EmbeddingNet& net,
                                    const model::Cohort* cohort = nullptr) {
  const std::string dir = absl::StrCat(root, "/", version);
  if (std::filesystem::exists(dir)) return dir;
  std::filesystem::create_directories(root);
  manifest.version = version;
  manifest.notes = "made by the GPU kit (tools/gpu); not a trained model";
  DS_RETURN_IF_ERROR(model::PublishCheckpoint(root, manifest, net, cohort).status());
  return dir;
}

// PK batch: `p` dogs with at least `k` photos, `k` photos each, as indices into the photos.
std::vector<int64_t> PkBatch(const std::map<int32_t, std::vector<int64_t>>& by_dog,
                             const std::vector<int32_t>& dogs, int p, int k, std::mt19937* rng) {
  std::vector<int32_t> chosen = dogs;
  std::shuffle(chosen.begin(), chosen.end(), *rng);
  chosen.resize(std::min<size_t>(p, chosen.size()));
  std::vector<int64_t> out;
  for (int32_t d : chosen) {
    std::vector<int64_t> ph = by_dog.at(d);
    std::shuffle(ph.begin(), ph.end(), *rng);
    out.insert(out.end(), ph.begin(), ph.begin() + k);
  }
  return out;
}

}  // namespace

std::string TorchVersion() {
  return absl::StrCat(TORCH_VERSION_MAJOR, ".", TORCH_VERSION_MINOR, ".", TORCH_VERSION_PATCH);
}

bool CudaAvailable() { return torch::cuda::is_available(); }

model::ModelSpec BigNetworkSpec() {
  model::ModelSpec s;
  s.architecture = model::kDogFaceNetResNet;
  s.input.width = s.input.height = 224;
  s.input.mean = model::kImageNetMean;
  s.input.std = model::kImageNetStd;
  s.embedding_dim = 128;
  s.stage_widths = {64, 128, 256, 512};
  s.blocks_per_stage = 4;
  return s;
}

absl::StatusOr<std::string> PublishRandomNetwork(const model::ModelSpec& spec,
                                                 const std::string& root,
                                                 const std::string& version) {
  torch::manual_seed(0);
  DS_ASSIGN_OR_RETURN(std::shared_ptr<model::EmbeddingNet> net, model::BuildEmbeddingNet(spec));
  model::CheckpointManifest m;
  m.model = spec;
  return Publish(root, version, m, *net);
}

absl::StatusOr<std::string> PublishVariant(const std::string& model_dir, const std::string& root,
                                           const std::string& version) {
  DS_ASSIGN_OR_RETURN(model::LoadedCheckpoint ckpt, model::LoadCheckpoint(model_dir));
  torch::manual_seed(1);
  {
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : ckpt.net->parameters()) p.mul_(1 + 0.1 * torch::randn_like(p));
  }
  ckpt.manifest.parent_version = ckpt.manifest.version;
  return Publish(root, version, ckpt.manifest, *ckpt.net);
}

absl::StatusOr<std::string> PublishFourViews(const std::string& model_dir, const std::string& root,
                                             const std::string& version) {
  DS_ASSIGN_OR_RETURN(model::LoadedCheckpoint ckpt, model::LoadCheckpoint(model_dir));
  if (ckpt.manifest.model.test_time_zoom == 0.f) {  // (A valid zoom implies the flip.)
    return absl::FailedPreconditionError(
        "the default model serves no test-time zoom, and four views need one");
  }
  ckpt.manifest.model.test_time_four_views = true;
  ckpt.manifest.parent_version = ckpt.manifest.version;
  return Publish(root, version, ckpt.manifest, *ckpt.net, ckpt.cohort.get());
}

absl::StatusOr<TrainingFigures> MeasureTraining(const model::ModelSpec& spec,
                                                const KitPhotos& photos, const std::string& device,
                                                double seconds, int warmup_steps) {
  constexpr int kP = 16, kK = 4;
  std::map<int32_t, std::vector<int64_t>> by_dog;
  for (size_t i = 0; i < photos.size(); ++i) by_dog[photos.labels[i]].push_back(i);
  std::vector<int32_t> dogs;
  for (const auto& [dog, ph] : by_dog) {
    if (ph.size() >= kK) dogs.push_back(dog);
  }
  if (dogs.size() < 2) return absl::FailedPreconditionError("fewer than 2 dogs with 4 photos");
  DS_ASSIGN_OR_RETURN(torch::Device dev, model::ParseDevice(device));
  try {
    torch::manual_seed(0);
    DS_ASSIGN_OR_RETURN(std::shared_ptr<model::EmbeddingNet> net, model::BuildEmbeddingNet(spec));
    net->to(dev);
    net->train();
    torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(3e-4).weight_decay(5e-4));
    const auto n = static_cast<int64_t>(photos.size());
    const torch::Tensor all =
        torch::from_blob(const_cast<uint8_t*>(photos.pixels.data()),
                         {n, int64_t{photos.height}, int64_t{photos.width}, 3}, torch::kUInt8)
            .to(dev);
    const torch::Tensor labels_all =
        torch::from_blob(const_cast<int32_t*>(photos.labels.data()), {n}, torch::kInt32).to(dev);
    const torch::Tensor mean =
        torch::tensor(std::vector<float>(spec.input.mean.begin(), spec.input.mean.end()))
            .view({1, 3, 1, 1})
            .to(dev);
    const torch::Tensor std =
        torch::tensor(std::vector<float>(spec.input.std.begin(), spec.input.std.end()))
            .view({1, 3, 1, 1})
            .to(dev);
    std::mt19937 rng(0);
    trainer::TripletLossOptions lo;
    TrainingFigures f;
    f.batch = static_cast<int>(std::min<size_t>(kP, dogs.size())) * kK;
    auto step = [&]() {
      const std::vector<int64_t> idx = PkBatch(by_dog, dogs, kP, kK, &rng);
      const torch::Tensor index = torch::tensor(idx, torch::kInt64).to(dev);
      torch::Tensor x = all.index_select(0, index).permute({0, 3, 1, 2}).to(torch::kFloat32) / 255;
      x = (x - mean) / std;
      const torch::Tensor flip = torch::rand({x.size(0), 1, 1, 1}, x.options()) < 0.5;
      x = torch::where(flip, x.flip({3}), x);
      if (x.size(2) != spec.input.height || x.size(3) != spec.input.width) {
        x = torch::nn::functional::interpolate(
            x, torch::nn::functional::InterpolateFuncOptions()
                   .size(std::vector<int64_t>{spec.input.height, spec.input.width})
                   .mode(torch::kBilinear)
                   .align_corners(false));
      }
      const torch::Tensor labels = labels_all.index_select(0, index);
      torch::Tensor loss = trainer::TripletLoss(net->forward(x), labels, lo).loss;
      opt.zero_grad();
      loss.backward();
      opt.step();
      return loss.item<double>();  // Waits for the device: the step is complete.
    };
    for (int i = 0; i < warmup_steps; ++i) step();
    const auto t0 = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
      const double loss = step();
      if (f.steps == 0) f.loss_first = loss;
      f.loss_last = loss;
      ++f.steps;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (elapsed < seconds);
    f.seconds = elapsed;
    f.images_per_s = f.steps * f.batch / elapsed;
    return f;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("training on ", device, ": ", e.what()));
  }
}

}  // namespace dogsearch::gpu_kit
