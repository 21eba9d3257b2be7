// The GPU kit's photo file: validation photos decoded and resized beforehand (on a machine
// with OpenCV) so that the kit itself needs no image library. Layout, little-endian:
//   "DSKITPH1", uint32 count, uint32 height, uint32 width, int32 labels[count],
//   uint8 pixels[count][height][width][3] (RGB), uint32 CRC-32C of everything before it.
// Plain C++; no LibTorch, no OpenCV.
#ifndef DOGSEARCH_TOOLS_GPU_KIT_PHOTOS_H_
#define DOGSEARCH_TOOLS_GPU_KIT_PHOTOS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/model/model_spec.h"

namespace dogsearch::gpu_kit {

struct KitPhotos {
  uint32_t height = 0, width = 0;
  std::vector<int32_t> labels;  // One identity label per photo.
  std::vector<uint8_t> pixels;  // count x height x width x 3, RGB.

  size_t size() const { return labels.size(); }
  size_t photo_bytes() const { return size_t{3} * height * width; }
};

// At most 100,000 photos of at most 1024 x 1024.
inline constexpr uint32_t kMaxKitPhotos = 100'000;
inline constexpr uint32_t kMaxKitSide = 1024;

// Written to a temporary name, fsynced and renamed into place.
absl::Status WriteKitPhotos(const std::string& path, const KitPhotos& photos);

// INVALID_ARGUMENT naming the problem for a wrong magic, limits exceeded, a short file or a
// checksum mismatch; NOT_FOUND if the file is missing.
absl::StatusOr<KitPhotos> ReadKitPhotos(const std::string& path);

// Photos [first, first + n) as the model input: planar CHW floats, normalised per `spec`
// ((pixel / 255 - mean) / std). REQUIRES: spec's size equals the photos' size.
std::vector<float> ToModelInput(const KitPhotos& photos, size_t first, size_t n,
                                const model::InputSpec& spec);

}  // namespace dogsearch::gpu_kit

#endif  // DOGSEARCH_TOOLS_GPU_KIT_PHOTOS_H_
