// Photo intake: encoded bytes -> 8-bit RGB pixels -> a model's input tensor layout.
//
// DecodeImage refuses bad input before allocating for it: empty or oversized byte strings,
// unsupported formats, headers claiming more pixels than allowed, truncated files. Only then
// does OpenCV decode; its exceptions become INVALID_ARGUMENT. Grey, grey+alpha, BGRA and
// 16-bit images come out as 8-bit RGB (alpha dropped). Pure functions; thread-safe.
#ifndef DOGSEARCH_COMMON_IMAGE_IMAGE_DECODER_H_
#define DOGSEARCH_COMMON_IMAGE_IMAGE_DECODER_H_

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/image_header/image_header.h"
#include "common/model/model_spec.h"

namespace dogsearch::image {

// Returns CV_8UC3 in RGB order. INVALID_ARGUMENT with the reason on any bad input.
absl::StatusOr<cv::Mat> DecodeImage(absl::string_view bytes, const ImageLimits& limits);

// The resize step of WriteInputCHW alone: RGB at the spec's size (the same Mat if it already is).
cv::Mat ResizeToInput(const cv::Mat& rgb, const model::InputSpec& spec);

// Resizes an RGB image to the spec's size (area averaging when shrinking, bilinear when
// growing) and writes it normalised as planar float CHW (3 * height * width floats) to `out`.
// REQUIRES: rgb is CV_8UC3; out has room for 3 * spec.height * spec.width floats.
void WriteInputCHW(const cv::Mat& rgb, const model::InputSpec& spec, float* out);

// Convenience: the same into a new vector.
std::vector<float> ToInputCHW(const cv::Mat& rgb, const model::InputSpec& spec);

}  // namespace dogsearch::image

#endif  // DOGSEARCH_COMMON_IMAGE_IMAGE_DECODER_H_
