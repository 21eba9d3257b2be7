#include "common/model/cohort.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace dogsearch::model {
namespace {

// The three unit axes of 3-d space.
std::vector<float> Axes() { return {1, 0, 0, 0, 1, 0, 0, 0, 1}; }

TEST(CohortTest, HubnessIsTheMeanOfTheKNearestSimilarities) {
  absl::StatusOr<Cohort> c = Cohort::Build(Axes(), 3, 2);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rows(), 3u);
  EXPECT_EQ(c->k(), 2u);
  const float x[3] = {1, 0, 0};
  EXPECT_FLOAT_EQ(c->Hubness(x), 0.5f);  // Similarities 1, 0, 0: the best two average 0.5.
  const float s = std::sqrt(0.5f), between[3] = {s, s, 0};
  EXPECT_FLOAT_EQ(c->Hubness(between), s);  // s, s, 0.
  // Each axis against the two others (never itself): similarities 0 and 0.
  EXPECT_FLOAT_EQ(c->mean_hubness(), 0.0f);
}

TEST(CohortTest, SerializedCohortParsesBackTheSame) {
  absl::StatusOr<Cohort> c = Cohort::Build({1, 0, 0.6f, 0.8f, 0, 1}, 2, 1, 0.5f);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FLOAT_EQ(c->mean_hubness(), (0.6f + 0.8f + 0.8f) / 3);
  absl::StatusOr<Cohort> back = Cohort::Parse(c->Serialize());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->rows(), 3u);
  EXPECT_EQ(back->dim(), 2u);
  EXPECT_EQ(back->k(), 1u);
  EXPECT_FLOAT_EQ(back->mean_hubness(), c->mean_hubness());
  EXPECT_EQ(back->weight(), 0.5f);
  const float v[2] = {0.28f, 0.96f};
  EXPECT_FLOAT_EQ(back->Hubness(v), c->Hubness(v));
  EXPECT_FLOAT_EQ(back->Hubness(v), 0.96f);
}

TEST(CohortTest, BuildRefusesBadShapesAndVectors) {
  EXPECT_EQ(Cohort::Build(Axes(), 3, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Cohort::Build(Axes(), 3, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Cohort::Build(Axes(), 4, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Cohort::Build(Axes(), 0, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Cohort::Build({1, 0, 0}, 3, 1).status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Cohort> unnormalised = Cohort::Build({1, 0, 0, 0, 2, 0}, 3, 1);
  EXPECT_EQ(unnormalised.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unnormalised.status().message().find("row 1 is not a unit vector"), std::string::npos)
      << unnormalised.status();
  EXPECT_FALSE(Cohort::Build({1, 0, 0, 0, NAN, 0}, 3, 1).ok());
}

TEST(CohortTest, ParseRefusesWhatIsNotAWholeValidCohort) {
  const std::string good = Cohort::Build(Axes(), 3, 2)->Serialize();
  auto code = [](const std::string& b) { return Cohort::Parse(b).status().code(); };
  EXPECT_EQ(code(""), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(std::string("DSEMB1\0\0", 8) + good.substr(8)),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(good.substr(0, good.size() - 4)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(good + "x"), absl::StatusCode::kInvalidArgument);
  std::string bad_k = good;
  const uint32_t k = 3;
  std::memcpy(bad_k.data() + 24, &k, 4);
  EXPECT_EQ(code(bad_k), absl::StatusCode::kInvalidArgument);
  std::string bad_mean = good;
  const float nan = NAN;
  std::memcpy(bad_mean.data() + 28, &nan, 4);
  EXPECT_EQ(code(bad_mean), absl::StatusCode::kInvalidArgument);
  std::string not_unit = good;
  const float two = 2;
  std::memcpy(not_unit.data() + 36, &two, 4);
  EXPECT_EQ(code(not_unit), absl::StatusCode::kInvalidArgument);
  for (float weight : {0.0f, -0.5f, 1.5f, float(NAN)}) {
    std::string bad_weight = good;
    std::memcpy(bad_weight.data() + 32, &weight, 4);
    EXPECT_EQ(code(bad_weight), absl::StatusCode::kInvalidArgument) << weight;
    EXPECT_EQ(Cohort::Build(Axes(), 3, 2, weight).status().code(),
              absl::StatusCode::kInvalidArgument)
        << weight;
  }
  std::string huge = good;
  const uint64_t rows = uint64_t{1} << 40;
  std::memcpy(huge.data() + 8, &rows, 8);
  EXPECT_EQ(code(huge), absl::StatusCode::kInvalidArgument);
}

TEST(CohortTest, NormalisedDistanceShiftsTheSquaredDistanceByTheOffsets) {
  // Average hubness on both sides (offset 0): plain L2.
  EXPECT_FLOAT_EQ(NormalisedDistance(0.8f, 0.0f, 0.0f), 0.8f);
  // 1 + 0.3 + 0.1 = 1.4.
  EXPECT_FLOAT_EQ(NormalisedDistance(1.0f, 0.3f, 0.1f), std::sqrt(1.4f));
  // A hub is pushed away; a photo alone in its corner of the space is pulled in.
  EXPECT_GT(NormalisedDistance(0.8f, 0.4f, 0.0f), 0.8f);
  EXPECT_LT(NormalisedDistance(0.8f, -0.2f, 0.0f), 0.8f);
  // The same photo stays at 0 whatever its offsets.
  EXPECT_EQ(NormalisedDistance(0.0f, 0.3f, 0.3f), 0.0f);
  // Clamped to [0, 2] like plain L2 between unit vectors.
  EXPECT_FLOAT_EQ(NormalisedDistance(0.1f, -0.5f, -0.5f), 0.0f);
  EXPECT_FLOAT_EQ(NormalisedDistance(2.0f, 1.0f, 1.0f), 2.0f);
}

TEST(CohortTest, OffsetIsHubnessMinusTheCohortsMean) {
  // Three unit vectors on a circle at 0, 60 and 180 degrees, k = 1.
  const float c60 = 0.5f, s60 = std::sqrt(3.0f) / 2;
  absl::StatusOr<Cohort> c = Cohort::Build({1, 0, c60, s60, -1, 0}, 2, 1);
  ASSERT_TRUE(c.ok()) << c.status();
  // Each row's nearest other: 0->60 (0.5), 60->0 (0.5), 180->60 (-0.5): mean 1/6.
  EXPECT_NEAR(c->mean_hubness(), 1.0f / 6, 1e-6);
  const float v[2] = {0, 1};  // 90 degrees: nearest row at 60, cos 30 = 0.866.
  EXPECT_NEAR(c->Offset(v), std::sqrt(3.0f) / 2 - 1.0f / 6, 1e-6);
  // One-sided: a vector less similar to the cohort than its average member (-90 degrees:
  // nearest row at 0 or 180, cos 0) gets offset 0, not a negative one.
  const float away[2] = {0, -1};
  EXPECT_NEAR(c->Hubness(away), 0.0f, 1e-6);
  EXPECT_EQ(c->Offset(away), 0.0f);
  // A weight scales the offset, not the hubness.
  absl::StatusOr<Cohort> half = Cohort::Build({1, 0, c60, s60, -1, 0}, 2, 1, 0.5f);
  ASSERT_TRUE(half.ok());
  EXPECT_FLOAT_EQ(half->Hubness(v), c->Hubness(v));
  EXPECT_NEAR(half->Offset(v), 0.5f * c->Offset(v), 1e-6);
}

}  // namespace
}  // namespace dogsearch::model
