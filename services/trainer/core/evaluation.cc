#include "services/trainer/core/evaluation.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/trainer/core/open_set.h"

namespace dogsearch::trainer {
namespace {

std::vector<std::pair<uint32_t, uint32_t>> AllPositivePairs(const EmbeddingTable& t) {
  std::map<int32_t, std::vector<uint32_t>> by_label;
  for (uint32_t i = 0; i < t.size(); ++i) by_label[t.labels[i]].push_back(i);
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  for (const auto& [label, photos] : by_label) {
    for (size_t i = 0; i < photos.size(); ++i) {
      for (size_t j = i + 1; j < photos.size(); ++j) pairs.emplace_back(photos[i], photos[j]);
    }
  }
  return pairs;
}

// `count` distinct-identity pairs drawn uniformly (with replacement) by rejection.
std::vector<std::pair<uint32_t, uint32_t>> RandomNegativePairs(const EmbeddingTable& t,
                                                               size_t count, std::mt19937_64& rng) {
  std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(t.size() - 1));
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  pairs.reserve(count);
  while (pairs.size() < count) {
    const uint32_t a = pick(rng), b = pick(rng);
    if (t.labels[a] != t.labels[b]) pairs.emplace_back(a, b);
  }
  return pairs;
}

size_t NegativePairCount(const EmbeddingTable& t) {
  std::map<int32_t, size_t> counts;
  for (int32_t l : t.labels) ++counts[l];
  size_t same = 0;
  for (const auto& [l, c] : counts) same += c * (c - 1) / 2;
  return t.size() * (t.size() - 1) / 2 - same;
}

std::vector<float> Distances(const EmbeddingTable& t,
                             const std::vector<std::pair<uint32_t, uint32_t>>& pairs) {
  std::vector<float> d(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    d[i] = t.distance(pairs[i].first, pairs[i].second);
  }
  return d;
}

double AccuracyAt(const std::vector<ScoredPair>& pairs, double threshold) {
  size_t right = 0;
  for (const ScoredPair& p : pairs) right += (p.distance <= threshold) == p.same;
  return pairs.empty() ? 0 : static_cast<double>(right) / pairs.size();
}

std::vector<RocPoint> RocCurve(const std::vector<ScoredPair>& pairs) {
  std::vector<ScoredPair> sorted = pairs;
  std::sort(sorted.begin(), sorted.end(),
            [](const ScoredPair& x, const ScoredPair& y) { return x.distance < y.distance; });
  size_t pos = 0, neg = 0;
  for (const ScoredPair& p : sorted) (p.same ? pos : neg)++;
  std::vector<RocPoint> roc{{0, 0}};
  size_t tp = 0, fp = 0;
  const size_t stride = std::max<size_t>(1, sorted.size() / 500);
  for (size_t i = 0; i < sorted.size(); ++i) {
    (sorted[i].same ? tp : fp)++;
    if (i % stride == stride - 1 || i + 1 == sorted.size()) {
      roc.push_back(
          {neg ? static_cast<double>(fp) / neg : 0, pos ? static_cast<double>(tp) / pos : 0});
    }
  }
  return roc;
}

}  // namespace

float L2Distance(const float* a, const float* b, size_t dim) {
  float s = 0;
  for (size_t i = 0; i < dim; ++i) {
    const float d = a[i] - b[i];
    s += d * d;
  }
  return std::sqrt(s);
}

std::vector<ScoredPair> BalancedPairs(const EmbeddingTable& t, const EvalOptions& o) {
  std::mt19937_64 rng(o.seed);
  std::vector<std::pair<uint32_t, uint32_t>> pos = AllPositivePairs(t);
  if (pos.size() > o.max_positive_pairs) {
    std::shuffle(pos.begin(), pos.end(), rng);
    pos.resize(o.max_positive_pairs);
  }
  std::vector<std::pair<uint32_t, uint32_t>> neg = RandomNegativePairs(t, pos.size(), rng);
  std::vector<ScoredPair> out;
  out.reserve(pos.size() * 2);
  for (const auto& [a, b] : pos) out.push_back({a, b, true, t.distance(a, b)});
  for (const auto& [a, b] : neg) out.push_back({a, b, false, t.distance(a, b)});
  return out;
}

