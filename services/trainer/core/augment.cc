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
cv::Mat CropRotateFlip(double cx, double cy, double cw, double ch, double degrees, bool flip, int w,
                       int h) {
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

cv::Mat LooseCropView(const cv::Mat& rgb, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const double fill = Uniform(rng, 0.6f, 0.8f);  // Face side / output side.
  const double cw = rgb.cols / fill, ch = rgb.rows / fill;
  const double cx = (rgb.cols - 1) / 2.0 + Uniform(rng, -0.1f, 0.1f) * cw;
  const double cy = (rgb.rows - 1) / 2.0 + Uniform(rng, -0.1f, 0.1f) * ch;
  const double degrees = Uniform(rng, -12.f, 12.f);
  cv::Mat out;
  cv::warpAffine(rgb, out, CropRotateFlip(cx, cy, cw, ch, degrees, false, rgb.cols, rgb.rows),
                 rgb.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT_101);
  return out;
}

void AugmentToCHW(const cv::Mat& rgb, const model::InputSpec& input, const AugmentOptions& options,
                  std::mt19937_64& rng, float* out) {
  if (!options.enabled) {
    image::WriteInputCHW(rgb, input, out);
    return;
  }
  const int w = static_cast<int>(input.width), h = static_cast<int>(input.height);
  const float area_max = std::clamp(options.crop_area_max, 0.05f, 4.f);
  const double area = Uniform(rng, std::clamp(options.crop_area_min, 0.05f, area_max), area_max);
  const double log_a = std::log(std::max(1.f, options.crop_aspect));
  const double aspect =
      std::exp(Uniform(rng, static_cast<float>(-log_a), static_cast<float>(log_a)));
  // Zooming in, the crop stays inside the photo; zooming out, the photo inside the crop.
  const double side_max = area_max > 1 ? std::sqrt(area_max) : 1.0;
  const double cw = std::min<double>(side_max * rgb.cols, std::sqrt(area * aspect) * rgb.cols);
  const double ch = std::min<double>(side_max * rgb.rows, std::sqrt(area / aspect) * rgb.rows);
  const double cx = rgb.cols / 2.0 - 0.5 + Uniform(rng, -0.5f, 0.5f) * std::abs(rgb.cols - cw);
  const double cy = rgb.rows / 2.0 - 0.5 + Uniform(rng, -0.5f, 0.5f) * std::abs(rgb.rows - ch);
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
        float v = gray + (px[c] - gray) * sat;  // Saturation around the pixel's grey.
        v = mean + (v - mean) * contrast;       // Contrast around the image's mean grey.
        out[c * plane + i] = std::clamp(v, 0.f, 255.f) * scale[c] + offset[c];
      }
    }
  }
  if (options.erase_probability > 0 && Uniform(rng, 0.f, 1.f) < options.erase_probability) {
    const double e_area = Uniform(rng, 0.02f, 0.25f) * w * h;
    const double e_aspect = std::exp(Uniform(rng, std::log(0.3f), std::log(1 / 0.3f)));
    const int ew = std::clamp(static_cast<int>(std::sqrt(e_area * e_aspect)), 1, w);
    const int eh = std::clamp(static_cast<int>(std::sqrt(e_area / e_aspect)), 1, h);
    const int x0 = std::uniform_int_distribution<int>(0, w - ew)(rng);
    const int y0 = std::uniform_int_distribution<int>(0, h - eh)(rng);
    for (int c = 0; c < 3; ++c) {
      for (int y = y0; y < y0 + eh; ++y) {
        for (int x = x0; x < x0 + ew; ++x) {
          out[c * plane + static_cast<size_t>(y) * w + x] =
              Uniform(rng, 0.f, 255.f) * scale[c] + offset[c];
        }
      }
    }
  }
}

}  // namespace dogsearch::trainer
