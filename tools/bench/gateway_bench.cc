// End-to-end Search latency of the gateway with a large gallery, against the same work done
// by a client calling the two backends itself (Embed pinned to the version, then index Search):
// the ratio is the gateway's own cost (photo checks, grouping by dog, SQLite lookups, one more
// gRPC hop).
//
//   --phase=fill   (gateway NOT running) writes N gallery photos straight into the gateway's
//                  store and the index collection for the serving model: synthetic clustered
//                  128-d unit vectors, 5 photos per dog. Enrolling 100,000 photos through the
//                  network on a 2-core CPU would take most of an hour; the search path does
//                  not care where the vectors came from.
//   --phase=query  (gateway running) times Search at each client count, then the direct
//                  backend calls at the same counts, with the same query photos.
// tools/bench/run_gateway_bench.sh runs both phases with the servers.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/file_util.h"
#include "common/base/sha256.h"
#include "common/rpc/channel.h"
#include "dogsearch/v1/dogsearch.grpc.pb.h"
#include "dogsearch/v1/embedding.grpc.pb.h"
#include "dogsearch/v1/index.grpc.pb.h"
#include "services/gateway/core/gallery_store.h"
#include "tools/bench/bench_common.h"

ABSL_FLAG(std::string, phase, "query", "fill or query");
ABSL_FLAG(std::string, gateway, "127.0.0.1:50050", "Gateway address (query)");
ABSL_FLAG(std::string, embedding, "127.0.0.1:50051", "Embedding service address");
ABSL_FLAG(std::string, index, "127.0.0.1:50052", "Index service address");
ABSL_FLAG(std::string, gateway_data, "", "Gateway --data_dir (fill)");
ABSL_FLAG(std::string, version, "", "Serving model version (fill)");
ABSL_FLAG(int64_t, photos, 100000, "Gallery photos (fill)");
ABSL_FLAG(std::string, query_dir, "", "Folder of query photos (searched recursively)");
ABSL_FLAG(int, queries, 400, "Searches per client count");
ABSL_FLAG(std::string, clients, "1,8", "Client counts");

namespace dogsearch::bench {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::dogsearch::v1;

void Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.error_message().c_str());
    std::exit(1);
  }
}

