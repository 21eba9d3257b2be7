#include "services/trainer/core/photo_cache.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/base/file_util.h"
#include "common/image/image_decoder.h"

namespace dogsearch::trainer {

absl::StatusOr<PhotoCache> PhotoCache::Load(const Dataset& dataset, const model::InputSpec& input,
                                            int threads) {
  struct Job {
    const Photo* photo;
    int32_t identity;
  };
  std::vector<Job> jobs;
  for (size_t i = 0; i < dataset.identities.size(); ++i) {
    for (const Photo& p : dataset.identities[i].photos) {
      jobs.push_back(Job{&p, static_cast<int32_t>(i)});
    }
  }
  std::vector<cv::Mat> decoded(jobs.size());
  std::vector<std::string> errors(jobs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    image::ImageLimits limits;
    for (size_t i = next++; i < jobs.size(); i = next++) {
      absl::StatusOr<std::string> bytes = ReadFile(jobs[i].photo->path, limits.max_bytes);
      absl::StatusOr<cv::Mat> rgb =
          bytes.ok() ? image::DecodeImage(*bytes, limits) : absl::StatusOr<cv::Mat>(bytes.status());
      if (!rgb.ok()) {
        errors[i] = absl::StrCat(jobs[i].photo->path, ": ", rgb.status().message());
        continue;
      }
      decoded[i] = image::ResizeToInput(*rgb, input).clone();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();

  PhotoCache cache;
  std::vector<int32_t> remap(dataset.identities.size(), -1);
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (decoded[i].empty()) {
      if (cache.failed_++ == 0) cache.first_error_ = errors[i];
      continue;
    }
    int32_t& label = remap[jobs[i].identity];
    if (label < 0) {
      label = static_cast<int32_t>(cache.photos_of_.size());
      cache.photos_of_.emplace_back();
      cache.identity_names_.push_back(dataset.identities[jobs[i].identity].name);
    }
    cache.photos_of_[label].push_back(static_cast<int32_t>(cache.images_.size()));
    cache.images_.push_back(std::move(decoded[i]));
    cache.labels_.push_back(label);
    cache.paths_.push_back(jobs[i].photo->path);
  }
  if (cache.images_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no photo of '", dataset.root, "' could be decoded; first error: ", cache.first_error_));
  }
  return cache;
}

}  // namespace dogsearch::trainer
