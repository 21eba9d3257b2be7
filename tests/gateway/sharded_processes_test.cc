// Sharding with real index processes (issue #22): three index_server processes behind the
// gateway's ShardedIndex over gRPC (what --index_shards builds):
//  - they answer as one index process does: recall@10 against exact search no worse than a
//    single index's by more than 0.01, records spread over all three;
//  - a shard killed with SIGKILL in the middle of a load makes writes and searches fail with
//    UNAVAILABLE naming the shard, and once restarted on its data folder it serves every
//    record it acknowledged, and the load completes;
//  - a gateway core over the three shards rebuilds a shard restarted with an empty folder;
//  - dogsearch-reshard (the real tool) moves a gallery from two of them onto all three, and a
//    run killed with SIGKILL midway is finished by the next.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/gateway/core/gateway_core.h"
#include "services/gateway/core/sharded_index.h"
#include "services/gateway/grpc_backends.h"
#include "tests/gateway/fakes.h"
#include "tests/testing/eventually.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::gateway {
namespace {

using testing::FakeEmbedding;
using testing::FakePhoto;

const absl::Time kNoDeadline = absl::InfiniteFuture();
constexpr int kDim = 32;

// One index_server process on a fixed loopback port (so a restart is found at the same
// address) and the gateway's gRPC backend for it.
class IndexProcess {
 public:
  explicit IndexProcess(std::string data_dir)
      : data_dir_(std::move(data_dir)), port_(dogsearch::testing::FreeLoopbackPort()) {
    backend_ = std::make_unique<GrpcIndexBackend>(
        *rpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), IndexChannelOptions({})),
        IndexChannelOptions({}));
  }
  void Start() {
    auto p = dogsearch::testing::Subprocess::Start(
        {INDEX_SERVER_PATH, absl::StrCat("--address=127.0.0.1:", port_), "--data_dir=" + data_dir_,
         "--log_level=warning"});
    ASSERT_TRUE(p.ok()) << p.status();
    process_ = *std::move(p);
    auto line = process_->WaitForLine("index listening on port", absl::Seconds(60));
    ASSERT_TRUE(line.ok()) << line.status();
  }
  void Kill() {
    process_->Kill(SIGKILL);
    process_->Wait();
  }
  void WipeData() { std::filesystem::remove_all(data_dir_); }
  IndexBackend* backend() { return backend_.get(); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  const std::string data_dir_;
  const int port_;
  std::unique_ptr<dogsearch::testing::Subprocess> process_;
  std::unique_ptr<GrpcIndexBackend> backend_;
};

std::vector<std::vector<float>> Clustered(size_t n, size_t clusters, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  std::vector<std::vector<float>> centres(clusters, std::vector<float>(kDim));
  for (auto& c : centres)
    for (float& x : c) x = g(rng);
  std::vector<std::vector<float>> out(n, std::vector<float>(kDim));
  for (auto& v : out) {
    const auto& c = centres[rng() % clusters];
    double norm = 0;
    for (int d = 0; d < kDim; ++d) {
      v[d] = c[d] + 0.5f * g(rng);
      norm += v[d] * v[d];
    }
    for (float& x : v) x /= static_cast<float>(std::sqrt(norm));
  }
  return out;
}

v1::UpsertRequest Batch(const std::vector<std::vector<float>>& vecs, size_t from, size_t to) {
  v1::UpsertRequest req;
  req.set_collection("c");
  for (size_t i = from; i < to; ++i) {
    v1::Record* r = req.add_records();
    r->set_id(absl::StrCat("photo", i));
    r->mutable_vector()->Add(vecs[i].begin(), vecs[i].end());
    r->mutable_payload()->set_dog_id(absl::StrCat("dog", i / 5));
  }
  return req;
}

absl::Status CreateCollection(IndexBackend& index) {
  v1::CreateCollectionRequest c;
  c.set_name("c");
  c.set_dimension(kDim);
  c.set_model_version("v1");
  return index.CreateCollection(c, kNoDeadline).status();
}

class ShardedProcessesTest : public ::testing::Test {
 protected:
  ShardedProcessesTest() {
    for (int s = 0; s < 3; ++s) {
      shards_.push_back(std::make_unique<IndexProcess>(dir_.File(absl::StrCat("shard", s))));
    }
  }
  void SetUp() override {
    for (auto& s : shards_) ASSERT_NO_FATAL_FAILURE(s->Start());
  }
  std::vector<IndexBackend*> Backends() {
    std::vector<IndexBackend*> out;
    for (auto& s : shards_) out.push_back(s->backend());
    return out;
  }

