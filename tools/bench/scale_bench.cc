// Registry-scale index benchmark (issue #22): a gallery of N photos (N / 5 dogs, 5 photos each)
// in a real index_server process, driven over loopback gRPC. tools/bench/run_scale_bench.sh runs
// the phases in order around a kill -9 and a restart:
//
//   --phase=fill    creates the collection, bulk-loads N records from 2 client threads in
//                   batches (the fill path), prints the rate and the server's resident memory
//                   as it goes, then takes a snapshot (its time and size);
//   --phase=query   unary Search from --clients threads (p50/p99, searches/s) and recall@10
//                   of --queries searches against exact search over all N vectors (brute force
//                   here, on vectors regenerated from their seeds; kept in --truth for the
//                   next query phase);
//   --phase=ready   polls Search until the restarted server answers; prints the seconds since
//                   --since_unix_ms (when the old process was killed).
//
// The data: dog d's centre is drawn from a Gaussian (seeded by d) and photo j of dog d is its
// centre plus Gaussian scatter, L2-normalised; nothing is stored, every vector is regenerated
// from its seed. By default both Gaussians are isotropic (centres N(0, I), scatter 0.5 per
// coordinate, as bench_common's Clustered: 128 independent dimensions, the hard case for a
// graph index). With --real_embeddings (a dogsearch-eval --embeddings_out file) they take the
// mean, between-dog covariance and within-dog covariance of real embeddings, so the synthetic
// gallery has the shape of a real one. Record ids are 64-hex-digit SHA-256s and the payload
// names the dog and the photo, as the gateway writes them.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <queue>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/base/sha256.h"
#include "common/rpc/channel.h"
#include "dogsearch/v1/index.grpc.pb.h"
#include "tools/bench/bench_common.h"
#include "tools/bench/gallery_model.h"

ABSL_FLAG(std::string, phase, "fill", "fill, query or ready");
ABSL_FLAG(std::string, index, "127.0.0.1:50052", "host:port of the index_server");
ABSL_FLAG(int, server_pid, 0, "Its process id (resident memory)");
ABSL_FLAG(int64_t, n, 100000, "Photos in the gallery (5 per dog)");
ABSL_FLAG(int, batch, 1000, "Records per Upsert (fill)");
ABSL_FLAG(int, m, 16, "HNSW M (fill)");
ABSL_FLAG(int, ef_construction, 100, "HNSW ef_construction (fill)");
ABSL_FLAG(int, ef, 64, "Search ef (query)");
ABSL_FLAG(std::string, vector_encoding, "float32", "float32, float16 or int8 (fill)");
ABSL_FLAG(int, clients, 8, "Concurrent Search clients (query)");
ABSL_FLAG(int, queries, 200, "Searches checked against exact search (query)");
ABSL_FLAG(double, seconds, 10, "Seconds of concurrent Search (query)");
ABSL_FLAG(int64_t, since_unix_ms, 0, "When the old server was killed (ready)");
ABSL_FLAG(std::string, truth, "",
          "File of the exact answers (query): read if it exists, else computed and written");
ABSL_FLAG(std::string, real_embeddings, "",
          "dogsearch-eval --embeddings_out file: draw dog centres and photo scatter from Gaussians "
          "with the covariances of these real embeddings (between dogs, within a dog) instead of "
          "isotropic ones");

