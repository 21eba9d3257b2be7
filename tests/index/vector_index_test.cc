// VectorIndex: exactness on small sets, recall at scale, upserts/deletes/filters, growth and
// slot reuse, save/load, and searches racing writers.
#include "services/index/core/vector_index.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <thread>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::index {
namespace {

// n unit vectors around `clusters` random centres (Gaussian spread), as in the baselines.
std::vector<std::vector<float>> Clustered(size_t n, uint32_t dim, size_t clusters, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<std::vector<float>> centres(clusters, std::vector<float>(dim));
  for (auto& c : centres)
    for (float& x : c) x = g(rng);
  std::vector<std::vector<float>> out(n, std::vector<float>(dim));
  for (size_t i = 0; i < n; ++i) {
    const auto& c = centres[rng() % clusters];
    double norm = 0;
    for (uint32_t d = 0; d < dim; ++d) {
      out[i][d] = c[d] + 0.5f * g(rng);
      norm += out[i][d] * out[i][d];
    }
    for (float& x : out[i]) x /= static_cast<float>(std::sqrt(norm));
  }
  return out;
}

CollectionOptions Options(uint32_t dim, uint64_t capacity = 1024) {
  CollectionOptions o;
  o.name = "test";
  o.dimension = dim;
  o.model_version = "v1";
  o.initial_capacity = capacity;
  return o;
}

// Batches this small are linked by one thread (VectorIndex::kMinRecordsPerInsertThread), so the
// graph, with hnswlib's fixed level seed, is the same in every run; larger batches are linked in
// parallel and the graph differs from run to run.
constexpr size_t kOneLinkingThread = 50;

std::unique_ptr<VectorIndex> Build(const std::vector<std::vector<float>>& vecs,
                                   const CollectionOptions& o, size_t batch_size = 1000) {
  auto index = *VectorIndex::Create(o);
  std::vector<Record> batch;
  for (size_t i = 0; i < vecs.size(); ++i) {
    batch.push_back(Record{absl::StrCat("id", i), vecs[i], {absl::StrCat("dog", i % 100), "", {}}});
    if (batch.size() == batch_size || i + 1 == vecs.size()) {
      EXPECT_TRUE(index->Reserve(batch.size()).ok());
      EXPECT_TRUE(index->ApplyUpsert(batch).ok());
      batch.clear();
    }
  }
  return index;
}

std::vector<size_t> ExactTopK(const std::vector<std::vector<float>>& vecs,
                              const std::vector<float>& q, size_t k) {
  std::vector<std::pair<float, size_t>> d;
  for (size_t i = 0; i < vecs.size(); ++i) {
    float dot = 0;
    for (size_t j = 0; j < q.size(); ++j) dot += q[j] * vecs[i][j];
    d.emplace_back(1 - dot, i);
  }
  std::partial_sort(d.begin(), d.begin() + k, d.end());
  std::vector<size_t> out;
  for (size_t i = 0; i < k; ++i) out.push_back(d[i].second);
  return out;
}

double RecallAt10(const VectorIndex& index, const std::vector<std::vector<float>>& vecs,
                  const std::vector<std::vector<float>>& queries, uint32_t ef) {
  size_t found = 0;
  for (const auto& q : queries) {
    std::unordered_set<std::string> truth;
    for (size_t i : ExactTopK(vecs, q, 10)) truth.insert(absl::StrCat("id", i));
    SearchParams p;
    p.k = 10;
    p.ef = ef;
    for (const auto& h : index.Search(q, p)) found += truth.count(h.id);
  }
  return static_cast<double>(found) / (10.0 * queries.size());
}

TEST(VectorIndexTest, SmallIndexFindsExactNeighboursWithDistances) {
  auto vecs = Clustered(500, 32, 20, 1);
  auto index = Build(vecs, Options(32));
  SearchParams p;
  p.k = 5;
  auto hits = index->Search(vecs[17], p);
  ASSERT_EQ(hits.size(), 5u);
  EXPECT_EQ(hits[0].id, "id17");
  EXPECT_NEAR(hits[0].distance, 0.f, 1e-5);
  EXPECT_EQ(hits[0].payload.dog_id, "dog17");
  for (size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i].distance, hits[i - 1].distance);
  EXPECT_EQ(RecallAt10(*index, vecs, {vecs[1], vecs[2], vecs[3]}, 64), 1.0);
}

