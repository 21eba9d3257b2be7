#include "services/embedding/core/torch_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/heap_retention.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/torch_model/checkpoint.h"
#include "common/torch_model/device.h"
#include "common/torch_model/test_time_views.h"

namespace dogsearch::embedding {
namespace {

class TorchModel final : public EmbeddingModel {
 public:
  TorchModel(model::LoadedCheckpoint ckpt, torch::Device device, bool half,
             const TorchOptions& options)
      : manifest_(std::move(ckpt.manifest)),
        net_(std::move(ckpt.net)),
        cohort_(std::move(ckpt.cohort)),
        device_(device),
        half_(half),
        cpu_chunk_(options.cpu_chunk_images) {
    if (device_.is_cpu() && options.keep_freed_memory) keep_freed_memory_.emplace();
    if (half_) net_->to(torch::kHalf);
    if (options.prepare_for_serving) {
      model::Numerics n = model::ResolveNumerics(manifest_.model.serving_precision, device_);
      if (n == model::Numerics::kBFloat16 && device_.is_cpu() && options.emulate_bfloat16) {
        n = model::Numerics::kBFloat16Emulated;
      }
      net_->PrepareForServing(n);
    }
  }

  absl::StatusOr<std::vector<float>> Embed(const float* inputs, int n) const override {
    // With the flip, a lone photo already runs as a batch of two (it and its second view).
    return Run(inputs, n,
               pair_lone_photos_ && n == 1 && model::TestTimeViewCount(manifest_.model) == 1);
  }

  // Set once by LoadTorchModel, before the model is shared.
  void set_pair_lone_photos(bool pair) { pair_lone_photos_ = pair; }

  // `pair`: run the one input as a batch of two copies and drop the copy's row.
  absl::StatusOr<std::vector<float>> Run(const float* inputs, int n, bool pair) const {
    try {
      c10::InferenceMode guard;
      const auto& spec = input_spec();
      torch::Tensor x = torch::from_blob(const_cast<float*>(inputs),
                                         {n, 3, spec.height, spec.width}, torch::kFloat32);
      if (pair) x = x.expand({2, 3, spec.height, spec.width}).contiguous();
      x = model::ServedViews(x, manifest_.model);  // With the flip, the photos' second views.
      if (device_.is_cuda()) {
        x = x.pin_memory().to(device_, /*non_blocking=*/true);
        if (half_) x = x.to(torch::kHalf);
      }
      torch::Tensor y =
          model::CombineViews(Forward(x).to(torch::kFloat32).to(torch::kCPU), manifest_.model);
      if (pair) y = y.slice(0, 0, 1);
      y = y.contiguous();
      std::vector<float> out(static_cast<size_t>(y.numel()));
      std::memcpy(out.data(), y.data_ptr<float>(), out.size() * sizeof(float));
      return out;
    } catch (const std::exception& e) {
      return absl::InternalError(
          absl::StrCat("inference with model ", version(), " failed: ", e.what()));
    }
  }

  // On CPU a large batch runs in chunks of at most `cpu_chunk_` images: per image, LibTorch
  // 1.13 on CPU is ~1.7x slower for 32 images at once than for 16 (docs/BENCHMARKS.md).
  torch::Tensor Forward(const torch::Tensor& x) const {
    if (!device_.is_cpu() || cpu_chunk_ <= 0 || x.size(0) <= cpu_chunk_) return net_->forward(x);
    std::vector<torch::Tensor> parts;
    for (int64_t i = 0; i < x.size(0); i += cpu_chunk_) {
      parts.push_back(net_->forward(x.slice(0, i, std::min<int64_t>(i + cpu_chunk_, x.size(0)))));
    }
    return torch::cat(parts);
  }

  const model::CheckpointManifest& manifest() const override { return manifest_; }
  std::string device() const override { return device_.str(); }
  bool half_precision() const override { return half_; }
  std::string numerics() const override { return model::NumericsName(net_->numerics()); }
  const model::Cohort* cohort() const override { return cohort_.get(); }

