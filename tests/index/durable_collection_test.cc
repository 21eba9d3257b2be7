// DurableCollection: acknowledged writes survive reopening (with and without snapshots), torn
// tails are dropped, corruption is refused with file and offset, --repair recovers.
#include "services/index/core/durable_collection.h"

#include <filesystem>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/index/core/record_codec.h"
#include "services/index/core/storage_files.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::index {
namespace {

using ::dogsearch::testing::ReadAll;
using ::dogsearch::testing::WriteAll;

std::vector<float> Vec(int i, uint32_t dim = 8) {
  std::mt19937 rng(i);
  std::normal_distribution<float> g;
  std::vector<float> v(dim);
  for (float& x : v) x = g(rng);
  return v;
}

class DurableCollectionTest : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.File("c"); }

  CollectionOptions Options() const {
    CollectionOptions o;
    o.name = "gallery__v1";
    o.dimension = 8;
    o.model_version = "v1";
    o.initial_capacity = 16;
    return o;
  }

  void Upsert(DurableCollection& c, int from, int to) {
    std::vector<Record> batch;
    for (int i = from; i < to; ++i) {
      batch.push_back(Record{absl::StrCat("r", i), Vec(i), {absl::StrCat("dog", i), "", {}}});
    }
    auto r = c.Upsert(batch);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  // Every id in [from, to) is present with its payload, and nearest to its own vector.
  void ExpectPresent(const DurableCollection& c, int from, int to) {
    for (int i = from; i < to; ++i) {
      auto got = c.Get({absl::StrCat("r", i)}, false);
      ASSERT_TRUE(got[0].has_value()) << "r" << i << " missing";
      EXPECT_EQ(got[0]->payload.dog_id, absl::StrCat("dog", i));
    }
  }

  std::string LastWal() const {
    auto wals = *ListWalFiles(dir());
    return absl::StrCat(dir(), "/", WalFileName(wals.back()));
  }

  testing::TempDir tmp_;
};

TEST_F(DurableCollectionTest, AcknowledgedWritesSurviveReopenFromTheWal) {
  {
    auto c = *DurableCollection::Create(dir(), Options());
    Upsert(*c, 0, 100);
    Upsert(*c, 100, 150);
    ASSERT_TRUE(c->Delete({"r3", "r4"}).ok());
  }
  auto c = DurableCollection::Open(dir(), {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->Stats().record_count, 148u);
  EXPECT_EQ((*c)->Stats().last_sequence, 3u);
  ExpectPresent(**c, 5, 150);
  EXPECT_FALSE((*c)->Get({"r3"}, false)[0].has_value());
  EXPECT_EQ((*c)->options().model_version, "v1");
}

TEST_F(DurableCollectionTest, SnapshotPlusLaterWalRecoversEverythingAndDropsOldFiles) {
  {
    auto c = *DurableCollection::Create(dir(), Options());
    Upsert(*c, 0, 200);
    auto snap = c->Snapshot();
    ASSERT_TRUE(snap.ok()) << snap.status();
    EXPECT_EQ(snap->sequence, 1u);
    Upsert(*c, 200, 260);
    ASSERT_TRUE(c->Delete({"r0"}).ok());
  }
  EXPECT_EQ(ListWalFiles(dir())->size(), 1u);
  EXPECT_EQ(ListSnapshots(dir())->size(), 1u);
  auto c = DurableCollection::Open(dir(), {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->Stats().record_count, 259u);
  EXPECT_EQ((*c)->Stats().snapshot_sequence, 1u);
  ExpectPresent(**c, 1, 260);
  SearchParams p;
  p.k = 1;
  auto hits = (*c)->Search(Vec(77), p);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ((*hits)[0].id, "r77");
}

// A compact encoding is part of the collection's options: it survives reopening from a snapshot
// (whose graph holds int8 vectors) plus the WAL, and searches still find each record.
TEST_F(DurableCollectionTest, AnInt8CollectionReopensAsInt8) {
  CollectionOptions o = Options();
  o.vector_encoding = VectorEncoding::kInt8;
  {
    auto c = *DurableCollection::Create(dir(), o);
    Upsert(*c, 0, 100);
    ASSERT_TRUE(c->Snapshot().ok());
    Upsert(*c, 100, 120);
  }
  auto c = DurableCollection::Open(dir(), {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->options().vector_encoding, VectorEncoding::kInt8);
  ExpectPresent(**c, 0, 120);
  SearchParams p;
  p.k = 1;
  for (int i : {7, 110}) {
    auto hits = (*c)->Search(Vec(i), p);
    ASSERT_TRUE(hits.ok());
    EXPECT_EQ((*hits)[0].id, absl::StrCat("r", i));
  }
}

// Collections written before encodings existed have no encoding byte: they open as float32.
TEST_F(DurableCollectionTest, AnOptionsFileWithoutAnEncodingReadsAsFloat32) {
  ASSERT_TRUE(std::filesystem::create_directories(dir()));
  CollectionOptions o = Options();
  o.vector_encoding = VectorEncoding::kFloat16;
  ASSERT_TRUE(WriteOptionsFile(dir(), o).ok());
  auto read = ReadOptionsFile(dir());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->vector_encoding, VectorEncoding::kFloat16);
  // The file as the previous version wrote it: the same fields without the encoding byte.
  std::string body;
  Encoder e(&body);
  e.Str(o.name);
  e.U32(o.dimension);
  e.U8(static_cast<uint8_t>(o.metric));
  e.Str(o.model_version);
  e.U32(o.m);
  e.U32(o.ef_construction);
  e.U32(o.ef_search);
  e.U64(o.initial_capacity);
  e.U64(o.max_records);
  e.U8(static_cast<uint8_t>(o.sync_policy));
  e.U32(o.sync_interval_ms);
  e.U64(static_cast<uint64_t>(o.created_unix_seconds));
  WriteAll(absl::StrCat(dir(), "/", kOptionsFile), SealFile("DSIXCOL1", body));
  read = ReadOptionsFile(dir());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->vector_encoding, VectorEncoding::kFloat32);
  EXPECT_EQ(read->model_version, "v1");
}

TEST_F(DurableCollectionTest, TornTailIsDroppedAndWritingContinues) {
  {
    auto c = *DurableCollection::Create(dir(), Options());
    Upsert(*c, 0, 10);
    Upsert(*c, 10, 20);
  }
  std::string wal = ReadAll(LastWal());
  WriteAll(LastWal(), wal.substr(0, wal.size() - 10));  // Crash in the middle of the 2nd write.
  {
    auto c = DurableCollection::Open(dir(), {});
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ((*c)->Stats().record_count, 10u);
    Upsert(**c, 100, 105);
  }
  auto c = DurableCollection::Open(dir(), {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->Stats().record_count, 15u);
  ExpectPresent(**c, 100, 105);
}

TEST_F(DurableCollectionTest, FlippedByteInTheMiddleOfTheWalStopsStartUpUnlessRepairing) {
  {
    auto c = *DurableCollection::Create(dir(), Options());
    for (int i = 0; i < 20; ++i) Upsert(*c, i * 5, i * 5 + 5);
  }
  std::string wal = ReadAll(LastWal());
  wal[wal.size() / 2] = static_cast<char>(wal[wal.size() / 2] ^ 0x10);
  WriteAll(LastWal(), wal);
  auto refused = DurableCollection::Open(dir(), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "wal-")) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "offset")) << refused.status();
  auto repaired = DurableCollection::Open(dir(), {/*repair=*/true});
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  const uint64_t kept = (*repaired)->Stats().record_count;
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, 100u);
  ExpectPresent(**repaired, 0, static_cast<int>(kept));
}

