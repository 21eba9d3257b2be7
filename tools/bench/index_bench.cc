// Index benchmark, service side: the index service over loopback gRPC and exact brute force.
// tools/bench/run_index_bench.sh runs it together with hnswlib_bench (in-process hnswlib, same
// data, same parameters) so both are measured in one run on one machine.
//
//   build/tools/bench/index_bench --n=100000 [--queries=1000] [--dim=128]
//
// Prints Markdown tables (docs/BENCHMARKS.md holds the recorded runs): build time, memory,
// recall@10 and queries/s for each ef, for 1 and 8 gRPC clients with single and batch search,
// and ingest rates under each sync policy.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <unordered_set>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_server.h"
#include "services/index/index_service.h"
#include "tools/bench/bench_common.h"

ABSL_FLAG(int, n, 100000, "Vectors in the index");
ABSL_FLAG(int, queries, 1000, "Queries (drawn from the same clusters, not indexed)");
ABSL_FLAG(int, dim, 128, "Dimension");
ABSL_FLAG(int, clusters, 10000, "Gaussian clusters");
ABSL_FLAG(std::string, data_dir, "/tmp/dogsearch-index-bench", "Scratch directory (wiped)");
ABSL_FLAG(int, ingest_records, 4000, "Records per ingest-rate measurement");

namespace dogsearch::index {
namespace {

using namespace ::dogsearch::bench;  // NOLINT: benchmark-local helpers.

class Server {
 public:
  Catalog* catalog() { return catalog_.get(); }
  explicit Server(const std::string& dir)
      : pool_(4, 1024),
        catalog_(*Catalog::Open(dir, {})),
        service_(catalog_.get(), &pool_, rpc::TokenAuthenticator("", false), {}, &registry_),
        server_(*rpc::GrpcServer::Start({}, {&service_})) {}
  std::shared_ptr<grpc::Channel> Channel() {
    return *rpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), {});
  }

 private:
  metrics::MetricsRegistry registry_;
  ThreadPool pool_;
  std::unique_ptr<Catalog> catalog_;
  IndexService service_;
  std::unique_ptr<rpc::GrpcServer> server_;
};

grpc::Status CreateCollection(v1::Index::Stub& stub, const std::string& name, int dim,
                              v1::SyncPolicy policy) {
  v1::CreateCollectionRequest req;
  req.set_name(name);
  req.set_dimension(dim);
  req.set_model_version("bench");
  req.set_sync_policy(policy);
  v1::CollectionInfo info;
  grpc::ClientContext ctx;
  return stub.CreateCollection(&ctx, req, &info);
}

void Ingest(v1::Index::Stub& stub, const std::string& coll, const Vectors& data, size_t from,
            size_t to, size_t batch, int clients) {
  std::atomic<size_t> next{from};
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c) {
    ts.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(batch)) < to;) {
        v1::UpsertRequest req;
        req.set_collection(coll);
        for (size_t j = i; j < std::min(to, i + batch); ++j) {
          v1::Record* r = req.add_records();
          r->set_id(std::to_string(j));
          *r->mutable_vector() = {data[j].begin(), data[j].end()};
        }
        v1::UpsertResponse resp;
        grpc::ClientContext ctx;
        grpc::Status s = stub.Upsert(&ctx, req, &resp);
        if (!s.ok()) std::fprintf(stderr, "upsert failed: %s\n", s.error_message().c_str());
      }
    });
  }
  for (auto& t : ts) t.join();
}

