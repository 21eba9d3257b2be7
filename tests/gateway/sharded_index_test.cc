// ShardedIndex: records spread by a stable hash, searches merged across shards exactly as one
// index would answer, partial states handled; and the gateway core running over three shards,
// including the rebuild of a shard that lost its data.
#include "services/gateway/core/sharded_index.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/gateway/core/gateway_core.h"
#include "tests/gateway/fakes.h"
#include "tests/testing/eventually.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::gateway {
namespace {

using testing::FakeEmbedding;
using testing::FakeIndex;
using testing::FakePhoto;

const absl::Time kNoDeadline = absl::InfiniteFuture();

v1::CreateCollectionRequest Create(const std::string& name) {
  v1::CreateCollectionRequest c;
  c.set_name(name);
  c.set_dimension(FakeEmbedding::kDim);
  c.set_model_version("v1");
  return c;
}

v1::UpsertRequest Records(int n) {
  v1::UpsertRequest up;
  up.set_collection("c");
  up.set_model_version("v1");
  for (int i = 0; i < n; ++i) {
    v1::Record* r = up.add_records();
    r->set_id(absl::StrCat("photo", i));
    const auto v = FakeEmbedding::VectorFor("v1", FakePhoto(i % 10, i));
    r->mutable_vector()->Add(v.begin(), v.end());
    r->mutable_payload()->set_dog_id(absl::StrCat("dog", i % 10));
  }
  return up;
}

TEST(ShardedIndexTest, SpreadsRecordsAndMergesSearchesLikeOneIndex) {
  FakeIndex a, b, c, single;
  ShardedIndex sharded({&a, &b, &c});
  // The layout is FNV-1a 64 of the id modulo the shard count, the same in every process and
  // build (values computed independently).
  EXPECT_EQ(sharded.ShardOf("photo1"), 2u);
  EXPECT_EQ(sharded.ShardOf("photo3"), 1u);
  EXPECT_EQ(ShardedIndex({&a, &b}).ShardOf("photo2"), 1u);
  ASSERT_TRUE(sharded.CreateCollection(Create("c"), kNoDeadline).ok());
  ASSERT_TRUE(single.CreateCollection(Create("c"), kNoDeadline).ok());
  auto up = sharded.Upsert(Records(300), kNoDeadline);
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->inserted(), 300u);
  ASSERT_TRUE(single.Upsert(Records(300), kNoDeadline).ok());
  for (FakeIndex* s : {&a, &b, &c}) {
    EXPECT_GT(s->Count("c"), 60u);  // Roughly a third each.
    EXPECT_LT(s->Count("c"), 140u);
  }
  EXPECT_EQ((*sharded.GetCollection("c", kNoDeadline)).record_count(), 300u);
  for (int q = 0; q < 20; ++q) {
    v1::VectorSearchRequest sr;
    sr.set_collection("c");
    sr.set_k(25);
    const auto v = FakeEmbedding::VectorFor("v1", FakePhoto(q % 10, 1000 + q));
    sr.mutable_vector()->Add(v.begin(), v.end());
    auto got = sharded.Search(sr, kNoDeadline);
    auto want = single.Search(sr, kNoDeadline);
    ASSERT_TRUE(got.ok() && want.ok());
    ASSERT_EQ(got->hits_size(), 25);
    for (int i = 0; i < 25; ++i) EXPECT_EQ(got->hits(i).id(), want->hits(i).id());
  }
  v1::GetRequest g;
  g.set_collection("c");
  g.add_ids("photo7");
  g.add_ids("nope");
  auto got = sharded.Get(g, kNoDeadline);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->records_size(), 1);
  EXPECT_EQ(got->missing_ids_size(), 1);
  v1::DeleteRequest d;
  d.set_collection("c");
  for (int i = 0; i < 300; i += 2) d.add_ids(absl::StrCat("photo", i));
  EXPECT_EQ((*sharded.Delete(d, kNoDeadline)).deleted(), 150u);
  EXPECT_EQ((*sharded.GetCollection("c", kNoDeadline)).record_count(), 150u);
}