  dogsearch::testing::TempDir dir_;
  std::vector<std::unique_ptr<IndexProcess>> shards_;
};

double Recall(IndexBackend& index, const std::vector<std::vector<float>>& vecs,
              const std::vector<std::vector<float>>& queries) {
  size_t found = 0;
  for (const auto& q : queries) {
    std::vector<std::pair<float, size_t>> exact;
    for (size_t i = 0; i < vecs.size(); ++i) {
      float dot = 0;
      for (int d = 0; d < kDim; ++d) dot += q[d] * vecs[i][d];
      exact.emplace_back(1 - dot, i);
    }
    std::partial_sort(exact.begin(), exact.begin() + 10, exact.end());
    std::set<std::string> truth;
    for (int k = 0; k < 10; ++k) truth.insert(absl::StrCat("photo", exact[k].second));
    v1::VectorSearchRequest s;
    s.set_collection("c");
    s.mutable_vector()->Add(q.begin(), q.end());
    s.set_k(10);
    auto hits = index.Search(s, kNoDeadline);
    EXPECT_TRUE(hits.ok()) << hits.status();
    if (!hits.ok()) continue;
    for (const auto& h : hits->hits()) found += truth.count(h.id());
  }
  return static_cast<double>(found) / (10.0 * queries.size());
}

TEST_F(ShardedProcessesTest, ThreeShardsAnswerAsOneIndexDoes) {
  IndexProcess single(dir_.File("single"));
  ASSERT_NO_FATAL_FAILURE(single.Start());
  ShardedIndex sharded(Backends());
  ASSERT_TRUE(CreateCollection(sharded).ok());
  ASSERT_TRUE(CreateCollection(*single.backend()).ok());
  const auto vecs = Clustered(6000, 300, 1), queries = Clustered(100, 300, 2);
  for (size_t i = 0; i < vecs.size(); i += 500) {
    const v1::UpsertRequest b = Batch(vecs, i, i + 500);
    ASSERT_TRUE(sharded.Upsert(b, kNoDeadline).ok());
    ASSERT_TRUE(single.backend()->Upsert(b, kNoDeadline).ok());
  }
  for (auto& s : shards_) {
    auto info = s->backend()->GetCollection("c", kNoDeadline);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_GT(info->record_count(), 6000u / 3 * 8 / 10) << "records are not spread evenly";
  }
  const double one = Recall(*single.backend(), vecs, queries);
  const double three = Recall(sharded, vecs, queries);
  EXPECT_GE(one, 0.9);
  // Each shard searches a third of the graph with the same ef, so the merged answer may be
  // better than one index's; it must not be worse by more than 0.01.
  EXPECT_GE(three, one - 0.01) << "one index " << one << ", three shards " << three;
}

TEST_F(ShardedProcessesTest, AShardKilledMidLoadIsUnavailableByNameAndRecovers) {
  ShardedIndex sharded(Backends());
  ASSERT_TRUE(CreateCollection(sharded).ok());
  const auto vecs = Clustered(4000, 200, 3);
  std::vector<std::pair<size_t, size_t>> failed;
  size_t acknowledged = 0;
  for (size_t i = 0; i < vecs.size(); i += 100) {
    if (i == 1500) shards_[1]->Kill();  // In the middle of the load.
    auto r = sharded.Upsert(Batch(vecs, i, i + 100), absl::Now() + absl::Seconds(5));
    if (r.ok()) {
      acknowledged += 100;
      continue;
    }
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
    EXPECT_TRUE(absl::StrContains(r.status().message(), "shard 1")) << r.status();
    failed.emplace_back(i, i + 100);
  }
  EXPECT_EQ(acknowledged, 1500u);
  ASSERT_EQ(failed.size(), 25u);
  v1::VectorSearchRequest s;
  s.set_collection("c");
  s.mutable_vector()->Add(vecs[0].begin(), vecs[0].end());
  s.set_k(5);
  auto down = sharded.Search(s, absl::Now() + absl::Seconds(5));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable) << down.status();
  EXPECT_TRUE(absl::StrContains(down.status().message(), "shard 1")) << down.status();
  // Restarted on its data: everything it acknowledged is there; the failed batches go through.
  ASSERT_NO_FATAL_FAILURE(shards_[1]->Start());
  ASSERT_TRUE(dogsearch::testing::Eventually(
      [&] { return sharded.Search(s, absl::Now() + absl::Seconds(2)).ok(); }, absl::Seconds(20)));
  for (const auto& [from, to] : failed) {
    ASSERT_TRUE(sharded.Upsert(Batch(vecs, from, to), absl::Now() + absl::Seconds(10)).ok());
  }
  int present = 0;
  for (size_t from = 0; from < vecs.size(); from += 1000) {  // Get takes up to 1,000 ids.
    v1::GetRequest get;
    get.set_collection("c");
    for (size_t i = from; i < from + 1000; ++i) get.add_ids(absl::StrCat("photo", i));
    auto part = sharded.Get(get, kNoDeadline);
    ASSERT_TRUE(part.ok()) << part.status();
    EXPECT_EQ(part->missing_ids_size(), 0);
    present += part->records_size();
  }
  EXPECT_EQ(present, 4000);
  auto found = sharded.Search(s, kNoDeadline);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->hits(0).id(), "photo0");
}

