// The Index gRPC service over loopback: every RPC, its status codes, aliases, auth, and
// back-pressure from a full write queue.
#include "services/index/index_service.h"

#include <grpcpp/grpcpp.h>

#include <random>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_server.h"
#include "gtest/gtest.h"
#include "tests/testing/notification.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::index {
namespace {

std::vector<float> Vec(int i, int dim = 8) {
  std::mt19937 rng(i);
  std::normal_distribution<float> g;
  std::vector<float> v(dim);
  for (float& x : v) x = g(rng);
  return v;
}

class IndexServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(""); }
  // Server first, then the write pool's threads (joined), then the service they call into.
  void TearDown() override { Stop(); }
  void Stop() {
    if (server_) server_->Shutdown(absl::Seconds(5));
    pool_.reset();
    server_.reset();
    service_.reset();
  }

  void Start(const std::string& token, int threads = 2, size_t queue = 64) {
    Stop();
    pool_ = std::make_unique<ThreadPool>(threads, queue);
    catalog_ = *Catalog::Open(dir_.path(), {});
    service_ = std::make_unique<IndexService>(catalog_.get(), pool_.get(),
                                              rpc::TokenAuthenticator(token, false),
                                              CollectionDefaults{}, &registry_);
    server_ = *rpc::GrpcServer::Start({}, {service_.get()});
    stub_ =
        v1::Index::NewStub(*rpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), {}));
  }

  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (v1::Index::Stub::*method)(grpc::ClientContext*, const Req&,
                                                            Resp*),
                    const Req& req, Resp* resp, const std::string& token = "") {
    grpc::ClientContext ctx;
    rpc::ChannelOptions o;
    o.bearer_token = token;
    rpc::PrepareContext(&ctx, o, absl::Seconds(10));
    return ((*stub_).*method)(&ctx, req, resp);
  }

  grpc::Status Create(const std::string& name, int dim = 8, const std::string& model = "v1") {
    v1::CreateCollectionRequest req;
    req.set_name(name);
    req.set_dimension(dim);
    req.set_model_version(model);
    v1::CollectionInfo info;
    return Call(&v1::Index::Stub::CreateCollection, req, &info);
  }

  grpc::Status Upsert(const std::string& coll, int from, int to,
                      v1::UpsertResponse* resp = nullptr) {
    v1::UpsertRequest req;
    req.set_collection(coll);
    for (int i = from; i < to; ++i) {
      v1::Record* r = req.add_records();
      r->set_id(absl::StrCat("p", i));
      for (float x : Vec(i)) r->add_vector(x);
      r->mutable_payload()->set_dog_id(absl::StrCat("dog", i % 10));
    }
    v1::UpsertResponse local;
    return Call(&v1::Index::Stub::Upsert, req, resp ? resp : &local);
  }

  v1::VectorSearchRequest Query(const std::string& coll, int i, uint32_t k) {
    v1::VectorSearchRequest req;
    req.set_collection(coll);
    for (float x : Vec(i)) req.add_vector(x);
    req.set_k(k);
    return req;
  }

  testing::TempDir dir_;
  metrics::MetricsRegistry registry_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<IndexService> service_;
  std::unique_ptr<rpc::GrpcServer> server_;
  std::unique_ptr<v1::Index::Stub> stub_;
};

TEST_F(IndexServiceTest, CreateUpsertSearchGetDelete) {
  ASSERT_TRUE(Create("gallery__v1").ok());
  v1::UpsertResponse up;
  ASSERT_TRUE(Upsert("gallery__v1", 0, 100, &up).ok());
  EXPECT_EQ(up.inserted(), 100u);
  EXPECT_EQ(up.sequence(), 1u);
  v1::VectorSearchResponse found;
  ASSERT_TRUE(Call(&v1::Index::Stub::Search, Query("gallery__v1", 42, 3), &found).ok());
  ASSERT_EQ(found.hits_size(), 3);
  EXPECT_EQ(found.hits(0).id(), "p42");
  EXPECT_EQ(found.hits(0).payload().dog_id(), "dog2");
  EXPECT_EQ(found.model_version(), "v1");

  v1::GetRequest get;
  get.set_collection("gallery__v1");
  get.add_ids("p1");
  get.add_ids("nope");
  v1::GetResponse got;
  ASSERT_TRUE(Call(&v1::Index::Stub::Get, get, &got).ok());
  ASSERT_EQ(got.records_size(), 1);
  EXPECT_EQ(got.missing_ids(0), "nope");

  v1::DeleteRequest del;
  del.set_collection("gallery__v1");
  del.add_ids("p42");
  v1::DeleteResponse deleted;
  ASSERT_TRUE(Call(&v1::Index::Stub::Delete, del, &deleted).ok());
  EXPECT_EQ(deleted.deleted(), 1u);
  ASSERT_TRUE(Call(&v1::Index::Stub::Search, Query("gallery__v1", 42, 3), &found).ok());
  for (const auto& h : found.hits()) EXPECT_NE(h.id(), "p42");
}

