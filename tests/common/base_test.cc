#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "common/base/crc32c.h"
#include "common/base/env_flags.h"
#include "common/base/file_util.h"
#include "common/base/heap_retention.h"
#include "common/base/log.h"
#include "common/base/periodic_thread.h"
#include "common/base/process_stats.h"
#include "common/base/sha256.h"
#include "common/base/status_macros.h"
#include "gtest/gtest.h"
#include "tests/testing/eventually.h"
#include "tests/testing/temp_dir.h"

ABSL_FLAG(int, dstest_port, 7, "test flag");
ABSL_FLAG(std::string, dstest_name, "default", "test flag");

namespace dogsearch {
namespace {

using ::dogsearch::testing::ReadAll;
using ::dogsearch::testing::TempDir;

// --- CRC32C: test vectors from RFC 3720, section B.4. ---
TEST(Crc32cTest, MatchesRfc3720Vectors) {
  std::string zeros(32, '\0'), ones(32, '\xff'), up(32, 0), down(32, 0);
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<char>(i);
    down[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(crc32c::Value(zeros), 0x8a9136aau);
  EXPECT_EQ(crc32c::Value(ones), 0x62a8ab43u);
  EXPECT_EQ(crc32c::Value(up), 0x46dd794eu);
  EXPECT_EQ(crc32c::Value(down), 0x113fdb5cu);
  EXPECT_EQ(crc32c::Value("123456789"), 0xe3069283u);
}

TEST(Crc32cTest, HardwareAndPortablePathsAgreeOnRandomData) {
  std::mt19937 rng(1);
  for (int len : {0, 1, 7, 8, 9, 63, 64, 1000, 4097}) {
    std::string s(len, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(crc32c::Extend(0, s.data(), s.size()), crc32c::ExtendPortable(0, s.data(), s.size()))
        << "len " << len;
  }
}

TEST(Crc32cTest, ExtendEqualsCrcOfConcatenation) {
  EXPECT_EQ(crc32c::Value("hello world"), crc32c::Extend(crc32c::Value("hello "), "world", 5));
}

TEST(Crc32cTest, MaskRoundTripsAndChangesValue) {
  uint32_t crc = crc32c::Value("foo");
  EXPECT_NE(crc32c::Mask(crc), crc);
  EXPECT_NE(crc32c::Mask(crc32c::Mask(crc)), crc);
  EXPECT_EQ(crc32c::Unmask(crc32c::Mask(crc)), crc);
  EXPECT_EQ(crc32c::Unmask(crc32c::Unmask(crc32c::Mask(crc32c::Mask(crc)))), crc);
}

// --- SHA-256: FIPS 180-2 vectors. ---
TEST(Sha256Test, MatchesKnownVectors) {
  EXPECT_EQ(Sha256::Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256::Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, StreamingAndFileMatchOneShot) {
  TempDir dir;
  std::string data(200000, 'x');
  data[12345] = 'y';
  ASSERT_TRUE(WriteFileAtomic(dir.File("f"), data).ok());
  Sha256 h;
  h.Update(data.substr(0, 1000));
  h.Update(data.substr(1000));
  const std::string one_shot = Sha256::Hex(data);
  EXPECT_EQ(h.HexDigest(), one_shot);
  EXPECT_EQ(*Sha256::HexOfFile(dir.File("f")), one_shot);
  EXPECT_EQ(Sha256::HexOfFile(dir.File("missing")).status().code(), absl::StatusCode::kNotFound);
}

// --- Files. ---
TEST(FileUtilTest, AtomicWriteReplacesWholeFileAndLeavesNoTemporaries) {
  TempDir dir;
  const std::string path = dir.File("state");
  ASSERT_TRUE(WriteFileAtomic(path, "first version").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "second").ok());
  EXPECT_EQ(ReadAll(path), "second");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(FileUtilTest, AtomicWriteIntoMissingDirectoryFailsWithNotFound) {
  TempDir dir;
  absl::Status s = WriteFileAtomic(dir.File("no/such/dir/file"), "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(s.message(), "no/such/dir")) << s;
}

TEST(FileUtilTest, ReadFileRefusesFilesOverTheLimitBeforeReading) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.File("big"), std::string(1000, 'a')).ok());
  EXPECT_EQ(ReadFile(dir.File("big"), 999).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFile(dir.File("big"), 1000)->size(), 1000u);
  EXPECT_EQ(ReadFile(dir.File("nope")).status().code(), absl::StatusCode::kNotFound);
}

TEST(FileUtilTest, ReadVerifiedFileChecksSizeThenHash) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.File("w"), "abc").ok());
  const std::string abc = Sha256::Hex("abc");
  EXPECT_EQ(*ReadVerifiedFile(dir.File("w"), 100, 3, abc, "weights"), "abc");
  absl::Status size = ReadVerifiedFile(dir.File("w"), 100, 4, abc, "weights").status();
  EXPECT_EQ(size.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(size.message(), "weights is 3 bytes, the manifest says 4")) << size;
  absl::Status hash =
      ReadVerifiedFile(dir.File("w"), 100, 3, Sha256::Hex("abd"), "weights").status();
  EXPECT_EQ(hash.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(hash.message(), "weights: SHA-256 does not match the manifest"))
      << hash;
  EXPECT_EQ(ReadVerifiedFile(dir.File("w"), 2, 3, abc, "weights").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadVerifiedFile(dir.File("gone"), 100, 3, abc, "weights").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(FileUtilTest, WriteNewFileRefusesExistingFile) {
  TempDir dir;
  ASSERT_TRUE(WriteNewFileSynced(dir.File("a"), "1").ok());
  EXPECT_EQ(WriteNewFileSynced(dir.File("a"), "2").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadAll(dir.File("a")), "1");
}

TEST(FileUtilTest, MakeDirsCreatesParentsAndRefusesFileInTheWay) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.File("a/b/c")).ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir.File("a/b/c")));
  EXPECT_TRUE(MakeDirs(dir.File("a/b/c")).ok());  // Idempotent.
  ASSERT_TRUE(WriteFileAtomic(dir.File("f"), "x").ok());
  EXPECT_EQ(MakeDirs(dir.File("f")).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(FileUtilTest, PublishDirectoryIsAllOrNothingAndNeverOverwrites) {
  TempDir dir;
  const std::string root = dir.File("root");
  ASSERT_TRUE(PublishDirectory(root, "v1", {{"a", "A"}, {"b", "BB"}}).ok());
  EXPECT_EQ(ReadAll(root + "/v1/a"), "A");
  EXPECT_EQ(ReadAll(root + "/v1/b"), "BB");
  EXPECT_EQ(PublishDirectory(root, "v1", {{"a", "other"}}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadAll(root + "/v1/a"), "A");
  // A file that cannot be written (its folder does not exist): nothing is published and no
  // temporary folder is left behind.
  EXPECT_FALSE(PublishDirectory(root, "v2", {{"a", "A"}, {"no/such/dir", "x"}}).ok());
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(root)) {
    EXPECT_EQ(e.path().filename(), "v1");
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(PeriodicThreadTest, RunsEveryIntervalWakesEarlyAndStopsPromptly) {
  std::atomic<int> runs{0};
  {
    PeriodicThread t(
        absl::Milliseconds(20), [&] { ++runs; }, PeriodicThread::FirstRun::kNow);
    EXPECT_TRUE(testing::Eventually([&] { return runs.load() >= 3; }, absl::Seconds(5)));
  }
  const int after_stop = runs.load();
  absl::SleepFor(absl::Milliseconds(60));
  EXPECT_EQ(runs.load(), after_stop);  // Destroyed: no more runs.
  std::atomic<int> slow{0};
  PeriodicThread hourly(absl::Hours(1), [&] { ++slow; });
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(slow.load(), 0);  // kAfterInterval: not yet.
  hourly.Wake();
  EXPECT_TRUE(testing::Eventually([&] { return slow.load() == 1; }, absl::Seconds(5)));
  const absl::Time t0 = absl::Now();
  hourly.Stop();
  EXPECT_LT(absl::Now() - t0, absl::Seconds(1));
}

TEST(PeriodicThreadTest, EachRunChoosesTheNextWait) {
  std::atomic<int> runs{0};
  // Fast until the third run, then an hour: only Wake() brings a fourth.
  PeriodicThread t([&] { return ++runs < 3 ? absl::Milliseconds(5) : absl::Hours(1); });
  EXPECT_TRUE(testing::Eventually([&] { return runs.load() == 3; }, absl::Seconds(5)));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(runs.load(), 3);
  t.Wake();
  EXPECT_TRUE(testing::Eventually([&] { return runs.load() == 4; }, absl::Seconds(5)));
  const absl::Time t0 = absl::Now();
  t.Stop();
  EXPECT_LT(absl::Now() - t0, absl::Seconds(1));
}

TEST(FileUtilTest, DirNameHandlesEdgeCases) {
  EXPECT_EQ(DirName("/a/b/c"), "/a/b");
  EXPECT_EQ(DirName("/a/b/"), "/a");
  EXPECT_EQ(DirName("file"), ".");
  EXPECT_EQ(DirName("/file"), "/");
}

TEST(FileUtilTest, ErrnoMapsToMeaningfulCodes) {
  EXPECT_EQ(ErrnoToStatus(ENOENT, "x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(EACCES, "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(ENOSPC, "x").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(ErrnoToStatus(ENOENT, "open f").message(), "open f: "));
}

// --- Status macros. ---
absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError("odd");
  return x / 2;
}
absl::StatusOr<int> Quarter(int x) {
  DS_ASSIGN_OR_RETURN(int h, Half(x));
  DS_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}
absl::Status CheckEven(int x) {
  DS_RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, PropagateErrorsAndValues) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_EQ(CheckEven(3).code(), absl::StatusCode::kInvalidArgument);
}

// --- Logging. ---
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogSinkForTesting([this](absl::string_view l) { lines_.emplace_back(l); });
  }
  void TearDown() override {
    SetLogSinkForTesting(nullptr);
    SetLogLevel(LogLevel::kInfo);
  }
  std::vector<std::string> lines_;
};