TEST_F(ShardedProcessesTest, AGatewayRebuildsAShardRestartedEmpty) {
  ShardedIndex sharded(Backends());
  FakeEmbedding embedding("v1");
  auto store = *GalleryStore::Open(dir_.File("g.sqlite"));
  auto photos = *PhotoStore::Open(dir_.File("photos"));
  GatewayOptions o;
  o.supervise_interval = absl::Milliseconds(50);
  GatewayCore core({store.get(), &photos, &embedding, &sharded}, o);
  core.Start();
  ASSERT_TRUE(dogsearch::testing::Eventually([&] { return core.serving(); }, absl::Seconds(10)));
  for (int d = 0; d < 30; ++d) {
    v1::EnrollRequest r;
    r.set_dog_id(absl::StrCat("dog", d));
    r.set_name("Dog");
    for (int p = 0; p < 2; ++p) r.add_photos()->set_data(FakePhoto(d, p));
    ASSERT_TRUE(core.Enroll(r, kNoDeadline).ok());
  }
  auto right = [&] {
    for (int d = 0; d < 30; ++d) {
      v1::SearchRequest s;
      s.mutable_photo()->set_data(FakePhoto(d, 9));
      auto r = core.Search(s, absl::Now() + absl::Seconds(5));
      if (!r.ok() || r->matches_size() == 0 || r->matches(0).dog_id() != absl::StrCat("dog", d)) {
        return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(right());
  shards_[2]->Kill();
  shards_[2]->WipeData();  // The shard's volume is lost.
  ASSERT_NO_FATAL_FAILURE(shards_[2]->Start());
  EXPECT_TRUE(dogsearch::testing::Eventually(right, absl::Seconds(30), absl::Milliseconds(100)))
      << "the gallery was not rebuilt: " << core.GetModelStatus().upgrade().state_reason();
  auto info = shards_[2]->backend()->GetCollection("gallery__v1", kNoDeadline);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_GT(info->record_count(), 0u);
  core.Stop();
}

}  // namespace
}  // namespace dogsearch::gateway

namespace dogsearch::gateway {
namespace {

std::set<std::string> ListAll(IndexBackend& index) {
  std::set<std::string> ids;
  v1::ListRecordIdsRequest req;
  req.set_collection("c");
  do {
    auto page = index.ListRecordIds(req, kNoDeadline);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    for (const std::string& id : page->ids()) EXPECT_TRUE(ids.insert(id).second) << id;
    req.set_page_token(page->next_page_token());
  } while (!req.page_token().empty());
  return ids;
}

TEST_F(ShardedProcessesTest, TheReshardToolMovesTwoShardsOntoThreeAndSurvivesAKill) {
  const std::string a = shards_[0]->address(), b = shards_[1]->address(), c = shards_[2]->address();
  ShardedIndex two({shards_[0]->backend(), shards_[1]->backend()});
  ASSERT_TRUE(CreateCollection(two).ok());
  const size_t n = 20000;
  const auto vecs = Clustered(n, 1000, 4), queries = Clustered(100, 1000, 5);
  for (size_t i = 0; i < n; i += 1000) {
    ASSERT_TRUE(two.Upsert(Batch(vecs, i, i + 1000), kNoDeadline).ok());
  }
  v1::SetAliasRequest alias;
  alias.set_alias("gallery");
  alias.set_collection("c");
  ASSERT_TRUE(two.SetAlias(alias, kNoDeadline).ok());
  const double recall_before = Recall(two, vecs, queries);
  size_t due_on_c = 0;
  for (size_t i = 0; i < n; ++i) due_on_c += ShardOfId(absl::StrCat("photo", i), 3) == 2;

  // Usage errors exit 2 and name what is missing; a layout listing a server twice is refused.
  auto usage = dogsearch::testing::RunCommand(absl::StrCat(RESHARD_PATH, " --from=", a, " 2>&1"));
  EXPECT_EQ(usage.code, 2) << usage.out;
  EXPECT_TRUE(absl::StrContains(usage.out, "--to")) << usage.out;
  auto twice = dogsearch::testing::RunCommand(
      absl::StrCat(RESHARD_PATH, " --from=", a, " --to=", b, ",", b, " 2>&1"));
  EXPECT_EQ(twice.code, 2) << twice.out;
  EXPECT_TRUE(absl::StrContains(twice.out, "listed twice")) << twice.out;

  auto run = [&] {
    return dogsearch::testing::Subprocess::Start(
        {RESHARD_PATH, "--from=" + a + "," + b, "--to=" + a + "," + b + "," + c, "--batch=20"});
  };
  auto first = run();
  ASSERT_TRUE(first.ok()) << first.status();
  auto on_c = [&]() -> uint64_t {
    auto info = shards_[2]->backend()->GetCollection("c", kNoDeadline);
    return info.ok() ? info->record_count() : 0;
  };
  ASSERT_TRUE(dogsearch::testing::Eventually([&] { return on_c() > 0; }, absl::Seconds(60),
                                             absl::Milliseconds(2)));
  (*first)->Kill(SIGKILL);
  const int status = (*first)->Wait();
  ASSERT_TRUE(WIFSIGNALED(status)) << "the tool finished before it could be killed";
  EXPECT_LT(on_c(), due_on_c) << "the kill came after the move";

  auto second = run();
  ASSERT_TRUE(second.ok()) << second.status();
  auto summary = (*second)->WaitForLine("1 collections, 1 aliases", absl::Seconds(240));
  ASSERT_TRUE(summary.ok()) << summary.status();
  const int done = (*second)->Wait();
  ASSERT_TRUE(WIFEXITED(done) && WEXITSTATUS(done) == 0) << *summary;

  // Every record once, on the shard the three-shard layout gives it, with its vector.
  size_t total = 0;
  for (size_t s = 0; s < 3; ++s) {
    const std::set<std::string> ids = ListAll(*shards_[s]->backend());
    for (const std::string& id : ids) EXPECT_EQ(ShardOfId(id, 3), s) << id;
    total += ids.size();
  }
  EXPECT_EQ(total, n);
  EXPECT_EQ(on_c(), due_on_c);
  ShardedIndex three(Backends());
  v1::GetRequest get;
  get.set_collection("c");
  get.set_include_vectors(true);
  for (size_t i = 0; i < n; i += 97) get.add_ids(absl::StrCat("photo", i));
  auto got = three.Get(get, kNoDeadline);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->missing_ids_size(), 0);
  for (const v1::Record& r : got->records()) {
    size_t i = 0;
    ASSERT_TRUE(absl::SimpleAtoi(r.id().substr(5), &i));
    ASSERT_EQ(r.vector_size(), kDim);
    // Cosine collections store normalised vectors: equal up to rounding.
    for (int d = 0; d < kDim; ++d) EXPECT_NEAR(r.vector(d), vecs[i][d], 1e-6) << r.id();
    EXPECT_EQ(r.payload().dog_id(), absl::StrCat("dog", i / 5));
  }
  auto aliases = shards_[2]->backend()->ListAliases(kNoDeadline);
  ASSERT_TRUE(aliases.ok());
  ASSERT_EQ(aliases->aliases_size(), 1);
  EXPECT_EQ(aliases->aliases(0).collection(), "c");
  const double recall_after = Recall(three, vecs, queries);
  EXPECT_GE(recall_after, recall_before - 0.01)
      << "two shards " << recall_before << ", three after the move " << recall_after;
}

}  // namespace
}  // namespace dogsearch::gateway
