#include "services/trainer/core/augment.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/image/image_decoder.h"
#include "tests/testing/test_images.h"

namespace dogsearch::trainer {
namespace {

model::InputSpec Spec(int side) {
  model::InputSpec s;
  s.width = s.height = side;
  s.mean = {0.5f, 0.4f, 0.3f};
  s.std = {0.2f, 0.25f, 0.3f};
  return s;
}

TEST(AugmentTest, DisabledIsExactlyTheServingConversion) {
  const cv::Mat rgb = testing::MakePattern(40, 40, 3);
  const model::InputSpec spec = Spec(40);
  std::vector<float> got(3 * 40 * 40);
  AugmentOptions off;
  off.enabled = false;
  std::mt19937_64 rng(1);
  AugmentToCHW(rgb, spec, off, rng, got.data());
  EXPECT_EQ(got, image::ToInputCHW(rgb, spec));
}

TEST(AugmentTest, NeutralSettingsReproduceThePhoto) {
  // Full-area crop, no rotation, no jitter, no flip: the warp is the identity.
  const cv::Mat rgb = testing::MakePattern(32, 32, 4);
  AugmentOptions o;
  o.flip = false;
  o.crop_area_min = 1.f;
  o.crop_aspect = 1.f;
  o.rotation_degrees = 0;
  o.brightness = o.contrast = o.saturation = 0;
  std::vector<float> got(3 * 32 * 32);
  std::mt19937_64 rng(2);
  AugmentToCHW(rgb, Spec(32), o, rng, got.data());
  const std::vector<float> want = image::ToInputCHW(rgb, Spec(32));
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-3) << i;
}

TEST(AugmentTest, FlipOnlyMirrorsThePhoto) {
  const cv::Mat rgb = testing::MakePattern(24, 24, 5);
  AugmentOptions o;
  o.crop_area_min = 1.f;
  o.crop_aspect = 1.f;
  o.rotation_degrees = 0;
  o.brightness = o.contrast = o.saturation = 0;
  const model::InputSpec spec = Spec(24);
  const std::vector<float> plain = image::ToInputCHW(rgb, spec);
  int flipped = 0;
  for (int seed = 0; seed < 16; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<float> got(3 * 24 * 24);
    AugmentToCHW(rgb, spec, o, rng, got.data());
    if (std::abs(got[0] - plain[0]) < 1e-3 && std::abs(got[23] - plain[23]) < 1e-3) continue;
    ++flipped;
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 24; ++y) {
        for (int x = 0; x < 24; ++x) {
          ASSERT_NEAR(got[c * 576 + y * 24 + x], plain[c * 576 + y * 24 + (23 - x)], 1e-3);
        }
      }
    }
  }
  EXPECT_GT(flipped, 2);
  EXPECT_LT(flipped, 14);
}

TEST(AugmentTest, RandomAugmentationIsFiniteInRangeVariedAndSeeded) {
  const cv::Mat rgb = testing::MakePattern(96, 96, 6);
  const model::InputSpec spec = Spec(48);
  AugmentOptions o;
  std::vector<float> a(3 * 48 * 48), b(a.size()), c(a.size());
  std::mt19937_64 r1(7), r2(7), r3(8);
  AugmentToCHW(rgb, spec, o, r1, a.data());
  AugmentToCHW(rgb, spec, o, r2, b.data());
  AugmentToCHW(rgb, spec, o, r3, c.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (size_t i = 0; i < a.size(); ++i) {
    const int ch = static_cast<int>(i / (48 * 48));
    const float lo = -spec.mean[ch] / spec.std[ch], hi = (1 - spec.mean[ch]) / spec.std[ch];
    ASSERT_TRUE(std::isfinite(a[i]));
    ASSERT_GE(a[i], lo - 1e-4);
    ASSERT_LE(a[i], hi + 1e-4);
  }
}

}  // namespace
}  // namespace dogsearch::trainer
