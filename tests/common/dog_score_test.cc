#include "common/model/dog_score.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/model/cohort.h"

namespace dogsearch::model {
namespace {

using Vector = std::vector<float>;

Vector Unit(Vector v) {
  float n = 0;
  for (float x : v) n += x * x;
  for (float& x : v) x /= std::sqrt(n);
  return v;
}

DogPhotoHit Hit(float d, const Vector& v, float offset = 0) {
  return DogPhotoHit{d, absl::MakeConstSpan(v), offset};
}

// A dog's score (DogMatch.score, what Search ranks by): its best photo's distance blended with
// the distance to the mean direction of its photos; one photo, weight 0 or a missing vector:
// the best photo's distance. Offsets of the photos are averaged for the centroid.
TEST(DogScoreTest, BlendsTheBestPhotoWithTheCentroid) {
  const Vector q = {1, 0, 0};
  const Vector a = Unit({1, 0.5f, 0}), b = Unit({1, -0.5f, 0}), far = Unit({0, 0, 1});
  const float da = L2(q, a), dfar = L2(q, far);
  EXPECT_EQ(DogScore(false, q, 0, {Hit(da, a)}, 0.5f), da);
  EXPECT_EQ(DogScore(false, q, 0, {Hit(da, a), Hit(da, b)}, 0.0f), da);
  // a and b lie either side of q: their mean direction is q itself.
  EXPECT_NEAR(DogScore(false, q, 0, {Hit(da, a), Hit(da, b)}, 0.5f), 0.5f * da, 1e-6);
  EXPECT_NEAR(DogScore(false, q, 0, {Hit(da, a), Hit(da, b)}, 1.0f), 0.0f, 1e-6);
  // A weight outside [0, 1] is clamped.
  EXPECT_NEAR(DogScore(false, q, 0, {Hit(da, a), Hit(da, b)}, 3.0f), 0.0f, 1e-6);
  // A close photo and a far one: the centroid is far, the score rises above the best photo.
  const float mixed = DogScore(false, q, 0, {Hit(dfar, far), Hit(da, a)}, 0.5f);
  EXPECT_GT(mixed, da + 0.1f);
  EXPECT_LT(mixed, dfar);
  // The query photo itself among them (distance 0, or a few 1e-3 from another batch): it is
  // this dog's, the score stays that photo's distance.
  EXPECT_EQ(DogScore(false, q, 0, {Hit(0.0f, q), Hit(dfar, far)}, 0.5f), 0.0f);
  EXPECT_EQ(DogScore(false, q, 0, {Hit(0.004f, q), Hit(dfar, far)}, 0.5f), 0.004f);
  // A vector the index did not return: the best photo only.
  EXPECT_EQ(DogScore(false, q, 0, {Hit(da, a), DogPhotoHit{da, {}, 0}}, 0.5f), da);
  // Normalised: the centroid is served with the mean of the photos' offsets.
  const float want = 0.5f * da + 0.5f * NormalisedDistance(0.0f, 0.1f, (0.2f + 0.4f) / 2);
  EXPECT_NEAR(DogScore(true, q, 0.1f, {Hit(da, a, 0.2f), Hit(da, b, 0.4f)}, 0.5f), want, 1e-6);
}

TEST(DogScoreTest, ServedDistanceIsPlainOrNormalised) {
  EXPECT_EQ(ServedDistance(false, 0.9f, 0.3f, 0.2f), 0.9f);
  EXPECT_FLOAT_EQ(ServedDistance(true, 0.9f, 0.3f, 0.2f), std::sqrt(0.81f + 0.5f));
  EXPECT_FLOAT_EQ(L2(Vector{0, 3}, Vector{4, 0}), 5.0f);
}

// The gateway's default Search (k 5, 3 photos per dog) asks for 46 candidates; large requests
// stop at the maximum instead of overflowing.
TEST(DogScoreTest, SearchCandidatesCoverTwiceThePhotosShown) {
  EXPECT_EQ(SearchCandidates(5, 3), 46u);
  EXPECT_EQ(SearchCandidates(1, 1), 18u);
  EXPECT_EQ(SearchCandidates(100, 10), kMaxSearchCandidates);
  EXPECT_EQ(SearchCandidates(4'000'000'000u, 4'000'000'000u), kMaxSearchCandidates);
}

}  // namespace
}  // namespace dogsearch::model
