// Turns a request's encoded photos into model inputs: limits checked from the header before
// decoding (common/image), decoded to RGB, resized and normalised to the model's input spec.
// Errors are INVALID_ARGUMENT naming the photo's index and name and the reason. Thread-safe.
#ifndef DOGSEARCH_SERVICES_EMBEDDING_CORE_PHOTO_PREP_H_
#define DOGSEARCH_SERVICES_EMBEDDING_CORE_PHOTO_PREP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/image_header/image_header.h"
#include "common/model/model_spec.h"

namespace dogsearch::embedding {

struct PhotoRef {
  absl::string_view data;
  absl::string_view name;
};

absl::StatusOr<std::vector<std::vector<float>>> PreparePhotos(const std::vector<PhotoRef>& photos,
                                                              const model::InputSpec& spec,
                                                              const image::ImageLimits& limits);

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_CORE_PHOTO_PREP_H_
