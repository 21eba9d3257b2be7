#include "services/gateway/core/pca.h"

#include <cmath>

namespace dogsearch::gateway {
namespace {

using Matrix = std::vector<std::vector<double>>;

std::vector<double> TopEigenvector(const Matrix& cov) {
  const size_t d = cov.size();
  std::vector<double> v(d);
  for (size_t i = 0; i < d; ++i) v[i] = 1.0 + 0.01 * static_cast<double>(i % 7);  // Deterministic.
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<double> next(d, 0.0);
    for (size_t i = 0; i < d; ++i) {
      for (size_t j = 0; j < d; ++j) next[i] += cov[i][j] * v[j];
    }
    double norm = 0;
    for (double x : next) norm += x * x;
    norm = std::sqrt(norm);
    if (norm < 1e-12) return v;
    for (double& x : next) x /= norm;
    v.swap(next);
  }
  return v;
}

}  // namespace

std::vector<std::pair<float, float>> ProjectPca2(const std::vector<std::vector<float>>& vectors) {
  const size_t n = vectors.size();
  std::vector<std::pair<float, float>> out(n, {0.0f, 0.0f});
  if (n < 2) return out;
  const size_t d = vectors[0].size();
  std::vector<double> mean(d, 0.0);
  for (const auto& v : vectors) {
    for (size_t i = 0; i < d; ++i) mean[i] += v[i] / static_cast<double>(n);
  }
  Matrix cov(d, std::vector<double>(d, 0.0));
  std::vector<double> c(d);
  for (const auto& v : vectors) {
    for (size_t i = 0; i < d; ++i) c[i] = v[i] - mean[i];
    for (size_t i = 0; i < d; ++i) {
      for (size_t j = 0; j < d; ++j) cov[i][j] += c[i] * c[j];
    }
  }
  const std::vector<double> e1 = TopEigenvector(cov);
  double lambda = 0;  // Rayleigh quotient, for deflation.
  for (size_t i = 0; i < d; ++i) {
    double row = 0;
    for (size_t j = 0; j < d; ++j) row += cov[i][j] * e1[j];
    lambda += e1[i] * row;
  }
  for (size_t i = 0; i < d; ++i) {
    for (size_t j = 0; j < d; ++j) cov[i][j] -= lambda * e1[i] * e1[j];
  }
  const std::vector<double> e2 = TopEigenvector(cov);
  for (size_t k = 0; k < n; ++k) {
    double x = 0, y = 0;
    for (size_t i = 0; i < d; ++i) {
      const double ci = vectors[k][i] - mean[i];
      x += ci * e1[i];
      y += ci * e2[i];
    }
    out[k] = {static_cast<float>(x), static_cast<float>(y)};
  }
  return out;
}

}  // namespace dogsearch::gateway
