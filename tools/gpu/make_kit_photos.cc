// Prepares the GPU kit's photo file (kit_photos.h) on a machine with OpenCV: the validation
// dogs of a dogsearch-train split (the same photos the docs' figures are measured on), decoded
// and resized exactly as the embedding service does, or, where the data set is absent,
// generated photos (smooth per-dog patterns plus per-photo noise) so that the kit's machinery
// can still be exercised (its accuracy figures then mean nothing, and the file says so by
// its size: docs/GPU.md).
//
//   gpu_kit_photos --data DIR --out FILE [--holdout_fraction 0.1 --seed 0 --max_photos 720]
//   gpu_kit_photos --synthetic_dogs 40 --out FILE
#include <cstdio>
#include <random>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/base/file_util.h"
#include "common/base/status_macros.h"
#include "common/image/image_decoder.h"
#include "services/trainer/core/dataset.h"
#include "tools/gpu/kit_photos.h"

ABSL_FLAG(std::string, data, "", "Data set root (<dog>/<photo>.jpg)");
ABSL_FLAG(std::string, out, "gpu_kit/photos.bin", "Output file");
ABSL_FLAG(double, holdout_fraction, 0.1, "dogsearch-train's --val_fraction");
ABSL_FLAG(uint64_t, seed, 0, "dogsearch-train's --seed");
ABSL_FLAG(uint32_t, max_photos, 720, "At most this many validation photos");
ABSL_FLAG(uint32_t, size, 96,
          "Side in pixels (the default model's input; prepare_kit.sh passes it)");
ABSL_FLAG(uint32_t, synthetic_dogs, 0, "Generate this many dogs x 5 photos instead");

namespace dogsearch::gpu_kit {
namespace {

absl::StatusOr<KitPhotos> FromDataSet(const std::string& root, uint32_t side) {
  DS_ASSIGN_OR_RETURN(trainer::Dataset all, trainer::ScanDataset(root));
  const trainer::DatasetSplit split = trainer::SplitByIdentity(
      all, absl::GetFlag(FLAGS_holdout_fraction), absl::GetFlag(FLAGS_seed));
  KitPhotos p;
  p.height = p.width = side;
  model::InputSpec spec;
  spec.width = spec.height = side;
  const image::ImageLimits limits;
  int32_t label = 0;
  for (const trainer::Identity& dog : split.validation.identities) {
    for (const trainer::Photo& photo : dog.photos) {
      if (p.size() >= absl::GetFlag(FLAGS_max_photos)) return p;
      DS_ASSIGN_OR_RETURN(std::string bytes, ReadFile(photo.path, limits.max_bytes));
      DS_ASSIGN_OR_RETURN(cv::Mat rgb, image::DecodeImage(bytes, limits));
      cv::Mat sized = image::ResizeToInput(rgb, spec);
      if (!sized.isContinuous()) sized = sized.clone();
      p.pixels.insert(p.pixels.end(), sized.data, sized.data + p.photo_bytes());
      p.labels.push_back(label);
    }
    ++label;
  }
  return p;
}

KitPhotos Synthetic(uint32_t dogs, uint32_t side) {
  KitPhotos p;
  p.height = p.width = side;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::normal_distribution<float> noise(0.f, 12.f);
  for (uint32_t d = 0; d < dogs; ++d) {
    float f[3][3];  // Per dog and channel: two frequencies and a phase.
    for (auto& c : f) c[0] = 1 + 6 * u(rng), c[1] = 1 + 6 * u(rng), c[2] = 6.28f * u(rng);
    for (int k = 0; k < 5; ++k) {
      for (uint32_t y = 0; y < side; ++y) {
        for (uint32_t x = 0; x < side; ++x) {
          for (int c = 0; c < 3; ++c) {
            const float v = 128 + 100 * std::sin(f[c][0] * x / side * 6.28f + f[c][2]) *
                                      std::cos(f[c][1] * y / side * 6.28f);
            p.pixels.push_back(static_cast<uint8_t>(std::clamp(v + noise(rng), 0.f, 255.f)));
          }
        }
      }
      p.labels.push_back(static_cast<int32_t>(d));
    }
  }
  return p;
}

absl::Status Main() {
  const uint32_t side = absl::GetFlag(FLAGS_size);
  KitPhotos photos;
  if (absl::GetFlag(FLAGS_synthetic_dogs) > 0) {
    photos = Synthetic(absl::GetFlag(FLAGS_synthetic_dogs), side);
  } else {
    DS_ASSIGN_OR_RETURN(photos, FromDataSet(absl::GetFlag(FLAGS_data), side));
  }
  DS_RETURN_IF_ERROR(WriteKitPhotos(absl::GetFlag(FLAGS_out), photos));
  std::printf("%zu photos of %u x %u, %d dogs -> %s\n", photos.size(), side, side,
              photos.labels.empty() ? 0 : photos.labels.back() + 1,
              absl::GetFlag(FLAGS_out).c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace dogsearch::gpu_kit

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status s = dogsearch::gpu_kit::Main();
  if (!s.ok()) {
    std::fprintf(stderr, "gpu_kit_photos: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
