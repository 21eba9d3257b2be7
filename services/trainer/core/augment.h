// Training-time augmentation of one cached photo into the model's input layout: random resized
// crop (zoom in or out), small rotation and horizontal flip as ONE affine warp (a single
// bilinear resampling), then brightness/contrast/saturation jitter folded into the float
// conversion, then optional random erasing. Pure function of
// (photo, options, rng state); thread-safe with one rng per thread.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_AUGMENT_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_AUGMENT_H_

#include <opencv2/core.hpp>
#include <random>

#include "common/model/model_spec.h"
#include "services/trainer/core/augment_options.h"

namespace dogsearch::trainer {

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
