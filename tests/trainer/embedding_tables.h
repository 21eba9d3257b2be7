// Small constructed embedding tables for the evaluation tests.
#ifndef DOGSEARCH_TESTS_TRAINER_EMBEDDING_TABLES_H_
#define DOGSEARCH_TESTS_TRAINER_EMBEDDING_TABLES_H_

#include <utility>
#include <vector>

#include "services/trainer/core/evaluation.h"

namespace dogsearch::trainer::testing {

// One-dimensional "embeddings": (label, x) per photo; distances are |x_a - x_b|.
inline EmbeddingTable OneDim(const std::vector<std::pair<int32_t, float>>& points) {
  EmbeddingTable t;
  t.dim = 1;
  for (const auto& [label, x] : points) {
    t.labels.push_back(label);
    t.vectors.push_back(x);
  }
  return t;
}

}  // namespace dogsearch::trainer::testing

#endif  // DOGSEARCH_TESTS_TRAINER_EMBEDDING_TABLES_H_
