// What training-time augmentation does (plain data, no OpenCV: train_options.h and everything
// that configures training include this; the OpenCV implementation is augment.h).
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_AUGMENT_OPTIONS_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_AUGMENT_OPTIONS_H_

namespace dogsearch::trainer {

struct AugmentOptions {
  bool enabled = true;
  bool flip = true;            // Horizontal flip with probability 1/2.
  float crop_area_min = 0.7f;  // Random resized crop: area fraction in [min, max].
  // Above 1 the crop is larger than the photo (zoom out: the face smaller, the border
  // reflected), as in a looser crop of a real photo.
  float crop_area_max = 1.f;
  float crop_aspect = 4.f / 3;    // Aspect ratio in [1/a, a] (log-uniform).
  float rotation_degrees = 10.f;  // Uniform in [-r, r].
  float brightness = 0.2f;        // Factors uniform in [1 - x, 1 + x].
  float contrast = 0.2f;
  float saturation = 0.2f;
  // Random erasing (Zhong et al.): with this probability, one rectangle of 2%..25% of the
  // image (aspect 0.3..3.3) is filled with per-pixel noise in the normalised range.
  float erase_probability = 0.f;
};

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_AUGMENT_OPTIONS_H_
