#include "services/trainer/core/augment.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "common/image/image_decoder.h"

namespace dogsearch::trainer {
namespace {

float Uniform(std::mt19937_64& rng, float lo, float hi) {
  return std::uniform_real_distribution<float>(lo, hi)(rng);
}

// Affine map from source pixels to output pixels (OpenCV's convention: pixel centres at
// integer coordinates): the crop of size cw x ch centred at (cx, cy) of the source,
// rotated by `degrees` about its centre and optionally mirrored, fills the w x h output.
cv::Mat CropRotateFlip(double cx, double cy, double cw, double ch, double degrees, bool flip,
                       int w, int h) {
  const double a = degrees * M_PI / 180.0;
  const double sx = w / cw * (flip ? -1.0 : 1.0), sy = h / ch;
  const double c = std::cos(a), s = std::sin(a);
  // out = S * R * (src - centre) + out_centre.
  cv::Mat m(2, 3, CV_64F);
  m.at<double>(0, 0) = sx * c;
  m.at<double>(0, 1) = -sx * s;
  m.at<double>(1, 0) = sy * s;
  m.at<double>(1, 1) = sy * c;
  m.at<double>(0, 2) = (w - 1) / 2.0 - (m.at<double>(0, 0) * cx + m.at<double>(0, 1) * cy);
  m.at<double>(1, 2) = (h - 1) / 2.0 - (m.at<double>(1, 0) * cx + m.at<double>(1, 1) * cy);
  return m;
}

}  // namespace

void AugmentToCHW(const cv::Mat& rgb, const model::InputSpec& input, const AugmentOptions& options,
                  std::mt19937_64& rng, float* out) {
  if (!options.enabled) {
    image::WriteInputCHW(rgb, input, out);
    return;
  }
  const int w = static_cast<int>(input.width), h = static_cast<int>(input.height);
  const double area = Uniform(rng, std::clamp(options.crop_area_min, 0.05f, 1.f), 1.f);
  const double log_a = std::log(std::max(1.f, options.crop_aspect));
  const double aspect = std::exp(Uniform(rng, static_cast<float>(-log_a), static_cast<float>(log_a)));
  const double cw = std::min<double>(rgb.cols, std::sqrt(area * aspect) * rgb.cols);
  const double ch = std::min<double>(rgb.rows, std::sqrt(area / aspect) * rgb.rows);
  const double cx = cw / 2 - 0.5 + Uniform(rng, 0.f, static_cast<float>(rgb.cols - cw));
  const double cy = ch / 2 - 0.5 + Uniform(rng, 0.f, static_cast<float>(rgb.rows - ch));
  const double degrees = Uniform(rng, -options.rotation_degrees, options.rotation_degrees);
  const bool flip = options.flip && (rng() & 1);
  cv::Mat warped;
  cv::warpAffine(rgb, warped, CropRotateFlip(cx, cy, cw, ch, degrees, flip, w, h), cv::Size(w, h),
                 cv::INTER_LINEAR, cv::BORDER_REFLECT_101);

  const float bright = Uniform(rng, 1 - options.brightness, 1 + options.brightness);
  const float contrast = Uniform(rng, 1 - options.contrast, 1 + options.contrast);
  const float sat = Uniform(rng, 1 - options.saturation, 1 + options.saturation);
  const size_t plane = static_cast<size_t>(w) * h;
  double mean_gray = 0;
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = warped.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      mean_gray += 0.299 * row[3 * x] + 0.587 * row[3 * x + 1] + 0.114 * row[3 * x + 2];
    }
  }
  const float mean = static_cast<float>(mean_gray / plane) * bright;
  float scale[3], offset[3];
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.f / (255.f * input.std[c]);
    offset[c] = -input.mean[c] / input.std[c];
  }
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = warped.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      float px[3] = {row[3 * x] * bright, row[3 * x + 1] * bright, row[3 * x + 2] * bright};
      const float gray = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];
      const size_t i = static_cast<size_t>(y) * w + x;
      for (int c = 0; c < 3; ++c) {
        float v = gray + (px[c] - gray) * sat;   // Saturation around the pixel's grey.
        v = mean + (v - mean) * contrast;        // Contrast around the image's mean grey.
        out[c * plane + i] = std::clamp(v, 0.f, 255.f) * scale[c] + offset[c];
      }
    }
  }
}

}  // namespace dogsearch::trainer
