// WAL framing, torn tails vs corruption, group commit, record encoding.
#include "services/index/core/wal.h"

#include <thread>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/index/core/log_reader.h"
#include "services/index/core/record_codec.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::index {
namespace {

using ::dogsearch::testing::ReadAll;
using ::dogsearch::testing::TempDir;
using ::dogsearch::testing::WriteAll;

class WalTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.File("wal-test.log"); }

  // Writes `n` records with payloads "record-<i>" and closes the WAL.
  void WriteRecords(int n, SyncPolicy policy = SyncPolicy::kAlways) {
    auto wal = Wal::Create(path(), 1, {policy, absl::Milliseconds(5)});
    ASSERT_TRUE(wal.ok()) << wal.status();
    for (int i = 0; i < n; ++i) {
      uint64_t t = (*wal)->Enqueue(RecordType::kUpsert, absl::StrCat("record-", i));
      ASSERT_TRUE((*wal)->WaitDurable(t).ok());
    }
  }

  // Reads all records; returns their payloads or the error.
  absl::StatusOr<std::vector<std::string>> ReadRecords(int64_t* torn = nullptr) {
    auto reader = LogReader::Open(path());
    if (!reader.ok()) return reader.status();
    std::vector<std::string> out;
    LogRecord rec;
    while (true) {
      auto more = reader->Next(&rec);
      if (!more.ok()) return more.status();
      if (!*more) break;
      out.push_back(rec.payload);
    }
    if (torn != nullptr) *torn = reader->torn_tail_offset();
    return out;
  }

  TempDir dir_;
};

TEST_F(WalTest, RecordsReadBackInOrder) {
  WriteRecords(50);
  auto recs = ReadRecords();
  ASSERT_TRUE(recs.ok()) << recs.status();
  ASSERT_EQ(recs->size(), 50u);
  EXPECT_EQ((*recs)[0], "record-0");
  EXPECT_EQ((*recs)[49], "record-49");
}

TEST_F(WalTest, TruncatedTrailingRecordIsDroppedAsTornTail) {
  WriteRecords(10);
  std::string data = ReadAll(path());
  WriteAll(path(), data.substr(0, data.size() - 3));
  int64_t torn = -1;
  auto recs = ReadRecords(&torn);
  ASSERT_TRUE(recs.ok()) << recs.status();
  EXPECT_EQ(recs->size(), 9u);
  EXPECT_GT(torn, 0);
}

TEST_F(WalTest, TruncatedTrailingHeaderIsDroppedAsTornTail) {
  WriteRecords(3);
  std::string data = ReadAll(path());
  WriteAll(path(), data + std::string("\x01\x02\x03", 3));
  auto recs = ReadRecords();
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(recs->size(), 3u);
}

TEST_F(WalTest, ZeroFilledTailIsDroppedAsTornTail) {
  WriteRecords(3);
  WriteAll(path(), ReadAll(path()) + std::string(4096, '\0'));
  auto recs = ReadRecords();
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(recs->size(), 3u);
}

TEST_F(WalTest, FlippedByteInTheMiddleIsCorruptionNamingFileAndOffset) {
  WriteRecords(20);
  std::string data = ReadAll(path());
  const size_t at = data.size() / 2;
  data[at] = static_cast<char>(data[at] ^ 0x40);
  WriteAll(path(), data);
  auto recs = ReadRecords();
  ASSERT_FALSE(recs.ok());
  EXPECT_EQ(recs.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(recs.status().message(), "wal-test.log")) << recs.status();
  EXPECT_TRUE(absl::StrContains(recs.status().message(), "offset ")) << recs.status();
}

TEST_F(WalTest, FlippedByteInTheLastRecordIsTreatedAsTorn) {
  WriteRecords(5);
  std::string data = ReadAll(path());
  data[data.size() - 2] = static_cast<char>(data[data.size() - 2] ^ 0x01);
  WriteAll(path(), data);
  auto recs = ReadRecords();
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(recs->size(), 4u);
}

TEST_F(WalTest, BadMagicIsRefused) {
  WriteRecords(1);
  std::string data = ReadAll(path());
  data[0] = 'X';
  WriteAll(path(), data);
  EXPECT_EQ(LogReader::Open(path()).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(WalTest, ReopenForAppendCutsTheTornTailAndContinues) {
  WriteRecords(4);
  std::string data = ReadAll(path());
  WriteAll(path(), data.substr(0, data.size() - 5));
  uint64_t valid;
  {
    auto reader = LogReader::Open(path());
    LogRecord rec;
    while (*reader->Next(&rec)) {
    }
    valid = reader->valid_bytes();
  }
  {
    auto wal = Wal::OpenForAppend(path(), valid, {});
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE((*wal)->WaitDurable((*wal)->Enqueue(RecordType::kDelete, "after")).ok());
  }
  auto recs = ReadRecords();
  ASSERT_TRUE(recs.ok()) << recs.status();
  ASSERT_EQ(recs->size(), 4u);
  EXPECT_EQ(recs->back(), "after");
}

TEST_F(WalTest, ConcurrentWritersAllLandWithGroupCommit) {
  {
    auto wal = Wal::Create(path(), 1, {});
    ASSERT_TRUE(wal.ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          uint64_t ticket = (*wal)->Enqueue(RecordType::kUpsert, absl::StrCat(t, ":", i));
          EXPECT_TRUE((*wal)->WaitDurable(ticket).ok());
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  auto recs = ReadRecords();
  ASSERT_TRUE(recs.ok());
  EXPECT_EQ(recs->size(), 400u);
  // Per writer, records are in the order that writer enqueued them.
  std::vector<int> next(8, 0);
  for (const std::string& r : *recs) {
    int t = r[0] - '0';
    EXPECT_EQ(r, absl::StrCat(t, ":", next[t]++));
  }
}

TEST_F(WalTest, IntervalAndNonePoliciesStillWriteEverything) {
  WriteRecords(20, SyncPolicy::kInterval);
  EXPECT_EQ(ReadRecords()->size(), 20u);
  std::remove(path().c_str());
  WriteRecords(20, SyncPolicy::kNone);
  EXPECT_EQ(ReadRecords()->size(), 20u);
}

TEST(RecordCodecTest, UpsertAndDeleteRoundTrip) {
  Record r{"photo-1", {0.5f, -1.25f, 3.0f}, {"dog-7", "abc", {{"k", "v"}, {"k2", ""}}}};
  auto up = DecodeUpsert(EncodeUpsert(42, {r, r}));
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->sequence, 42u);
  ASSERT_EQ(up->records.size(), 2u);
  EXPECT_EQ(up->records[1].id, "photo-1");
  EXPECT_EQ(up->records[1].vector, r.vector);
  EXPECT_TRUE(up->records[1].payload == r.payload);
  auto del = DecodeDelete(EncodeDelete(7, {"a", "b"}));
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->ids, (std::vector<std::string>{"a", "b"}));
}

TEST(RecordCodecTest, TruncatedPayloadIsDataLossNotACrash) {
  std::string enc = EncodeUpsert(1, {Record{"id", std::vector<float>(64, 1.f), {}}});
  for (size_t cut : {size_t{0}, size_t{5}, size_t{13}, enc.size() - 1}) {
    EXPECT_EQ(DecodeUpsert(enc.substr(0, cut)).status().code(), absl::StatusCode::kDataLoss);
  }
  std::string huge_len = EncodeDelete(1, {"x"});
  huge_len[8] = '\xff';  // Count = huge.
  EXPECT_FALSE(DecodeDelete(huge_len).ok());
}

}  // namespace
}  // namespace dogsearch::index
