// Index benchmark, service side. tools/bench/run_index_bench.sh runs it with hnswlib_bench
// (in-process hnswlib, same data, same parameters) so that all are measured in one run on one
// machine, against a real index_server process, as deployed:
//
//   --phase=service --index=HOST:PORT --server_pid=PID   the running server: build time and
//       memory, the CPU cost of one unary call without a search (a one-record collection),
//       recall@10 and queries/s per ef for 1 and 8 gRPC clients with single and batch search,
//       the server's and the clients' CPU time per query, then a snapshot and the ingest rates
//       under each sync policy;
//   --phase=core --data_dir=DIR                           after the server stopped: its data
//       opened in this process, the index core's own search (no gRPC) on the same collection.
//
// --baseline=FILE (written by hnswlib_bench --baseline_out) adds the ratio columns. Prints
// Markdown tables (docs/BENCHMARKS.md holds the recorded runs).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/rpc/channel.h"
#include "dogsearch/v1/index.grpc.pb.h"
#include "services/index/core/catalog.h"
#include "tools/bench/bench_common.h"

ABSL_FLAG(std::string, phase, "service", "service (measure --index) or core (open --data_dir)");
ABSL_FLAG(std::string, index, "", "host:port of the running index_server (phase service)");
ABSL_FLAG(int, server_pid, 0, "Its process id, for its CPU time and memory (phase service)");
ABSL_FLAG(std::string, data_dir, "", "The stopped server's data directory (phase core)");
ABSL_FLAG(std::string, baseline, "", "hnswlib_bench's --baseline_out file (ratio columns)");
ABSL_FLAG(std::string, truth, "", "hnswlib_bench's --truth_out file (else computed here)");
ABSL_FLAG(int, n, 100000, "Vectors in the index");
ABSL_FLAG(int, queries, 1000, "Queries (drawn from the same clusters, not indexed)");
ABSL_FLAG(int, dim, 128, "Dimension");
ABSL_FLAG(int, clusters, 10000, "Gaussian clusters");
ABSL_FLAG(double, min_seconds, 2.0, "Each throughput figure repeats the queries this long");
ABSL_FLAG(int, ingest_records, 4000, "Records per ingest-rate measurement (0: skip)");
ABSL_FLAG(std::vector<std::string>, efs, {}, "ef values to measure (default 16,32,64,128,256)");

namespace dogsearch::index {
namespace {

using namespace ::dogsearch::bench;  // NOLINT: benchmark-local helpers.

constexpr char kCollection[] = "bench";
constexpr size_t kBatch = 64;

std::vector<uint32_t> Efs() {
  std::vector<uint32_t> efs;
  for (const std::string& e : absl::GetFlag(FLAGS_efs)) efs.push_back(std::stoul(e));
  return efs.empty() ? kEfs : efs;
}

void Check(const grpc::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s failed: %s\n", what, s.error_message().c_str());
  std::exit(1);
}

void CreateCollection(v1::Index::Stub& stub, const std::string& name, int dim,
                      v1::SyncPolicy policy) {
  v1::CreateCollectionRequest req;
  req.set_name(name);
  req.set_dimension(dim);
  req.set_model_version("bench");
  req.set_sync_policy(policy);
  v1::CollectionInfo info;
  grpc::ClientContext ctx;
  Check(stub.CreateCollection(&ctx, req, &info), "CreateCollection");
}

void Ingest(v1::Index::Stub& stub, const std::string& coll, const Vectors& data, size_t n,
            size_t batch, int clients) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c) {
    ts.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(batch)) < n;) {
        v1::UpsertRequest req;
        req.set_collection(coll);
        for (size_t j = i; j < std::min(n, i + batch); ++j) {
          v1::Record* r = req.add_records();
          r->set_id(std::to_string(j));
          *r->mutable_vector() = {data[j].begin(), data[j].end()};
        }
        v1::UpsertResponse resp;
        grpc::ClientContext ctx;
        Check(stub.Upsert(&ctx, req, &resp), "Upsert");
      }
    });
  }
  for (auto& t : ts) t.join();
}