TEST(VectorIndexTest, RecallAt10AtDefaultEfOn100kClusteredVectorsIsAtLeast095) {
  // Queries come from the same clusters as the data but are not in the index.
  auto vecs = Clustered(100200, 128, 10000, 2);
  std::vector<std::vector<float>> queries(vecs.end() - 200, vecs.end());
  vecs.resize(100000);
  auto index = Build(vecs, Options(128, 100000));
  const double recall = RecallAt10(*index, vecs, queries, 0);  // 0 = default ef (64).
  std::printf("recall@10 at default ef=64 over 100k: %.4f\n", recall);
  EXPECT_GE(recall, 0.95);
}

TEST(VectorIndexTest, UpsertReplacesAndDeleteRemoves) {
  auto vecs = Clustered(200, 16, 10, 4);
  auto index = Build(vecs, Options(16));
  EXPECT_EQ(index->live_count(), 200u);
  // Move id5 onto id100's vector: searching there now finds both, id5 at distance 0.
  auto stats = index->ApplyUpsert({Record{"id5", vecs[100], {"newdog", "", {}}}});
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->replaced, 1u);
  EXPECT_EQ(index->live_count(), 200u);
  SearchParams p;
  p.k = 3;
  auto hits = index->Search(vecs[100], p);
  std::unordered_set<std::string> ids;
  for (auto& h : hits) ids.insert(h.id);
  EXPECT_TRUE(ids.count("id5") && ids.count("id100"));
  EXPECT_EQ((*index->Get({"id5"}, false)[0]).payload.dog_id, "newdog");
  // Deleted ids are never returned.
  auto del = index->ApplyDelete({"id100", "nope"});
  EXPECT_EQ(del.deleted, 1u);
  EXPECT_EQ(del.not_found, 1u);
  for (auto& h : index->Search(vecs[100], p)) EXPECT_NE(h.id, "id100");
  EXPECT_FALSE(index->Get({"id100"}, false)[0].has_value());
}

// Listing pages through every live record once: deleted ones are skipped, a replaced one is
// listed once (at its new slot), pages stop at max_ids, and the last page says done.
TEST(VectorIndexTest, ListIdsPagesThroughEveryLiveRecordOnce) {
  auto vecs = Clustered(300, 16, 10, 5);
  auto index = Build(vecs, Options(16, 128));
  index->ApplyDelete({"id3", "id150", "id299"});
  ASSERT_TRUE(index->ApplyUpsert({Record{"id7", vecs[8], {"dog7", "", {}}}}).ok());
  std::multiset<std::string> seen;
  uint64_t from = 0;
  int pages = 0;
  for (;;) {
    VectorIndex::IdPage page = index->ListIds(from, 40);
    EXPECT_LE(page.ids.size(), 40u);
    seen.insert(page.ids.begin(), page.ids.end());
    ++pages;
    if (page.done) break;
    ASSERT_GT(page.next_slot, from);
    from = page.next_slot;
  }
  EXPECT_GE(pages, 8);
  EXPECT_EQ(seen.size(), 297u);
  for (const std::string& id : seen) EXPECT_EQ(seen.count(id), 1u) << id;
  for (const char* gone : {"id3", "id150", "id299"}) EXPECT_EQ(seen.count(gone), 0u);
  EXPECT_EQ(seen.count("id7"), 1u);
  // Past the end: an empty, finished page.
  VectorIndex::IdPage end = index->ListIds(1'000'000, 40);
  EXPECT_TRUE(end.ids.empty());
  EXPECT_TRUE(end.done);
}

TEST(VectorIndexTest, DogFiltersIncludeAndExclude) {
  auto vecs = Clustered(1000, 16, 10, 5);
  auto index = Build(vecs, Options(16));
  SearchParams p;
  p.k = 10;
  p.include_dog_ids = {"dog3", "dog4"};
  auto hits = index->Search(vecs[0], p);
  ASSERT_FALSE(hits.empty());
  for (auto& h : hits) EXPECT_TRUE(h.payload.dog_id == "dog3" || h.payload.dog_id == "dog4");
  p.include_dog_ids.clear();
  p.exclude_dog_ids = {"dog0"};
  for (auto& h : index->Search(vecs[0], p)) EXPECT_NE(h.payload.dog_id, "dog0");
}

