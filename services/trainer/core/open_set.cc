#include "services/trainer/core/open_set.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <tuple>

#include "common/model/identification.h"

namespace dogsearch::trainer {
namespace {

std::map<int32_t, std::vector<uint32_t>> RowsByLabel(const EmbeddingTable& t) {
  std::map<int32_t, std::vector<uint32_t>> by_label;
  for (uint32_t i = 0; i < t.size(); ++i) by_label[t.labels[i]].push_back(i);
  return by_label;
}

// The table restricted to the given identities.
EmbeddingTable Subset(const EmbeddingTable& t, const std::vector<int32_t>& labels) {
  std::map<int32_t, bool> keep;
  for (int32_t l : labels) keep[l] = true;
  EmbeddingTable out;
  out.dim = t.dim;
  for (uint32_t i = 0; i < t.size(); ++i) {
    if (!keep.count(t.labels[i])) continue;
    out.labels.push_back(t.labels[i]);
    out.vectors.insert(out.vectors.end(), t.row(i), t.row(i) + t.dim);
    if (!t.offsets.empty()) out.offsets.push_back(t.offsets[i]);  // Distances as in t.
  }
  return out;
}

// One split: gallery (one photo per enrolled dog), probes scored against it.
void SimulateSplit(const EmbeddingTable& t,
                   const std::map<int32_t, std::vector<uint32_t>>& by_label,
                   const std::vector<int32_t>& enrolled, const std::vector<int32_t>& strangers,
                   std::mt19937_64& rng, std::vector<SimulatedSearch>* out) {
  std::vector<uint32_t> gallery;
  for (int32_t l : enrolled) {
    const std::vector<uint32_t>& rows = by_label.at(l);
    gallery.push_back(rows[std::uniform_int_distribution<size_t>(0, rows.size() - 1)(rng)]);
  }
  auto probe = [&](uint32_t q, bool is_enrolled) {
    SimulatedSearch s;
    s.enrolled = is_enrolled;
    s.gallery_photos = static_cast<uint32_t>(gallery.size());
    s.d1 = s.d2 = std::numeric_limits<float>::infinity();
    int32_t best_label = -1;
    for (uint32_t g : gallery) {
      const float d = t.distance(q, g);
      if (d < s.d1) {
        s.d2 = s.d1;
        s.d1 = d;
        best_label = t.labels[g];
      } else if (d < s.d2) {
        s.d2 = d;
      }
    }
    s.top_right = is_enrolled && best_label == t.labels[q];
    if (std::isinf(s.d2)) s.d2 = 2;  // A single enrolled dog: no second.
    out->push_back(s);
  };
  for (size_t i = 0; i < enrolled.size(); ++i) {
    for (uint32_t q : by_label.at(enrolled[i])) {
      if (q != gallery[i]) probe(q, true);
    }
  }
  for (int32_t l : strangers) {
    for (uint32_t q : by_label.at(l)) probe(q, false);
  }
}

// Work limits for large evaluation tables (all 7,475 DogFaceNet photos, say): a 720-photo
// validation set is far below both.
constexpr uint64_t kMaxFmrPairs = 2'000'000;
constexpr uint64_t kMaxSimulatedDistances = 20'000'000;

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-std::clamp(z, -50.0, 50.0))); }

