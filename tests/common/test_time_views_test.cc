// The served test-time views (ModelSpec.flip_average, .test_time_zoom, .test_time_four_views):
// the centre zoom against a crop-and-resize written out by hand, the views a spec asks for and
// how their embeddings combine, what a spec with a zoom or four views refuses, and the manifest
// round trip.
#include "common/torch_model/test_time_views.h"

#include <cmath>

#include "absl/strings/match.h"
#include "common/model/checkpoint_manifest.h"
#include "gtest/gtest.h"

namespace dogsearch::model {
namespace {

// Bilinear sample of a row-major n x n image at (x, y), pixel centres at integer coordinates,
// coordinates clamped to the image (a zoom-in never leaves it).
float Sample(const std::vector<float>& img, int n, double x, double y) {
  x = std::clamp(x, 0.0, n - 1.0);
  y = std::clamp(y, 0.0, n - 1.0);
  const int x0 = static_cast<int>(std::floor(x)), y0 = static_cast<int>(std::floor(y));
  const int x1 = std::min(x0 + 1, n - 1), y1 = std::min(y0 + 1, n - 1);
  const double fx = x - x0, fy = y - y0;
  auto at = [&](int xx, int yy) { return img[yy * n + xx]; };
  return static_cast<float>((1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x1, y0)) +
                            fy * ((1 - fx) * at(x0, y1) + fx * at(x1, y1)));
}

TEST(TestTimeViewsTest, CentreZoomIsTheCentreCropResizedBilinearly) {
  constexpr int n = 9;
  std::vector<float> img(n * n);
  for (int i = 0; i < n * n; ++i) img[i] = static_cast<float>((i * 37) % 23) / 7.f;
  const torch::Tensor x = torch::from_blob(img.data(), {1, 1, n, n}).clone();
  for (double side : {0.5, 0.7, 0.85}) {
    const torch::Tensor z = CentreZoom(x, side);
    ASSERT_EQ(z.sizes(), x.sizes());
    const double c = (n - 1) / 2.0;
    for (int yy = 0; yy < n; ++yy) {
      for (int xx = 0; xx < n; ++xx) {
        const float want = Sample(img, n, side * (xx - c) + c, side * (yy - c) + c);
        ASSERT_NEAR(z[0][0][yy][xx].item<float>(), want, 1e-5) << side << " " << xx << "," << yy;
      }
    }
  }
  // The centre pixel of an odd-sized image stays where it is; side 1 changes nothing.
  EXPECT_FLOAT_EQ(CentreZoom(x, 0.5)[0][0][4][4].item<float>(), img[4 * n + 4]);
  EXPECT_TRUE(torch::allclose(CentreZoom(x, 1.0), x, 1e-6, 1e-6));
}

ModelSpec Spec(bool flip, float zoom) {
  ModelSpec s;
  s.architecture = kDogFaceNetResNet;
  s.input.width = 16;
  s.input.height = 16;
  s.embedding_dim = 4;
  s.flip_average = flip;
  s.test_time_zoom = zoom;
  return s;
}

TEST(TestTimeViewsTest, TheSpecSaysWhichViewsRunAndHowTheyCombine) {
  const torch::Tensor x = torch::rand({3, 3, 16, 16});
  EXPECT_EQ(TestTimeViewCount(Spec(false, 0)), 1);
  EXPECT_TRUE(torch::equal(ServedViews(x, Spec(false, 0)), x));
  EXPECT_EQ(TestTimeViewCount(Spec(true, 0)), 2);
  const torch::Tensor flip = ServedViews(x, Spec(true, 0));
  ASSERT_EQ(flip.size(0), 6);
  EXPECT_TRUE(torch::equal(flip.slice(0, 0, 3), x));
  EXPECT_TRUE(torch::equal(flip.slice(0, 3, 6), x.flip({3})));
  EXPECT_EQ(TestTimeViewCount(Spec(true, 0.7f)), 2);
  const torch::Tensor zoom = ServedViews(x, Spec(true, 0.7f));
  ASSERT_EQ(zoom.size(0), 6);
  EXPECT_TRUE(torch::equal(zoom.slice(0, 0, 3), x));
  EXPECT_TRUE(torch::allclose(zoom.slice(0, 3, 6), CentreZoom(x, 0.7f).flip({3})));
  EXPECT_FALSE(torch::allclose(zoom.slice(0, 3, 6), x.flip({3}), 1e-3, 1e-3));

  // Each photo's embedding is its two rows' normalised sum; without the flip, the rows as run.
  const torch::Tensor y = torch::tensor({{1.f, 0.f}, {0.f, 2.f}, {0.f, 1.f}, {0.f, 2.f}});
  const torch::Tensor both = CombineViews(y, Spec(true, 0.7f));
  ASSERT_EQ(both.size(0), 2);
  EXPECT_NEAR(both[0][0].item<float>(), 1 / std::sqrt(2.f), 1e-6);
  EXPECT_NEAR(both[0][1].item<float>(), 1 / std::sqrt(2.f), 1e-6);
  EXPECT_NEAR(both[1][1].item<float>(), 1.f, 1e-6);
  EXPECT_TRUE(torch::equal(CombineViews(y, Spec(false, 0)), y));
}

TEST(TestTimeViewsTest, AZoomIsRefusedOutsideItsRangeOrWithoutTheFlip) {
  EXPECT_TRUE(ValidateModelSpec(Spec(true, 0.7f)).ok());
  EXPECT_TRUE(ValidateModelSpec(Spec(true, 0.5f)).ok());
  for (float bad : {0.3f, 1.f, 1.2f, -0.1f, std::nanf("")}) {
    absl::Status s = ValidateModelSpec(Spec(true, bad));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StrContains(s.message(), "test_time_zoom")) << s;
  }
  absl::Status s = ValidateModelSpec(Spec(false, 0.7f));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "needs flip_average")) << s;
}

