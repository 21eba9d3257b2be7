#include "tools/cli/search_answer.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace dogsearch::cli {

// The three answers of a search (SearchResponse.answer), said plainly; only the top dog may be
// called likely, the others are "also similar".
std::string SearchAnswerText(const v1::SearchResponse& resp) {
  if (resp.matches().empty()) return "The gallery is empty.\n";
  const v1::DogMatch& top = resp.matches(0);
  std::string out;
  switch (resp.answer()) {
    case v1::SEARCH_ANSWER_MATCH:
      out = absl::StrFormat("Match: %s (%s), %.0f%% likely to be this dog.\n", top.name(),
                            top.dog_id(), 100.0 * resp.top_confidence());
      break;
    case v1::SEARCH_ANSWER_POSSIBLE_MATCH:
      out = absl::StrFormat(
          "Possibly %s (%s), %.0f%% likely: not a confident match, compare the photos.\n",
          top.name(), top.dog_id(), 100.0 * resp.top_confidence());
      break;
    default:
      out = "No enrolled dog is close enough: this dog may not be enrolled.\n";
      break;
  }
  const bool named =
      resp.answer() == v1::SEARCH_ANSWER_MATCH || resp.answer() == v1::SEARCH_ANSWER_POSSIBLE_MATCH;
  out += named ? "Also similar:\n" : "Most similar enrolled dogs:\n";
  // Dogs come ranked by score (the best photo blended with the dog's other photos near the
  // query, DogMatch.score): where it differs from the best photo's distance both are shown.
  for (const v1::DogMatch& m : resp.matches()) {
    if (named && m.rank() == 1) continue;
    absl::StrAppendFormat(&out, "%2u. %-24s %-20s distance %.3f", m.rank(), m.name(), m.dog_id(),
                          m.distance());
    if (std::abs(m.score() - m.distance()) > 5e-4f) {
      absl::StrAppendFormat(&out, ", score %.3f", m.score());
    }
    out += "\n";
  }
  absl::StrAppendFormat(&out,
                        "(match below distance %.3f: at most %.0f%% of searches for a dog that is "
                        "not enrolled get a match, gallery of %u photos)\n",
                        resp.match_threshold(), 100.0 * resp.target_fpir(), resp.gallery_photos());
  return out;
}

}  // namespace dogsearch::cli
