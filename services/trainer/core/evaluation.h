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
// Distances are plain L2, or cohort-normalised L2 when the table has hubness values (see
// EmbeddingTable). Thread-safe: pure functions.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_EVALUATION_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_EVALUATION_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/model/checkpoint_manifest.h"
#include "common/model/cohort.h"

namespace dogsearch::trainer {

float L2Distance(const float* a, const float* b, size_t dim);

// Runs fn(i) for every i in [0, n) on `threads` threads (the caller's among them), each i once.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn);

// n vectors of `dim` floats, row-major, with one identity label each.
struct EmbeddingTable {
  std::vector<float> vectors;
  size_t dim = 0;
  std::vector<int32_t> labels;
  // Empty, or each row's score offset under a cohort (common/model/cohort.h): then every
  // figure is computed on the normalised distance instead of plain L2.
  std::vector<float> offsets;

  size_t size() const { return labels.size(); }
  const float* row(size_t i) const { return vectors.data() + i * dim; }
  // The distance every figure uses: plain L2, or the cohort-normalised distance. Inline: the
  // O(n^2) loops call it for every pair.
  float distance(size_t a, size_t b) const {
    const float l2 = L2Distance(row(a), row(b), dim);
    return offsets.empty() ? l2 : model::NormalisedDistance(l2, offsets[a], offsets[b]);
  }
};

struct EvalOptions {
  uint64_t seed = 0;
  int folds = 10;
  size_t max_positive_pairs = 50'000;
  size_t max_far_negatives = 2'000'000;
  double far = 1e-3;
  int threads = 2;
  // Also fit the 1:N calibration (open_set.h) into metrics.identification.
  bool calibrate_identification = true;
};

struct ScoredPair {
  uint32_t a = 0, b = 0;
  bool same = false;
  float distance = 0;
};

struct RocPoint {
  double far = 0, tar = 0;
};

struct CalibrationBin {
  double lo = 0, hi = 0;  // Stated-confidence range.
  uint32_t count = 0;
  double stated = 0, observed = 0;  // Mean stated confidence, share right.
};
struct CalibrationCheck {
  std::vector<CalibrationBin> bins;  // 10 equal-width bins; empty bins omitted.
  double ece = 0;                    // Count-weighted mean |stated - observed|.
  // The factor the pairwise FMR curve was multiplied by so that simulated searches accept
  // strangers no more often than the thresholds promise (FitSearchScale, open_set.h); 1 where
  // the pairwise curve already kept its promise.
  double search_fmr_scale = 1;
};

struct EvalResult {
  model::EvalMetrics metrics;
  std::vector<RocPoint> roc;           // Of the balanced pairs, far ascending, at most ~500 points.
  CalibrationCheck calibration_check;  // Cross-fitted bins of the top-answer confidence.
  // At the gateway's 5%-FPIR threshold (open_set.h): observed FPIR and DIR.
  double model_fpir_5e2 = 0, model_dir_5e2 = 0;
};

// INVALID_ARGUMENT if there are fewer than 2 identities, no same-identity pair, a size mismatch,
// or a non-finite value.
absl::StatusOr<EvalResult> Evaluate(const EmbeddingTable& table, const EvalOptions& options);

// The pieces, exposed for tests.
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
// gallery_per_dog seeded gallery photos per dog (all of a dog's photos when it has no more);
// a dog's distance is its nearest gallery photo's.
Identification Identify(const EmbeddingTable& table, uint64_t seed, uint32_t gallery_per_dog = 1);
double MeanAveragePrecision(const EmbeddingTable& table, int threads);
// Every photo with a same-dog photo queries all the others.
struct Retrieval {
  double mean_average_precision = 0;
  double top1 = 0;  // Nearest other photo shows the same dog.
  double mrr = 0;   // Mean of 1 / rank of the first same-dog photo.
  size_t queries = 0;
};
Retrieval RetrievalFigures(const EmbeddingTable& table, int threads);

// Each identity's mean embedding, L2-normalised (row-major, identities in label order): the
// cohort a model's score normalisation is built from (common/model/cohort.h).
std::vector<float> UnitCentroids(const EmbeddingTable& table);
// Fills table->offsets from the cohort. INVALID_ARGUMENT on a dimension mismatch.
absl::Status SetOffsets(const model::Cohort& cohort, EmbeddingTable* table);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_EVALUATION_H_