TEST(VectorIndexTest, CosineQueriesAreNormalisedAndBadVectorsRefused) {
  auto index = *VectorIndex::Create(Options(4));
  Record r{"a", {2.f, 0.f, 0.f, 0.f}, {}};
  ASSERT_TRUE(index->PrepareRecord(&r).ok());
  EXPECT_FLOAT_EQ(r.vector[0], 1.f);
  std::vector<float> wrong_dim = {1.f, 2.f};
  EXPECT_TRUE(absl::StrContains(index->PrepareQuery(&wrong_dim).message(), "dimension is 4"));
  std::vector<float> nan = {1.f, NAN, 0.f, 0.f};
  EXPECT_TRUE(absl::StrContains(index->PrepareQuery(&nan).message(), "not finite"));
  std::vector<float> zero(4, 0.f);
  EXPECT_TRUE(absl::StrContains(index->PrepareQuery(&zero).message(), "zero vector"));
  Record no_id{"", {1.f, 0.f, 0.f, 0.f}, {}};
  EXPECT_FALSE(index->PrepareRecord(&no_id).ok());
}

TEST(VectorIndexTest, GrowsPastInitialCapacityAndReusesDeletedSlots) {
  auto vecs = Clustered(3000, 16, 30, 6);
  auto index = Build(vecs, Options(16, 16));
  EXPECT_GE(index->capacity(), 3000u);
  const uint64_t cap = index->capacity();
  std::vector<std::string> gone;
  for (int i = 0; i < 500; ++i) gone.push_back(absl::StrCat("id", i));
  index->ApplyDelete(gone);
  EXPECT_EQ(index->deleted_slots(), 500u);
  // Fill up to capacity, then new records must take deleted slots instead of growing.
  std::vector<Record> more;
  const uint64_t room = cap - 3000 + 300;
  for (uint64_t i = 0; i < room; ++i)
    more.push_back(Record{absl::StrCat("new", i), vecs[i % 3000], {}});
  ASSERT_TRUE(index->Reserve(more.size()).ok());
  ASSERT_TRUE(index->ApplyUpsert(more).ok());
  EXPECT_EQ(index->capacity(), cap);
  EXPECT_EQ(index->deleted_slots(), 200u);
  SearchParams p;
  p.k = 1;
  auto hit = index->Search(vecs[2999], p);
  ASSERT_EQ(hit.size(), 1u);
  EXPECT_NEAR(hit[0].distance, 0.f, 1e-5);
  // Once every deleted slot is reused, searches skip the per-node deleted checks: the
  // reused slots hold their new records, none of the deleted ones comes back.
  std::vector<Record> last;
  for (int i = 0; i < 200; ++i) last.push_back(Record{absl::StrCat("last", i), vecs[i], {}});
  ASSERT_TRUE(index->Reserve(last.size()).ok());
  ASSERT_TRUE(index->ApplyUpsert(last).ok());
  EXPECT_EQ(index->deleted_slots(), 0u);
  EXPECT_EQ(index->capacity(), cap);
  p.k = 3;
  for (int i : {0, 77, 199}) {
    auto hits = index->Search(vecs[i], p);
    ASSERT_FALSE(hits.empty());
    std::unordered_set<std::string> ids;
    for (auto& h : hits) ids.insert(h.id);
    EXPECT_TRUE(ids.count(absl::StrCat("last", i))) << i;
    EXPECT_FALSE(ids.count(absl::StrCat("id", i))) << i;  // Deleted above.
  }
}

TEST(VectorIndexTest, SaveAndLoadRoundTrip) {
  testing::TempDir dir;
  auto vecs = Clustered(2000, 32, 40, 7);
  auto index = Build(vecs, Options(32));
  index->ApplyDelete({"id3"});
  ASSERT_TRUE(index->Save(dir.File("g"), dir.File("s")).ok());
  auto loaded = VectorIndex::Load(Options(32), dir.File("g"), dir.File("s"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->live_count(), 1999u);
  EXPECT_EQ((*loaded)->deleted_slots(), 1u);
  SearchParams p;
  p.k = 10;
  for (int q : {0, 10, 500}) {
    auto a = index->Search(vecs[q], p), b = (*loaded)->Search(vecs[q], p);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].id, b[i].id);
  }
  auto got = (*loaded)->Get({"id9"}, true);
  ASSERT_TRUE(got[0].has_value());
  EXPECT_EQ(got[0]->vector.size(), 32u);
  EXPECT_NEAR(got[0]->vector[0], vecs[9][0], 1e-6);
}