 private:
  // Declared first so that it ends last, after the network's memory is freed (TorchOptions::
  // keep_freed_memory; process-wide while any CPU model holds one).
  std::optional<ScopedHeapRetention> keep_freed_memory_;
  const model::CheckpointManifest manifest_;
  std::shared_ptr<model::EmbeddingNet> net_;
  const std::shared_ptr<const model::Cohort> cohort_;  // Null: no score normalisation.
  const torch::Device device_;
  const bool half_;
  const int64_t cpu_chunk_;
  bool pair_lone_photos_ = false;
};

// Whether a lone photo is faster run as a pair (see TorchOptions::pair_lone_photos): the best
// of three timed passes each way, after one untimed; a pair must win by 20%.
absl::StatusOr<bool> PairIsFaster(const TorchModel& m) {
  const std::vector<float> one = ProbeBatch(m.input_spec(), 1);
  auto best_seconds = [&](bool pair) -> absl::StatusOr<double> {
    double best = 1e9;
    for (int i = 0; i < 4; ++i) {
      const absl::Time t0 = absl::Now();
      DS_RETURN_IF_ERROR(m.Run(one.data(), 1, pair).status());
      if (i > 0) best = std::min(best, absl::ToDoubleSeconds(absl::Now() - t0));
    }
    return best;
  };
  DS_ASSIGN_OR_RETURN(const double alone, best_seconds(false));
  DS_ASSIGN_OR_RETURN(const double paired, best_seconds(true));
  const bool pair = paired < 0.8 * alone;
  DS_LOG(kInfo, "embedding_lone_photo_path")
      .Kv("version", m.version())
      .Kv("alone_ms", alone * 1e3)
      .Kv("pair_ms", paired * 1e3)
      .Kv("as_pair", pair);
  return pair;
}

}  // namespace

std::string ResolveDevice(const std::string& requested) {
  if (requested == "auto") return torch::cuda::is_available() ? "cuda:0" : "cpu";
  return requested;
}

int SetTorchThreads(int threads) {
  if (threads > 0) at::set_num_threads(threads);
  return at::get_num_threads();
}

absl::StatusOr<std::shared_ptr<const EmbeddingModel>> LoadTorchModel(const std::string& dir,
                                                                     const TorchOptions& options) {
  DS_ASSIGN_OR_RETURN(torch::Device device, model::ParseDevice(options.device));
  DS_ASSIGN_OR_RETURN(model::LoadedCheckpoint ckpt, model::LoadCheckpoint(dir, device));
  const bool bfloat16 = ckpt.manifest.model.serving_precision == model::ServingPrecision::kBFloat16;
  if (bfloat16 && !options.prepare_for_serving) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint ", dir, " is served in bfloat16 (spec.serving_precision), which ",
                     "needs the network prepared for serving (--prepare_for_serving)"));
  }
  auto m = std::make_shared<TorchModel>(std::move(ckpt), device,
                                        options.half && device.is_cuda() && !bfloat16, options);
  DS_LOG(kInfo, "embedding_model_numerics")
      .Kv("version", m->version())
      .Kv("numerics", m->numerics())
      .Kv("half", m->half_precision());
  constexpr int kProbe = 4;
  DS_ASSIGN_OR_RETURN(std::vector<float> probe,
                      m->Embed(ProbeBatch(m->input_spec(), kProbe).data(), kProbe));
  if (absl::Status s = CheckProbeOutput(probe, kProbe, m->dimension()); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint ", dir, " refused: ", s.message()));
  }
  const std::vector<float> warm = ProbeBatch(m->input_spec(), options.warmup_batch);
  for (int i = 0; i < options.warmup_passes; ++i) {
    DS_RETURN_IF_ERROR(m->Embed(warm.data(), options.warmup_batch).status());
  }
  if (options.pair_lone_photos.has_value()) {
    m->set_pair_lone_photos(*options.pair_lone_photos);
  } else if (!device.is_cuda()) {
    DS_ASSIGN_OR_RETURN(const bool pair, PairIsFaster(*m));
    m->set_pair_lone_photos(pair);
  }
  return std::shared_ptr<const EmbeddingModel>(std::move(m));
}

}  // namespace dogsearch::embedding