namespace dogsearch::bench {
namespace {

namespace v1 = ::dogsearch::v1;
constexpr char kCollection[] = "scale", kModel[] = "scale-bench";
constexpr int kDim = kGalleryDim, kPerDog = 5;

const GalleryModel& Model() {
  static const GalleryModel* m =
      new GalleryModel(LoadGalleryModel(absl::GetFlag(FLAGS_real_embeddings)));
  return *m;
}

std::vector<float> PhotoVector(int64_t dog, int64_t photo) {
  return bench::PhotoVector(Model(), dog, photo);
}

std::string PhotoId(int64_t i) { return Sha256::Hex(absl::StrCat("scale photo ", i)); }

std::unique_ptr<v1::Index::Stub> Stub() {
  return v1::Index::NewStub(*rpc::CreateChannel(absl::GetFlag(FLAGS_index), {}));
}

void Check(const grpc::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.error_message().c_str());
  std::exit(1);
}

int Fill() {
  const int64_t n = absl::GetFlag(FLAGS_n);
  const int batch = absl::GetFlag(FLAGS_batch), pid = absl::GetFlag(FLAGS_server_pid);
  auto stub = Stub();
  {
    v1::CreateCollectionRequest req;
    req.set_name(kCollection);
    req.set_dimension(kDim);
    req.set_metric(v1::METRIC_COSINE);
    req.set_model_version(kModel);
    req.set_max_records(static_cast<uint64_t>(n));
    req.set_initial_capacity(static_cast<uint64_t>(n));
    req.mutable_hnsw()->set_m(absl::GetFlag(FLAGS_m));
    req.mutable_hnsw()->set_ef_construction(absl::GetFlag(FLAGS_ef_construction));
    req.mutable_hnsw()->set_ef_search(absl::GetFlag(FLAGS_ef));
    req.set_sync_policy(v1::SYNC_POLICY_NONE);
    const std::string e = absl::GetFlag(FLAGS_vector_encoding);
    v1::VectorEncoding encoding;
    if (!v1::VectorEncoding_Parse(absl::StrCat("VECTOR_ENCODING_", absl::AsciiStrToUpper(e)),
                                  &encoding) ||
        encoding == v1::VECTOR_ENCODING_UNSPECIFIED) {
      std::fprintf(stderr, "--vector_encoding %s is not float32, float16 or int8\n", e.c_str());
      return 1;
    }
    req.set_vector_encoding(encoding);
    grpc::ClientContext ctx;
    v1::CollectionInfo info;
    Check(stub->CreateCollection(&ctx, req, &info), "create collection");
  }
  const double rss0 = RssMiBOf(pid);
  std::printf("data: %s\n", Model().source.c_str());
  std::printf(
      "fill: %lld photos of %lld dogs, M %d, ef_construction %d, %s; server RSS %.0f MiB "
      "before\n",
      static_cast<long long>(n), static_cast<long long>(n / kPerDog), absl::GetFlag(FLAGS_m),
      absl::GetFlag(FLAGS_ef_construction), absl::GetFlag(FLAGS_vector_encoding).c_str(), rss0);
  std::fflush(stdout);
  const absl::Time start = absl::Now();
  std::atomic<int64_t> done{0}, next_report{n / 10};
  std::mutex print_mu;
  const size_t batches = static_cast<size_t>((n + batch - 1) / batch);
  ParallelFor(2, batches, [&](int, size_t b) {
    v1::UpsertRequest up;
    up.set_collection(kCollection);
    up.set_model_version(kModel);
    const int64_t first = static_cast<int64_t>(b) * batch, last = std::min(n, first + batch);
    for (int64_t i = first; i < last; ++i) {
      const std::vector<float> v = PhotoVector(i / kPerDog, i % kPerDog);
      v1::Record* r = up.add_records();
      r->set_id(PhotoId(i));
      r->mutable_vector()->Add(v.begin(), v.end());
      r->mutable_payload()->set_dog_id(absl::StrCat("dog", i / kPerDog));
      r->mutable_payload()->set_photo_id(r->id());
    }
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, {}, absl::Minutes(10));
    v1::UpsertResponse resp;
    Check(stub->Upsert(&ctx, up, &resp), "upsert");
    const int64_t total = done.fetch_add(last - first) + (last - first);
    int64_t report = next_report.load();
    if (total >= report && next_report.compare_exchange_strong(report, report + n / 10)) {
      const double s = absl::ToDoubleSeconds(absl::Now() - start);
      std::lock_guard<std::mutex> l(print_mu);
      std::printf("  %lld records in %.0f s: %.0f records/s so far, server RSS %.0f MiB\n",
                  static_cast<long long>(total), s, total / s, RssMiBOf(pid));
      std::fflush(stdout);
    }
  });
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double rss = RssMiBOf(pid);
  std::printf(
      "| fill | %lld records | %.0f s | %.0f records/s | server RSS %.0f MiB (%.0f bytes "
      "per record) |\n",
      static_cast<long long>(n), seconds, n / seconds, rss,
      (rss - rss0) * 1048576.0 / static_cast<double>(n));
  const absl::Time t0 = absl::Now();
  grpc::ClientContext ctx;
  rpc::PrepareContext(&ctx, {}, absl::Minutes(30));
  v1::SnapshotRequest sreq;
  sreq.set_collection(kCollection);
  v1::SnapshotResponse sresp;
  Check(stub->Snapshot(&ctx, sreq, &sresp), "snapshot");
  std::printf("| snapshot | %.1f s | %.0f MiB on disk | server RSS %.0f MiB |\n",
              absl::ToDoubleSeconds(absl::Now() - t0), sresp.bytes() / 1048576.0, RssMiBOf(pid));
  return 0;
}

// Exact top-k ids (record numbers) of `queries` over all n records, by brute force.
std::vector<std::vector<uint32_t>> Exact(const std::vector<std::vector<float>>& queries,
                                         int64_t n) {
  using Heap = std::priority_queue<std::pair<float, uint32_t>>;  // Largest distance on top.
  const int threads = 2;
  std::vector<std::vector<Heap>> heaps(threads, std::vector<Heap>(queries.size()));
  const int64_t chunk = 4096;
  ParallelFor(threads, static_cast<size_t>((n + chunk - 1) / chunk), [&](int t, size_t c) {
    for (int64_t i = c * chunk; i < std::min<int64_t>(n, (c + 1) * chunk); ++i) {
      const std::vector<float> v = PhotoVector(i / kPerDog, i % kPerDog);
      for (size_t q = 0; q < queries.size(); ++q) {
        float dot = 0;
        for (int d = 0; d < kDim; ++d) dot += v[d] * queries[q][d];
        Heap& h = heaps[t][q];
        if (h.size() < kK) {
          h.emplace(1 - dot, static_cast<uint32_t>(i));
        } else if (1 - dot < h.top().first) {
          h.pop();
          h.emplace(1 - dot, static_cast<uint32_t>(i));
        }
      }
    }
  });
  std::vector<std::vector<uint32_t>> out(queries.size());
  for (size_t q = 0; q < queries.size(); ++q) {
    std::vector<std::pair<float, uint32_t>> all;
    for (auto& per : heaps)
      for (Heap& h = per[q]; !h.empty(); h.pop()) all.push_back(h.top());
    std::sort(all.begin(), all.end());
    for (int k = 0; k < kK && k < static_cast<int>(all.size()); ++k)
      out[q].push_back(all[k].second);
  }
  return out;
}