// Compact encodings (issue #22): recall against exact float search on the original vectors,
// distances and vectors read back within the encoding's error, upserts, deletes and slot
// reuse, and a save/load round trip, for each metric.
TEST(VectorIndexTest, CompactEncodingsSearchSaveAndLoad) {
  const auto vecs = Clustered(20000, 64, 400, 11);
  const auto queries = Clustered(100, 64, 400, 12);
  const double float32_recall = RecallAt10(*Build(vecs, Options(64, 30000)), vecs, queries, 64);
  for (VectorEncoding e : {VectorEncoding::kFloat16, VectorEncoding::kInt8}) {
    for (Metric metric : {Metric::kCosine, Metric::kL2}) {
      SCOPED_TRACE(
          absl::StrCat("encoding ", static_cast<int>(e), " metric ", static_cast<int>(metric)));
      CollectionOptions o = Options(64, 30000);
      o.vector_encoding = e;
      o.metric = metric;
      auto index = Build(vecs, o);
      // (These 50-vector clusters in 64 dimensions are hard for any graph: float32 itself finds
      // ~0.9 of the exact top 10 at ef 64.) The encoding may cost at most 2 points of it.
      if (metric == Metric::kCosine) {
        EXPECT_GE(RecallAt10(*index, vecs, queries, 64), float32_recall - 0.02);
      }
      const double tolerance = e == VectorEncoding::kInt8 ? 5e-3 : 5e-4;
      SearchParams p;
      p.k = 3;
      p.include_vectors = true;
      const auto hits = index->Search(vecs[5], p);
      ASSERT_FALSE(hits.empty());
      EXPECT_EQ(hits[0].id, "id5");
      EXPECT_NEAR(hits[0].distance, 0.f, tolerance);
      for (size_t d = 0; d < 64; ++d) EXPECT_NEAR(hits[0].vector[d], vecs[5][d], tolerance);
      // Replace id7 with id8's vector, delete id9, reuse: the answers follow.
      ASSERT_TRUE(index->ApplyUpsert({Record{"id7", vecs[8], {"dogX", "", {}}}}).ok());
      index->ApplyDelete({"id9"});
      const auto near8 = index->Search(vecs[8], p);
      ASSERT_EQ(near8.size(), 3u);
      EXPECT_TRUE((near8[0].id == "id7" || near8[0].id == "id8") &&
                  (near8[1].id == "id7" || near8[1].id == "id8"));
      for (const auto& h : index->Search(vecs[9], p)) EXPECT_NE(h.id, "id9");
      testing::TempDir dir;
      ASSERT_TRUE(index->Save(dir.File("g"), dir.File("s")).ok());
      auto loaded = VectorIndex::Load(o, dir.File("g"), dir.File("s"));
      ASSERT_TRUE(loaded.ok()) << loaded.status();
      for (int q : {0, 10, 500}) {
        auto a = index->Search(vecs[q], p), b = (*loaded)->Search(vecs[q], p);
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) {
          EXPECT_EQ(a[i].id, b[i].id);
          EXPECT_EQ(a[i].distance, b[i].distance);
        }
      }
      auto got = (*loaded)->Get({"id7"}, true);
      ASSERT_TRUE(got[0].has_value());
      EXPECT_EQ(got[0]->payload.dog_id, "dogX");
      for (size_t d = 0; d < 64; ++d) EXPECT_NEAR(got[0]->vector[d], vecs[8][d], tolerance);
    }
  }
}