TEST_F(LogTest, WritesOneKeyValueLinePerEventWithQuotingWhereNeeded) {
  DS_LOG(kInfo, "model_loaded").Kv("version", "v1").Kv("reason", "bad \"hash\"").Kv("n", 3);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(lines_[0], "ts=")) << lines_[0];
  EXPECT_TRUE(absl::StrContains(lines_[0],
                                " level=info event=model_loaded version=v1 "
                                "reason=\"bad \\\"hash\\\"\" n=3"))
      << lines_[0];
  EXPECT_EQ(lines_[0].find('\n'), std::string::npos);
}

TEST_F(LogTest, DropsLinesBelowTheLevel) {
  SetLogLevel(LogLevel::kWarning);
  DS_LOG(kInfo, "quiet");
  DS_LOG(kError, "loud");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lines_[0], "event=loud"));
}

TEST_F(LogTest, NewlinesInValuesCannotForgeLines) {
  DS_LOG(kInfo, "x").Kv("v", "a\nlevel=error event=forged");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].find('\n'), std::string::npos);
}

TEST_F(LogTest, StatusFieldsCarryCodeAndMessage) {
  DS_LOG(kInfo, "x").Kv("status", absl::NotFoundError("gone"));
  EXPECT_TRUE(absl::StrContains(lines_[0], "status_code=NOT_FOUND status=gone")) << lines_[0];
}

