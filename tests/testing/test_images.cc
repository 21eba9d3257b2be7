#include "tests/testing/test_images.h"

#include <opencv2/imgcodecs.hpp>
#include <stdexcept>
#include <vector>

namespace dogsearch::testing {

cv::Mat MakePattern(int width, int height, int seed) {
  cv::Mat m(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>((x * 255) / width),
                                        static_cast<uint8_t>((y * 255) / height),
                                        static_cast<uint8_t>((x * y + seed * 37) % 256));
    }
  }
  return m;
}

std::string Encode(const cv::Mat& image, const std::string& ext) {
  std::vector<uint8_t> buf;
  if (!cv::imencode(ext, image, buf)) throw std::runtime_error("imencode failed for " + ext);
  return std::string(buf.begin(), buf.end());
}

}  // namespace dogsearch::testing
