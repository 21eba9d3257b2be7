#include "services/gateway/core/search_answer.h"

#include <algorithm>

#include "common/model/identification.h"

namespace dogsearch::gateway {

SearchDecision DecideAnswer(const model::IdentificationCalibration& c, float one_to_one,
                            std::optional<float> top, std::optional<float> second,
                            uint64_t gallery_photos, const AnswerPolicy& policy) {
  SearchDecision d;
  const uint64_t n = std::max<uint64_t>(1, gallery_photos);
  if (!c.calibrated()) {
    d.match_threshold = 0;  // Never a confident match without a 1:N calibration.
    d.possible_threshold = one_to_one;
    if (top && *top <= one_to_one) d.answer = v1::SEARCH_ANSWER_POSSIBLE_MATCH;
    return d;
  }
  d.match_threshold = static_cast<float>(model::ThresholdForFpir(c, policy.target_fpir, n));
  d.possible_threshold = std::max(
      d.match_threshold, static_cast<float>(model::ThresholdForFpir(c, policy.possible_fpir, n)));
  if (!top) return d;
  d.top_confidence =
      static_cast<float>(model::TopAnswerConfidence(c, *top, second.value_or(2.f), n));
  if (*top <= d.match_threshold) {
    d.answer = v1::SEARCH_ANSWER_MATCH;
  } else if (*top <= d.possible_threshold) {
    d.answer = v1::SEARCH_ANSWER_POSSIBLE_MATCH;
  }
  return d;
}

}  // namespace dogsearch::gateway
