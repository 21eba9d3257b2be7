#include "common/model/identification.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace dogsearch::model {
namespace {

absl::Status Bad(absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("identification calibration: ", what));
}

}  // namespace

absl::Status ValidateIdentificationCalibration(const IdentificationCalibration& c) {
  if (!c.calibrated()) return absl::OkStatus();
  const size_t n = c.fmr_fraction.size();
  if (n > 256) return Bad(absl::StrCat(n, " FMR points (at most 256)"));
  if (c.fmr_distance.size() != n) {
    return Bad(absl::StrCat(n, " FMR fractions but ", c.fmr_distance.size(), " distances"));
  }
  for (size_t i = 0; i < n; ++i) {
    const double f = c.fmr_fraction[i];
    const double d = c.fmr_distance[i];
    if (!(f > 0 && f < 1)) return Bad(absl::StrCat("fmr_fraction ", f, " is outside (0, 1)"));
    if (!(d >= 0 && d <= 2)) return Bad(absl::StrCat("fmr_distance ", d, " is outside [0, 2]"));
    if (i > 0 && (f <= c.fmr_fraction[i - 1] || d < c.fmr_distance[i - 1])) {
      return Bad("FMR points are not ascending");
    }
  }
  for (double v :
       {c.tail_intercept, c.tail_slope, c.bias, c.fpir_weight, c.margin_weight, c.confidence_ece}) {
    if (!std::isfinite(v)) return Bad("a coefficient is not finite");
  }
  if (!(c.tail_slope > 0)) return Bad(absl::StrCat("tail_slope ", c.tail_slope, " must be > 0"));
  return absl::OkStatus();
}

double FalseMatchRate(const IdentificationCalibration& c, double d) {
  const auto& f = c.fmr_fraction;
  const auto& x = c.fmr_distance;
  const size_t n = f.size();
  if (d <= x.front()) {
    const double tail = std::pow(10.0, c.tail_intercept + c.tail_slope * d);
    return std::min(tail, f.front());
  }
  if (d >= x.back()) {
    // Above the last measured point FMR rises to 1 at distance 2 (linear; it matters little).
    if (x.back() >= 2) return f.back();
    return std::min(1.0, f.back() + (1 - f.back()) * (d - x.back()) / (2 - x.back()));
  }
  // x[i-1] <= d < x[i]; interpolate log10 FMR. The search is in float, the stored type: a d
  // just below x.back() can round up to it (no element above: i would be n) and one just above
  // x.front() down to it, so i is kept in [1, n - 1].
  const size_t i = std::clamp<size_t>(
      static_cast<size_t>(std::upper_bound(x.begin(), x.end(), static_cast<float>(d)) - x.begin()),
      1, n - 1);
  const double x0 = x[i - 1], x1 = x[i];
  const double t = x1 > x0 ? (d - x0) / (x1 - x0) : 1.0;
  return std::pow(
      10.0, std::log10(f[i - 1]) + t * (std::log10(f[std::min(i, n - 1)]) - std::log10(f[i - 1])));
}

double ExpectedFpir(const IdentificationCalibration& c, double d, uint64_t gallery_photos) {
  const double fmr = std::clamp(FalseMatchRate(c, d), 0.0, 1.0);
  if (fmr >= 1) return 1;
  const double n = static_cast<double>(std::max<uint64_t>(1, gallery_photos));
  return -std::expm1(n * std::log1p(-fmr));
}

double ThresholdForFpir(const IdentificationCalibration& c, double target, uint64_t n) {
  double lo = 0, hi = 2;
  if (ExpectedFpir(c, lo, n) > target) return 0;
  for (int i = 0; i < 60; ++i) {
    const double mid = (lo + hi) / 2;
    (ExpectedFpir(c, mid, n) <= target ? lo : hi) = mid;
  }
  return lo;
}

double FpirLogitFeature(const IdentificationCalibration& c, double d, uint64_t n) {
  const double p = std::clamp(ExpectedFpir(c, d, n), 1e-12, 1 - 1e-12);
  return std::log(p) - std::log1p(-p);
}

double TopAnswerConfidence(const IdentificationCalibration& c, double d1, double d2, uint64_t n) {
  const double z = c.bias + c.fpir_weight * FpirLogitFeature(c, d1, n) +
                   c.margin_weight * std::max(0.0, d2 - d1);
  return 1.0 / (1.0 + std::exp(-std::clamp(z, -50.0, 50.0)));
}

}  // namespace dogsearch::model