v1::VectorSearchRequest SearchRequest(const std::vector<float>& q) {
  v1::VectorSearchRequest req;
  req.set_collection(kCollection);
  req.set_model_version(kModel);
  req.mutable_vector()->Add(q.begin(), q.end());
  req.set_k(kK);
  req.set_ef(absl::GetFlag(FLAGS_ef));
  return req;
}

int Query() {
  const int64_t n = absl::GetFlag(FLAGS_n), dogs = n / kPerDog;
  const int nq = absl::GetFlag(FLAGS_queries), clients = absl::GetFlag(FLAGS_clients);
  auto stub = Stub();
  // Query photos: new photos (numbers 5+) of enrolled dogs spread over the gallery.
  std::vector<std::vector<float>> queries;
  for (int q = 0; q < nq; ++q) {
    queries.push_back(PhotoVector((static_cast<int64_t>(q) * 7919 + 13) % dogs, kPerDog + q));
  }
  // Recall@10 against exact search, and the index of each exact answer.
  std::vector<std::vector<uint32_t>> got(nq);
  std::unordered_map<std::string, uint32_t> id_to_record;
  const absl::Time t_exact = absl::Now();
  // The exact answers are computed once per data set and kept in --truth (the query phase runs
  // before and after the restart on the same data).
  const std::string truth_file = absl::GetFlag(FLAGS_truth);
  const bool cached = !truth_file.empty() && std::ifstream(truth_file).good();
  const auto truth = cached ? ReadTruth(truth_file) : Exact(queries, n);
  if (!cached && !truth_file.empty()) WriteTruth(truth_file, truth);
  const double exact_seconds = absl::ToDoubleSeconds(absl::Now() - t_exact);
  for (const auto& t : truth)
    for (uint32_t i : t) id_to_record[PhotoId(i)] = i;
  for (int q = 0; q < nq; ++q) {
    grpc::ClientContext ctx;
    v1::VectorSearchResponse resp;
    Check(stub->Search(&ctx, SearchRequest(queries[q]), &resp), "search");
    for (const auto& h : resp.hits()) {
      auto it = id_to_record.find(h.id());
      got[q].push_back(it == id_to_record.end() ? ~0u : it->second);
    }
  }
  const double recall = Recall(truth, got);
  // Latency under --clients concurrent unary searches.
  std::vector<double> ms;
  std::mutex mu;
  const absl::Time start = absl::Now(), end = start + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c) {
    ts.emplace_back([&, c] {
      std::vector<double> mine;
      for (int i = c; absl::Now() < end; i += clients) {
        grpc::ClientContext ctx;
        v1::VectorSearchResponse resp;
        const absl::Time t0 = absl::Now();
        Check(stub->Search(&ctx, SearchRequest(queries[i % nq]), &resp), "search");
        mine.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      }
      std::lock_guard<std::mutex> l(mu);
      ms.insert(ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : ts) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))];
  };
  std::printf(
      "| Search, ef %d, %d clients | %.0f searches/s | p50 %.2f ms | p99 %.2f ms | "
      "recall@10 %.3f (%d queries; exact answers %s) | server RSS %.0f MiB |\n",
      absl::GetFlag(FLAGS_ef), clients, ms.size() / seconds, pct(0.5), pct(0.99), recall, nq,
      cached ? "read from --truth" : absl::StrFormat("computed in %.0f s", exact_seconds).c_str(),
      RssMiBOf(absl::GetFlag(FLAGS_server_pid)));
  return 0;
}

int Ready() {
  auto stub = Stub();
  const std::vector<float> q = PhotoVector(0, kPerDog);
  for (;;) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::VectorSearchResponse resp;
    if (stub->Search(&ctx, SearchRequest(q), &resp).ok() && resp.hits_size() > 0) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  const double s = (absl::ToUnixMillis(absl::Now()) - absl::GetFlag(FLAGS_since_unix_ms)) / 1e3;
  std::printf("| restart | serving again %.1f s after kill -9 | server RSS %.0f MiB |\n", s,
              RssMiBOf(absl::GetFlag(FLAGS_server_pid)));
  return 0;
}

}  // namespace
}  // namespace dogsearch::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string phase = absl::GetFlag(FLAGS_phase);
  if (phase == "fill") return dogsearch::bench::Fill();
  if (phase == "query") return dogsearch::bench::Query();
  if (phase == "ready") return dogsearch::bench::Ready();
  std::fprintf(stderr, "unknown --phase %s\n", phase.c_str());
  return 2;
}
