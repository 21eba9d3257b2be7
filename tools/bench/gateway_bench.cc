// End-to-end Search latency of the gateway with a large gallery, against the same work done
// by a client calling the two backends itself (Embed pinned to the version, then index Search):
// the ratio is the gateway's own cost (photo checks, grouping by dog, SQLite lookups, one more
// gRPC hop).
//
//   --phase=fill   (gateway NOT running) writes N gallery photos straight into the gateway's
//                  store (one SQLite transaction) and the index collection for the serving
//                  model (--fill_threads upsert streams): synthetic 128-d unit vectors, 5 photos
//                  per dog, isotropic or shaped like real embeddings (--real_embeddings). Enrolling
//                  100,000 photos through the network on a 2-core CPU would take most of an hour;
//                  the search path does not care where the vectors came from.
//   --phase=query  (gateway running) times Search at each client count, then the direct
//                  backend calls at the same counts, with the same query photos.
//   --phase=enroll (gateway running) enrolls real dogs through the API into that gallery and
//                  embeds the same photos directly: enrollment's rate against the embedding's.
//   --phase=upgrade (gateway running, a gallery of real photos) upgrades the gallery to
//                  --to_version and times the re-embedding of every stored photo.
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
#include "services/gateway/core/vectors.h"
#include "tools/bench/bench_common.h"
#include "tools/bench/gallery_bulk.h"
#include "tools/bench/gallery_model.h"

ABSL_FLAG(std::string, phase, "query", "fill, query, enroll or upgrade");
ABSL_FLAG(std::string, to_version, "", "Checkpoint version to upgrade the gallery to (upgrade)");
ABSL_FLAG(std::string, gateway, "127.0.0.1:50050", "Gateway address (query)");
ABSL_FLAG(std::string, embedding, "127.0.0.1:50051", "Embedding service address");
ABSL_FLAG(std::string, index, "127.0.0.1:50052", "Index service address");
ABSL_FLAG(std::string, gateway_data, "", "Gateway --data_dir (fill)");
ABSL_FLAG(std::string, version, "", "Serving model version (fill)");
ABSL_FLAG(int64_t, photos, 100000, "Gallery photos (fill)");
ABSL_FLAG(std::string, query_dir, "", "Folder of query photos (searched recursively)");
ABSL_FLAG(int, queries, 400, "Searches per client count");
ABSL_FLAG(std::string, clients, "1,8", "Client counts");
ABSL_FLAG(std::string, real_embeddings, "",
          "dogsearch-eval --embeddings_out file: a gallery shaped like these real embeddings "
          "(fill; default: isotropic clusters)");
ABSL_FLAG(int, fill_threads, 2, "Concurrent index upsert streams (fill)");
ABSL_FLAG(bool, fill_score_offsets, false,
          "Give each filled record a score_offset attribute as a score-normalising model's "
          "gallery has (fill; 0 for half the photos, up to 0.08 for the others)");
ABSL_FLAG(int, enroll_dogs, 200, "Dogs enrolled through the API (enroll), from --query_dir");

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

constexpr int kPerDog = 5;
std::string BenchPhotoId(int64_t j) { return Sha256::Hex(absl::StrCat("bench photo ", j)); }
std::string BenchDogId(int64_t d) { return absl::StrCat("bench", d); }

