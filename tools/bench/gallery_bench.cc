// The gateway's gallery store (SQLite) at registry size (issue #22): bulk-loads N photos of
// N / 5 dogs (64-hex-digit photo ids, as the gateway stores them) straight into the store's
// schema in one transaction, reopens it through GalleryStore (start-up time), and times the
// queries a running gateway makes: the photo and dog counts (kept by triggers) against the
// COUNT(*) scan they replaced, the result lookup of a Search (LookupPhotos of 50 ids), FindPhoto,
// GetDog, a ListDogs page, a re-embedding walk step (PhotosAfter, 32 photos) and the embedding
// map's sample of 2,000 photos.
//
//   build/tools/bench/gallery_bench --photos=10000000 --dir=/tmp/gallery-bench
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/sha256.h"
#include "services/gateway/core/gallery_store.h"
#include "tools/bench/gallery_bulk.h"

ABSL_FLAG(int64_t, photos, 1000000, "Photos in the gallery (5 per dog)");
ABSL_FLAG(std::string, dir, "/tmp/dogsearch-gallery-bench", "Scratch folder (emptied)");
ABSL_FLAG(int, repeats, 200, "Calls timed per query");
ABSL_FLAG(int, cold_repeats, 0,
          "LookupPhotos calls timed with the page cache dropped first (root)");

namespace dogsearch::gateway {
namespace {

std::string PhotoId(int64_t i) { return Sha256::Hex(absl::StrCat("gallery photo ", i)); }
std::string DogId(int64_t d) { return absl::StrCat("dog", d); }

// Median and 99th percentile of `repeats` calls, in ms; `before` runs untimed before each.
template <typename Fn, typename Before>
void Time(const char* what, int repeats, Fn fn, Before before) {
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    before();
    const absl::Time t0 = absl::Now();
    fn(i);
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
  }
  std::sort(ms.begin(), ms.end());
  std::printf("| %s | %.3f | %.3f |\n", what, ms[ms.size() / 2],
              ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]);
}

template <typename Fn>
void Time(const char* what, int repeats, Fn fn) {
  Time(what, repeats, fn, [] {});
}

int Main() {
  const int64_t n = absl::GetFlag(FLAGS_photos);
  const std::string dir = absl::GetFlag(FLAGS_dir), path = dir + "/gallery.sqlite";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  if (!GalleryStore::Open(path).ok()) return 1;  // Creates the schema.
  absl::Time t0 = absl::Now();
  if (!bench::BulkLoadGallery(path, n, 5, PhotoId, DogId)) return 1;
  const double load_s = absl::ToDoubleSeconds(absl::Now() - t0);
  t0 = absl::Now();
  auto store = GalleryStore::Open(path);
  if (!store.ok()) return 1;
  const double open_ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
  std::printf(
      "gallery of %lld photos, %lld dogs: bulk load %.1f s (%.0f photos/s), %.0f MiB on "
      "disk; reopened through GalleryStore in %.1f ms\n\n",
      static_cast<long long>(n), static_cast<long long>(n / 5), load_s, n / load_s,
      std::filesystem::file_size(path) / 1048576.0, open_ms);
  std::printf("| query | p50 ms | p99 ms |\n|---|---|---|\n");
  const int repeats = absl::GetFlag(FLAGS_repeats);
  std::mt19937_64 rng(1);
  auto any = [&] { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  uint64_t sink = 0;
  Time("CountPhotos (trigger-kept count)", repeats, [&](int) { sink += (*store)->CountPhotos(); });
  Time("CountDogs (trigger-kept count)", repeats, [&](int) { sink += (*store)->CountDogs(); });
  {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    Time("SELECT COUNT(*) FROM photos (the scan it replaced)", std::min(repeats, 5), [&](int) {
      sqlite3_stmt* s = nullptr;
      sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM photos", -1, &s, nullptr);
      if (sqlite3_step(s) == SQLITE_ROW) sink += sqlite3_column_int64(s, 0);
      sqlite3_finalize(s);
    });
    sqlite3_close(db);
  }
  Time("LookupPhotos, 50 ids (a Search's results)", repeats, [&](int) {
    std::vector<std::string> ids;
    for (int k = 0; k < 50; ++k) ids.push_back(PhotoId(any()));
    sink += (*store)->LookupPhotos(ids).size();
  });
  Time("FindPhoto", repeats, [&](int) { sink += (*store)->FindPhoto(PhotoId(any())).has_value(); });
  Time("GetDog", repeats, [&](int) { sink += (*store)->GetDog(DogId(any() / 5)).ok(); });
  Time("ListDogs, a page of 50", repeats,
       [&](int) { sink += (*store)->ListDogs(DogId(any() / 5), 50)->size(); });
  Time("PhotosAfter, 32 (a re-embedding step)", repeats,
       [&](int) { sink += (*store)->PhotosAfter(PhotoId(any()), 32).size(); });
  Time("SamplePhotos, 2,000 (the embedding map's sample)", std::min(repeats, 20),
       [&](int) { sink += (*store)->SamplePhotos(2000).size(); });
  // The same lookup with the store out of the page cache (dropped before each call: needs
  // root; skipped with a note otherwise), as after a long index fill evicted it.
  if (const int cold = absl::GetFlag(FLAGS_cold_repeats); cold > 0) {
    bool dropped = true;
    Time(
        "LookupPhotos, 50 ids, page cache dropped before each", cold,
        [&](int) {
          std::vector<std::string> ids;
          for (int k = 0; k < 50; ++k) ids.push_back(PhotoId(any()));
          sink += (*store)->LookupPhotos(ids).size();
        },
        [&] {
          ::sync();
          std::ofstream drop("/proc/sys/vm/drop_caches");
          dropped = dropped && (drop << "1" << std::flush).good();
        });
    if (!dropped) std::printf("(the page cache could not be dropped: the cold row is warm)\n");
  }
  std::printf("\n(checksum %llu)\n", static_cast<unsigned long long>(sink));
  store->reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace dogsearch::gateway

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return dogsearch::gateway::Main();
}
