// The kit's LibTorch work behind a header without LibTorch: checkpoints it makes for itself
// and the training-step measurement. The rest of the kit reaches models only through the
// embedding service's own loader (LoadTorchModel) and interfaces.
#ifndef DOGSEARCH_TOOLS_GPU_KIT_TORCH_H_
#define DOGSEARCH_TOOLS_GPU_KIT_TORCH_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/model/model_spec.h"
#include "tools/gpu/kit_photos.h"

namespace dogsearch::gpu_kit {

// "1.13.0": the LibTorch this was compiled against.
std::string TorchVersion();
bool CudaAvailable();

// A 224-px residual network with ResNet-34's stages (64-128-256-512, 4 blocks each: about
// 3.6 GFLOPs per photo, ResNet-50's cost), embedding 128.
model::ModelSpec BigNetworkSpec();

// Publishes a freshly initialised network of `spec` under root/version (if not there yet);
// returns its directory.
absl::StatusOr<std::string> PublishRandomNetwork(const model::ModelSpec& spec,
                                                 const std::string& root,
                                                 const std::string& version);

// Publishes `model_dir`'s weights, each multiplied by (1 + 0.1 x N(0, 1)), as root/version: a
// second version whose embeddings differ clearly from the first's.
absl::StatusOr<std::string> PublishVariant(const std::string& model_dir, const std::string& root,
                                           const std::string& version);

// Publishes `model_dir` served with four test-time views (ModelSpec.test_time_four_views) as
// root/version, with its cohort as it is (embedded with the served views, so right for timing
// the served path, not for accuracy). FAILED_PRECONDITION if it serves no zoom.
absl::StatusOr<std::string> PublishFourViews(const std::string& model_dir, const std::string& root,
                                             const std::string& version);

struct TrainingFigures {
  int steps = 0;            // Timed steps (after the warm-up).
  double seconds = 0;       // Their wall time.
  double images_per_s = 0;  // Batch photos through forward + mining + backward + Adam step.
  double loss_first = 0, loss_last = 0;
  int batch = 0;
};

// Trains a fresh network of `spec` on `device` with the default recipe's step: PK batches of
// 16 dogs x 4 photos from `photos` (moved to the device once; mirrored at random on the
// device; resized on the device to the spec's input when it differs), the triplet loss with
// semi-hard mining (margin 0.2), Adam 3e-4 with weight decay 5e-4. Data loading from disk and
// the trainer's CPU augmentation are not part of it (docs/GPU.md).
absl::StatusOr<TrainingFigures> MeasureTraining(const model::ModelSpec& spec,
                                                const KitPhotos& photos, const std::string& device,
                                                double seconds, int warmup_steps);

}  // namespace dogsearch::gpu_kit

#endif  // DOGSEARCH_TOOLS_GPU_KIT_TORCH_H_