TEST(LogLevelTest, ParsesNamesAndRefusesOthers) {
  LogLevel l;
  EXPECT_TRUE(ParseLogLevel("WARN", &l).ok());
  EXPECT_EQ(l, LogLevel::kWarning);
  EXPECT_EQ(ParseLogLevel("loud", &l).code(), absl::StatusCode::kInvalidArgument);
}

// --- Flags from the environment. ---
TEST(EnvFlagsTest, EnvironmentSetsFlagsAndBadValuesNameTheVariable) {
  auto env = [](const std::string& name) -> const char* {
    if (name == "DOGSEARCH_DSTEST_PORT") return "9090";
    if (name == "DOGSEARCH_DSTEST_NAME") return "from-env";
    return nullptr;
  };
  ASSERT_TRUE(ApplyFlagsFromEnv(kEnvPrefix, env).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_dstest_port), 9090);
  EXPECT_EQ(absl::GetFlag(FLAGS_dstest_name), "from-env");

  auto bad = [](const std::string& name) -> const char* {
    return name == "DOGSEARCH_DSTEST_PORT" ? "not-a-number" : nullptr;
  };
  absl::Status s = ApplyFlagsFromEnv(kEnvPrefix, bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "DOGSEARCH_DSTEST_PORT")) << s;
  EXPECT_EQ(EnvNameForFlag("DOGSEARCH_", "max_batch_size"), "DOGSEARCH_MAX_BATCH_SIZE");
}