class SnapshotDamageTest : public DurableCollectionTest {
 protected:
  void SetUp() override {
    auto c = *DurableCollection::Create(dir(), Options());
    Upsert(*c, 0, 300);
    ASSERT_TRUE(c->Snapshot().ok());
    Upsert(*c, 300, 310);
    snap_ = absl::StrCat(dir(), "/", SnapshotDirName(1));
  }
  void ExpectRefused(absl::string_view reason) {
    auto c = DurableCollection::Open(dir(), {});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_TRUE(absl::StrContains(c.status().message(), reason)) << c.status();
  }
  std::string snap_;
};

TEST_F(SnapshotDamageTest, TruncatedSnapshotFileIsRefusedNamingIt) {
  const std::string graph = snap_ + "/graph.hnsw";
  std::string g = ReadAll(graph);
  WriteAll(graph, g.substr(0, g.size() / 2));
  ExpectRefused("graph.hnsw is ");
}

TEST_F(SnapshotDamageTest, MissingSnapshotFileIsRefusedNamingIt) {
  std::filesystem::remove(snap_ + "/slots.bin");
  ExpectRefused("slots.bin");
}

TEST_F(SnapshotDamageTest, FlippedByteInSnapshotIsRefused) {
  const std::string slots = snap_ + "/slots.bin";
  std::string s = ReadAll(slots);
  s[s.size() / 2] = static_cast<char>(s[s.size() / 2] ^ 1);
  WriteAll(slots, s);
  ExpectRefused("checksum mismatch");
}

TEST_F(DurableCollectionTest, RequestsAreValidatedWholeBeforeAnythingIsWritten) {
  auto c = *DurableCollection::Create(dir(), Options());
  std::vector<Record> batch = {Record{"ok", Vec(1), {}}, Record{"bad", {1.f, 2.f}, {}}};
  auto r = c->Upsert(batch);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "record 1 ('bad')")) << r.status();
  EXPECT_EQ(c->Stats().record_count, 0u);
  EXPECT_EQ(c->Stats().last_sequence, 0u);
  EXPECT_EQ(c->Upsert({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Delete({}).status().code(), absl::StatusCode::kInvalidArgument);
  SearchParams p;
  p.k = 0;
  EXPECT_EQ(c->Search(Vec(1), p).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DurableCollectionTest, MaxRecordsIsEnforced) {
  CollectionOptions o = Options();
  o.max_records = 10;
  auto c = *DurableCollection::Create(dir(), o);
  Upsert(*c, 0, 10);
  std::vector<Record> one = {Record{"extra", Vec(99), {}}};
  EXPECT_EQ(c->Upsert(one).status().code(), absl::StatusCode::kResourceExhausted);
  Upsert(*c, 0, 10);  // Replacing existing ids is fine at the limit.
  EXPECT_EQ(c->Stats().record_count, 10u);
}

TEST_F(DurableCollectionTest, CreateRefusesANonEmptyDirectory) {
  { auto c = *DurableCollection::Create(dir(), Options()); }
  EXPECT_EQ(DurableCollection::Create(dir(), Options()).status().code(),
            absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace dogsearch::index
