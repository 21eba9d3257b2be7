// Changing the shard count (dogsearch-reshard's core, services/gateway/core/reshard.h) over
// in-memory index servers: every record ends on the server the new layout gives it, with its
// vector and payload, exactly once; collections keep their options and aliases follow; a run
// stopped between a write and its delete is finished by the next run; two spellings of one
// server are caught before anything is lost; a dry run changes nothing. The sharded index lists
// every record of every shard once. (Real processes: reshard_processes_test.cc.)
#include "services/gateway/core/reshard.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/gateway/core/sharded_index.h"
#include "tests/gateway/fakes.h"

namespace dogsearch::gateway {
namespace {

using testing::FakeIndex;

const absl::Time kNoDeadline = absl::InfiniteFuture();
constexpr int kDim = 4;

std::vector<float> VectorOf(int i) {
  return {1.0f + i % 7, 2.0f + i % 5, 3.0f + i % 3, 0.5f + static_cast<float>(i)};
}

void CreateOn(IndexBackend& index, const std::string& name, const std::string& version,
              v1::VectorEncoding encoding = v1::VECTOR_ENCODING_FLOAT32) {
  v1::CreateCollectionRequest c;
  c.set_name(name);
  c.set_dimension(kDim);
  c.set_model_version(version);
  c.set_vector_encoding(encoding);
  c.mutable_hnsw()->set_m(24);
  ASSERT_TRUE(index.CreateCollection(c, kNoDeadline).ok());
}

void Load(IndexBackend& index, const std::string& name, const std::string& version, int n) {
  v1::UpsertRequest up;
  up.set_collection(name);
  up.set_model_version(version);
  for (int i = 0; i < n; ++i) {
    v1::Record* r = up.add_records();
    r->set_id(absl::StrCat("photo", i));
    const std::vector<float> v = VectorOf(i);
    r->mutable_vector()->Add(v.begin(), v.end());
    r->mutable_payload()->set_dog_id(absl::StrCat("dog", i / 5));
  }
  ASSERT_TRUE(index.Upsert(up, kNoDeadline).ok());
}

// A layout of fake servers, by name; the same name is the same server in every layout.
class ReshardTest : public ::testing::Test {
 protected:
  FakeIndex* Server(const std::string& name) {
    auto& s = servers_[name];
    if (!s) s = std::make_unique<FakeIndex>();
    return s.get();
  }
  std::vector<IndexServer> Layout(const std::vector<std::string>& names) {
    std::vector<IndexServer> out;
    for (const std::string& n : names) out.push_back({n, Server(n)});
    return out;
  }
  static std::vector<IndexBackend*> Backends(const std::vector<IndexServer>& layout) {
    std::vector<IndexBackend*> out;
    for (const IndexServer& s : layout) out.push_back(s.backend);
    return out;
  }
  // A gallery as the gateway leaves it on `names`: two collections, an alias.
  void Gallery(const std::vector<std::string>& names, int n) {
    ShardedIndex index(Backends(Layout(names)));
    CreateOn(index, "gallery__v1", "v1");
    CreateOn(index, "gallery__v2", "v2", v1::VECTOR_ENCODING_FLOAT16);
    Load(index, "gallery__v1", "v1", n);
    Load(index, "gallery__v2", "v2", n / 3);
    v1::SetAliasRequest alias;
    alias.set_alias("gallery");
    alias.set_collection("gallery__v2");
    ASSERT_TRUE(index.SetAlias(alias, kNoDeadline).ok());
  }
  // Every record of `collection` on exactly the server `layout` gives it, with its data.
  void ExpectPlaced(const std::vector<std::string>& layout, const std::string& collection, int n) {
    for (int i = 0; i < n; ++i) {
      const std::string id = absl::StrCat("photo", i);
      const std::string home = layout[ShardOfId(id, layout.size())];
      for (auto& [name, server] : servers_) {
        v1::GetRequest get;
        get.set_collection(collection);
        get.set_include_vectors(true);
        get.add_ids(id);
        auto got = server->Get(get, kNoDeadline);
        if (!got.ok()) {
          EXPECT_NE(name, home) << got.status();
          continue;
        }
        if (name != home) {
          EXPECT_EQ(got->records_size(), 0) << id << " is also on " << name;
          continue;
        }
        ASSERT_EQ(got->records_size(), 1) << id << " is missing from " << name;
        const std::vector<float> v = VectorOf(i);
        EXPECT_EQ(
            std::vector<float>(got->records(0).vector().begin(), got->records(0).vector().end()),
            v);
        EXPECT_EQ(got->records(0).payload().dog_id(), absl::StrCat("dog", i / 5));
      }
    }
  }
  // How many records change server between the layouts.
  static uint64_t Moving(const std::vector<std::string>& from, const std::vector<std::string>& to,
                         int n) {
    uint64_t moving = 0;
    for (int i = 0; i < n; ++i) {
      const std::string id = absl::StrCat("photo", i);
      moving += from[ShardOfId(id, from.size())] != to[ShardOfId(id, to.size())];
    }
    return moving;
  }

