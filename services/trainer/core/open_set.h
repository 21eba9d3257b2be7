// Open-set identification on validation embeddings: simulated searches where some dogs are
// enrolled and others are not, the figures a registry is judged on (DIR at FPIR), and the
// calibration the gateway uses to answer "not enrolled" honestly and to state a confidence
// (common/model/identification.h). Plain C++ on float vectors, no LibTorch; deterministic
// given the seed; thread-safe (pure functions).
//
// A simulated search: G dogs are enrolled with one seeded photo each and G other dogs are
// strangers; every other photo of an enrolled dog and every photo of a stranger is a probe.
// For each probe: d1 = distance to the nearest enrolled dog (its nearest gallery photo),
// d2 = to the second nearest dog, and whether the nearest dog is the probe's own.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_OPEN_SET_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_OPEN_SET_H_

#include <cstdint>
#include <vector>

#include "common/model/checkpoint_manifest.h"
#include "services/trainer/core/evaluation.h"

namespace dogsearch::trainer {

struct SimulatedSearch {
  float d1 = 2, d2 = 2;
  bool enrolled = false;   // The probe's dog is in the gallery.
  bool top_right = false;  // The nearest dog is the probe's own (never for strangers).
  uint32_t gallery_photos = 0;
};

// `splits` seeded splits per gallery size (fewer for large tables: each size costs at most 20 M
// distance computations); each split draws 2G dogs (G enrolled, G strangers) from the table's
// identities, G from `gallery_sizes` (each capped at half the identities).
std::vector<SimulatedSearch> SimulateSearches(const EmbeddingTable& table,
                                              const std::vector<uint32_t>& gallery_sizes,
                                              int splits, uint64_t seed);

struct OpenSetFigures {
  double dir_at_fpir_1e2 = 0, dir_at_fpir_5e2 = 0, dir_at_fpir_1e1 = 0;
  // With a calibration: at the gateway's threshold for a 5% target (ThresholdForFpir with the
  // gallery's size), the observed share of strangers' probes accepted and of enrolled dogs'
  // probes accepted with the right dog.
  double model_fpir_5e2 = 0, model_dir_5e2 = 0;
};
// Empirical: the threshold is the FPIR-quantile of the strangers' d1.
double DirAtFpir(const std::vector<SimulatedSearch>& searches, double fpir);
OpenSetFigures OpenSet(const EmbeddingTable& table, uint64_t seed,
                       const model::IdentificationCalibration* calibration = nullptr);

// The FMR curve from every cross-dog photo pair of the table (a seeded sample of 2 M of them
// when there are more) and its log-linear tail.
// Leaves the confidence coefficients untouched.
void FitFalseMatchRate(const EmbeddingTable& table, model::IdentificationCalibration* c);

// The pairwise FMR curve turns into a search's FPIR as if a probe's distances to the N gallery
// photos were independent (ExpectedFpir). They are not quite: the probe is shared, and with
// score normalisation so is its offset, so a probe near one stranger-free region is near
// several. This measures, on simulated searches, the share of strangers' probes accepted at
// ThresholdForFpir(target, the search's gallery size) for targets 2%, 5% and 10%, per gallery
// size, and where any exceeds kSearchFpirMargin x its target, multiplies c's FMR curve (fractions
// and tail) by the smallest factor that brings every one within that (at most kMaxSearchFmrScale;
// fractions stay below 1). Never loosens: returns 1 and leaves c alone when the curve already keeps
// it. The margin: for plain L2 the pairwise curve is an upper bound with slack (the default's
// held-out dogs: 4.4% of strangers accepted at a 5% target); score-normalised distances lose
// that slack (5.0% on average over gallery draws, 4.2-5.5% per draw), and the fit restores
// about as much (docs/TRAINING.md, session 15).
inline constexpr double kMaxSearchFmrScale = 1.9;
inline constexpr double kSearchFpirMargin = 0.85;
double FitSearchScale(const std::vector<SimulatedSearch>& searches,
                      model::IdentificationCalibration* c);

// Logistic regression of top_right on [1, logit FPIR(d1, N), d2 - d1] (features from c's FMR).
// Fills bias, fpir_weight, margin_weight.
void FitTopConfidence(const std::vector<SimulatedSearch>& searches,
                      model::IdentificationCalibration* c);

CalibrationCheck CheckCalibration(const std::vector<SimulatedSearch>& searches,
                                  const model::IdentificationCalibration& c);

// The whole calibration: the FMR curve from all of the table, the confidence fitted on all
// simulated searches, and its ECE cross-fitted (coefficients fitted on one half of the dogs,
// checked on the other, both ways, for 3 seeded halvings). `check` (optional) receives the
// cross-fitted bins.
model::IdentificationCalibration CalibrateIdentification(const EmbeddingTable& table, uint64_t seed,
                                                         CalibrationCheck* check = nullptr);

// Solves the logistic regression y ~ sigmoid(x . w) by Newton's method with a small ridge;
// rows of x have `k` features. Exposed for tests.
std::vector<double> FitLogistic(const std::vector<double>& x, const std::vector<bool>& y, int k);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_OPEN_SET_H_
