// Each miner against brute-force enumeration of every triplet of small random batches, the
// losses against their definitions, and the gradients against central finite differences.
#include "services/trainer/core/triplet_loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <tuple>

namespace dogsearch::trainer {
namespace {

struct Batch {
  torch::Tensor emb;     // [N, D] double.
  torch::Tensor labels;  // [N] int64.
  std::vector<std::vector<double>> d;
  std::vector<int64_t> l;
};

// P identities x K photos, random (not normalised) embeddings; optionally one identity with a
// single photo (an anchor with no positive).
Batch MakeBatch(int p, int k, int dim, uint64_t seed, bool singleton = false) {
  torch::manual_seed(seed);
  std::vector<int64_t> labels;
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < k; ++j) labels.push_back(i);
  }
  if (singleton) labels.push_back(p);
  Batch b;
  b.emb = torch::randn({static_cast<int64_t>(labels.size()), dim}, torch::kDouble);
  b.labels = torch::tensor(labels, torch::kInt64);
  b.l = labels;
  torch::Tensor d = PairwiseDistances(b.emb);
  for (int64_t i = 0; i < d.size(0); ++i) {
    b.d.emplace_back();
    for (int64_t j = 0; j < d.size(1); ++j) b.d.back().push_back(d[i][j].item<double>());
  }
  return b;
}

using Triplet = std::tuple<int64_t, int64_t, int64_t>;

std::vector<Triplet> ToVector(const MinedTriplets& t) {
  std::vector<Triplet> out;
  for (int64_t i = 0; i < t.anchor.size(0); ++i) {
    out.emplace_back(t.anchor[i].item<int64_t>(), t.positive[i].item<int64_t>(),
                     t.negative[i].item<int64_t>());
  }
  return out;
}

// Every valid triplet, by enumeration.
std::vector<Triplet> AllTriplets(const Batch& b) {
  std::vector<Triplet> out;
  const int64_t n = static_cast<int64_t>(b.l.size());
  for (int64_t a = 0; a < n; ++a) {
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t q = 0; q < n; ++q) {
        if (a != p && b.l[a] == b.l[p] && b.l[a] != b.l[q]) out.emplace_back(a, p, q);
      }
    }
  }
  return out;
}

TEST(DistanceTest, MatchesDirectComputation) {
  const Batch b = MakeBatch(3, 3, 7, 1);
  for (int64_t i = 0; i < 9; ++i) {
    for (int64_t j = 0; j < 9; ++j) {
      const double want = (b.emb[i] - b.emb[j]).norm().item<double>();
      EXPECT_NEAR(b.d[i][j], want, 1e-5) << i << "," << j;
    }
  }
}

TEST(MiningTest, BatchHardPicksFarthestPositiveAndClosestNegativePerAnchor) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const Batch b = MakeBatch(4, 3, 5, seed, /*singleton=*/seed % 2 == 0);
    TripletLossOptions o;
    o.mining = MiningKind::kBatchHard;
    const std::vector<Triplet> got = ToVector(MineTriplets(PairwiseDistances(b.emb), b.labels, o));
    // Brute force: for each anchor, the triplet maximising d_ap - d_an over all triplets.
    std::map<int64_t, double> best;
    for (const auto& [a, p, n] : AllTriplets(b)) {
      const double v = b.d[a][p] - b.d[a][n];
      if (!best.count(a) || v > best[a]) best[a] = v;
    }
    ASSERT_EQ(got.size(), best.size()) << "one triplet per anchor with a positive";
    for (const auto& [a, p, n] : got) {
      ASSERT_TRUE(best.count(a));
      EXPECT_NEAR(b.d[a][p] - b.d[a][n], best[a], 1e-12) << "seed " << seed << " anchor " << a;
      EXPECT_EQ(b.l[a], b.l[p]);
      EXPECT_NE(a, p);
      EXPECT_NE(b.l[a], b.l[n]);
    }
  }
}

TEST(MiningTest, SemiHardPicksClosestNegativeFartherThanThePositiveElseHardest) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const Batch b = MakeBatch(4, 3, 3, seed, seed % 2 == 0);
    TripletLossOptions o;
    o.mining = MiningKind::kSemiHard;
    const std::vector<Triplet> got = ToVector(MineTriplets(PairwiseDistances(b.emb), b.labels, o));
    // Brute force over all triplets grouped by (anchor, positive).
    std::map<std::pair<int64_t, int64_t>, std::pair<double, double>> want;  // (semi, hardest)
    for (const auto& [a, p, n] : AllTriplets(b)) {
      auto& [semi, hard] = want.try_emplace({a, p}, INFINITY, INFINITY).first->second;
      if (b.d[a][n] > b.d[a][p]) semi = std::min(semi, b.d[a][n]);
      hard = std::min(hard, b.d[a][n]);
    }
    ASSERT_EQ(got.size(), want.size()) << "one triplet per anchor-positive pair";
    for (const auto& [a, p, n] : got) {
      const auto it = want.find({a, p});
      ASSERT_NE(it, want.end());
      const auto [semi, hard] = it->second;
      EXPECT_DOUBLE_EQ(b.d[a][n], std::isinf(semi) ? hard : semi) << "seed " << seed;
      EXPECT_NE(b.l[a], b.l[n]);
    }
  }
}

