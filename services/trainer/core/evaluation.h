// Evaluation of embeddings of identity-disjoint (unseen) dogs: the numbers a model is judged
// on. Plain C++ on float vectors (no LibTorch); deterministic given the seed.
//
// Verification (LFW protocol): balanced pairs: every same-dog pair (or a seeded sample of
// max_positive_pairs of them) and as many seeded random different-dog pairs. Pairs are shuffled
// into `folds` folds; each fold is scored with the distance threshold that maximises accuracy on
// the other folds; accuracy = mean (and std) over folds. ROC AUC over the balanced pairs.
// TAR at FAR: the threshold at which a fraction `far` of different-dog pairs is accepted, taken
// over ALL different-dog pairs (or a seeded sample of max_far_negatives), against all same-dog
// pairs. Identification: one seeded gallery photo per dog, every other photo a probe; rank-1 and
// recall@5 over probes. mAP: every photo with at least one same-dog photo queries all others.
// Distances are plain L2. Thread-safe: pure functions.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_EVALUATION_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_EVALUATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/model/checkpoint_manifest.h"

namespace dogsearch::trainer {

// n vectors of `dim` floats, row-major, with one identity label each.
struct EmbeddingTable {
  std::vector<float> vectors;
  size_t dim = 0;
  std::vector<int32_t> labels;

  size_t size() const { return labels.size(); }
  const float* row(size_t i) const { return vectors.data() + i * dim; }
};

struct EvalOptions {
  uint64_t seed = 0;
  int folds = 10;
  size_t max_positive_pairs = 50'000;
  size_t max_far_negatives = 2'000'000;
  double far = 1e-3;
  int threads = 2;
};

struct ScoredPair {
  uint32_t a = 0, b = 0;
  bool same = false;
  float distance = 0;
};

struct RocPoint {
  double far = 0, tar = 0;
};

struct EvalResult {
  model::EvalMetrics metrics;
  std::vector<RocPoint> roc;  // Of the balanced pairs, far ascending, at most ~500 points.
};

// INVALID_ARGUMENT if there are fewer than 2 identities, no same-identity pair, a size mismatch,
// or a non-finite value.
absl::StatusOr<EvalResult> Evaluate(const EmbeddingTable& table, const EvalOptions& options);

// The pieces, exposed for tests.
float L2Distance(const float* a, const float* b, size_t dim);
std::vector<ScoredPair> BalancedPairs(const EmbeddingTable& table, const EvalOptions& options);
// Mean and std of per-fold accuracy; fold of pair i = position in a seeded shuffle mod folds.
std::pair<double, double> KFoldAccuracy(const std::vector<ScoredPair>& pairs, int folds,
                                        uint64_t seed);
// Threshold t maximising accuracy of "same iff distance <= t" over `pairs`.
double BestThreshold(const std::vector<ScoredPair>& pairs);
// P(negative distance > positive distance), ties counted 1/2.
double RocAuc(std::vector<float> positive, std::vector<float> negative);
double TarAtFar(std::vector<float> positive, std::vector<float> negative, double far);
// Platt scaling: fits P(same | d) = 1 / (1 + exp((d - center) / scale)) to labelled distances by
// logistic regression (Newton's method). {0, 0} when it cannot (one class only, or no
// decreasing fit).
struct Calibration {
  double center = 0;
  double scale = 0;
};
Calibration FitCalibration(const std::vector<float>& same, const std::vector<float>& different);

struct Identification {
  double rank1 = 0, recall_at_5 = 0;
  uint32_t probes = 0;
  // Table rows chosen as the gallery (one per identity); every other row is a probe.
  std::vector<uint32_t> gallery;
};
Identification Identify(const EmbeddingTable& table, uint64_t seed);
double MeanAveragePrecision(const EmbeddingTable& table, int threads);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_EVALUATION_H_
