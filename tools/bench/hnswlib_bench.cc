// Index benchmark, baseline side: in-process hnswlib (M=16, ef_construction=200, built with 2
// threads) on the same data set as index_bench. See run_index_bench.sh.
#include <hnswlib/hnswlib.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "tools/bench/bench_common.h"

ABSL_FLAG(int, n, 100000, "Vectors in the index");
ABSL_FLAG(int, queries, 1000, "Queries (drawn from the same clusters, not indexed)");
ABSL_FLAG(int, dim, 128, "Dimension");
ABSL_FLAG(int, clusters, 10000, "Gaussian clusters");
ABSL_FLAG(double, min_seconds, 2.0, "Each throughput figure repeats the queries this long");
ABSL_FLAG(std::string, baseline_out, "", "Write queries/s and CPU per query per ef here");
ABSL_FLAG(std::string, truth_out, "", "Write the exact top-10 ids per query here");

namespace dogsearch::bench {
namespace {

void InProcessHnsw(const Vectors& data, const Vectors& queries,
                   const std::vector<std::vector<uint32_t>>& truth, std::vector<Row>* rows) {
  const double rss0 = RssMiB();
  hnswlib::InnerProductSpace space(data[0].size());
  hnswlib::HierarchicalNSW<float> graph(&space, data.size(), 16, 200);
  absl::Time start = absl::Now();
  ParallelFor(2, data.size(), [&](int, size_t i) { graph.addPoint(data[i].data(), i); });
  std::printf("| in-process hnswlib | %.1f s (2 threads) | %.0f MiB |\n",
              absl::ToDoubleSeconds(absl::Now() - start), RssMiB() - rss0);
  const double min_seconds = absl::GetFlag(FLAGS_min_seconds);
  for (uint32_t ef : kEfs) {
    graph.setEf(ef);
    std::vector<std::vector<uint32_t>> got;
    rows->push_back(MeasureRow("in-process hnswlib (baseline)", ef, 2, 1, min_seconds, 0, truth,
                               &got, [&](size_t q, size_t, bool record) {
                                 auto res = graph.searchKnn(queries[q].data(), kK);
                                 if (!record) return;
                                 for (; !res.empty(); res.pop())
                                   got[q].push_back(static_cast<uint32_t>(res.top().second));
                               }));
  }
}

int Main() {
  Vectors data, queries;
  MakeDataSet(absl::GetFlag(FLAGS_n), absl::GetFlag(FLAGS_queries), absl::GetFlag(FLAGS_dim),
              absl::GetFlag(FLAGS_clusters), &data, &queries);
  double bf_qps;
  auto truth = BruteForce(data, queries, 2, &bf_qps);
  if (!absl::GetFlag(FLAGS_truth_out).empty()) WriteTruth(absl::GetFlag(FLAGS_truth_out), truth);
  std::printf("| index | build | memory (RSS growth) |\n|---|---|---|\n");
  std::vector<Row> rows;
  InProcessHnsw(data, queries, truth, &rows);
  std::printf("\nexact brute force: %.0f queries/s (2 threads), recall 1.0\n\n", bf_qps);
  PrintRowsHeader();
  PrintRows(rows, {});
  if (!absl::GetFlag(FLAGS_baseline_out).empty()) {
    WriteBaseline(absl::GetFlag(FLAGS_baseline_out), rows);
  }
  return 0;
}

}  // namespace
}  // namespace dogsearch::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return dogsearch::bench::Main();
}