int Fill() {
  const std::string version = absl::GetFlag(FLAGS_version);
  const int64_t n = absl::GetFlag(FLAGS_photos);
  auto store = *gateway::GalleryStore::Open(absl::GetFlag(FLAGS_gateway_data) + "/gallery.sqlite");
  auto index = v1::Index::NewStub(*rpc::CreateChannel(absl::GetFlag(FLAGS_index), {}));
  const std::string collection = "gallery__" + version;
  const absl::Time start = absl::Now();
  const Vectors vectors = Clustered(n, 128, 1000, 7);
  constexpr int kPerDog = 5;
  for (int64_t first = 0; first < n; first += 1000) {
    v1::UpsertRequest up;
    up.set_collection(collection);
    up.set_model_version(version);
    for (int64_t i = first; i < std::min(n, first + 1000); i += kPerDog) {
      gateway::DogRow dog{
          absl::StrCat("bench", i / kPerDog), absl::StrCat("Bench dog ", i / kPerDog), "", 0, {}};
      for (int64_t j = i; j < std::min(n, i + kPerDog); ++j) {
        const std::string id = Sha256::Hex(absl::StrCat("bench photo ", j));
        dog.photos.push_back({id, dog.dog_id, "bench.jpg", 96, 96, 1000, 0});
        v1::Record* r = up.add_records();
        r->set_id(id);
        r->mutable_vector()->Add(vectors[j].begin(), vectors[j].end());
        r->mutable_payload()->set_dog_id(dog.dog_id);
        r->mutable_payload()->set_photo_id(id);
      }
      if (absl::Status s = store->InsertDog(dog); !s.ok() && !absl::IsAlreadyExists(s)) {
        std::fprintf(stderr, "store: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, {}, absl::Seconds(120));
    v1::UpsertResponse resp;
    Check(index->Upsert(&ctx, up, &resp), "upsert");
  }
  std::printf("filled %lld photos of %lld dogs into %s in %.1f s\n", static_cast<long long>(n),
              static_cast<long long>(n / kPerDog), collection.c_str(),
              absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}

struct Latencies {
  std::vector<double> ms;
  double seconds = 0;
  double Percentile(double p) {
    std::sort(ms.begin(), ms.end());
    return ms.empty() ? 0 : ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))];
  }
};

template <typename Fn>
Latencies Measure(int clients, int queries, Fn one) {
  Latencies out;
  std::mutex mu;
  const absl::Time start = absl::Now();
  ParallelFor(clients, queries, [&](int, size_t q) {
    const absl::Time t0 = absl::Now();
    one(q);
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
    std::lock_guard<std::mutex> l(mu);
    out.ms.push_back(ms);
  });
  out.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return out;
}

int Query() {
  std::vector<std::string> photos;
  for (const auto& e : fs::recursive_directory_iterator(absl::GetFlag(FLAGS_query_dir))) {
    if (e.is_regular_file() && e.path().extension() == ".jpg") photos.push_back(e.path().string());
    if (photos.size() >= 500) break;
  }
  if (photos.empty()) {
    std::fprintf(stderr, "no .jpg under --query_dir\n");
    return 1;
  }
  std::vector<std::string> data;
  for (const auto& p : photos) data.push_back(*ReadFile(p));
  rpc::ChannelOptions co;
  co.max_receive_message_bytes = 64 << 20;
  auto gw = v1::DogSearch::NewStub(*rpc::CreateChannel(absl::GetFlag(FLAGS_gateway), co));
  auto emb = v1::Embedding::NewStub(*rpc::CreateChannel(absl::GetFlag(FLAGS_embedding), co));
  auto idx = v1::Index::NewStub(*rpc::CreateChannel(absl::GetFlag(FLAGS_index), co));
  v1::ModelStatus st;
  {
    grpc::ClientContext ctx;
    Check(gw->GetModelStatus(&ctx, v1::GetModelStatusRequest(), &st), "status");
  }
  const std::string version = st.serving_version();
  const int queries = absl::GetFlag(FLAGS_queries);
  std::printf("gallery: %llu dogs, %llu photos; model %s; %zu distinct query photos\n\n",
              static_cast<unsigned long long>(st.dogs()),
              static_cast<unsigned long long>(st.photos()), version.c_str(), data.size());
  std::printf("| path | clients | searches/s | p50 ms | p99 ms | ratio (searches/s vs direct) |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (absl::string_view c : absl::StrSplit(absl::GetFlag(FLAGS_clients), ',')) {
    int clients = 1;
    if (!absl::SimpleAtoi(c, &clients)) return 2;
    auto gateway_search = [&](size_t q) {
      v1::SearchRequest req;
      req.mutable_photo()->set_data(data[q % data.size()]);
      req.set_k(5);
      grpc::ClientContext ctx;
      rpc::PrepareContext(&ctx, {}, absl::Seconds(60));
      v1::SearchResponse resp;
      Check(gw->Search(&ctx, req, &resp), "search");
    };
    // What the gateway does underneath, called directly: embed pinned, then k*3*2+16 hits.
    auto direct = [&](size_t q) {
      v1::EmbedRequest er;
      er.add_photos()->set_data(data[q % data.size()]);
      er.set_model_version(version);
      v1::EmbedResponse e;
      {
        grpc::ClientContext ctx;
        rpc::PrepareContext(&ctx, {}, absl::Seconds(60));
        Check(emb->Embed(&ctx, er, &e), "embed");
      }
      v1::VectorSearchRequest sr;
      sr.set_collection("gallery__" + version);
      sr.set_model_version(version);
      sr.mutable_vector()->CopyFrom(e.embeddings(0).values());
      sr.set_k(5 * 3 * 2 + 16);
      grpc::ClientContext ctx;
      rpc::PrepareContext(&ctx, {}, absl::Seconds(60));
      v1::VectorSearchResponse r;
      Check(idx->Search(&ctx, sr, &r), "index search");
    };
    Measure(clients, std::min(queries, 50), gateway_search);  // Warm-up.
    Latencies g = Measure(clients, queries, gateway_search);
    Latencies d = Measure(clients, queries, direct);
    const double g_qps = queries / g.seconds, d_qps = queries / d.seconds;
    std::printf("| embedding + index called directly | %d | %.1f | %.1f | %.1f | 1.00 |\n", clients,
                d_qps, d.Percentile(0.5), d.Percentile(0.99));
    std::printf("| gateway Search | %d | %.1f | %.1f | %.1f | %.2f |\n", clients, g_qps,
                g.Percentile(0.5), g.Percentile(0.99), g_qps / d_qps);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace dogsearch::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return absl::GetFlag(FLAGS_phase) == "fill" ? dogsearch::bench::Fill()
                                              : dogsearch::bench::Query();
}
