#include "common/model/cohort.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"

namespace dogsearch::model {
namespace {

constexpr char kMagic[8] = {'D', 'S', 'C', 'O', 'H', '1', '\0', '\0'};
constexpr size_t kHeader = 8 + 8 + 8 + 4 + 4 + 4;

absl::Status CheckShape(size_t floats, size_t dim, uint32_t k) {
  if (dim == 0 || dim > Cohort::kMaxDim) {
    return absl::InvalidArgumentError(absl::StrCat("cohort dimension ", dim, " not in 1..4096"));
  }
  if (floats % dim != 0) {
    return absl::InvalidArgumentError("cohort rows are not a whole number of vectors");
  }
  const size_t n = floats / dim;
  if (n < 2 || n > Cohort::kMaxRows) {
    return absl::InvalidArgumentError(absl::StrCat("cohort of ", n, " rows not in 2..200000"));
  }
  if (k < 1 || k >= n) {
    return absl::InvalidArgumentError(absl::StrCat("cohort k ", k, " not in 1..", n - 1));
  }
  return absl::OkStatus();
}

absl::Status CheckUnitRows(const std::vector<float>& rows, size_t dim) {
  for (size_t r = 0; r < rows.size() / dim; ++r) {
    double s = 0;
    for (size_t i = 0; i < dim; ++i) s += double(rows[r * dim + i]) * rows[r * dim + i];
    if (!std::isfinite(s) || std::fabs(std::sqrt(s) - 1) > 1e-3) {
      return absl::InvalidArgumentError(absl::StrCat("cohort row ", r, " is not a unit vector"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckWeight(float weight) {
  if (!(weight > 0 && weight <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("cohort weight ", weight, " not in (0, 1]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Cohort> Cohort::Build(std::vector<float> rows, size_t dim, uint32_t k,
                                     float weight) {
  if (absl::Status s = CheckShape(rows.size(), dim, k); !s.ok()) return s;
  if (absl::Status s = CheckWeight(weight); !s.ok()) return s;
  if (absl::Status s = CheckUnitRows(rows, dim); !s.ok()) return s;
  Cohort c(std::move(rows), dim, k);
  c.weight_ = weight;
  double sum = 0;
  for (size_t r = 0; r < c.rows(); ++r) sum += c.TopKMean(c.rows_.data() + r * dim, r);
  c.mean_ = static_cast<float>(sum / c.rows());
  return c;
}

absl::StatusOr<Cohort> Cohort::Parse(std::string_view bytes) {
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    return absl::InvalidArgumentError("not a cohort file (no DSCOH1 header)");
  }
  uint64_t n = 0, dim = 0;
  uint32_t k = 0;
  float mean = 0, weight = 0;
  std::memcpy(&n, bytes.data() + 8, 8);
  std::memcpy(&dim, bytes.data() + 16, 8);
  std::memcpy(&k, bytes.data() + 24, 4);
  std::memcpy(&mean, bytes.data() + 28, 4);
  std::memcpy(&weight, bytes.data() + 32, 4);
  if (dim == 0 || dim > kMaxDim || n > kMaxRows) {
    return absl::InvalidArgumentError(absl::StrCat("cohort of ", n, " x ", dim, " out of limits"));
  }
  if (bytes.size() != kHeader + n * dim * sizeof(float)) {
    return absl::InvalidArgumentError(absl::StrCat("cohort file is ", bytes.size(),
                                                   " bytes; its header promises ",
                                                   kHeader + n * dim * sizeof(float)));
  }
  if (!std::isfinite(mean) || mean < -1 || mean > 1) {
    return absl::InvalidArgumentError("cohort mean hubness is not in [-1, 1]");
  }
  if (absl::Status s = CheckWeight(weight); !s.ok()) return s;
  std::vector<float> rows(n * dim);
  std::memcpy(rows.data(), bytes.data() + kHeader, rows.size() * sizeof(float));
  if (absl::Status s = CheckShape(rows.size(), dim, k); !s.ok()) return s;
  if (absl::Status s = CheckUnitRows(rows, dim); !s.ok()) return s;
  Cohort c(std::move(rows), dim, k);
  c.mean_ = mean;
  c.weight_ = weight;
  return c;
}

std::string Cohort::Serialize() const {
  std::string out(kMagic, 8);
  const uint64_t shape[2] = {rows(), dim_};
  out.append(reinterpret_cast<const char*>(shape), sizeof(shape));
  out.append(reinterpret_cast<const char*>(&k_), sizeof(k_));
  out.append(reinterpret_cast<const char*>(&mean_), sizeof(mean_));
  out.append(reinterpret_cast<const char*>(&weight_), sizeof(weight_));
  out.append(reinterpret_cast<const char*>(rows_.data()), rows_.size() * sizeof(float));
  return out;
}

float Cohort::Hubness(const float* v) const { return TopKMean(v, -1); }

float Cohort::TopKMean(const float* v, std::ptrdiff_t skip_row) const {
  // A min-heap of the k largest similarities seen so far.
  std::vector<float> top;
  top.reserve(k_ + 1);
  for (size_t r = 0; r < rows(); ++r) {
    if (static_cast<std::ptrdiff_t>(r) == skip_row) continue;
    const float* row = rows_.data() + r * dim_;
    float s = 0;
    for (size_t i = 0; i < dim_; ++i) s += v[i] * row[i];
    if (top.size() < k_) {
      top.push_back(s);
      std::push_heap(top.begin(), top.end(), std::greater<float>());
    } else if (s > top.front()) {
      std::pop_heap(top.begin(), top.end(), std::greater<float>());
      top.back() = s;
      std::push_heap(top.begin(), top.end(), std::greater<float>());
    }
  }
  double sum = 0;
  for (float s : top) sum += s;
  return static_cast<float>(sum / top.size());
}

float NormalisedDistance(float l2, float offset_a, float offset_b) {
  // The same photo (distance 0 to float rounding, which the gateway floors) is the same photo,
  // whatever its hubness.
  if (l2 == 0) return 0;
  // 2 - 2 s_n = l2^2 + (r_a - r_mean) + (r_b - r_mean), since l2^2 = 2 - 2 cos for unit vectors.
  const float sq = l2 * l2 + offset_a + offset_b;
  return std::sqrt(std::clamp(sq, 0.0f, 4.0f));
}

}  // namespace dogsearch::model