  std::map<std::string, std::unique_ptr<FakeIndex>> servers_;
  ReshardOptions options_;
};

TEST_F(ReshardTest, TwoShardsBecomeThreeInPlace) {
  const std::vector<std::string> before = {"a", "b"}, after = {"a", "b", "c"};
  Gallery(before, 600);
  options_.batch = 37;
  auto report = Reshard(Layout(before), Layout(after), options_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->collections.size(), 2u);
  EXPECT_EQ(report->collections[0].name, "gallery__v1");
  EXPECT_EQ(report->collections[0].records_before, 600u);
  EXPECT_EQ(report->collections[0].records_after, 600u);
  EXPECT_EQ(report->collections[0].moved, Moving(before, after, 600));
  EXPECT_GT(report->collections[0].moved, 100u);
  EXPECT_EQ(report->collections[0].duplicates, 0u);
  EXPECT_EQ(report->collections[1].records_after, 200u);
  EXPECT_EQ(report->aliases, 1u);
  ExpectPlaced(after, "gallery__v1", 600);
  ExpectPlaced(after, "gallery__v2", 200);
  // The new server got the collections with their options, and the alias.
  auto info = Server("c")->GetCollection("gallery__v2", kNoDeadline);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->model_version(), "v2");
  EXPECT_EQ(info->vector_encoding(), v1::VECTOR_ENCODING_FLOAT16);
  EXPECT_EQ(info->hnsw().m(), 24u);
  EXPECT_EQ(Server("c")->AliasTarget("gallery"), "gallery__v2");
  // The gateway's view over the new layout finds everything.
  ShardedIndex index(Backends(Layout(after)));
  auto all = index.GetCollection("gallery__v1", kNoDeadline);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->record_count(), 600u);
  // A second run has nothing left to do.
  auto again = Reshard(Layout(before), Layout(after), options_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->collections[0].moved, 0u);
}

TEST_F(ReshardTest, ThreeShardsBecomeTwoAndTheRemovedOneIsEmptied) {
  const std::vector<std::string> before = {"a", "b", "c"}, after = {"a", "b"};
  Gallery(before, 500);
  auto report = Reshard(Layout(before), Layout(after), options_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->collections[0].moved, Moving(before, after, 500));
  EXPECT_EQ(Server("c")->Count("gallery__v1"), 0u);
  EXPECT_EQ(Server("c")->Count("gallery__v2"), 0u);
  ExpectPlaced(after, "gallery__v1", 500);
  ExpectPlaced(after, "gallery__v2", 166);
}

TEST_F(ReshardTest, OneServerSpreadsOverThreeNewOnes) {
  Gallery({"old"}, 300);
  auto report = Reshard(Layout({"old"}), Layout({"p", "q", "r"}), options_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->collections[0].moved, 300u);
  EXPECT_EQ(Server("old")->Count("gallery__v1"), 0u);
  ExpectPlaced({"p", "q", "r"}, "gallery__v1", 300);
  for (const char* s : {"p", "q", "r"}) EXPECT_GT(Server(s)->Count("gallery__v1"), 60u) << s;
}

TEST_F(ReshardTest, ADryRunCountsAndChangesNothing) {
  Gallery({"a", "b"}, 400);
  options_.dry_run = true;
  auto report = Reshard(Layout({"a", "b"}), Layout({"a", "b", "c"}), options_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->collections[0].moved, Moving({"a", "b"}, {"a", "b", "c"}, 400));
  EXPECT_FALSE(Server("c")->HasCollection("gallery__v1"));
  ExpectPlaced({"a", "b"}, "gallery__v1", 400);
}