int Fill() {
  const std::string version = absl::GetFlag(FLAGS_version);
  const int64_t n = absl::GetFlag(FLAGS_photos);
  const std::string path = absl::GetFlag(FLAGS_gateway_data) + "/gallery.sqlite";
  if (auto store = gateway::GalleryStore::Open(path); !store.ok()) {  // The gateway made it.
    std::fprintf(stderr, "store: %s\n", store.status().ToString().c_str());
    return 1;
  }
  absl::Time start = absl::Now();
  if (!BulkLoadGallery(path, n, kPerDog, BenchPhotoId, BenchDogId)) return 1;
  std::printf("gallery store: %lld photos of %lld dogs in %.1f s\n", static_cast<long long>(n),
              static_cast<long long>(n / kPerDog), absl::ToDoubleSeconds(absl::Now() - start));
  const GalleryModel model = LoadGalleryModel(absl::GetFlag(FLAGS_real_embeddings));
  auto index = v1::Index::NewStub(*rpc::CreateChannel(absl::GetFlag(FLAGS_index), {}));
  const std::string collection = "gallery__" + version;
  const bool offsets = absl::GetFlag(FLAGS_fill_score_offsets);
  constexpr int64_t kBatch = 1000;
  const size_t batches = static_cast<size_t>((n + kBatch - 1) / kBatch);
  std::atomic<int64_t> done{0};
  start = absl::Now();
  ParallelFor(std::max(1, absl::GetFlag(FLAGS_fill_threads)), batches, [&](int, size_t b) {
    v1::UpsertRequest up;
    up.set_collection(collection);
    up.set_model_version(version);
    const int64_t first = static_cast<int64_t>(b) * kBatch, last = std::min(n, first + kBatch);
    for (int64_t j = first; j < last; ++j) {
      const std::string id = BenchPhotoId(j);
      v1::Record* r = up.add_records();
      r->set_id(id);
      const std::vector<float> v = PhotoVector(model, j / kPerDog, j % kPerDog);
      r->mutable_vector()->Add(v.begin(), v.end());
      r->mutable_payload()->set_dog_id(BenchDogId(j / kPerDog));
      r->mutable_payload()->set_photo_id(id);
      if (offsets) {
        gateway::SetScoreOffset(j % 2 == 0 ? 0.f : 0.01f * static_cast<float>(j % 9),
                                r->mutable_payload());
      }
    }
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, {}, absl::Seconds(300));
    v1::UpsertResponse resp;
    Check(index->Upsert(&ctx, up, &resp), "upsert");
    const int64_t total = done.fetch_add(up.records_size()) + up.records_size();
    if (total % 1000000 < kBatch) {
      const double s = absl::ToDoubleSeconds(absl::Now() - start);
      std::fprintf(stderr, "  %lld records in %.0f s (%.0f records/s)\n",
                   static_cast<long long>(total), s, total / s);
    }
  });
  const double s = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("index: %lld records into %s in %.1f s (%.0f records/s); data: %s\n",
              static_cast<long long>(n), collection.c_str(), s, n / s, model.source.c_str());
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

// Enrollment through the API into the (large) gallery: --enroll_dogs dogs from --query_dir's
// folders, each with its photos (up to 5), by the largest --clients count of concurrent
// callers; then the same photos embedded directly (one Embed per dog, pinned to the serving
// version) at the same concurrency. The ratio says how much of enrollment is the embedding.
int Enroll() {
  std::vector<std::vector<std::string>> dogs;
  for (const auto& d : fs::directory_iterator(absl::GetFlag(FLAGS_query_dir))) {
    if (!d.is_directory()) continue;
    std::vector<std::string> photos;
    for (const auto& f : fs::directory_iterator(d.path())) {
      if (f.path().extension() == ".jpg" && static_cast<int>(photos.size()) < kPerDog) {
        photos.push_back(*ReadFile(f.path().string()));
      }
    }
    if (!photos.empty()) dogs.push_back(std::move(photos));
    if (static_cast<int>(dogs.size()) >= absl::GetFlag(FLAGS_enroll_dogs)) break;
  }
  size_t photos = 0;
  for (const auto& d : dogs) photos += d.size();
  int clients = 1;
  for (absl::string_view c : absl::StrSplit(absl::GetFlag(FLAGS_clients), ',')) {
    int k = 1;
    if (absl::SimpleAtoi(c, &k)) clients = std::max(clients, k);
  }
  rpc::ChannelOptions co;
  co.max_receive_message_bytes = 64 << 20;
  auto gw = v1::DogSearch::NewStub(*rpc::CreateChannel(absl::GetFlag(FLAGS_gateway), co));
  auto emb = v1::Embedding::NewStub(*rpc::CreateChannel(absl::GetFlag(FLAGS_embedding), co));
  v1::ModelStatus st;
  {
    grpc::ClientContext ctx;
    Check(gw->GetModelStatus(&ctx, v1::GetModelStatusRequest(), &st), "status");
  }
  const absl::Time tag = absl::Now();
  Latencies g = Measure(clients, dogs.size(), [&](size_t i) {
    v1::EnrollRequest req;
    req.set_dog_id(absl::StrCat("enrolled-", absl::ToUnixSeconds(tag), "-", i));
    req.set_name("Enrolled dog");
    for (const std::string& p : dogs[i]) req.add_photos()->set_data(p);
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, {}, absl::Seconds(120));
    v1::Dog dog;
    Check(gw->Enroll(&ctx, req, &dog), "enroll");
  });
  Latencies d = Measure(clients, dogs.size(), [&](size_t i) {
    v1::EmbedRequest req;
    req.set_model_version(st.serving_version());
    for (const std::string& p : dogs[i]) req.add_photos()->set_data(p);
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, {}, absl::Seconds(120));
    v1::EmbedResponse e;
    Check(emb->Embed(&ctx, req, &e), "embed");
  });
  std::printf("\nEnrollment into a gallery of %llu photos: %zu dogs, %zu photos, %d clients\n\n",
              static_cast<unsigned long long>(st.photos()), dogs.size(), photos, clients);
  std::printf(
      "| path | photos/s | p50 ms per dog | p99 ms per dog | ratio (photos/s vs embedding) |\n");
  std::printf("|---|---|---|---|---|\n");
  std::printf("| embedding only (Embed, one dog's photos a call) | %.1f | %.1f | %.1f | 1.00 |\n",
              photos / d.seconds, d.Percentile(0.5), d.Percentile(0.99));
  std::printf("| gateway Enroll | %.1f | %.1f | %.1f | %.2f |\n", photos / g.seconds,
              g.Percentile(0.5), g.Percentile(0.99), d.seconds / g.seconds);
  return 0;
}

