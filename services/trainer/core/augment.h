// Training-time augmentation of one cached photo into the model's input layout: random resized
// crop, small rotation and horizontal flip as ONE affine warp (a single bilinear resampling),
// then brightness/contrast/saturation jitter folded into the float conversion. Pure function of
// (photo, options, rng state); thread-safe with one rng per thread.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_AUGMENT_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_AUGMENT_H_

#include <random>

#include <opencv2/core.hpp>

#include "common/model/model_spec.h"

namespace dogsearch::trainer {

struct AugmentOptions {
  bool enabled = true;
  bool flip = true;            // Horizontal flip with probability 1/2.
  float crop_area_min = 0.7f;  // Random resized crop: area fraction in [min, 1].
  float crop_aspect = 4.f / 3; // Aspect ratio in [1/a, a] (log-uniform).
  float rotation_degrees = 10.f;  // Uniform in [-r, r].
  float brightness = 0.2f;     // Factors uniform in [1 - x, 1 + x].
  float contrast = 0.2f;
  float saturation = 0.2f;
};

// Writes 3 * input.height * input.width floats (planar CHW, normalised per `input`) to `out`.
// With augmentation disabled this is exactly image::WriteInputCHW.
// REQUIRES: rgb is CV_8UC3.
void AugmentToCHW(const cv::Mat& rgb, const model::InputSpec& input, const AugmentOptions& options,
                  std::mt19937_64& rng, float* out);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_AUGMENT_H_