// An index server whose deletes start failing after `ok_deletes` of them: the tool stopped
// after a batch was written to its new server and before it was deleted from the old one.
class DeletesFailAfter : public FakeIndex {
 public:
  explicit DeletesFailAfter(FakeIndex* real, int ok_deletes) : real_(real), left_(ok_deletes) {}
#define FORWARD(Ret, Name, Params, Args) \
  Ret Name Params override { return real_->Name Args; }
  FORWARD(absl::StatusOr<v1::CollectionInfo>, CreateCollection,
          (const v1::CreateCollectionRequest& r, absl::Time d), (r, d))
  FORWARD(absl::StatusOr<v1::CollectionInfo>, GetCollection, (const std::string& n, absl::Time d),
          (n, d))
  FORWARD(absl::StatusOr<v1::ListCollectionsResponse>, ListCollections, (absl::Time d), (d))
  FORWARD(absl::StatusOr<v1::UpsertResponse>, Upsert, (const v1::UpsertRequest& r, absl::Time d),
          (r, d))
  FORWARD(absl::StatusOr<v1::GetResponse>, Get, (const v1::GetRequest& r, absl::Time d), (r, d))
  FORWARD(absl::StatusOr<v1::ListAliasesResponse>, ListAliases, (absl::Time d), (d))
  FORWARD(absl::StatusOr<v1::AliasInfo>, SetAlias, (const v1::SetAliasRequest& r, absl::Time d),
          (r, d))
  FORWARD(absl::StatusOr<v1::ListRecordIdsResponse>, ListRecordIds,
          (const v1::ListRecordIdsRequest& r, absl::Time d), (r, d))
#undef FORWARD
  absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& r, absl::Time d) override {
    if (left_-- <= 0) return absl::UnavailableError("connection reset");
    return real_->Delete(r, d);
  }

 private:
  FakeIndex* const real_;
  int left_;
};

TEST_F(ReshardTest, ARunStoppedBetweenWriteAndDeleteIsFinishedByTheNext) {
  const std::vector<std::string> before = {"a", "b"}, after = {"a", "b", "c"};
  Gallery(before, 600);
  options_.batch = 20;
  DeletesFailAfter flaky_a(Server("a"), 3);
  std::vector<IndexServer> from = {{"a", &flaky_a}, {"b", Server("b")}};
  std::vector<IndexServer> to = {{"a", &flaky_a}, {"b", Server("b")}, {"c", Server("c")}};
  auto stopped = Reshard(from, to, options_);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(stopped.status().message(), "index server a")) << stopped.status();
  // Some records are now on two servers; a second run moves the rest and removes the copies.
  auto report = Reshard(Layout(before), Layout(after), options_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->collections[0].duplicates, 0u);
  EXPECT_EQ(report->collections[0].records_before, 600u + report->collections[0].duplicates);
  EXPECT_EQ(report->collections[0].records_after, 600u);
  ExpectPlaced(after, "gallery__v1", 600);
  ExpectPlaced(after, "gallery__v2", 200);
}

TEST_F(ReshardTest, TwoSpellingsOfOneServerAreCaughtWithoutLoss) {
  Gallery({"a"}, 200);
  // "a" and "localhost-a" reach the same server.
  std::vector<IndexServer> to = {{"a", Server("a")}, {"localhost-a", Server("a")}};
  auto report = Reshard(Layout({"a"}), to, options_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(report.status().message(), "are one server")) << report.status();
  EXPECT_EQ(Server("a")->Count("gallery__v1"), 200u);
}

TEST_F(ReshardTest, RefusesBadLayoutsAndDifferingCollections) {
  Gallery({"a", "b"}, 50);
  EXPECT_EQ(Reshard({}, Layout({"a"}), options_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Reshard(Layout({"a", "b"}), Layout({"a", "a"}), options_).status().code(),
            absl::StatusCode::kInvalidArgument);
  options_.batch = 0;
  EXPECT_EQ(Reshard(Layout({"a", "b"}), Layout({"a"}), options_).status().code(),
            absl::StatusCode::kInvalidArgument);
  options_.batch = 500;
  // A server whose collection of the same name holds another model's vectors.
  CreateOn(*Server("c"), "gallery__v1", "v9");
  auto report = Reshard(Layout({"a", "b"}), Layout({"a", "b", "c"}), options_);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(report.status().message(), "index server c")) << report.status();
  ExpectPlaced({"a", "b"}, "gallery__v1", 50);
}

TEST(ShardedIndexListingTest, ListsEveryRecordOfEveryShardOnce) {
  FakeIndex a, b, c;
  ShardedIndex index({&a, &b, &c});
  CreateOn(index, "gallery__v1", "v1");
  Load(index, "gallery__v1", "v1", 250);
  v1::ListRecordIdsRequest req;
  req.set_collection("gallery__v1");
  req.set_page_size(7);
  std::multiset<std::string> seen;
  int pages = 0;
  do {
    auto page = index.ListRecordIds(req, kNoDeadline);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->ids_size(), 7);
    seen.insert(page->ids().begin(), page->ids().end());
    req.set_page_token(page->next_page_token());
    ASSERT_LT(++pages, 100);
  } while (!req.page_token().empty());
  EXPECT_EQ(seen.size(), 250u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 250u);
  req.set_page_token("9/x");
  EXPECT_EQ(index.ListRecordIds(req, kNoDeadline).status().code(),
            absl::StatusCode::kInvalidArgument);
  req.set_page_token("garbage");
  EXPECT_EQ(index.ListRecordIds(req, kNoDeadline).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dogsearch::gateway
