// Training-time augmentation of one cached photo into the model's input layout: random resized
// crop (zoom in or out), small rotation and horizontal flip as ONE affine warp (a single
// bilinear resampling), then brightness/contrast/saturation jitter folded into the float
// conversion, then optional random erasing. Pure function of
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
  float crop_area_min = 0.7f;  // Random resized crop: area fraction in [min, max].
  // Above 1 the crop is larger than the photo (zoom out: the face smaller, the border
  // reflected), as in a looser crop of a real photo.
  float crop_area_max = 1.f;
  float crop_aspect = 4.f / 3; // Aspect ratio in [1/a, a] (log-uniform).
  float rotation_degrees = 10.f;  // Uniform in [-r, r].
  float brightness = 0.2f;     // Factors uniform in [1 - x, 1 + x].
  float contrast = 0.2f;
  float saturation = 0.2f;
  // Random erasing (Zhong et al.): with this probability, one rectangle of 2%..25% of the
  // image (aspect 0.3..3.3) is filled with per-pixel noise in the normalised range.
  float erase_probability = 0.f;
};

// Writes 3 * input.height * input.width floats (planar CHW, normalised per `input`) to `out`.
// With augmentation disabled this is exactly image::WriteInputCHW.
// REQUIRES: rgb is CV_8UC3.
void AugmentToCHW(const cv::Mat& rgb, const model::InputSpec& input, const AugmentOptions& options,
                  std::mt19937_64& rng, float* out);

// The "loose crop" evaluation view of an aligned face photo: zoomed out so that the face fills
// 60-80% of the side (the border reflected), shifted by up to 10% of the side and rotated by up
// to 12 degrees, all drawn from `seed` (one seed per photo gives a fixed view). Same size and
// type as `rgb` (CV_8UC3). Approximates what a user's own, unaligned crop looks like.
cv::Mat LooseCropView(const cv::Mat& rgb, uint64_t seed);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_AUGMENT_H_
