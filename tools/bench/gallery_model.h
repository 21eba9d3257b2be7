// Synthetic galleries for the scale benchmarks (scale_bench, gateway_bench): 128-d unit vectors,
// photo `photo` of dog `dog` drawn deterministically (any photo can be regenerated alone, so a
// 10M gallery needs no memory to describe). Dog centres and photo scatter are isotropic
// Gaussians, or, from a dogsearch-eval --embeddings_out file, Gaussians with the mean and the
// between-dog / within-dog covariances of those real embeddings. Pure functions; thread-safe.
#ifndef DOGSEARCH_TOOLS_BENCH_GALLERY_MODEL_H_
#define DOGSEARCH_TOOLS_BENCH_GALLERY_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace dogsearch::bench {

inline constexpr int kGalleryDim = 128;

// How photos are drawn: centre = mean + between * z (per dog), photo = centre + within * z'
// (per photo), then L2-normalised. `between` and `within` are lower-triangular (Cholesky
// factors of the covariances), row-major kGalleryDim x kGalleryDim.
struct GalleryModel {
  std::vector<double> mean = std::vector<double>(kGalleryDim, 0.0);
  std::vector<double> between, within;
  std::string source = "isotropic Gaussian dog centres, photo noise 0.5 per coordinate";
};

// Isotropic for an empty path; exits with a message on an unreadable or wrong file.
GalleryModel LoadGalleryModel(const std::string& real_embeddings_path);

// Photo `photo` of dog `dog` (the benchmarks enrol photos 0-4; higher numbers are queries).
std::vector<float> PhotoVector(const GalleryModel& model, int64_t dog, int64_t photo);

}  // namespace dogsearch::bench

#endif  // DOGSEARCH_TOOLS_BENCH_GALLERY_MODEL_H_