double BestThreshold(const std::vector<ScoredPair>& pairs) {
  std::vector<ScoredPair> sorted = pairs;
  std::sort(sorted.begin(), sorted.end(),
            [](const ScoredPair& x, const ScoredPair& y) { return x.distance < y.distance; });
  size_t neg_total = 0;
  for (const ScoredPair& p : sorted) neg_total += !p.same;
  // Threshold below everything: all predicted different -> right = negatives.
  size_t right = neg_total, best_right = neg_total;
  double best = sorted.empty() ? 0 : sorted.front().distance - 1e-6;
  for (size_t i = 0; i < sorted.size(); ++i) {
    right += sorted[i].same ? 1 : -1;  // Pair i now predicted same.
    if (i + 1 < sorted.size() && sorted[i + 1].distance == sorted[i].distance) continue;
    if (right > best_right) {
      best_right = right;
      best = i + 1 < sorted.size() ? (sorted[i].distance + sorted[i + 1].distance) / 2.0
                                   : sorted[i].distance + 1e-6;
    }
  }
  return best;
}

std::pair<double, double> KFoldAccuracy(const std::vector<ScoredPair>& pairs, int folds,
                                        uint64_t seed) {
  std::vector<size_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed ^ 0x5eedf01d);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<double> acc;
  for (int f = 0; f < folds; ++f) {
    std::vector<ScoredPair> train, test;
    for (size_t i = 0; i < order.size(); ++i) {
      (static_cast<int>(i % folds) == f ? test : train).push_back(pairs[order[i]]);
    }
    if (test.empty()) continue;
    acc.push_back(AccuracyAt(test, BestThreshold(train)));
  }
  if (acc.empty()) return {0, 0};
  const double mean = std::accumulate(acc.begin(), acc.end(), 0.0) / acc.size();
  double var = 0;
  for (double a : acc) var += (a - mean) * (a - mean);
  return {mean, std::sqrt(var / acc.size())};
}

double RocAuc(std::vector<float> positive, std::vector<float> negative) {
  if (positive.empty() || negative.empty()) return 0;
  std::sort(negative.begin(), negative.end());
  double wins = 0;
  for (float p : positive) {
    const auto lo = std::lower_bound(negative.begin(), negative.end(), p);
    const auto hi = std::upper_bound(lo, negative.end(), p);
    wins += static_cast<double>(negative.end() - hi) + 0.5 * static_cast<double>(hi - lo);
  }
  return wins / (static_cast<double>(positive.size()) * negative.size());
}

double TarAtFar(std::vector<float> positive, std::vector<float> negative, double far) {
  if (positive.empty() || negative.empty()) return 0;
  std::sort(negative.begin(), negative.end());
  // Accept d < t: the largest t with at most floor(far * |neg|) negatives below it.
  const size_t allowed = static_cast<size_t>(std::floor(far * negative.size()));
  const float t = negative[std::min(allowed, negative.size() - 1)];
  size_t accepted = 0;
  for (float p : positive) accepted += p < t;
  return static_cast<double>(accepted) / positive.size();
}

Calibration FitCalibration(const std::vector<float>& same, const std::vector<float>& different) {
  if (same.empty() || different.empty()) return {};
  // p = sigmoid(w d + b); minimise the mean log loss (plus a tiny ridge for separable data).
  double w = -1, b = 1;
  const double n = static_cast<double>(same.size() + different.size());
  for (int iter = 0; iter < 100; ++iter) {
    double g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0;
    auto add = [&](float d, double y) {
      const double p = 1.0 / (1.0 + std::exp(-(w * d + b)));
      const double r = p - y, v = p * (1 - p);
      g0 += r * d;
      g1 += r;
      h00 += v * d * d;
      h01 += v * d;
      h11 += v;
    };
    for (float d : same) add(d, 1.0);
    for (float d : different) add(d, 0.0);
    constexpr double kRidge = 1e-5;  // On w only: keeps separable data finite.
    g0 = g0 / n + kRidge * w;
    g1 /= n;
    h00 = h00 / n + kRidge;
    h01 /= n;
    h11 /= n;
    const double det = h00 * h11 - h01 * h01;
    if (std::abs(det) < 1e-18) break;
    const double dw = (h11 * g0 - h01 * g1) / det, db = (h00 * g1 - h01 * g0) / det;
    w -= dw;
    b -= db;
    if (std::abs(dw) + std::abs(db) < 1e-10) break;
  }
  if (!(w < 0) || !std::isfinite(w) || !std::isfinite(b)) return {};
  return {-b / w, -1.0 / w};
}

