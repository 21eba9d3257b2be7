#include <gtest/gtest.h>

#include "tools/cli/search_answer.h"

namespace dogsearch::cli {
namespace {

v1::SearchResponse Response(v1::SearchAnswer answer) {
  v1::SearchResponse r;
  r.set_answer(answer);
  r.set_top_confidence(0.93);
  r.set_match_threshold(0.412);
  r.set_target_fpir(0.05);
  r.set_gallery_photos(1234);
  auto add = [&](uint32_t rank, const std::string& id, const std::string& name, float distance,
                 float score) {
    v1::DogMatch* m = r.add_matches();
    m->set_rank(rank);
    m->set_dog_id(id);
    m->set_name(name);
    m->set_distance(distance);
    m->set_score(score);
  };
  add(1, "bella", "Bella", 0.301f, 0.322f);
  add(2, "max", "Max", 0.512f, 0.512f);  // One photo: score = distance.
  add(3, "rex", "Rex", 0.498f, 0.561f);  // A nearer stray photo, ranked lower by score.
  return r;
}

TEST(CliSearchAnswerTest, AMatchNamesTheTopDogAndListsTheOthersWithTheirScores) {
  const std::string text = SearchAnswerText(Response(v1::SEARCH_ANSWER_MATCH));
  EXPECT_EQ(text.rfind("Match: Bella (bella), 93% likely to be this dog.\nAlso similar:\n", 0), 0u)
      << text;
  EXPECT_EQ(text.find("Bella", 10), std::string::npos) << "the top dog is listed once: " << text;
  // A dog whose score equals its best photo's distance shows the distance only; one ranked by
  // a score that differs shows both.
  EXPECT_NE(text.find("max                  distance 0.512\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rex                  distance 0.498, score 0.561\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("(match below distance 0.412: at most 5% of searches for a dog that is not "
                      "enrolled get a match, gallery of 1234 photos)\n"),
            std::string::npos)
      << text;
}

TEST(CliSearchAnswerTest, APossibleMatchAndNoMatchAreSaidPlainly) {
  const std::string possible = SearchAnswerText(Response(v1::SEARCH_ANSWER_POSSIBLE_MATCH));
  EXPECT_EQ(possible.rfind("Possibly Bella (bella), 93% likely: not a confident match", 0), 0u)
      << possible;
  const std::string none = SearchAnswerText(Response(v1::SEARCH_ANSWER_NO_MATCH));
  EXPECT_EQ(none.rfind("No enrolled dog is close enough: this dog may not be enrolled.\n"
                       "Most similar enrolled dogs:\n 1. Bella",
                       0),
            0u)
      << none;
  EXPECT_NE(none.find("distance 0.301, score 0.322\n"), std::string::npos) << none;
  EXPECT_EQ(SearchAnswerText(v1::SearchResponse()), "The gallery is empty.\n");
}

}  // namespace
}  // namespace dogsearch::cli
