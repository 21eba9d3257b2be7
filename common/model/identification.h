// 1:N decisions from a model's IdentificationCalibration (checkpoint_manifest.h): how likely a
// search over a gallery of N photos is to find a stranger within distance d, the distance
// threshold that keeps that chance at a target false-positive identification rate (FPIR), and
// the calibrated probability that the top answer is the right enrolled dog. Plain arithmetic,
// no dependencies beyond Abseil; thread-safe (pure functions). docs/ARCHITECTURE.md,
// "Honest answers", explains the rule.
#ifndef DOGSEARCH_COMMON_MODEL_IDENTIFICATION_H_
#define DOGSEARCH_COMMON_MODEL_IDENTIFICATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "common/model/checkpoint_manifest.h"

namespace dogsearch::model {

// Limits on a stored calibration: at most 256 FMR points, fractions in (0, 1) ascending,
// distances in [0, 2] ascending (non-decreasing), all values finite, tail_slope > 0.
// FAILED_PRECONDITION naming the problem otherwise.
absl::Status ValidateIdentificationCalibration(const IdentificationCalibration& c);

// FMR(d): share of cross-dog photo pairs within distance d (interpolated in log10 FMR between
// measured points, extrapolated below them by the fitted tail, 0.5..1 linearly above).
// REQUIRES: c.calibrated().
double FalseMatchRate(const IdentificationCalibration& c, double distance);

// 1 - (1 - FMR(d))^N, for N = gallery_photos >= 1.
double ExpectedFpir(const IdentificationCalibration& c, double distance, uint64_t gallery_photos);

// The largest distance d with ExpectedFpir(d, N) <= target_fpir (0 < target < 1), found by
// bisection on [0, 2].
double ThresholdForFpir(const IdentificationCalibration& c, double target_fpir,
                        uint64_t gallery_photos);

// The top answer's probability of being right: top_distance d1, second_distance d2 (pass 2
// when the gallery has a single dog), N gallery photos.
double TopAnswerConfidence(const IdentificationCalibration& c, double top_distance,
                           double second_distance, uint64_t gallery_photos);

// The feature the confidence model uses for d1: the log-odds ln(p / (1 - p)) of
// p = ExpectedFpir, p clamped to [1e-12, 1 - 1e-12]. (The log-odds rather than ln p: it keeps
// spreading searches whose nearest dog is about as close as a stranger's would be, where ln p
// flattens near 0; cross-fitted calibration error 0.024 -> 0.016 on the default model.)
double FpirLogitFeature(const IdentificationCalibration& c, double distance,
                        uint64_t gallery_photos);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_MODEL_IDENTIFICATION_H_