TEST(EnvFlagsTest, CommandLineWinsOverEnvironment) {
  ::setenv("DOGSEARCH_DSTEST_NAME", "env-value", 1);
  std::vector<std::string> args = {"prog", "--dstest_name=cli-value"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ParseFlagsWithEnv(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(absl::GetFlag(FLAGS_dstest_name), "cli-value");
  ::unsetenv("DOGSEARCH_DSTEST_NAME");
}

// The command-line tools' exit codes (dogsearch-eval, -ensemble, -reshard): 2 for bad input.
TEST(EnvFlagsTest, ToolExitCodesSeparateBadInputFromFailure) {
  EXPECT_EQ(ToolExitCode("t", absl::OkStatus()), 0);
  EXPECT_EQ(ToolExitCode("t", absl::InvalidArgumentError("bad flag")), 2);
  EXPECT_EQ(ToolExitCode("t", absl::NotFoundError("no file")), 1);
  EXPECT_EQ(ThreadsOrAllCores(3), 3);
  EXPECT_GE(ThreadsOrAllCores(0), 1);
}

// --- Process stats. ---
TEST(ProcessStatsTest, ResidentMemoryGrowsWhenMemoryIsTouched) {
  auto before = ResidentMemoryBytes();
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_GT(*before, 1u << 20);          // Any process here is over 1 MiB resident.
  std::vector<char> block(64 << 20, 1);  // Touch 64 MiB.
  auto after = ResidentMemoryBytes();
  ASSERT_TRUE(after.ok());
  EXPECT_GE(*after, *before + (48u << 20)) << "block[7]=" << int{block[7]};
}

// The embedding server sizes LibTorch's thread pool from this: a process confined to one CPU
// (as by a cpuset or taskset) counts one core, whatever the machine has.
TEST(ProcessStatsTest, UsableCoresFollowsTheCpuAffinity) {
  cpu_set_t all;
  ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
  EXPECT_EQ(UsableCores(), CPU_COUNT(&all));
  int first = 0;
  while (!CPU_ISSET(first, &all)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const int confined = UsableCores();
  ASSERT_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
  EXPECT_EQ(confined, 1);
}

// --- ScopedHeapRetention: a freed big buffer is reused, not mapped anew. ---
// Minor page faults taken while a 64 MiB buffer (above glibc's largest mmap threshold) is
// allocated, touched page by page and freed: ~16,384 when its pages are fresh.
long FaultsOfOneBigBuffer() {
  constexpr size_t kBytes = size_t{64} << 20;
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  auto* p = static_cast<volatile char*>(std::malloc(kBytes));
  for (size_t i = 0; i < kBytes; i += 4096) p[i] = 1;
  std::free(const_cast<char*>(p));
  getrusage(RUSAGE_SELF, &after);
  return after.ru_minflt - before.ru_minflt;
}

TEST(HeapRetentionTest, ABigBufferFreedInAScopeIsReusedAndTheDefaultsComeBackAfter) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's allocator replaces glibc's malloc, which mallopt tunes";
#endif
  ASSERT_FALSE(ScopedHeapRetention::Active());
  FaultsOfOneBigBuffer();
  EXPECT_GT(FaultsOfOneBigBuffer(), 8000) << "by default every big buffer is a fresh mapping";
  {
    ScopedHeapRetention outer;
    EXPECT_TRUE(ScopedHeapRetention::Active());
    FaultsOfOneBigBuffer();  // The heap grows once...
    EXPECT_LT(FaultsOfOneBigBuffer(), 1000) << "...and the freed pages are reused";
    {
      ScopedHeapRetention inner;
      EXPECT_LT(FaultsOfOneBigBuffer(), 1000);
    }
    EXPECT_TRUE(ScopedHeapRetention::Active()) << "the outer scope still holds";
    EXPECT_LT(FaultsOfOneBigBuffer(), 1000);
  }
  EXPECT_FALSE(ScopedHeapRetention::Active());
  EXPECT_GT(FaultsOfOneBigBuffer(), 8000) << "glibc's defaults are back: fresh mappings again";
}

}  // namespace
}  // namespace dogsearch