// Two threads searching for vecs[0..999] until Stop(): each must find itself first (the
// writers in these tests never touch ids 0..999) and no id twice.
class SelfSearchers {
 public:
  SelfSearchers(const VectorIndex& index, const std::vector<std::vector<float>>& vecs, uint32_t ef,
                int stride) {
    for (int t = 0; t < 2; ++t) {
      threads_.emplace_back([&, ef, stride, t] {
        SearchParams p;
        p.k = 5;
        p.ef = ef;
        for (int i = t; !done_.load(); i = (i + stride) % 1000) {
          auto hits = index.Search(vecs[i], p);
          if (hits.empty() || hits[0].id != absl::StrCat("id", i)) bad_++;
          std::unordered_set<std::string> ids;
          for (auto& h : hits) bad_ += !ids.insert(h.id).second;
          searches_++;
        }
      });
    }
  }
  ~SelfSearchers() { Stop(); }
  void Stop() {
    done_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int searches() const { return searches_.load(); }
  int bad() const { return bad_.load(); }

 private:
  std::atomic<bool> done_{false};
  std::atomic<int> searches_{0}, bad_{0};
  std::vector<std::thread> threads_;
};

TEST(VectorIndexTest, SearchesStayCorrectWhileUpsertsAndDeletesRun) {
  auto vecs = Clustered(6000, 32, 60, 8);
  std::vector<std::vector<float>> base(vecs.begin(), vecs.begin() + 3000);
  auto index = Build(base, Options(32, 64), kOneLinkingThread);
  SelfSearchers readers(*index, vecs, 200, 7);
  // Writer: insert 3000 more (forcing growth), replace and delete some of ids 1000..2999.
  for (size_t i = 3000; i < 6000; i += 100) {
    std::vector<Record> batch;
    for (size_t j = i; j < i + 100; ++j)
      batch.push_back(Record{absl::StrCat("id", j), vecs[j], {}});
    ASSERT_TRUE(index->Reserve(batch.size()).ok());
    ASSERT_TRUE(index->ApplyUpsert(batch).ok());
    index->ApplyDelete({absl::StrCat("id", 1000 + i / 100)});
    ASSERT_TRUE(index->ApplyUpsert({Record{absl::StrCat("id", 2000 + i / 100), vecs[i], {}}}).ok());
  }
  readers.Stop();
  EXPECT_GT(readers.searches(), 0);
  EXPECT_EQ(readers.bad(), 0);
  EXPECT_EQ(index->live_count(), 6000u - 30u);
}

// A listing running beside the writer (growth, slot reuse, replacements) sees only ids that
// exist, and every id the writer leaves alone exactly once per pass (a record replaced during a
// pass may be listed at its old and its new slot: documented); under TSan, no race between
// ListIds and the writer's slot table updates.
TEST(VectorIndexTest, ListingsStayConsistentWhileUpsertsAndDeletesRun) {
  auto vecs = Clustered(4000, 16, 40, 12);
  std::vector<std::vector<float>> base(vecs.begin(), vecs.begin() + 2000);
  auto index = Build(base, Options(16, 64));
  std::atomic<bool> done{false};
  std::atomic<int> passes{0}, bad{0};
  std::thread lister([&] {
    while (!done.load()) {
      std::multiset<std::string> seen;
      uint64_t from = 0;
      for (;;) {
        VectorIndex::IdPage page = index->ListIds(from, 100);
        for (const std::string& id : page.ids) {
          size_t n = 0;
          bad += !absl::SimpleAtoi(absl::string_view(id).substr(2), &n) || n >= 4000;
          seen.insert(id);
        }
        if (page.done) break;
        from = page.next_slot;
      }
      for (size_t i = 0; i < 1000; ++i) bad += seen.count(absl::StrCat("id", i)) != 1;
      ++passes;
    }
  });
  for (size_t i = 2000; i < 4000; i += 100) {  // Ids 1000.. are replaced, deleted, reinserted.
    std::vector<Record> batch;
    for (size_t j = i; j < i + 100; ++j)
      batch.push_back(Record{absl::StrCat("id", j), vecs[j], {}});
    ASSERT_TRUE(index->Reserve(batch.size() + 1).ok());
    ASSERT_TRUE(index->ApplyUpsert(batch).ok());
    index->ApplyDelete({absl::StrCat("id", 1000 + i / 100)});
    ASSERT_TRUE(index->ApplyUpsert({Record{absl::StrCat("id", 1500 + i / 100), vecs[i], {}}}).ok());
  }
  while (passes.load() < 2) std::this_thread::yield();
  done = true;
  lister.join();
  EXPECT_EQ(bad.load(), 0);
}

// Searches skip the per-node link locks while no insert runs; an insert must first wait for
// those searches to leave. Single inserts arrive with pauses, so that searches keep entering
// lock-free mode and inserts keep starting while such searches are inside, in the same few
// clusters that the searches walk. Under ThreadSanitizer (README's list) an insert that did
// not wait shows up as a data race on a neighbour list (checked by breaking the wait).
// The graph is the same in every run (kOneLinkingThread), and in each of the 301 states it
// passes through, every one of the 1,000 records searched for is found first at ef 400
// (checked state by state with no searches running). A base linked in parallel differs per
// run, and at ef_construction 16 one such graph in six had a record that no search found from
// the 90th insert on: the searches missed it, HNSW's approximation, not a race (CI failed on
// it once).
TEST(VectorIndexTest, LockFreeSearchesAndBurstsOfInsertsStayCorrect) {
  auto vecs = Clustered(1300, 32, 4, 9);
  std::vector<std::vector<float>> base(vecs.begin(), vecs.begin() + 1000);
  CollectionOptions o = Options(32, 2048);  // Room for all: no resize in between.
  o.ef_construction = 16;                   // Short inserts, long searches: they overlap.
  auto index = Build(base, o, kOneLinkingThread);
  SelfSearchers readers(*index, vecs, 400, 11);
  for (size_t i = 1000; i < 1300; ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    ASSERT_TRUE(index->Reserve(1).ok());
    ASSERT_TRUE(index->ApplyUpsert({Record{absl::StrCat("id", i), vecs[i], {}}}).ok());
  }
  readers.Stop();
  EXPECT_GT(readers.searches(), 0);
  EXPECT_EQ(readers.bad(), 0);
  EXPECT_EQ(index->live_count(), 1300u);
  SearchParams p;
  p.k = 1;
  for (size_t i = 1000; i < 1300; i += 23) {
    auto hits = index->Search(vecs[i], p);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].id, absl::StrCat("id", i));
  }
}