double SearchQps(v1::Index::Stub& stub, const Vectors& queries, uint32_t ef, int clients,
                 bool batch, std::vector<std::vector<uint32_t>>* got) {
  const size_t step = batch ? 64 : 1;
  const absl::Time start = absl::Now();
  std::atomic<size_t> next{0};
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c) {
    ts.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(step)) < queries.size();) {
        v1::BatchSearchRequest req;
        req.set_collection("bench");
        const size_t end = std::min(queries.size(), i + step);
        for (size_t q = i; q < end; ++q) {
          v1::VectorSearchRequest* s = req.add_queries();
          *s->mutable_vector() = {queries[q].begin(), queries[q].end()};
          s->set_k(kK);
          s->set_ef(ef);
        }
        grpc::ClientContext ctx;
        std::vector<v1::VectorSearchResponse> results;
        if (batch) {
          v1::BatchSearchResponse resp;
          if (stub.BatchSearch(&ctx, req, &resp).ok()) results.assign(resp.results().begin(), resp.results().end());
        } else {
          v1::VectorSearchRequest one = req.queries(0);
          one.set_collection("bench");
          v1::VectorSearchResponse resp;
          if (stub.Search(&ctx, one, &resp).ok()) results.push_back(resp);
        }
        for (size_t q = i; q < end && q - i < results.size(); ++q) {
          (*got)[q].clear();
          for (const auto& h : results[q - i].hits()) (*got)[q].push_back(std::stoul(h.id()));
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  return queries.size() / absl::ToDoubleSeconds(absl::Now() - start);
}

void ServiceSearch(const Vectors& data, const Vectors& queries,
                   const std::vector<std::vector<uint32_t>>& truth, const std::string& dir,
                   std::vector<Row>* rows) {
  const double rss0 = RssMiB();
  Server server(dir);
  auto stub = v1::Index::NewStub(server.Channel());
  CreateCollection(*stub, "bench", static_cast<int>(data[0].size()), v1::SYNC_POLICY_NONE);
  absl::Time start = absl::Now();
  Ingest(*stub, "bench", data, 0, data.size(), 1000, 2);
  std::printf("| index service over gRPC | %.1f s (batches of 1000, sync NONE) | %.0f MiB |\n",
              absl::ToDoubleSeconds(absl::Now() - start), RssMiB() - rss0);
  auto coll = *server.catalog()->Resolve("bench");
  for (uint32_t ef : kEfs) {
    std::vector<std::vector<uint32_t>> core_got(queries.size());
    double core_qps[2];
    for (int threads : {1, 2}) {
      const absl::Time t0 = absl::Now();
      ParallelFor(threads, queries.size(), [&](int, size_t q) {
        SearchParams p;
        p.k = kK;
        p.ef = ef;
        auto hits = coll->Search(queries[q], p);
        core_got[q].clear();
        for (const auto& h : *hits) core_got[q].push_back(std::stoul(h.id));
      });
      core_qps[threads - 1] = queries.size() / absl::ToDoubleSeconds(absl::Now() - t0);
    }
    rows->push_back({"index core in-process, no gRPC (1 / 2 threads)", ef,
                     Recall(truth, core_got), core_qps[0], core_qps[1]});
    for (bool batch : {false, true}) {
      std::vector<std::vector<uint32_t>> got(queries.size());
      const double q1 = SearchQps(*stub, queries, ef, 1, batch, &got);
      const double q8 = SearchQps(*stub, queries, ef, 8, batch, &got);
      rows->push_back({batch ? "gRPC BatchSearch of 64 (1 / 8 clients)"
                             : "gRPC Search (1 / 8 clients)",
                       ef, Recall(truth, got), q1, q8});
    }
  }
}

void IngestRates(const Vectors& data, const std::string& dir) {
  Server server(dir);
  auto stub = v1::Index::NewStub(server.Channel());
  const size_t n = std::min<size_t>(absl::GetFlag(FLAGS_ingest_records), data.size());
  std::printf("\n| ingest (1 record per Upsert, %zu records) | records/s |\n|---|---|\n", n);
  struct Case { const char* what; v1::SyncPolicy policy; int clients; };
  for (const Case& c : {Case{"fsync every write, 1 client", v1::SYNC_POLICY_ALWAYS, 1},
                        Case{"fsync, group commit, 8 clients", v1::SYNC_POLICY_ALWAYS, 8},
                        Case{"no sync, 8 clients", v1::SYNC_POLICY_NONE, 8}}) {
    const std::string name = absl::StrCat("ingest", static_cast<int>(c.policy), "_", c.clients);
    CreateCollection(*stub, name, static_cast<int>(data[0].size()), c.policy);
    const absl::Time start = absl::Now();
    Ingest(*stub, name, data, 0, n, 1, c.clients);
    std::printf("| %s | %.0f |\n", c.what, n / absl::ToDoubleSeconds(absl::Now() - start));
  }
}

int Main() {
  SetLogLevel(LogLevel::kWarning);
  const int n = absl::GetFlag(FLAGS_n), dim = absl::GetFlag(FLAGS_dim);
  const int nq = absl::GetFlag(FLAGS_queries);
  Vectors all, queries;
  MakeDataSet(n, nq, dim, absl::GetFlag(FLAGS_clusters), &all, &queries);
  double bf_qps;
  auto truth = BruteForce(all, queries, 2, &bf_qps);
  std::printf("n=%d dim=%d queries=%d k=%d M=16 ef_construction=200, %u cores\n\n", n, dim, nq,
              kK, std::thread::hardware_concurrency());
  std::printf("| index | build | memory (RSS growth) |\n|---|---|---|\n");
  std::vector<Row> rows;
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  std::filesystem::remove_all(dir);
  ServiceSearch(all, queries, truth, dir + "/search", &rows);
  std::printf("\nexact brute force: %.0f queries/s (2 threads), recall 1.0\n\n", bf_qps);
  std::printf("| search | ef | recall@10 | queries/s (1) | queries/s (2 threads / 8 clients) |\n");
  std::printf("|---|---|---|---|---|\n");
  PrintRows(rows);
  IngestRates(all, dir + "/ingest");
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace dogsearch::index

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return dogsearch::index::Main();
}
