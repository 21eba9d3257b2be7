#include "services/embedding/core/photo_prep.h"

#include "absl/strings/str_cat.h"
#include "common/image/image_decoder.h"

namespace dogsearch::embedding {

absl::StatusOr<std::vector<std::vector<float>>> PreparePhotos(const std::vector<PhotoRef>& photos,
                                                              const model::InputSpec& spec,
                                                              const image::ImageLimits& limits) {
  std::vector<std::vector<float>> out;
  out.reserve(photos.size());
  for (size_t i = 0; i < photos.size(); ++i) {
    auto rgb = image::DecodeImage(photos[i].data, limits);
    if (!rgb.ok()) {
      std::string who = photos[i].name.empty() ? "" : absl::StrCat(" ('", photos[i].name, "')");
      return absl::InvalidArgumentError(
          absl::StrCat("photo ", i, who, ": ", rgb.status().message()));
    }
    out.push_back(image::ToInputCHW(*rgb, spec));
  }
  return out;
}

}  // namespace dogsearch::embedding