// A large batch is linked by several threads at once (hnswlib numbers the nodes in arrival
// order): every record must end up with its own vector and payload, duplicates within the batch
// resolve to the last copy, replaced ids keep one live copy, and searches running meanwhile
// stay exact. Under ThreadSanitizer in README's list.
TEST(VectorIndexTest, LargeBatchesAreLinkedInParallelWithSearchesRunning) {
  auto vecs = Clustered(5000, 32, 50, 12);
  std::vector<std::vector<float>> base(vecs.begin(), vecs.begin() + 1000);
  auto index = Build(base, Options(32, 64));
  SelfSearchers readers(*index, vecs, 100, 13);
  ApplyStats total;
  for (size_t first = 1000; first < 5000; first += 1000) {
    std::vector<Record> batch;
    for (size_t j = first; j < first + 1000; ++j) {
      batch.push_back(Record{absl::StrCat("id", j), vecs[j], {absl::StrCat("dog", j), "", {}}});
    }
    // Twice in the batch (the later wins) and an existing id moved onto a new vector.
    batch.push_back(Record{absl::StrCat("id", first), vecs[first], {"dup", "", {}}});
    batch.push_back(Record{absl::StrCat("id", first - 1), vecs[first - 1], {"moved", "", {}}});
    ASSERT_TRUE(index->Reserve(batch.size()).ok());
    auto stats = index->ApplyUpsert(batch);
    ASSERT_TRUE(stats.ok()) << stats.status();
    total.inserted += stats->inserted;
    total.replaced += stats->replaced;
  }
  readers.Stop();
  EXPECT_GT(readers.searches(), 0);
  EXPECT_EQ(readers.bad(), 0);
  EXPECT_EQ(total.inserted, 4000u);
  EXPECT_EQ(total.replaced, 8u);
  EXPECT_EQ(index->live_count(), 5000u);
  EXPECT_EQ(index->deleted_slots(), 4u);  // The moved ids' old copies.
  std::vector<std::string> ids;
  for (size_t j = 0; j < 5000; ++j) ids.push_back(absl::StrCat("id", j));
  auto got = index->Get(ids, true);
  SearchParams p;
  p.k = 1;
  for (size_t j = 0; j < 5000; ++j) {
    ASSERT_TRUE(got[j].has_value()) << j;
    ASSERT_EQ(got[j]->vector.size(), 32u);
    for (int d = 0; d < 32; d += 8) ASSERT_NEAR(got[j]->vector[d], vecs[j][d], 1e-5) << j;
    std::string dog = j < 1000 ? got[j]->payload.dog_id : absl::StrCat("dog", j);
    if (j % 1000 == 0 && j > 0) dog = "dup";
    if (j % 1000 == 999 && j < 4000) dog = "moved";
    EXPECT_EQ(got[j]->payload.dog_id, dog) << j;
    if (j % 97 == 0) {
      auto hits = index->Search(vecs[j], p);
      ASSERT_FALSE(hits.empty());
      EXPECT_EQ(hits[0].id, ids[j]);
      EXPECT_NEAR(hits[0].distance, 0.f, 1e-5);
    }
  }
}

}  // namespace
}  // namespace dogsearch::index