// Solves a k x k system (row-major a, right-hand side b) by Gaussian elimination with partial
// pivoting; a singular system leaves the remaining unknowns 0.
std::vector<double> Solve(std::vector<double> a, std::vector<double> b, int k) {
  for (int c = 0; c < k; ++c) {
    int p = c;
    for (int r = c + 1; r < k; ++r) {
      if (std::abs(a[r * k + c]) > std::abs(a[p * k + c])) p = r;
    }
    if (std::abs(a[p * k + c]) < 1e-300) continue;
    for (int j = 0; j < k; ++j) std::swap(a[c * k + j], a[p * k + j]);
    std::swap(b[c], b[p]);
    for (int r = c + 1; r < k; ++r) {
      const double f = a[r * k + c] / a[c * k + c];
      for (int j = c; j < k; ++j) a[r * k + j] -= f * a[c * k + j];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> x(k, 0);
  for (int r = k - 1; r >= 0; --r) {
    if (std::abs(a[r * k + r]) < 1e-300) continue;
    double s = b[r];
    for (int j = r + 1; j < k; ++j) s -= a[r * k + j] * x[j];
    x[r] = s / a[r * k + r];
  }
  return x;
}

std::vector<double> ConfidenceFeatures(const std::vector<SimulatedSearch>& searches,
                                       const model::IdentificationCalibration& c) {
  std::vector<double> x;
  x.reserve(searches.size() * 3);
  for (const SimulatedSearch& s : searches) {
    x.push_back(1.0);
    x.push_back(model::FpirLogitFeature(c, s.d1, s.gallery_photos));
    x.push_back(std::max(0.f, s.d2 - s.d1));
  }
  return x;
}

// Ten equal-width bins of stated confidence: sums of stated confidence and of right answers.
std::vector<CalibrationBin> EmptyBins() {
  std::vector<CalibrationBin> bins(10);
  for (int i = 0; i < 10; ++i) {
    bins[i].lo = i / 10.0;
    bins[i].hi = (i + 1) / 10.0;
  }
  return bins;
}

void AccumulateBins(const std::vector<SimulatedSearch>& searches,
                    const model::IdentificationCalibration& c, std::vector<CalibrationBin>* bins) {
  for (const SimulatedSearch& s : searches) {
    const double p = model::TopAnswerConfidence(c, s.d1, s.d2, s.gallery_photos);
    CalibrationBin& b = (*bins)[std::min(9, static_cast<int>(p * 10))];
    ++b.count;
    b.stated += p;
    b.observed += s.top_right;
  }
}

// Sums to means; empty bins dropped; ECE = count-weighted mean gap.
CalibrationCheck Summarise(std::vector<CalibrationBin> bins) {
  CalibrationCheck out;
  double total = 0, gap = 0;
  for (CalibrationBin& b : bins) {
    if (b.count == 0) continue;
    b.stated /= b.count;
    b.observed /= b.count;
    total += b.count;
    gap += b.count * std::abs(b.stated - b.observed);
    out.bins.push_back(b);
  }
  out.ece = total > 0 ? gap / total : 0;
  return out;
}

}  // namespace

std::vector<SimulatedSearch> SimulateSearches(const EmbeddingTable& t,
                                              const std::vector<uint32_t>& gallery_sizes,
                                              int splits, uint64_t seed) {
  const auto by_label = RowsByLabel(t);
  std::vector<int32_t> ids;
  for (const auto& [l, rows] : by_label) ids.push_back(l);
  std::mt19937_64 rng(seed ^ 0x09e45e7);
  std::vector<SimulatedSearch> out;
  for (uint32_t size : gallery_sizes) {
    const size_t g = std::min<size_t>(size, ids.size() / 2);
    if (g == 0) continue;
    // Large tables: fewer splits, so that each gallery size costs at most kMaxSimulatedDistances
    // (every photo is at most one probe per split).
    const uint64_t per_split = std::max<uint64_t>(1, uint64_t{t.size()} * g);
    const int n_splits =
        static_cast<int>(std::clamp<uint64_t>(kMaxSimulatedDistances / per_split, 1, splits));
    for (int s = 0; s < n_splits; ++s) {
      std::shuffle(ids.begin(), ids.end(), rng);
      const std::vector<int32_t> enrolled(ids.begin(), ids.begin() + g);
      const std::vector<int32_t> strangers(ids.begin() + g, ids.begin() + 2 * g);
      SimulateSplit(t, by_label, enrolled, strangers, rng, &out);
    }
  }
  return out;
}

double DirAtFpir(const std::vector<SimulatedSearch>& searches, double fpir) {
  std::vector<float> strangers;
  size_t enrolled = 0;
  for (const SimulatedSearch& s : searches) {
    if (s.enrolled) {
      ++enrolled;
    } else {
      strangers.push_back(s.d1);
    }
  }
  if (enrolled == 0) return 0;
  std::sort(strangers.begin(), strangers.end());
  const size_t k = static_cast<size_t>(std::floor(fpir * strangers.size()));
  // Accept d1 < threshold: exactly the k closest strangers are (falsely) accepted.
  const float threshold = k < strangers.size() ? strangers[k] : 3.f;
  size_t hits = 0;
  for (const SimulatedSearch& s : searches) hits += s.enrolled && s.top_right && s.d1 < threshold;
  return static_cast<double>(hits) / enrolled;
}

OpenSetFigures OpenSet(const EmbeddingTable& t, uint64_t seed,
                       const model::IdentificationCalibration* c) {
  const std::vector<SimulatedSearch> s =
      SimulateSearches(t, {static_cast<uint32_t>(t.size())}, 20, seed);
  OpenSetFigures f;
  f.dir_at_fpir_1e2 = DirAtFpir(s, 0.01);
  f.dir_at_fpir_5e2 = DirAtFpir(s, 0.05);
  f.dir_at_fpir_1e1 = DirAtFpir(s, 0.1);
  if (c != nullptr && c->calibrated()) {
    size_t strangers = 0, accepted = 0, enrolled = 0, right = 0;
    for (const SimulatedSearch& x : s) {
      const bool accept = x.d1 <= model::ThresholdForFpir(*c, 0.05, x.gallery_photos);
      if (x.enrolled) {
        ++enrolled;
        right += accept && x.top_right;
      } else {
        ++strangers;
        accepted += accept;
      }
    }
    f.model_fpir_5e2 = strangers ? static_cast<double>(accepted) / strangers : 0;
    f.model_dir_5e2 = enrolled ? static_cast<double>(right) / enrolled : 0;
  }
  return f;
}

namespace {

// The largest observed/target ratio of strangers accepted over the targets FitSearchScale uses
// and over the gallery sizes searched: the promise is per gallery, so a size whose strangers
// get through more often is not averaged away by the others.
double WorstFpirRatio(const std::vector<SimulatedSearch>& searches,
                      const model::IdentificationCalibration& c) {
  double worst = 0;
  for (double target : {0.02, 0.05, 0.1}) {
    // By gallery size (a handful of sizes): threshold, strangers, accepted.
    std::map<uint32_t, std::tuple<double, size_t, size_t>> by_size;
    for (const SimulatedSearch& x : searches) {
      if (x.enrolled) continue;
      auto [it, fresh] = by_size.try_emplace(x.gallery_photos, 0.0, 0, 0);
      auto& [threshold, strangers, accepted] = it->second;
      if (fresh) threshold = model::ThresholdForFpir(c, target, x.gallery_photos);
      ++strangers;
      accepted += x.d1 <= threshold;
    }
    for (const auto& [size, t] : by_size) {
      const auto& [threshold, strangers, accepted] = t;
      worst = std::max(worst, static_cast<double>(accepted) / strangers / target);
    }
  }
  return worst;
}

void ScaleFmr(double factor, model::IdentificationCalibration* c) {
  for (double& f : c->fmr_fraction) f *= factor;
  c->tail_intercept += std::log10(factor);
}

}  // namespace

double FitSearchScale(const std::vector<SimulatedSearch>& searches,
                      model::IdentificationCalibration* c) {
  if (!c->calibrated() || WorstFpirRatio(searches, *c) <= kSearchFpirMargin) return 1;
  // Bisection on the factor: WorstFpirRatio falls (weakly) as the factor grows.
  double lo = 1, hi = kMaxSearchFmrScale;
  for (int i = 0; i < 12; ++i) {
    const double mid = (lo + hi) / 2;
    model::IdentificationCalibration trial = *c;
    ScaleFmr(mid, &trial);
    (WorstFpirRatio(searches, trial) <= kSearchFpirMargin ? hi : lo) = mid;
  }
  ScaleFmr(hi, c);
  return hi;
}

void FitFalseMatchRate(const EmbeddingTable& t, model::IdentificationCalibration* c) {
  std::vector<float> d;
  const uint64_t n_rows = t.size();
  if (n_rows * (n_rows - 1) / 2 <= kMaxFmrPairs) {
    for (uint32_t a = 0; a < t.size(); ++a) {
      for (uint32_t b = a + 1; b < t.size(); ++b) {
        if (t.labels[a] != t.labels[b]) d.push_back(t.distance(a, b));
      }
    }
  } else {  // A seeded sample of cross-dog pairs: enough for fractions down to 10 / kMaxFmrPairs.
    std::mt19937_64 rng(0xf3a1);
    std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(t.size() - 1));
    d.reserve(kMaxFmrPairs);
    while (d.size() < kMaxFmrPairs) {
      const uint32_t a = pick(rng), b = pick(rng);
      if (t.labels[a] != t.labels[b]) d.push_back(t.distance(a, b));
    }
  }
  c->fmr_fraction.clear();
  c->fmr_distance.clear();
  c->photos = static_cast<uint32_t>(t.size());
  c->pairs = d.size();
  if (d.size() < 100) return;  // Too few pairs to say anything.
  std::sort(d.begin(), d.end());
  const double n = static_cast<double>(d.size());
  const double lo = std::log10(10.0 / n), hi = std::log10(0.5);
  constexpr int kPoints = 48;
  for (int i = 0; i < kPoints; ++i) {
    const double f = std::pow(10.0, lo + (hi - lo) * i / (kPoints - 1));
    const size_t idx = static_cast<size_t>(std::max(1.0, std::ceil(f * n))) - 1;
    c->fmr_fraction.push_back(f);
    c->fmr_distance.push_back(std::clamp(d[idx], 0.f, 2.f));
  }
  // The tail: least squares of log10 FMR on distance over the points up to FMR 1e-3 (at least
  // the 6 lowest).
  size_t m = 0;
  while (m < c->fmr_fraction.size() && (c->fmr_fraction[m] <= 1e-3 || m < 6)) ++m;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < m; ++i) {
    const double x = c->fmr_distance[i], y = std::log10(c->fmr_fraction[i]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double var = sxx - sx * sx / m;
  double slope = var > 1e-12 ? (sxy - sx * sy / m) / var : 0;
  if (!(slope > 0) || !std::isfinite(slope)) slope = 10;  // Degenerate: a steep, safe tail.
  c->tail_slope = slope;
  // Anchor the line at the lowest measured point so that the curve is continuous there.
  c->tail_intercept = std::log10(c->fmr_fraction[0]) - slope * c->fmr_distance[0];
}

std::vector<double> FitLogistic(const std::vector<double>& x, const std::vector<bool>& y, int k) {
  const size_t n = y.size();
  std::vector<double> w(k, 0);
  constexpr double kRidge = 1e-3;
  for (int iter = 0; iter < 100; ++iter) {
    std::vector<double> g(k, 0), h(k * k, 0);
    for (size_t i = 0; i < n; ++i) {
      const double* xi = &x[i * k];
      double z = 0;
      for (int j = 0; j < k; ++j) z += xi[j] * w[j];
      const double p = Sigmoid(z);
      const double r = (y[i] ? 1.0 : 0.0) - p;
      const double v = std::max(p * (1 - p), 1e-12);
      for (int a = 0; a < k; ++a) {
        g[a] += r * xi[a];
        for (int b = 0; b < k; ++b) h[a * k + b] += v * xi[a] * xi[b];
      }
    }
    for (int a = 0; a < k; ++a) {
      g[a] -= kRidge * w[a];
      h[a * k + a] += kRidge;
    }
    const std::vector<double> step = Solve(h, g, k);
    double size = 0;
    for (int a = 0; a < k; ++a) {
      w[a] += step[a];
      size += std::abs(step[a]);
    }
    if (size < 1e-9) break;
  }
  return w;
}

void FitTopConfidence(const std::vector<SimulatedSearch>& searches,
                      model::IdentificationCalibration* c) {
  if (!c->calibrated() || searches.empty()) return;
  std::vector<bool> y;
  for (const SimulatedSearch& s : searches) y.push_back(s.top_right);
  const std::vector<double> w = FitLogistic(ConfidenceFeatures(searches, *c), y, 3);
  c->bias = w[0];
  c->fpir_weight = w[1];
  c->margin_weight = w[2];
}

CalibrationCheck CheckCalibration(const std::vector<SimulatedSearch>& searches,
                                  const model::IdentificationCalibration& c) {
  std::vector<CalibrationBin> bins = EmptyBins();
  AccumulateBins(searches, c, &bins);
  return Summarise(std::move(bins));
}

model::IdentificationCalibration CalibrateIdentification(const EmbeddingTable& t, uint64_t seed,
                                                         CalibrationCheck* check) {
  // Gallery sizes for the confidence fit: small to as large as the dogs allow.
  const std::vector<uint32_t> sizes = {10, 25, 1u << 30};
  constexpr int kSplits = 10;
  constexpr int kCheckRepeats = 3;
  model::IdentificationCalibration c;
  FitFalseMatchRate(t, &c);
  if (!c.calibrated()) return c;
  const std::vector<SimulatedSearch> searches = SimulateSearches(t, sizes, kSplits, seed);
  const double scale = FitSearchScale(searches, &c);
  FitTopConfidence(searches, &c);

  // Cross-fitted check: the whole procedure on one half of the dogs, checked on the other,
  // both ways, for kCheckRepeats seeded halvings (repeated 2-fold cross-validation: one
  // halving of a hundred-odd dogs leaves several points of noise in a bin).
  std::vector<int32_t> ids;
  for (const auto& [l, rows] : RowsByLabel(t)) ids.push_back(l);
  std::mt19937_64 rng(seed ^ 0xca11b);
  std::vector<CalibrationBin> bins = EmptyBins();
  for (int repeat = 0; repeat < kCheckRepeats; ++repeat) {
    std::shuffle(ids.begin(), ids.end(), rng);
    const std::vector<int32_t> half_a(ids.begin(), ids.begin() + ids.size() / 2);
    const std::vector<int32_t> half_b(ids.begin() + ids.size() / 2, ids.end());
    for (int way = 0; way < 2; ++way) {
      const EmbeddingTable fit = Subset(t, way == 0 ? half_a : half_b);
      const EmbeddingTable held = Subset(t, way == 0 ? half_b : half_a);
      model::IdentificationCalibration cf;
      FitFalseMatchRate(fit, &cf);
      if (!cf.calibrated()) continue;
      const std::vector<SimulatedSearch> fit_searches =
          SimulateSearches(fit, sizes, kSplits, seed + 1);
      FitSearchScale(fit_searches, &cf);
      FitTopConfidence(fit_searches, &cf);
      AccumulateBins(SimulateSearches(held, sizes, kSplits, seed + 2), cf, &bins);
    }
  }
  CalibrationCheck all = Summarise(std::move(bins));
  c.confidence_ece = all.ece;
  all.search_fmr_scale = scale;
  if (check != nullptr) *check = std::move(all);
  return c;
}

}  // namespace dogsearch::trainer
