// Every photo of a data set decoded once and kept in memory as 8-bit RGB at the model's input
// size, resized exactly as the embedding service resizes a request's photo
// (image::ResizeToInput), so evaluation on cached photos sees what serving sees. 7,475 photos at
// 96x96 take 200 MiB. Decoding runs on `threads` threads.
// Immutable after Load: concurrent readers need no lock.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_PHOTO_CACHE_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_PHOTO_CACHE_H_

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/model/model_spec.h"
#include "services/trainer/core/dataset.h"

namespace dogsearch::trainer {

class PhotoCache {
 public:
  // Photos that cannot be read or decoded are left out and counted (with the first error kept
  // for the log); identities left with no photo disappear. INVALID_ARGUMENT if nothing decodes.
  static absl::StatusOr<PhotoCache> Load(const Dataset& dataset, const model::InputSpec& input,
                                         int threads);

  size_t size() const { return images_.size(); }
  const cv::Mat& image(size_t i) const { return images_[i]; }
  int32_t label(size_t i) const { return labels_[i]; }
  const std::vector<int32_t>& labels() const { return labels_; }
  const std::string& path(size_t i) const { return paths_[i]; }
  // Photo ids of each identity (index = label).
  const std::vector<std::vector<int32_t>>& photos_of() const { return photos_of_; }
  const std::vector<std::string>& identity_names() const { return identity_names_; }
  size_t failed() const { return failed_; }
  // Replaces every photo by fn(index, photo) (same size and type), e.g. an evaluation view.
  template <typename Fn>
  void MapImages(Fn fn) {
    for (size_t i = 0; i < images_.size(); ++i) images_[i] = fn(i, images_[i]);
  }
  const std::string& first_error() const { return first_error_; }

 private:
  std::vector<cv::Mat> images_;
  std::vector<int32_t> labels_;
  std::vector<std::string> paths_;
  std::vector<std::vector<int32_t>> photos_of_;
  std::vector<std::string> identity_names_;
  size_t failed_ = 0;
  std::string first_error_;
};

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_PHOTO_CACHE_H_
