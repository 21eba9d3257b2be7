// Small generated photos for tests of the photo machinery (never real data sets): smooth
// colour gradients with a per-seed pattern, encoded as JPEG, PNG or WebP.
#ifndef DOGSEARCH_TESTS_TESTING_TEST_IMAGES_H_
#define DOGSEARCH_TESTS_TESTING_TEST_IMAGES_H_

#include <opencv2/core/mat.hpp>
#include <string>

namespace dogsearch::testing {

// A BGR (OpenCV order) 8-bit image of the given size; `seed` varies the pattern.
cv::Mat MakePattern(int width, int height, int seed = 0);

// Encodes with OpenCV: ext is ".jpg", ".png" or ".webp". The Mat may have 1, 3 or 4 channels
// (BGR/BGRA order) and depth 8 or 16 bits (PNG).
std::string Encode(const cv::Mat& image, const std::string& ext);

inline std::string MakeJpeg(int w, int h, int seed = 0) {
  return Encode(MakePattern(w, h, seed), ".jpg");
}
inline std::string MakePng(int w, int h, int seed = 0) {
  return Encode(MakePattern(w, h, seed), ".png");
}
inline std::string MakeWebp(int w, int h, int seed = 0) {
  return Encode(MakePattern(w, h, seed), ".webp");
}

}  // namespace dogsearch::testing

#endif  // DOGSEARCH_TESTS_TESTING_TEST_IMAGES_H_
