// Shared pieces of the index benchmarks: the clustered data set, exact ground truth, recall,
// memory and a tiny parallel-for. Header-only and free of hnswlib, so that the service
// benchmark and the raw-hnswlib benchmark (separate binaries: hnswlib 0.6.2's header can be
// compiled into only one object of a program) use the same data.
#ifndef DOGSEARCH_TOOLS_BENCH_BENCH_COMMON_H_
#define DOGSEARCH_TOOLS_BENCH_BENCH_COMMON_H_

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/time/clock.h"
#include "common/base/process_stats.h"

namespace dogsearch::bench {

using Vectors = std::vector<std::vector<float>>;
inline constexpr int kK = 10;
inline const std::vector<uint32_t> kEfs = {16, 32, 64, 128, 256};

inline Vectors Clustered(size_t n, int dim, int clusters, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  Vectors centres(clusters, std::vector<float>(dim));
  for (auto& c : centres) for (float& x : c) x = g(rng);
  Vectors out(n, std::vector<float>(dim));
  for (auto& v : out) {
    const auto& c = centres[rng() % clusters];
    double norm = 0;
    for (int d = 0; d < dim; ++d) norm += (v[d] = c[d] + 0.5f * g(rng)) * v[d];
    for (float& x : v) x /= static_cast<float>(std::sqrt(norm));
  }
  return out;
}

inline double RssMiB() { return ResidentMemoryBytes().value_or(0) / (1024.0 * 1024.0); }

template <typename Fn>
void ParallelFor(int threads, size_t n, Fn fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (size_t i; (i = next.fetch_add(1)) < n;) fn(t, i);
    });
  }
  for (auto& t : ts) t.join();
}

// Exact top-k by brute force; also times it (queries/s with `threads`).
inline std::vector<std::vector<uint32_t>> BruteForce(const Vectors& data, const Vectors& queries,
                                              int threads, double* qps) {
  std::vector<std::vector<uint32_t>> truth(queries.size());
  const absl::Time start = absl::Now();
  ParallelFor(threads, queries.size(), [&](int, size_t q) {
    std::vector<std::pair<float, uint32_t>> d(data.size());
    for (size_t i = 0; i < data.size(); ++i) {
      float dot = 0;
      for (size_t j = 0; j < queries[q].size(); ++j) dot += queries[q][j] * data[i][j];
      d[i] = {-dot, static_cast<uint32_t>(i)};
    }
    std::partial_sort(d.begin(), d.begin() + kK, d.end());
    for (int i = 0; i < kK; ++i) truth[q].push_back(d[i].second);
  });
  *qps = queries.size() / absl::ToDoubleSeconds(absl::Now() - start);
  return truth;
}

inline double Recall(const std::vector<std::vector<uint32_t>>& truth,
              const std::vector<std::vector<uint32_t>>& got) {
  size_t hit = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    std::unordered_set<uint32_t> t(truth[q].begin(), truth[q].end());
    for (uint32_t id : got[q]) hit += t.count(id);
  }
  return static_cast<double>(hit) / (truth.size() * kK);
}

struct Row {
  std::string what;
  uint32_t ef;
  double recall, qps1, qps8;
};

// The data set both benchmarks use: n indexed vectors and `queries` held-out queries.
inline void MakeDataSet(int n, int queries, int dim, int clusters, Vectors* data, Vectors* q) {
  Vectors all = Clustered(n + queries, dim, clusters, 42);
  q->assign(all.end() - queries, all.end());
  all.resize(n);
  *data = std::move(all);
}

inline void PrintRows(const std::vector<Row>& rows) {
  for (const Row& r : rows) {
    std::printf("| %s | %u | %.3f | %.0f | %.0f |\n", r.what.c_str(), r.ef, r.recall, r.qps1, r.qps8);
  }
}

}  // namespace dogsearch::bench

#endif  // DOGSEARCH_TOOLS_BENCH_BENCH_COMMON_H_
