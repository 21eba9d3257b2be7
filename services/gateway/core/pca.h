// Projection of vectors on their first two principal components (for the gallery map).
// Pure function; thread-safe.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_PCA_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_PCA_H_

#include <utility>
#include <vector>

namespace dogsearch::gateway {

// Centres the vectors, finds the top two eigenvectors of their covariance by power iteration
// with deflation, and returns each vector's coordinates on them. Vectors must share one length.
// Fewer than two vectors give (0, 0) points.
std::vector<std::pair<float, float>> ProjectPca2(const std::vector<std::vector<float>>& vectors);

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_PCA_H_