TEST(ShardedIndexTest, PartialStatesAndErrorsNameTheShard) {
  FakeIndex a, b;
  ShardedIndex sharded({&a, &b});
  ASSERT_TRUE(b.CreateCollection(Create("c"), kNoDeadline).ok());  // A half-done earlier try.
  EXPECT_TRUE(absl::IsAlreadyExists(sharded.CreateCollection(Create("c"), kNoDeadline).status()));
  EXPECT_TRUE(a.HasCollection("c"));  // The retry completed it.
  EXPECT_TRUE(sharded.GetCollection("c", kNoDeadline).ok());
  b.set_down(true);
  v1::VectorSearchRequest sr;
  sr.set_collection("c");
  sr.set_k(1);
  sr.mutable_vector()->Resize(FakeEmbedding::kDim, 0.1f);
  auto s = sharded.Search(sr, kNoDeadline);
  EXPECT_TRUE(absl::IsUnavailable(s.status()));
  EXPECT_NE(s.status().message().find("index shard 1"), std::string::npos) << s.status();
  b.set_down(false);
  ASSERT_TRUE(a.DropCollection("c", kNoDeadline).ok());
  EXPECT_TRUE(sharded.DropCollection("c", kNoDeadline).ok());  // Gone from one: still fine.
  EXPECT_TRUE(absl::IsNotFound(sharded.DropCollection("c", kNoDeadline)));
}

TEST(ShardedIndexTest, GatewayOverThreeShardsRebuildsAShardThatLostItsData) {
  dogsearch::testing::TempDir dir;
  FakeEmbedding embedding("v1");
  FakeIndex a, b, c;
  ShardedIndex sharded({&a, &b, &c});
  auto store = *GalleryStore::Open(dir.File("g.sqlite"));
  auto photos = *PhotoStore::Open(dir.File("photos"));
  GatewayOptions o;
  o.supervise_interval = absl::Milliseconds(20);
  GatewayCore core({store.get(), &photos, &embedding, &sharded}, o);
  core.Start();
  (void)dogsearch::testing::Eventually([&] { return core.serving(); }, absl::Seconds(2),
                                       absl::Milliseconds(10));
  ASSERT_TRUE(core.serving());
  for (int d = 0; d < 30; ++d) {
    v1::EnrollRequest r;
    r.set_dog_id(absl::StrCat("dog", d));
    r.set_name("Dog");
    for (int p = 0; p < 2; ++p) r.add_photos()->set_data(FakePhoto(d, p));
    ASSERT_TRUE(core.Enroll(r, kNoDeadline).ok());
  }
  auto search = [&](int dog) {
    v1::SearchRequest s;
    s.mutable_photo()->set_data(FakePhoto(dog, 9));
    return core.Search(s, kNoDeadline);
  };
  for (int d = 0; d < 30; ++d) EXPECT_EQ(search(d)->matches(0).dog_id(), absl::StrCat("dog", d));
  b.Wipe();  // One index shard loses its disk.
  v1::UpgradeProgress p;
  (void)dogsearch::testing::Eventually(
      [&] {
        p = core.GetModelStatus().upgrade();
        return p.state() == v1::UPGRADE_STATE_SUCCEEDED;
      },
      absl::Seconds(5));
  EXPECT_EQ(p.state(), v1::UPGRADE_STATE_SUCCEEDED) << p.state_reason();
  EXPECT_EQ(a.Count("gallery__v1") + b.Count("gallery__v1") + c.Count("gallery__v1"), 60u);
  EXPECT_GT(b.Count("gallery__v1"), 0u);
  for (int d = 0; d < 30; ++d) EXPECT_EQ(search(d)->matches(0).dog_id(), absl::StrCat("dog", d));
  core.Stop();
}

}  // namespace
}  // namespace dogsearch::gateway
