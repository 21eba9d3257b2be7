#include "tools/bench/gallery_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"

namespace dogsearch::bench {
namespace {

uint64_t SplitMix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// kGalleryDim standard normal values from seed `seed` (Box-Muller).
void Gaussian(uint64_t seed, float* out) {
  uint64_t s = seed;
  for (int d = 0; d < kGalleryDim; d += 2) {
    const double u1 = (SplitMix(s) >> 11) * 0x1.0p-53 + 0x1.0p-54;
    const double u2 = (SplitMix(s) >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2 * std::log(u1));
    out[d] = static_cast<float>(r * std::cos(2 * M_PI * u2));
    out[d + 1] = static_cast<float>(r * std::sin(2 * M_PI * u2));
  }
}

std::vector<double> Scaled(double scale) {
  std::vector<double> m(kGalleryDim * kGalleryDim, 0.0);
  for (int i = 0; i < kGalleryDim; ++i) m[i * kGalleryDim + i] = scale;
  return m;
}

// Lower-triangular L with L L^T = a (a small ridge keeps it positive definite).
std::vector<double> Cholesky(std::vector<double> a) {
  double trace = 0;
  for (int i = 0; i < kGalleryDim; ++i) trace += a[i * kGalleryDim + i];
  for (int i = 0; i < kGalleryDim; ++i) a[i * kGalleryDim + i] += 1e-6 * trace / kGalleryDim;
  std::vector<double> l(kGalleryDim * kGalleryDim, 0.0);
  for (int i = 0; i < kGalleryDim; ++i) {
    for (int j = 0; j <= i; ++j) {
      double sum = a[i * kGalleryDim + j];
      for (int k = 0; k < j; ++k) sum -= l[i * kGalleryDim + k] * l[j * kGalleryDim + k];
      l[i * kGalleryDim + j] =
          i == j ? std::sqrt(std::max(sum, 1e-12)) : sum / l[j * kGalleryDim + j];
    }
  }
  return l;
}

}  // namespace

GalleryModel LoadGalleryModel(const std::string& path) {
  GalleryModel m;
  m.between = Scaled(1.0);
  m.within = Scaled(0.5);
  if (path.empty()) return m;
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  uint64_t header[2];
  if (!in.read(magic, 8) || std::string(magic, 6) != "DSEMB1" ||
      !in.read(reinterpret_cast<char*>(header), sizeof(header)) || header[1] != kGalleryDim) {
    std::fprintf(stderr, "%s: not a %d-d dogsearch-eval --embeddings_out file\n", path.c_str(),
                 kGalleryDim);
    std::exit(1);  // A benchmark's input error.
  }
  const size_t n = header[0];
  std::vector<int32_t> labels(n);
  std::vector<float> x(n * kGalleryDim);
  in.read(reinterpret_cast<char*>(labels.data()), n * sizeof(int32_t));
  in.read(reinterpret_cast<char*>(x.data()), x.size() * sizeof(float));
  if (!in) {
    std::fprintf(stderr, "%s: truncated\n", path.c_str());
    std::exit(1);  // A benchmark's input error.
  }
  std::map<int32_t, std::vector<size_t>> dogs;
  for (size_t i = 0; i < n; ++i) dogs[labels[i]].push_back(i);
  std::vector<double> cov_b(kGalleryDim * kGalleryDim, 0.0), cov_w(kGalleryDim * kGalleryDim, 0.0);
  std::vector<std::vector<double>> means;
  size_t within_terms = 0;
  for (const auto& [dog, rows] : dogs) {
    if (rows.size() < 2) continue;
    std::vector<double> mu(kGalleryDim, 0.0);
    for (size_t r : rows)
      for (int d = 0; d < kGalleryDim; ++d) mu[d] += x[r * kGalleryDim + d] / rows.size();
    // Scatter about a dog's own mean, scaled by n/(n-1) (its mean is estimated from it).
    const double correction = static_cast<double>(rows.size()) / (rows.size() - 1);
    for (size_t r : rows) {
      for (int i = 0; i < kGalleryDim; ++i)
        for (int j = 0; j <= i; ++j)
          cov_w[i * kGalleryDim + j] +=
              correction * (x[r * kGalleryDim + i] - mu[i]) * (x[r * kGalleryDim + j] - mu[j]);
      ++within_terms;
    }
    means.push_back(std::move(mu));
  }
  for (const auto& mu : means)
    for (int d = 0; d < kGalleryDim; ++d) m.mean[d] += mu[d] / means.size();
  for (const auto& mu : means)
    for (int i = 0; i < kGalleryDim; ++i)
      for (int j = 0; j <= i; ++j)
        cov_b[i * kGalleryDim + j] +=
            (mu[i] - m.mean[i]) * (mu[j] - m.mean[j]) / (means.size() - 1);
  for (int i = 0; i < kGalleryDim; ++i) {
    for (int j = 0; j <= i; ++j) {
      cov_w[i * kGalleryDim + j] /= within_terms;
      cov_b[j * kGalleryDim + i] = cov_b[i * kGalleryDim + j];
      cov_w[j * kGalleryDim + i] = cov_w[i * kGalleryDim + j];
    }
  }
  m.between = Cholesky(cov_b);
  m.within = Cholesky(cov_w);
  m.source = absl::StrCat("dog centres and photo scatter drawn with the covariances of ", n,
                          " real embeddings of ", means.size(), " dogs (", path, ")");
  return m;
}

// Photo `photo` of dog `dog` (photos 0-4 are enrolled; higher numbers are queries).
std::vector<float> PhotoVector(const GalleryModel& m, int64_t dog, int64_t photo) {
  float zb[kGalleryDim], zw[kGalleryDim];
  Gaussian(static_cast<uint64_t>(dog) * 2 + 1, zb);
  Gaussian((static_cast<uint64_t>(dog) << 20 | static_cast<uint64_t>(photo)) * 2 + 0x5EED, zw);
  std::vector<float> v(kGalleryDim);
  double norm = 0;
  for (int i = 0; i < kGalleryDim; ++i) {
    double x = m.mean[i];
    for (int k = 0; k <= i; ++k)
      x += m.between[i * kGalleryDim + k] * zb[k] + m.within[i * kGalleryDim + k] * zw[k];
    v[i] = static_cast<float>(x);
    norm += x * x;
  }
  for (float& x : v) x /= static_cast<float>(std::sqrt(norm));
  return v;
}

}  // namespace dogsearch::bench