TEST_F(IndexServiceTest, ListRecordIdsPagesThroughACollectionAndRefusesBadPages) {
  ASSERT_TRUE(Create("gallery__v1").ok());
  ASSERT_TRUE(Upsert("gallery__v1", 0, 250).ok());
  v1::ListRecordIdsRequest req;
  req.set_collection("gallery__v1");
  req.set_page_size(100);
  std::set<std::string> seen;
  int pages = 0;
  do {
    v1::ListRecordIdsResponse page;
    ASSERT_TRUE(Call(&v1::Index::Stub::ListRecordIds, req, &page).ok());
    EXPECT_LE(page.ids_size(), 100);
    seen.insert(page.ids().begin(), page.ids().end());
    req.set_page_token(page.next_page_token());
    ASSERT_LT(++pages, 10);
  } while (!req.page_token().empty());
  EXPECT_EQ(seen.size(), 250u);
  EXPECT_EQ(pages, 3);

  v1::ListRecordIdsResponse page;
  req.set_page_size(1001);
  grpc::Status s = Call(&v1::Index::Stub::ListRecordIds, req, &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("page_size"), std::string::npos) << s.error_message();
  req.set_page_size(0);
  req.set_page_token("not-a-token");
  s = Call(&v1::Index::Stub::ListRecordIds, req, &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("page_token"), std::string::npos) << s.error_message();
  req.set_page_token("");
  req.set_collection("nope");
  EXPECT_EQ(Call(&v1::Index::Stub::ListRecordIds, req, &page).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(IndexServiceTest, BadRequestsGetTheRightCodesAndSayWhy) {
  ASSERT_TRUE(Create("c").ok());
  EXPECT_EQ(Create("c").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Create("bad name!").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Create("d", 1).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Create("e", 8, "").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Upsert("missing", 0, 1).error_code(), grpc::StatusCode::NOT_FOUND);

  v1::UpsertRequest wrong_dim;
  wrong_dim.set_collection("c");
  auto* r = wrong_dim.add_records();
  r->set_id("x");
  r->add_vector(1.f);
  v1::UpsertResponse up;
  grpc::Status s = Call(&v1::Index::Stub::Upsert, wrong_dim, &up);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "record 0 ('x')")) << s.error_message();

  v1::VectorSearchResponse found;
  auto q = Query("c", 1, 0);
  EXPECT_EQ(Call(&v1::Index::Stub::Search, q, &found).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  q = Query("c", 1, 5);
  q.set_model_version("v2");
  s = Call(&v1::Index::Stub::Search, q, &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "model 'v1', not 'v2'")) << s.error_message();
}

// A collection created with a compact encoding reports it, and finds its records; an unknown
// encoding is refused by name.
TEST_F(IndexServiceTest, VectorEncodingIsChosenAtCreationAndReported) {
  v1::CreateCollectionRequest req;
  req.set_name("compact");
  req.set_dimension(8);
  req.set_model_version("v1");
  req.set_vector_encoding(v1::VECTOR_ENCODING_INT8);
  v1::CollectionInfo info;
  ASSERT_TRUE(Call(&v1::Index::Stub::CreateCollection, req, &info).ok());
  EXPECT_EQ(info.vector_encoding(), v1::VECTOR_ENCODING_INT8);
  ASSERT_TRUE(Upsert("compact", 0, 50).ok());
  v1::VectorSearchResponse found;
  ASSERT_TRUE(Call(&v1::Index::Stub::Search, Query("compact", 17, 1), &found).ok());
  ASSERT_EQ(found.hits_size(), 1);
  EXPECT_EQ(found.hits(0).id(), "p17");
  ASSERT_TRUE(Create("plain").ok());
  v1::GetCollectionRequest get;
  get.set_name("plain");
  ASSERT_TRUE(Call(&v1::Index::Stub::GetCollection, get, &info).ok());
  EXPECT_EQ(info.vector_encoding(), v1::VECTOR_ENCODING_FLOAT32);  // The default.
  req.set_name("bad");
  req.set_vector_encoding(static_cast<v1::VectorEncoding>(9));
  grpc::Status s = Call(&v1::Index::Stub::CreateCollection, req, &info);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "vector_encoding")) << s.error_message();
}