// One gRPC search of queries [first, last): Search when `batch` is false (one query per call),
// else BatchSearch. Records the hit ids in `got` when asked.
void SearchOnce(v1::Index::Stub& stub, const Vectors& queries, uint32_t ef, bool batch,
                size_t first, size_t last, bool record, std::vector<std::vector<uint32_t>>* got) {
  auto fill = [&](size_t q, v1::VectorSearchRequest* s) {
    s->set_collection(kCollection);
    *s->mutable_vector() = {queries[q].begin(), queries[q].end()};
    s->set_k(kK);
    s->set_ef(ef);
  };
  auto keep = [&](size_t q, const v1::VectorSearchResponse& r) {
    if (!record) return;
    for (const auto& h : r.hits()) (*got)[q].push_back(std::stoul(h.id()));
  };
  grpc::ClientContext ctx;
  if (!batch) {
    v1::VectorSearchRequest req;
    fill(first, &req);
    v1::VectorSearchResponse resp;
    Check(stub.Search(&ctx, req, &resp), "Search");
    keep(first, resp);
    return;
  }
  v1::BatchSearchRequest req;
  req.set_collection(kCollection);
  for (size_t q = first; q < last; ++q) fill(q, req.add_queries());
  v1::BatchSearchResponse resp;
  Check(stub.BatchSearch(&ctx, req, &resp), "BatchSearch");
  for (size_t q = first; q < last; ++q) keep(q, resp.results(static_cast<int>(q - first)));
}

// What one unary Search costs without the search: a one-record collection, 8 clients.
void PrintCallFloor(v1::Index::Stub& stub, int pid, int dim, double min_seconds) {
  const std::string name = "call_floor";
  CreateCollection(stub, name, dim, v1::SYNC_POLICY_NONE);
  Vectors one(1, std::vector<float>(dim, 0.0f));
  one[0][0] = 1.0f;
  Ingest(stub, name, one, 1, 1, 1);
  v1::VectorSearchRequest req;
  req.set_collection(name);
  *req.mutable_vector() = {one[0].begin(), one[0].end()};
  req.set_k(kK);
  Throughput t = RunFor(8, 1000, 1, min_seconds, pid, [&](size_t, size_t, bool) {
    grpc::ClientContext ctx;
    v1::VectorSearchResponse resp;
    Check(stub.Search(&ctx, req, &resp), "Search");
  });
  std::printf(
      "\nPer-call floor (unary Search of a one-record collection, 8 clients): %.0f calls/s, "
      "CPU per call %.0f µs server + %.0f µs client\n\n",
      t.qps, t.server_cpu_us, t.cpu_us);
}

void ServicePhase(const Vectors& data, const Vectors& queries,
                  const std::vector<std::vector<uint32_t>>& truth, std::vector<Row>* rows) {
  const int pid = absl::GetFlag(FLAGS_server_pid);
  auto stub = v1::Index::NewStub(*rpc::CreateChannel(absl::GetFlag(FLAGS_index), {}));
  const double rss0 = RssMiBOf(pid);
  CreateCollection(*stub, kCollection, static_cast<int>(data[0].size()), v1::SYNC_POLICY_NONE);
  const absl::Time start = absl::Now();
  Ingest(*stub, kCollection, data, data.size(), 1000, 2);
  std::printf(
      "| dogsearch index server (separate process) | %.1f s (Upserts of 1,000 from 2 "
      "clients, sync NONE) | %.0f MiB (server RSS growth) |\n",
      absl::ToDoubleSeconds(absl::Now() - start), RssMiBOf(pid) - rss0);
  const double min_seconds = absl::GetFlag(FLAGS_min_seconds);
  PrintCallFloor(*stub, pid, static_cast<int>(data[0].size()), min_seconds);
  for (uint32_t ef : Efs()) {
    for (bool batch : {false, true}) {
      std::vector<std::vector<uint32_t>> got;
      rows->push_back(MeasureRow(batch ? "gRPC BatchSearch, 64 per call" : "gRPC Search", ef, 8,
                                 batch ? kBatch : 1, min_seconds, pid, truth, &got,
                                 [&](size_t first, size_t last, bool record) {
                                   SearchOnce(*stub, queries, ef, batch, first, last, record, &got);
                                 }));
    }
  }
  v1::SnapshotRequest req;  // So that phase core opens the collection without a WAL replay.
  req.set_collection(kCollection);
  v1::SnapshotResponse resp;
  grpc::ClientContext ctx;
  Check(stub->Snapshot(&ctx, req, &resp), "Snapshot");
}

