// The text `dogsearch search` prints for a SearchResponse: the answer said plainly, the other
// similar dogs (each with its best photo's distance, and its ranking score where that differs),
// and the threshold's promise. No gRPC; pure function.
#ifndef DOGSEARCH_TOOLS_CLI_SEARCH_ANSWER_H_
#define DOGSEARCH_TOOLS_CLI_SEARCH_ANSWER_H_

#include <string>

#include "dogsearch/v1/dogsearch.pb.h"

namespace dogsearch::cli {

std::string SearchAnswerText(const v1::SearchResponse& resp);

}  // namespace dogsearch::cli

#endif  // DOGSEARCH_TOOLS_CLI_SEARCH_ANSWER_H_