Identification Identify(const EmbeddingTable& t, uint64_t seed, uint32_t gallery_per_dog) {
  std::map<int32_t, std::vector<uint32_t>> by_label;
  for (uint32_t i = 0; i < t.size(); ++i) by_label[t.labels[i]].push_back(i);
  std::mt19937_64 rng(seed ^ 0x6a11e7);
  const uint32_t per_dog = std::max<uint32_t>(1, gallery_per_dog);
  std::vector<uint32_t> gallery;
  std::vector<bool> in_gallery(t.size(), false);
  std::vector<int32_t> dogs;                   // Label of each gallery dog, in order.
  std::vector<std::vector<uint32_t>> rows_of;  // Gallery rows of each dog.
  for (const auto& [label, photos] : by_label) {
    std::vector<uint32_t> chosen;
    if (per_dog == 1) {  // The draw the one-photo protocol has always used.
      chosen.push_back(photos[std::uniform_int_distribution<size_t>(0, photos.size() - 1)(rng)]);
    } else {
      chosen = photos;
      std::shuffle(chosen.begin(), chosen.end(), rng);
      chosen.resize(std::min<size_t>(chosen.size(), per_dog));
    }
    for (uint32_t g : chosen) {
      gallery.push_back(g);
      in_gallery[g] = true;
    }
    dogs.push_back(label);
    rows_of.push_back(std::move(chosen));
  }
  Identification r;
  size_t hit1 = 0, hit5 = 0;
  std::vector<float> d(dogs.size());
  for (uint32_t q = 0; q < t.size(); ++q) {
    if (in_gallery[q]) continue;
    float d_true = 0;
    for (size_t g = 0; g < dogs.size(); ++g) {
      float best = 1e30f;
      for (uint32_t row : rows_of[g]) best = std::min(best, t.distance(q, row));
      d[g] = best;
      if (dogs[g] == t.labels[q]) d_true = best;
    }
    size_t closer = 0;
    for (float x : d) closer += x < d_true;
    hit1 += closer == 0;
    hit5 += closer < 5;
    ++r.probes;
  }
  if (r.probes > 0) {
    r.rank1 = static_cast<double>(hit1) / r.probes;
    r.recall_at_5 = static_cast<double>(hit5) / r.probes;
  }
  r.gallery = std::move(gallery);
  return r;
}

double MeanAveragePrecision(const EmbeddingTable& t, int threads) {
  return RetrievalFigures(t, threads).mean_average_precision;
}

void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < std::max(1, threads); ++i) pool.emplace_back(work);
  work();
  for (std::thread& th : pool) th.join();
}

