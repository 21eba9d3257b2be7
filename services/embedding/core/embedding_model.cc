#include "services/embedding/core/embedding_model.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace dogsearch::embedding {

absl::Status CheckProbeOutput(const std::vector<float>& out, int n, uint32_t dimension) {
  if (out.size() != size_t{dimension} * n) {
    return absl::FailedPreconditionError(
        absl::StrCat("probe produced ", out.size(), " values, expected ", n, " x ", dimension));
  }
  for (int i = 0; i < n; ++i) {
    double norm2 = 0;
    for (uint32_t d = 0; d < dimension; ++d) {
      const float v = out[static_cast<size_t>(i) * dimension + d];
      if (!std::isfinite(v)) {
        return absl::FailedPreconditionError(absl::StrCat("probe output ", i, " is not finite"));
      }
      norm2 += double{v} * v;
    }
    if (std::fabs(std::sqrt(norm2) - 1.0) > 1e-3) {
      return absl::FailedPreconditionError(absl::StrCat("probe output ", i, " has L2 norm ",
                                                        std::sqrt(norm2),
                                                        ", not 1 (model not normalised?)"));
    }
  }
  return absl::OkStatus();
}

std::vector<float> ProbeBatch(const model::InputSpec& spec, int n) {
  const size_t plane = size_t{spec.width} * spec.height;
  std::vector<float> out(3 * plane * n);
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) {
      for (size_t p = 0; p < plane; ++p) {
        const float x = static_cast<float>(p % spec.width) / spec.width;
        const float y = static_cast<float>(p / spec.width) / spec.height;
        const float pixel = 0.5f + 0.5f * std::sin(6.f * x * (i + 1) + 4.f * y * (c + 1));
        out[(static_cast<size_t>(i) * 3 + c) * plane + p] = (pixel - spec.mean[c]) / spec.std[c];
      }
    }
  }
  return out;
}

}  // namespace dogsearch::embedding
