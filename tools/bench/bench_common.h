// Shared pieces of the index benchmarks: the clustered data set, exact ground truth, recall,
// memory and CPU time of a process, a timed multi-pass query runner and the result tables.
// Header-only and free of hnswlib, so that the service benchmark and the raw-hnswlib benchmark
// (separate binaries: hnswlib 0.6.2's header can be compiled into only one object of a program) use
// the same data.
#ifndef DOGSEARCH_TOOLS_BENCH_BENCH_COMMON_H_
#define DOGSEARCH_TOOLS_BENCH_BENCH_COMMON_H_

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
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
  for (auto& c : centres)
    for (float& x : c) x = g(rng);
  Vectors out(n, std::vector<float>(dim));
  for (auto& v : out) {
    const auto& c = centres[rng() % clusters];
    double norm = 0;
    for (int d = 0; d < dim; ++d) {
      v[d] = c[d] + 0.5f * g(rng);
      norm += v[d] * v[d];
    }
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

// The data set both benchmarks use: n indexed vectors and `queries` held-out queries.
inline void MakeDataSet(int n, int queries, int dim, int clusters, Vectors* data, Vectors* q) {
  Vectors all = Clustered(n + queries, dim, clusters, 42);
  q->assign(all.end() - queries, all.end());
  all.resize(n);
  *data = std::move(all);
}

// CPU seconds (user + system) that process `pid` (0: this one) has used, from /proc.
inline double CpuSeconds(int pid = 0) {
  std::ifstream f(pid == 0 ? std::string("/proc/self/stat")
                           : "/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');  // The command name may hold spaces.
  if (paren == std::string::npos) return 0;
  std::istringstream rest(stat.substr(paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // Fields 14 and 15: utime, stime.
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Resident memory of process `pid` in MiB, from /proc/<pid>/status.
inline double RssMiBOf(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

struct Throughput {
  double qps = 0;
  double cpu_us = 0;         // CPU of this process per query.
  double server_cpu_us = 0;  // CPU of the server process per query (0: no server).
};

// Runs work(first, last, first_pass) over the query set [0, n) in chunks of `step` from
// `threads` threads, pass after pass, until at least `min_seconds` have passed and one whole
// pass is done (first_pass is true for the chunks of that pass, whose results count for
// recall). Measures queries/s and the CPU time per query of this process and of `server_pid`.
template <typename Work>
Throughput RunFor(int threads, size_t n, size_t step, double min_seconds, int server_pid,
                  Work work) {
  const size_t per_pass = (n + step - 1) / step;
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> stop{false};
  const double cpu0 = CpuSeconds(), server0 = server_pid ? CpuSeconds(server_pid) : 0;
  const absl::Time start = absl::Now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (size_t b; (b = next.fetch_add(1)) < per_pass || !stop.load();) {
        const size_t first = (b % per_pass) * step, last = std::min(n, first + step);
        work(first, last, b < per_pass);
        done.fetch_add(last - first);
        if (absl::Now() - start >= absl::Seconds(min_seconds)) stop.store(true);
      }
    });
  }
  for (auto& t : ts) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double queries = static_cast<double>(done.load());
  Throughput r;
  r.qps = queries / seconds;
  r.cpu_us = (CpuSeconds() - cpu0) / queries * 1e6;
  if (server_pid) r.server_cpu_us = (CpuSeconds(server_pid) - server0) / queries * 1e6;
  return r;
}

// One line of a search table: the single-thread (or single-client) figure and the parallel one
// (2 threads in process, 8 gRPC clients), with the parallel run's CPU per query.
struct Row {
  std::string what;
  uint32_t ef;
  double recall;
  Throughput one, many;
};

// One row: `work` (as RunFor takes it) from 1 thread or client, then from `many`; recall from
// the hit ids `work` records into `got` during each run's first pass.
template <typename Work>
Row MeasureRow(std::string what, uint32_t ef, int many, size_t step, double min_seconds,
               int server_pid, const std::vector<std::vector<uint32_t>>& truth,
               std::vector<std::vector<uint32_t>>* got, Work work) {
  Row row{std::move(what), ef, 0, {}, {}};
  got->assign(truth.size(), {});
  row.one = RunFor(1, truth.size(), step, min_seconds, server_pid, work);
  got->assign(truth.size(), {});
  row.many = RunFor(many, truth.size(), step, min_seconds, server_pid, work);
  row.recall = Recall(truth, *got);
  return row;
}

// Exact top-k ids per query, computed once by hnswlib_bench (--truth_out) and read by
// index_bench (--truth), so that a run pays for brute force once.
inline void WriteTruth(const std::string& path, const std::vector<std::vector<uint32_t>>& truth) {
  std::ofstream f(path);
  for (const auto& ids : truth) {
    for (uint32_t id : ids) f << id << " ";
    f << "\n";
  }
}

inline std::vector<std::vector<uint32_t>> ReadTruth(const std::string& path) {
  std::vector<std::vector<uint32_t>> truth;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);) {
    std::istringstream ids(line);
    truth.emplace_back(std::istream_iterator<uint32_t>(ids), std::istream_iterator<uint32_t>());
  }
  return truth;
}

// In-process hnswlib's figures per ef, written by hnswlib_bench and read by index_bench so
// that the ratios are computed, not copied by hand.
struct Baseline {
  double qps = 0, cpu_us = 0;
};

inline void WriteBaseline(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream f(path);
  for (const Row& r : rows) f << r.ef << " " << r.many.qps << " " << r.many.cpu_us << "\n";
}

inline std::map<uint32_t, Baseline> ReadBaseline(const std::string& path) {
  std::map<uint32_t, Baseline> out;
  std::ifstream f(path);
  uint32_t ef;
  Baseline b;
  while (f >> ef >> b.qps >> b.cpu_us) out[ef] = b;
  return out;
}

inline void PrintRowsHeader() {
  std::printf(
      "| search | ef | recall@10 | queries/s, 1 thread or client | queries/s, 2 threads or "
      "8 clients | CPU µs per query (gRPC: server + client) | queries/s ratio to hnswlib | CPU "
      "ratio: hnswlib ÷ server |\n|---|---|---|---|---|---|---|---|\n");
}

inline void PrintRows(const std::vector<Row>& rows, const std::map<uint32_t, Baseline>& base) {
  for (const Row& r : rows) {
    std::string cpu = std::to_string(static_cast<int>(std::lround(r.many.cpu_us)));
    double server_cpu = r.many.cpu_us;
    if (r.many.server_cpu_us > 0) {
      server_cpu = r.many.server_cpu_us;
      cpu = std::to_string(static_cast<int>(std::lround(server_cpu))) + " + " + cpu;
    }
    auto b = base.find(r.ef);
    char ratios[64] = "- | -";
    if (b != base.end() && b->second.qps > 0 && server_cpu > 0) {
      std::snprintf(ratios, sizeof(ratios), "%.2f | %.2f", r.many.qps / b->second.qps,
                    b->second.cpu_us / server_cpu);
    }
    std::printf("| %s | %u | %.3f | %.0f | %.0f | %s | %s |\n", r.what.c_str(), r.ef, r.recall,
                r.one.qps, r.many.qps, cpu.c_str(), ratios);
  }
}

}  // namespace dogsearch::bench

#endif  // DOGSEARCH_TOOLS_BENCH_BENCH_COMMON_H_