Retrieval RetrievalFigures(const EmbeddingTable& t, int threads) {
  const size_t n = t.size();
  std::vector<double> ap(n, -1), rr(n, 0);
  ParallelFor(n, threads, [&](size_t q) {
    std::vector<std::pair<float, bool>> ranked;
    ranked.reserve(n);
    size_t relevant = 0;
    for (size_t j = 0; j < n; ++j) {
      if (j == q) continue;
      const bool same = t.labels[j] == t.labels[q];
      relevant += same;
      ranked.emplace_back(t.distance(q, j), same);
    }
    if (relevant == 0) return;
    std::sort(ranked.begin(), ranked.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    double sum = 0;
    size_t hits = 0;
    for (size_t i = 0; i < ranked.size() && hits < relevant; ++i) {
      if (!ranked[i].second) continue;
      if (hits == 0) rr[q] = 1.0 / (i + 1);
      sum += static_cast<double>(++hits) / (i + 1);
    }
    ap[q] = sum / relevant;
  });
  Retrieval r;
  for (size_t q = 0; q < n; ++q) {
    if (ap[q] < 0) continue;
    r.mean_average_precision += ap[q];
    r.mrr += rr[q];
    r.top1 += rr[q] == 1.0;
    ++r.queries;
  }
  if (r.queries > 0) {
    r.mean_average_precision /= r.queries;
    r.mrr /= r.queries;
    r.top1 /= r.queries;
  }
  return r;
}

absl::StatusOr<EvalResult> Evaluate(const EmbeddingTable& t, const EvalOptions& o) {
  if (t.dim == 0 || t.vectors.size() != t.size() * t.dim) {
    return absl::InvalidArgumentError(absl::StrCat("embedding table has ", t.vectors.size(),
                                                   " floats for ", t.size(), " rows of ", t.dim));
  }
  for (float v : t.vectors) {
    if (!std::isfinite(v)) return absl::InvalidArgumentError("an embedding is not finite");
  }
  if (!t.offsets.empty() && t.offsets.size() != t.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(t.offsets.size(), " score offsets for ", t.size(), " embeddings"));
  }
  for (float offset : t.offsets) {
    if (!std::isfinite(offset)) return absl::InvalidArgumentError("a score offset is not finite");
  }
  const std::vector<std::pair<uint32_t, uint32_t>> all_pos = AllPositivePairs(t);
  const size_t neg_count = NegativePairCount(t);
  if (all_pos.empty() || neg_count == 0) {
    return absl::InvalidArgumentError(
        "evaluation needs at least 2 identities and one identity with 2 or more photos");
  }
  if (o.folds < 2) return absl::InvalidArgumentError("folds must be at least 2");
  EvalResult r;
  model::EvalMetrics& m = r.metrics;
  const std::vector<ScoredPair> pairs = BalancedPairs(t, o);
  std::tie(m.verification_accuracy, m.verification_accuracy_std) =
      KFoldAccuracy(pairs, o.folds, o.seed);
  m.threshold = BestThreshold(pairs);
  std::vector<float> pos_d, neg_d;
  for (const ScoredPair& p : pairs) (p.same ? pos_d : neg_d).push_back(p.distance);
  m.roc_auc = RocAuc(pos_d, neg_d);
  const Calibration cal = FitCalibration(pos_d, neg_d);
  m.confidence_center = cal.center;
  m.confidence_scale = cal.scale;
  r.roc = RocCurve(pairs);

  std::vector<std::pair<uint32_t, uint32_t>> far_neg;
  if (neg_count <= o.max_far_negatives) {
    for (uint32_t a = 0; a < t.size(); ++a) {
      for (uint32_t b = a + 1; b < t.size(); ++b) {
        if (t.labels[a] != t.labels[b]) far_neg.emplace_back(a, b);
      }
    }
  } else {
    std::mt19937_64 rng(o.seed ^ 0xfa11);
    far_neg = RandomNegativePairs(t, o.max_far_negatives, rng);
  }
  m.tar_at_far_1e3 = TarAtFar(Distances(t, all_pos), Distances(t, far_neg), o.far);

  const Identification id = Identify(t, o.seed);
  m.rank1 = id.rank1;
  m.recall_at_5 = id.recall_at_5;
  m.rank1_3_enrolled = Identify(t, o.seed, 3).rank1;
  const Retrieval ret = RetrievalFigures(t, o.threads);
  m.mean_average_precision = ret.mean_average_precision;
  m.full_gallery_top1 = ret.top1;
  m.full_gallery_mrr = ret.mrr;
  if (o.calibrate_identification) {
    m.identification = CalibrateIdentification(t, o.seed, &r.calibration_check);
  }
  const OpenSetFigures open = OpenSet(t, o.seed, &m.identification);
  m.dir_at_fpir_1e2 = open.dir_at_fpir_1e2;
  m.dir_at_fpir_5e2 = open.dir_at_fpir_5e2;
  m.dir_at_fpir_1e1 = open.dir_at_fpir_1e1;
  r.model_fpir_5e2 = open.model_fpir_5e2;
  r.model_dir_5e2 = open.model_dir_5e2;
  std::map<int32_t, int> ids;
  for (int32_t l : t.labels) ids[l]++;
  m.identities = static_cast<uint32_t>(ids.size());
  m.photos = static_cast<uint32_t>(t.size());
  m.pairs = static_cast<uint32_t>(pairs.size());
  return r;
}

std::vector<float> UnitCentroids(const EmbeddingTable& t) {
  std::map<int32_t, std::vector<double>> sums;
  for (size_t i = 0; i < t.size(); ++i) {
    std::vector<double>& sum = sums[t.labels[i]];
    sum.resize(t.dim, 0.0);
    for (size_t j = 0; j < t.dim; ++j) sum[j] += t.row(i)[j];
  }
  std::vector<float> out;
  out.reserve(sums.size() * t.dim);
  for (const auto& [label, sum] : sums) {
    double norm = 0;
    for (double v : sum) norm += v * v;
    norm = std::sqrt(norm);
    for (double v : sum) out.push_back(static_cast<float>(norm > 0 ? v / norm : 0));
  }
  return out;
}

absl::Status SetOffsets(const model::Cohort& cohort, EmbeddingTable* t) {
  if (cohort.dim() != t->dim) {
    return absl::InvalidArgumentError(
        absl::StrCat("cohort vectors have ", cohort.dim(), " dimensions, the embeddings ", t->dim));
  }
  t->offsets.resize(t->size());
  for (size_t i = 0; i < t->size(); ++i) t->offsets[i] = cohort.Offset(t->row(i));
  return absl::OkStatus();
}

}  // namespace dogsearch::trainer
