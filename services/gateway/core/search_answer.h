// The 1:N decision of a search (docs/ARCHITECTURE.md, "Honest answers"): from the top two
// dogs' distances, the gallery's size and the model's IdentificationCalibration, which of the
// three answers a search gives (match, possible match, no match), the distance thresholds
// behind it and the calibrated probability that the top dog is the right one. Pure function,
// thread-safe; no gRPC.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_SEARCH_ANSWER_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_SEARCH_ANSWER_H_

#include <cstdint>
#include <optional>

#include "common/model/checkpoint_manifest.h"
#include "dogsearch/v1/dogsearch.pb.h"

namespace dogsearch::gateway {

struct AnswerPolicy {
  double target_fpir = 0.05;   // A stranger gets MATCH in at most this share of searches.
  double possible_fpir = 0.5;  // ... and at least POSSIBLE_MATCH in at most this share.
};

struct SearchDecision {
  v1::SearchAnswer answer = v1::SEARCH_ANSWER_NO_MATCH;
  float top_confidence = 0;
  float match_threshold = 0;
  float possible_threshold = 0;
};

// top / second: distances of the nearest and second-nearest dog (nullopt when there is none).
// gallery_photos: photos in the gallery (>= 1 when top is set). one_to_one_threshold: the
// model's 1:1 same-dog threshold, used only when `calibration` is not calibrated (then the
// answer is at most POSSIBLE_MATCH).
SearchDecision DecideAnswer(const model::IdentificationCalibration& calibration,
                            float one_to_one_threshold, std::optional<float> top,
                            std::optional<float> second, uint64_t gallery_photos,
                            const AnswerPolicy& policy);

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_SEARCH_ANSWER_H_