// An upgrade of the gallery to --to_version (loaded by the embedding service): started through
// the API, polled until it ends; the gateway re-embeds every stored photo (decode, embed, write
// the new collection) and flips. Prints photos/s and the wall time that rate gives 10M photos.
int Upgrade() {
  auto gw = v1::DogSearch::NewStub(*rpc::CreateChannel(absl::GetFlag(FLAGS_gateway), {}));
  v1::StartModelUpgradeRequest req;
  req.set_version(absl::GetFlag(FLAGS_to_version));
  v1::ModelStatus st;
  const absl::Time start = absl::Now();
  {
    grpc::ClientContext ctx;
    Check(gw->StartModelUpgrade(&ctx, req, &st), "start upgrade");
  }
  absl::Time reembedding = absl::InfinitePast();
  for (;;) {
    absl::SleepFor(absl::Milliseconds(100));
    grpc::ClientContext ctx;
    Check(gw->GetModelStatus(&ctx, v1::GetModelStatusRequest(), &st), "status");
    const v1::UpgradeState state = st.upgrade().state();
    if (state == v1::UPGRADE_STATE_REEMBEDDING && reembedding == absl::InfinitePast()) {
      reembedding = absl::Now();
    }
    if (state == v1::UPGRADE_STATE_SUCCEEDED || state == v1::UPGRADE_STATE_FAILED) break;
  }
  const double total_s = absl::ToDoubleSeconds(absl::Now() - start);
  if (st.upgrade().state() != v1::UPGRADE_STATE_SUCCEEDED) {
    std::fprintf(stderr, "upgrade failed: %s\n", st.upgrade().state_reason().c_str());
    return 1;
  }
  const double photos = static_cast<double>(st.upgrade().photos_total());
  const double rate = photos / total_s;
  std::printf("\nUpgrade %s -> %s of %.0f photos (%llu dogs)\n\n",
              st.upgrade().from_version().c_str(), st.upgrade().to_version().c_str(), photos,
              static_cast<unsigned long long>(st.dogs()));
  std::printf(
      "| start to serving the new model | model load | photos/s | 10M photos at this rate |\n");
  std::printf("|---|---|---|---|\n");
  std::printf(
      "| %.1f s | %.1f s | %.1f | %.1f h |\n", total_s,
      reembedding == absl::InfinitePast() ? 0.0 : absl::ToDoubleSeconds(reembedding - start), rate,
      1e7 / rate / 3600);
  return 0;
}

}  // namespace
}  // namespace dogsearch::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string phase = absl::GetFlag(FLAGS_phase);
  if (phase == "fill") return dogsearch::bench::Fill();
  if (phase == "enroll") return dogsearch::bench::Enroll();
  if (phase == "upgrade") return dogsearch::bench::Upgrade();
  return dogsearch::bench::Query();
}