// A manifest of `spec` that is complete enough to round-trip through JSON.
CheckpointManifest ManifestOf(const ModelSpec& spec) {
  CheckpointManifest m;
  m.version = "views";
  m.model = spec;
  m.weights_sha256 = std::string(64, 'a');
  m.weights_bytes = 1;
  return m;
}

TEST(TestTimeViewsTest, TheZoomRoundTripsThroughTheManifestAndOldManifestsHaveNone) {
  CheckpointManifest m = ManifestOf(Spec(true, 0.7f));
  const std::string json = ManifestToJson(m);
  EXPECT_TRUE(absl::StrContains(json, "test_time_zoom")) << json;
  absl::StatusOr<CheckpointManifest> back = ManifestFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FLOAT_EQ(back->model.test_time_zoom, 0.7f);
  EXPECT_TRUE(back->model == m.model);
  m.model.test_time_zoom = 0.f;
  EXPECT_FALSE(absl::StrContains(ManifestToJson(m), "test_time_zoom"));
  back = ManifestFromJson(ManifestToJson(m));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->model.test_time_zoom, 0.f);
  // A manifest asking for a zoom without the flip does not load.
  m.model = Spec(false, 0.7f);
  EXPECT_FALSE(ManifestFromJson(ManifestToJson(m)).ok());
}

TEST(TestTimeViewsTest, FourViewsAreThePhotoTheZoomAndTheirMirrorsAveraged) {
  ModelSpec four = Spec(true, 0.7f);
  four.test_time_four_views = true;
  ASSERT_TRUE(ValidateModelSpec(four).ok());
  EXPECT_EQ(TestTimeViewCount(four), 4);
  const torch::Tensor x = torch::rand({2, 3, 16, 16});
  const torch::Tensor v = ServedViews(x, four);
  ASSERT_EQ(v.size(0), 8);  // View after view: 2 photos, then their mirrors, zooms, mirrors.
  const torch::Tensor zoom = CentreZoom(x, 0.7f);
  EXPECT_TRUE(torch::equal(v.slice(0, 0, 2), x));
  EXPECT_TRUE(torch::equal(v.slice(0, 2, 4), x.flip({3})));
  EXPECT_TRUE(torch::allclose(v.slice(0, 4, 6), zoom));
  EXPECT_TRUE(torch::allclose(v.slice(0, 6, 8), zoom.flip({3})));

  // Photo 0's four rows sum to (2, 1, 1), photo 1's to (0, 0, 3).
  const torch::Tensor y = torch::tensor({{1.f, 0.f, 0.f},
                                         {0.f, 0.f, 1.f},
                                         {1.f, 0.f, 0.f},
                                         {0.f, 0.f, 1.f},
                                         {0.f, 1.f, 0.f},
                                         {0.f, 0.f, 1.f},
                                         {0.f, 0.f, 1.f},
                                         {0.f, 0.f, 0.f}});
  const torch::Tensor e = CombineViews(y, four);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(torch::allclose(e[0], torch::tensor({2.f, 1.f, 1.f}) / std::sqrt(6.f)));
  EXPECT_TRUE(torch::allclose(e[1], torch::tensor({0.f, 0.f, 1.f})));

  // Four views need a zoom, and a zoom needs the flip; without the flip nothing is averaged.
  four.test_time_zoom = 0.f;
  absl::Status s = ValidateModelSpec(four);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "test_time_four_views needs test_time_zoom")) << s;
  EXPECT_EQ(TestTimeViewCount(four), 2);
  four.flip_average = false;
  EXPECT_EQ(TestTimeViewCount(four), 1);

  // The manifest carries the choice; a manifest without it has two views.
  CheckpointManifest m = ManifestOf(Spec(true, 0.7f));
  m.model.test_time_four_views = true;
  absl::StatusOr<CheckpointManifest> back = ManifestFromJson(ManifestToJson(m));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->model.test_time_four_views);
  m.model.test_time_four_views = false;
  EXPECT_FALSE(absl::StrContains(ManifestToJson(m), "test_time_four_views"));
  m.model.test_time_zoom = 0.f;
  m.model.test_time_four_views = true;  // Without a zoom: the manifest does not load.
  EXPECT_FALSE(ManifestFromJson(ManifestToJson(m)).ok());
}

}  // namespace
}  // namespace dogsearch::model
