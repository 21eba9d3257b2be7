#include "services/trainer/core/evaluation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tests/trainer/embedding_tables.h"

namespace dogsearch::trainer {
namespace {

// photos_per[i] photos of identity i, all at the one-hot vector e_i (dim = identities).
EmbeddingTable Separated(const std::vector<int>& photos_per) {
  EmbeddingTable t;
  t.dim = photos_per.size();
  for (size_t i = 0; i < photos_per.size(); ++i) {
    for (int j = 0; j < photos_per[i]; ++j) {
      for (size_t d = 0; d < t.dim; ++d) t.vectors.push_back(d == i ? 1.f : 0.f);
      t.labels.push_back(static_cast<int32_t>(i));
    }
  }
  return t;
}

using testing::OneDim;

TEST(EvaluationTest, PerfectlySeparatedDogsScorePerfectly) {
  const EmbeddingTable t = Separated({3, 4, 2, 5, 3, 2, 6});
  absl::StatusOr<EvalResult> r = Evaluate(t, EvalOptions{});
  ASSERT_TRUE(r.ok()) << r.status();
  const model::EvalMetrics& m = r->metrics;
  EXPECT_DOUBLE_EQ(m.verification_accuracy, 1.0);
  EXPECT_DOUBLE_EQ(m.verification_accuracy_std, 0.0);
  EXPECT_DOUBLE_EQ(m.roc_auc, 1.0);
  EXPECT_DOUBLE_EQ(m.tar_at_far_1e3, 1.0);
  EXPECT_DOUBLE_EQ(m.rank1, 1.0);
  EXPECT_DOUBLE_EQ(m.recall_at_5, 1.0);
  EXPECT_DOUBLE_EQ(m.mean_average_precision, 1.0);
  EXPECT_GT(m.threshold, 0.0);
  EXPECT_LT(m.threshold, std::sqrt(2.0));
  EXPECT_EQ(m.identities, 7u);
  EXPECT_EQ(m.photos, 25u);
  // Same-dog pairs: 3+6+1+10+3+1+15 = 39, and as many different-dog pairs.
  EXPECT_EQ(m.pairs, 78u);
}

TEST(EvaluationTest, RandomEmbeddingsScoreChance) {
  EmbeddingTable t;
  t.dim = 16;
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  for (int i = 0; i < 200; ++i) {
    for (int j = 0; j < 5; ++j) {
      t.labels.push_back(i);
      for (size_t d = 0; d < t.dim; ++d) t.vectors.push_back(g(rng));
    }
  }
  absl::StatusOr<EvalResult> r = Evaluate(t, EvalOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->metrics.roc_auc, 0.5, 0.03);
  EXPECT_NEAR(r->metrics.verification_accuracy, 0.5, 0.03);
  EXPECT_LT(r->metrics.rank1, 0.03);  // 1 in 200 by chance.
  EXPECT_LT(r->metrics.tar_at_far_1e3, 0.01);
}

TEST(EvaluationTest, DeterministicGivenSeed) {
  EmbeddingTable t;
  t.dim = 8;
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  for (int i = 0; i < 40; ++i) {
    for (int j = 0; j < 4; ++j) {
      t.labels.push_back(i);
      for (size_t d = 0; d < t.dim; ++d)
        t.vectors.push_back(g(rng) + (d == static_cast<size_t>(i % 8) ? 2.f : 0.f));
    }
  }
  const auto a = Evaluate(t, EvalOptions{}), b = Evaluate(t, EvalOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->metrics.verification_accuracy, b->metrics.verification_accuracy);
  EXPECT_EQ(a->metrics.rank1, b->metrics.rank1);
  EXPECT_EQ(a->metrics.roc_auc, b->metrics.roc_auc);
}

TEST(EvaluationTest, RocAucThresholdAndTarOnHandComputedDistances) {
  const std::vector<float> pos = {0.1f, 0.2f, 0.6f}, neg = {0.5f, 0.7f, 0.8f, 0.9f};
  EXPECT_DOUBLE_EQ(RocAuc(pos, neg), 11.0 / 12.0);
  EXPECT_DOUBLE_EQ(RocAuc({0.5f}, {0.5f}), 0.5);         // Ties count half.
  EXPECT_DOUBLE_EQ(TarAtFar(pos, neg, 0.25), 1.0);       // One negative (0.5) may pass: t = 0.7.
  EXPECT_DOUBLE_EQ(TarAtFar(pos, neg, 0.1), 2.0 / 3.0);  // None may: t = 0.5.
  std::vector<ScoredPair> pairs;
  for (float d : pos) pairs.push_back({0, 0, true, d});
  for (float d : neg) pairs.push_back({0, 0, false, d});
  const double t = BestThreshold(pairs);
  EXPECT_GT(t, 0.2);  // Between 0.2 and 0.5 (first of the two best: 6/7 right).
  EXPECT_LT(t, 0.5);
}

TEST(EvaluationTest, KFoldChoosesThresholdsOnOtherFolds) {
  // Same-dog distances 0..0.99, different-dog 1.5..2.49: any fold's training threshold separates.
  std::vector<ScoredPair> pairs;
  for (int i = 0; i < 100; ++i) pairs.push_back({0, 0, true, i / 100.f});
  for (int i = 0; i < 100; ++i) pairs.push_back({0, 0, false, 1.5f + i / 100.f});
  const auto [mean, std] = KFoldAccuracy(pairs, 10, 0);
  EXPECT_DOUBLE_EQ(mean, 1.0);
  EXPECT_DOUBLE_EQ(std, 0.0);
  // Overlap: a fifth of the different-dog pairs sit among the same-dog ones.
  for (int i = 0; i < 20; ++i) pairs[100 + i].distance = 0.5f + i / 1000.f;
  const auto [mean2, std2] = KFoldAccuracy(pairs, 10, 0);
  EXPECT_NEAR(mean2, 0.9, 0.05);
  EXPECT_GT(std2, 0.0);
}

TEST(EvaluationTest, IdentificationOnAConstructedGallery) {
  // Dogs 0 and 1 are tight; dog 2 has one photo near dog 1, whichever photo is the gallery one
  // exactly one probe (dog 2's other photo) misses at rank 1 and is found within 5.
  const EmbeddingTable t =
      OneDim({{0, 0.f}, {0, 0.f}, {0, 0.f}, {1, 10.f}, {1, 10.f}, {1, 10.f}, {2, 20.f}, {2, 5.1f}});
  for (uint64_t seed : {0, 1, 2, 3}) {
    const Identification id = Identify(t, seed);
    EXPECT_EQ(id.probes, 5u);
    EXPECT_DOUBLE_EQ(id.rank1, 0.8) << seed;
    EXPECT_DOUBLE_EQ(id.recall_at_5, 1.0) << seed;
  }
}

TEST(EvaluationTest, MeanAveragePrecisionByHand) {
  // A: {0, 1}, B: {0.4, 5}. APs: 1/2, 1/2, 1/3, 1/2.
  const EmbeddingTable t = OneDim({{0, 0.f}, {0, 1.f}, {1, 0.4f}, {1, 5.f}});
  EXPECT_NEAR(MeanAveragePrecision(t, 2), (0.5 + 0.5 + 1.0 / 3 + 0.5) / 4, 1e-9);
}

TEST(EvaluationTest, BalancedPairsAreBalancedLabelledAndCapped) {
  const EmbeddingTable t = Separated({10, 10, 10});  // 3 * 45 = 135 same-dog pairs.
  EvalOptions o;
  o.max_positive_pairs = 100;
  const std::vector<ScoredPair> pairs = BalancedPairs(t, o);
  ASSERT_EQ(pairs.size(), 200u);
  size_t same = 0;
  for (const ScoredPair& p : pairs) {
    same += p.same;
    EXPECT_EQ(p.same, t.labels[p.a] == t.labels[p.b]);
    EXPECT_NE(p.a, p.b);
  }
  EXPECT_EQ(same, 100u);
}

// Labels drawn from a known logistic: the fit recovers its centre and scale.
TEST(EvaluationTest, CalibrationRecoversAKnownLogistic) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(0.0f, 2.0f);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<float> same, different;
  for (int i = 0; i < 40000; ++i) {
    const float x = d(rng);
    const double p = 1.0 / (1.0 + std::exp((x - 0.9) / 0.12));
    (u(rng) < p ? same : different).push_back(x);
  }
  const Calibration c = FitCalibration(same, different);
  EXPECT_NEAR(c.center, 0.9, 0.01);
  EXPECT_NEAR(c.scale, 0.12, 0.01);
  // One class only, or distances that say "further = more alike": no calibration.
  EXPECT_EQ(FitCalibration(same, {}).scale, 0);
  EXPECT_EQ(FitCalibration({1.5f, 1.6f, 1.7f}, {0.1f, 0.2f, 0.25f}).scale, 0);
  // Separable data still gives a finite, steep fit between the classes.
  const Calibration sep = FitCalibration({0.2f, 0.3f, 0.35f}, {1.2f, 1.3f, 1.4f});
  EXPECT_GT(sep.scale, 0);
  EXPECT_GT(sep.center, 0.35);
  EXPECT_LT(sep.center, 1.2);
}

TEST(EvaluationTest, RefusesUnusableInput) {
  EXPECT_EQ(Evaluate(Separated({1, 1, 1}), EvalOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);  // No same-dog pair.
  EXPECT_EQ(Evaluate(Separated({4}), EvalOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);  // One dog.
  EmbeddingTable t = Separated({2, 2});
  t.vectors[0] = std::nanf("");
  EXPECT_EQ(Evaluate(t, EvalOptions{}).status().code(), absl::StatusCode::kInvalidArgument);
  t = Separated({2, 2});
  t.vectors.pop_back();
  EXPECT_EQ(Evaluate(t, EvalOptions{}).status().code(), absl::StatusCode::kInvalidArgument);
}

// Two dogs on the unit circle: a0 at 0 degrees, a1 at 40; h0 at 70 (a hub: near everyone),
// h1 at 110. In plain L2, a1's nearest other photo is h0 (30 degrees away) and h0's is a1.
EmbeddingTable HubCircle() {
  EmbeddingTable t;
  t.dim = 2;
  for (double deg : {0.0, 40.0, 70.0, 110.0}) {
    t.vectors.push_back(static_cast<float>(std::cos(deg * M_PI / 180)));
    t.vectors.push_back(static_cast<float>(std::sin(deg * M_PI / 180)));
  }
  t.labels = {0, 0, 1, 1};
  return t;
}

TEST(EvaluationTest, CohortNormalisationPushesAHubDown) {
  EmbeddingTable t = HubCircle();
  EXPECT_DOUBLE_EQ(RetrievalFigures(t, 1).top1, 0.5);  // a1 -> h0 and h0 -> a1 are wrong.
  // h0's offset is 0.6 (a hub), everyone else's 0 (the cohort mean): pairs with h0 move 0.6
  // further in squared distance, and a1 finds a0 (h0 itself still answers a1: its own term is
  // constant).
  t.offsets = {0.0f, 0.0f, 0.6f, 0.0f};
  EXPECT_FLOAT_EQ(t.distance(0, 1), L2Distance(t.row(0), t.row(1), 2));
  EXPECT_FLOAT_EQ(t.distance(1, 2),
                  std::sqrt(std::pow(L2Distance(t.row(1), t.row(2), 2), 2) + 0.6f));
  EXPECT_DOUBLE_EQ(RetrievalFigures(t, 1).top1, 0.75);
  // Every offset 0: the plain figures exactly.
  t.offsets = {0.0f, 0.0f, 0.0f, 0.0f};
  EXPECT_DOUBLE_EQ(RetrievalFigures(t, 1).top1, 0.5);
}

TEST(EvaluationTest, OffsetsComeFromTheCohortAndMustFitTheTable) {
  EmbeddingTable t = HubCircle();
  // The cohort: the two dogs' unit centroids (20 and 90 degrees).
  const std::vector<float> centroids = UnitCentroids(t);
  ASSERT_EQ(centroids.size(), 4u);
  EXPECT_NEAR(centroids[0], std::cos(20 * M_PI / 180), 1e-6);
  EXPECT_NEAR(centroids[3], 1.0, 1e-6);
  absl::StatusOr<model::Cohort> cohort = model::Cohort::Build(centroids, 2, 1);
  ASSERT_TRUE(cohort.ok()) << cohort.status();
  ASSERT_TRUE(SetOffsets(*cohort, &t).ok());
  ASSERT_EQ(t.offsets.size(), 4u);
  // a0's nearest centroid is 20 degrees away, and so is h0's (90).
  const float mean = cohort->mean_hubness();
  EXPECT_NEAR(t.offsets[0], std::cos(20 * M_PI / 180) - mean, 1e-6);
  EXPECT_NEAR(t.offsets[2], std::cos(20 * M_PI / 180) - mean, 1e-6);
  EXPECT_TRUE(Evaluate(t, EvalOptions{}).ok());
  t.offsets.pop_back();
  EXPECT_EQ(Evaluate(t, EvalOptions{}).status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<model::Cohort> three_d = model::Cohort::Build({1, 0, 0, 0, 1, 0}, 3, 1);
  ASSERT_TRUE(three_d.ok());
  EXPECT_EQ(SetOffsets(*three_d, &t).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dogsearch::trainer