void IngestRates(v1::Index::Stub& stub, const Vectors& data) {
  const size_t n = std::min<size_t>(absl::GetFlag(FLAGS_ingest_records), data.size());
  std::printf("\n| ingest (1 record per Upsert, %zu records) | records/s |\n|---|---|\n", n);
  struct Case {
    const char* what;
    v1::SyncPolicy policy;
    int clients;
  };
  for (const Case& c : {Case{"fsync every write, 1 client", v1::SYNC_POLICY_ALWAYS, 1},
                        Case{"fsync, group commit, 8 clients", v1::SYNC_POLICY_ALWAYS, 8},
                        Case{"no sync, 8 clients", v1::SYNC_POLICY_NONE, 8}}) {
    const std::string name = absl::StrCat("ingest", static_cast<int>(c.policy), "_", c.clients);
    CreateCollection(stub, name, static_cast<int>(data[0].size()), c.policy);
    const absl::Time start = absl::Now();
    Ingest(stub, name, data, n, 1, c.clients);
    std::printf("| %s | %.0f |\n", c.what, n / absl::ToDoubleSeconds(absl::Now() - start));
  }
}

void CorePhase(const Vectors& queries, const std::vector<std::vector<uint32_t>>& truth,
               std::vector<Row>* rows) {
  auto catalog = Catalog::Open(absl::GetFlag(FLAGS_data_dir), {});
  if (!catalog.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", absl::GetFlag(FLAGS_data_dir).c_str(),
                 catalog.status().ToString().c_str());
    std::exit(1);
  }
  auto coll = *(*catalog)->Resolve(kCollection);
  const double min_seconds = absl::GetFlag(FLAGS_min_seconds);
  for (uint32_t ef : Efs()) {
    std::vector<std::vector<uint32_t>> got;
    rows->push_back(MeasureRow("index core in-process, no gRPC", ef, 2, 1, min_seconds, 0, truth,
                               &got, [&](size_t q, size_t, bool record) {
                                 SearchParams p;
                                 p.k = kK;
                                 p.ef = ef;
                                 auto hits = coll->Search(queries[q], p);
                                 if (!record) return;
                                 for (const auto& h : *hits) got[q].push_back(std::stoul(h.id));
                               }));
  }
}

int Main() {
  SetLogLevel(LogLevel::kWarning);
  const std::string phase = absl::GetFlag(FLAGS_phase);
  if (phase != "service" && phase != "core") {
    std::fprintf(stderr, "--phase must be service or core\n");
    return 2;
  }
  if (phase == "service" &&
      (absl::GetFlag(FLAGS_index).empty() || absl::GetFlag(FLAGS_server_pid) <= 0)) {
    std::fprintf(stderr, "--phase=service needs --index and --server_pid\n");
    return 2;
  }
  Vectors data, queries;
  MakeDataSet(absl::GetFlag(FLAGS_n), absl::GetFlag(FLAGS_queries), absl::GetFlag(FLAGS_dim),
              absl::GetFlag(FLAGS_clusters), &data, &queries);
  std::vector<std::vector<uint32_t>> truth;
  if (!absl::GetFlag(FLAGS_truth).empty()) truth = ReadTruth(absl::GetFlag(FLAGS_truth));
  if (truth.size() != queries.size()) {  // No file, or one for another data set.
    double bf_qps;
    truth = BruteForce(data, queries, 2, &bf_qps);
  }
  std::vector<Row> rows;
  if (phase == "service") {
    std::printf("| index | build | memory |\n|---|---|---|\n");
    ServicePhase(data, queries, truth, &rows);
  } else {
    CorePhase(queries, truth, &rows);
  }
  std::printf("\n");
  PrintRowsHeader();
  PrintRows(rows, ReadBaseline(absl::GetFlag(FLAGS_baseline)));
  if (phase == "service" && absl::GetFlag(FLAGS_ingest_records) > 0) {
    IngestRates(*v1::Index::NewStub(*rpc::CreateChannel(absl::GetFlag(FLAGS_index), {})), data);
  }
  return 0;
}

}  // namespace
}  // namespace dogsearch::index

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return dogsearch::index::Main();
}