TEST_F(IndexServiceTest, AliasesFlipAndProtectTheirTarget) {
  ASSERT_TRUE(Create("gallery__v1", 8, "v1").ok());
  ASSERT_TRUE(Create("gallery__v2", 8, "v2").ok());
  ASSERT_TRUE(Upsert("gallery__v1", 0, 20).ok());
  v1::SetAliasRequest set;
  set.set_alias("gallery");
  set.set_collection("gallery__v1");
  set.set_expected_collection("-");
  v1::AliasInfo info;
  ASSERT_TRUE(Call(&v1::Index::Stub::SetAlias, set, &info).ok());
  v1::VectorSearchResponse found;
  ASSERT_TRUE(Call(&v1::Index::Stub::Search, Query("gallery", 3, 1), &found).ok());
  EXPECT_EQ(found.collection(), "gallery__v1");

  v1::DropCollectionRequest drop;
  drop.set_name("gallery__v1");
  v1::DropCollectionResponse dropped;
  EXPECT_EQ(Call(&v1::Index::Stub::DropCollection, drop, &dropped).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  set.set_collection("gallery__v2");
  set.set_expected_collection("gallery__v9");  // Wrong compare-and-set.
  EXPECT_EQ(Call(&v1::Index::Stub::SetAlias, set, &info).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  set.set_expected_collection("gallery__v1");
  ASSERT_TRUE(Call(&v1::Index::Stub::SetAlias, set, &info).ok());
  ASSERT_TRUE(Call(&v1::Index::Stub::Search, Query("gallery", 3, 1), &found).ok());
  EXPECT_EQ(found.model_version(), "v2");
  EXPECT_TRUE(Call(&v1::Index::Stub::DropCollection, drop, &dropped).ok());

  // Aliases survive a restart.
  Start("");
  v1::ListAliasesResponse aliases;
  ASSERT_TRUE(Call(&v1::Index::Stub::ListAliases, v1::ListAliasesRequest(), &aliases).ok());
  ASSERT_EQ(aliases.aliases_size(), 1);
  EXPECT_EQ(aliases.aliases(0).collection(), "gallery__v2");
}

TEST_F(IndexServiceTest, BatchSearchAnswersInQueryOrderAndNamesABadQuery) {
  ASSERT_TRUE(Create("c").ok());
  ASSERT_TRUE(Upsert("c", 0, 50).ok());
  v1::BatchSearchRequest batch;
  batch.set_collection("c");
  for (int i : {5, 6, 7}) *batch.add_queries() = Query("", i, 1);
  v1::BatchSearchResponse resp;
  ASSERT_TRUE(Call(&v1::Index::Stub::BatchSearch, batch, &resp).ok());
  ASSERT_EQ(resp.results_size(), 3);
  EXPECT_EQ(resp.results(2).hits(0).id(), "p7");
  batch.mutable_queries(1)->set_k(5000);
  grpc::Status s = Call(&v1::Index::Stub::BatchSearch, batch, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "query 1")) << s.error_message();
}

TEST_F(IndexServiceTest, SnapshotAndStats) {
  ASSERT_TRUE(Create("c").ok());
  ASSERT_TRUE(Upsert("c", 0, 30).ok());
  v1::SnapshotRequest snap;
  snap.set_collection("c");
  v1::SnapshotResponse taken;
  ASSERT_TRUE(Call(&v1::Index::Stub::Snapshot, snap, &taken).ok());
  EXPECT_EQ(taken.sequence(), 1u);
  EXPECT_GT(taken.bytes(), 0u);
  v1::GetStatsRequest st;
  st.set_collection("c");
  v1::CollectionStats stats;
  ASSERT_TRUE(Call(&v1::Index::Stub::GetStats, st, &stats).ok());
  EXPECT_EQ(stats.record_count(), 30u);
  EXPECT_EQ(stats.snapshot_sequence(), 1u);
}

TEST_F(IndexServiceTest, WritesNeedTheTokenWhenConfigured) {
  Start("tok");
  EXPECT_EQ(Create("c").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::CreateCollectionRequest req;
  req.set_name("c");
  req.set_dimension(8);
  req.set_model_version("v1");
  v1::CollectionInfo info;
  EXPECT_TRUE(Call(&v1::Index::Stub::CreateCollection, req, &info, "tok").ok());
  v1::ListCollectionsResponse list;
  EXPECT_TRUE(Call(&v1::Index::Stub::ListCollections, v1::ListCollectionsRequest(), &list).ok());
  EXPECT_EQ(list.collections_size(), 1);
}

TEST_F(IndexServiceTest, FullWriteQueueAnswersResourceExhausted) {
  Start("", /*threads=*/1, /*queue=*/1);
  testing::Notification release, running;
  ASSERT_TRUE(pool_->TrySchedule([&] {
    running.Notify();
    release.WaitForNotification();
  }));
  running.WaitForNotification();
  ASSERT_TRUE(pool_->TrySchedule([] {}));  // Fills the one queue slot.
  EXPECT_EQ(Create("c").error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  release.Notify();
  // The worker still touches the notifications while waking: stop it before they go away.
  server_.reset();
  pool_.reset();
}

}  // namespace
}  // namespace dogsearch::index