TEST(MiningTest, BatchAllIsEveryValidTriplet) {
  const Batch b = MakeBatch(3, 3, 4, 3, true);
  TripletLossOptions o;
  o.mining = MiningKind::kBatchAll;
  std::vector<Triplet> got = ToVector(MineTriplets(PairwiseDistances(b.emb), b.labels, o));
  std::vector<Triplet> want = AllTriplets(b);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(want.size(), 3u * 3 * 2 * 7);  // anchors x positives x negatives (incl. singleton).
}

double Hinge(double x) { return std::max(0.0, x); }
double Softplus(double x) { return std::log1p(std::exp(x)); }

TEST(LossTest, ValuesAndStatsMatchTheirDefinitions) {
  for (MiningKind m : {MiningKind::kBatchHard, MiningKind::kSemiHard, MiningKind::kBatchAll}) {
    for (bool soft : {false, true}) {
      const Batch b = MakeBatch(4, 4, 6, 9);
      TripletLossOptions o;
      o.mining = m;
      o.margin = 0.3f;
      o.soft_margin = soft;
      const std::vector<Triplet> t = ToVector(MineTriplets(PairwiseDistances(b.emb), b.labels, o));
      const double margin = 0.3f;  // As the loss sees it (float).
      double sum = 0, active = 0, dp = 0, dn = 0;
      for (const auto& [a, p, n] : t) {
        const double diff = b.d[a][p] - b.d[a][n];
        sum += soft ? Softplus(diff) : Hinge(diff + margin);
        active += soft ? diff > 0 : diff + margin > 0;
        dp += b.d[a][p];
        dn += b.d[a][n];
      }
      const double want =
          (m == MiningKind::kBatchAll && !soft) ? sum / std::max(1.0, active) : sum / t.size();
      const TripletLossResult r = TripletLoss(b.emb, b.labels, o);
      EXPECT_NEAR(r.loss.item<double>(), want, 1e-9) << static_cast<int>(m) << soft;
      EXPECT_EQ(r.triplets, static_cast<int64_t>(t.size()));
      EXPECT_NEAR(r.active_fraction, active / t.size(), 1e-12);
      EXPECT_NEAR(r.mean_positive, dp / t.size(), 1e-9);
      EXPECT_NEAR(r.mean_negative, dn / t.size(), 1e-9);
    }
  }
}

TEST(LossTest, GradientsMatchFiniteDifferences) {
  for (MiningKind m : {MiningKind::kBatchHard, MiningKind::kSemiHard, MiningKind::kBatchAll}) {
    for (bool soft : {false, true}) {
      const Batch b = MakeBatch(3, 3, 4, 17);
      TripletLossOptions o;
      o.mining = m;
      o.margin = 0.5f;
      o.soft_margin = soft;
      torch::Tensor x = b.emb.clone().requires_grad_(true);
      TripletLoss(x, b.labels, o).loss.backward();
      const torch::Tensor grad = x.grad();
      const double eps = 1e-6;
      for (int64_t i = 0; i < x.size(0); ++i) {
        for (int64_t j = 0; j < x.size(1); ++j) {
          torch::Tensor plus = b.emb.clone(), minus = b.emb.clone();
          plus[i][j] += eps;
          minus[i][j] -= eps;
          const double numeric = (TripletLoss(plus, b.labels, o).loss.item<double>() -
                                  TripletLoss(minus, b.labels, o).loss.item<double>()) /
                                 (2 * eps);
          EXPECT_NEAR(grad[i][j].item<double>(), numeric, 1e-5)
              << "mining " << static_cast<int>(m) << " soft " << soft << " at " << i << "," << j;
        }
      }
    }
  }
}

TEST(LossTest, NoValidTripletGivesAZeroThatStillBackpropagates) {
  torch::Tensor x = torch::randn({4, 3}, torch::kDouble).requires_grad_(true);
  torch::Tensor labels = torch::tensor({0, 1, 2, 3}, torch::kInt64);  // No positives.
  TripletLossResult r = TripletLoss(x, labels, TripletLossOptions{});
  EXPECT_EQ(r.triplets, 0);
  EXPECT_EQ(r.loss.item<double>(), 0.0);
  r.loss.backward();
  EXPECT_EQ(x.grad().abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace dogsearch::trainer
