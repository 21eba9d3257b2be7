// What network to build and how photos become its input. Plain data, no LibTorch: photo
// intake, the model builders and checkpoint manifests all share it. Mirrors the ModelSpec and
// InputSpec messages of protos/dogsearch/v1/model.proto.
#ifndef DOGSEARCH_COMMON_MODEL_MODEL_SPEC_H_
#define DOGSEARCH_COMMON_MODEL_MODEL_SPEC_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace dogsearch::model {

inline constexpr char kSeedInception[] = "seed_inception";
inline constexpr char kDogFaceNetResNet[] = "dogfacenet_resnet";
// Keras' MobileNetV2 (width 1.0), for a start from converted ImageNet weights.
inline constexpr char kMobileNetV2[] = "mobilenet_v2";
// Several networks of the kinds above on the same photo, their embeddings concatenated and
// projected (common/torch_model/ensemble_net.h).
inline constexpr char kEnsemble[] = "ensemble";
inline constexpr size_t kMaxEnsembleMembers = 4;

struct InputSpec {
  uint32_t width = 224;
  uint32_t height = 224;
  // x = (pixel / 255 - mean[c]) / std[c], RGB order. Defaults give the seed's [0, 1] input.
  std::array<float, 3> mean = {0.f, 0.f, 0.f};
  std::array<float, 3> std = {1.f, 1.f, 1.f};

  bool operator==(const InputSpec& o) const {
    return width == o.width && height == o.height && mean == o.mean && std == o.std;
  }
};

// The ImageNet channel statistics (torchvision's), the input normalisation of the networks
// trained from scratch here.
inline constexpr std::array<float, 3> kImageNetMean = {0.485f, 0.456f, 0.406f};
inline constexpr std::array<float, 3> kImageNetStd = {0.229f, 0.224f, 0.225f};

// The numbers the served forward pass computes with (dogsearch.v1.ServingPrecision).
enum class ServingPrecision { kFloat32, kBFloat16 };

struct ModelSpec {
  std::string architecture = kSeedInception;
  InputSpec input;
  uint32_t embedding_dim = 128;
  float dropout = 0.f;
  // dogfacenet_resnet only; empty = 16-32-64-128-512.
  std::vector<uint32_t> stage_widths;
  // dogfacenet_resnet only; 0 = 1.
  uint32_t blocks_per_stage = 0;
  // dogfacenet_resnet only: batch norm of the dense output before the L2 normalisation.
  bool embedding_batchnorm = false;
  // Serve and evaluate mean(f(photo), f(mirror)), normalised (see dogsearch.v1.ModelSpec).
  bool flip_average = false;
  // ensemble only: the member networks (their own input mean/std and size, at most the
  // ensemble's: a smaller member sees the photo shrunk to its size; no flip) and one weight in
  // (0, 1] each (see dogsearch.v1.ModelSpec).
  std::vector<ModelSpec> members;
  std::vector<float> member_weights;
  // Serving and evaluation only (training runs float32); the ensemble's choice, float32 in its
  // members. Part of the model version (see dogsearch.v1.ModelSpec.serving_precision).
  ServingPrecision serving_precision = ServingPrecision::kFloat32;
  // With flip_average: the mirrored view is of the centre crop of this fraction of the side,
  // zoomed to the input (see dogsearch.v1.ModelSpec.test_time_zoom). 0 = the whole photo.
  float test_time_zoom = 0.f;
  // With test_time_zoom: serve four views (the photo, its mirror, the zoom, the zoom's mirror)
  // instead of two (see dogsearch.v1.ModelSpec.test_time_four_views).
  bool test_time_four_views = false;

  bool operator==(const ModelSpec& o) const {
    return architecture == o.architecture && input == o.input && embedding_dim == o.embedding_dim &&
           dropout == o.dropout && stage_widths == o.stage_widths &&
           blocks_per_stage == o.blocks_per_stage && embedding_batchnorm == o.embedding_batchnorm &&
           flip_average == o.flip_average && members == o.members &&
           member_weights == o.member_weights && serving_precision == o.serving_precision &&
           test_time_zoom == o.test_time_zoom && test_time_four_views == o.test_time_four_views;
  }
};

// Limits: input sides 16..1024 (seed_inception needs >= 64), embedding_dim 2..4096,
// 0 <= dropout < 1, finite mean, std > 0, 1..8 stage widths of 1..2048 each,
// blocks_per_stage <= 4; an ensemble: 2..4 valid non-ensemble members no larger than its input,
// without flip, zoom, four views or serving precision of their own, one weight in (0, 1] each,
// and no fields of the plain architectures; members and member_weights only on an ensemble;
// test_time_zoom 0 or in [0.5, 1), and only with flip_average; test_time_four_views only with
// test_time_zoom. INVALID_ARGUMENT naming the field otherwise, or for an unknown architecture.
absl::Status ValidateInputSpec(const InputSpec& spec);
absl::Status ValidateModelSpec(const ModelSpec& spec);

// The residual stage widths actually used (defaults filled in).
std::vector<uint32_t> ResNetStageWidths(const ModelSpec& spec);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_MODEL_MODEL_SPEC_H_
