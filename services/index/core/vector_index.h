// The in-memory part of a collection: an hnswlib HNSW graph plus a slot table (record id,
// payload, deleted flag per graph element) and an id -> slot map.
//
// hnswlib does not make a search safe beside an insert, a resize or a save (its issues #29,
// #562, #590). This class makes it safe by construction:
//  - Search does not call hnswlib's searchKnn. It walks the graph itself, copying each node's
//    neighbour list under that node's link_list_locks_ entry, which hnswlib's insert holds
//    while it writes the list; the entry point and top level are read under hnswlib's `global`
//    mutex. hnswlib numbers a new node itself (in arrival order), so its slot entry is
//    written only after hnswlib's insert returns: until then the slot's deleted flag is still
//    set (every never-used slot starts flagged), and a reader that reaches the node walks
//    through it without reading its entry. Clearing the flag (release) publishes the entry.
//  - Deletion is a per-slot atomic flag of ours (hnswlib's markDelete writes a plain byte),
//    and an upsert of an existing id inserts a new element and then flags the old one, so no
//    element's vector is ever rewritten while readers may see it. Results are de-duplicated
//    by id, so a search racing that upsert returns the id once.
//  - Growing the graph (resize) and reusing a deleted slot (rewriting its vector in place)
//    take structure_mu_ exclusively; searches and ordinary inserts hold it shared. So searches
//    wait only for those rare, short operations, never for an ordinary insert.
//  - While no insert runs, a search skips the per-node link locks (a cache miss each on a
//    large graph, and contended on the upper levels' few nodes): an inserting batch first
//    sets insert_pending_ and waits for the lock-free searches already inside to leave
//    (lockfree_searches_ back to 0; one search's time at most), and a search enters lock-free
//    mode only if, after counting itself in, it still sees no insert pending (both sequentially
//    consistent, so one of the two always sees the other). Searches never wait for inserts:
//    one that starts during an insert walks with the locks, as above.
//
//  - A large batch is linked by several threads at once (hnswlib's concurrent insert; see
//    LinkAll); ids are pointed at their new slots only after all are linked (Publish).
//
// Lock discipline: structure_mu_ (writer-preferring rw lock): shared for Search/Get/insert,
// exclusive for resize and slot reuse. map_mu_ (shared_mutex) guards id_to_slot_ and free_slots_
// and live_count_; taken after structure_mu_, never the other way round. Writers: one at a time;
// REQUIRES that the caller serialises ApplyUpsert/ApplyDelete/Save (DurableCollection's
// write mutex does). The writer's helper threads in LinkAll only call LinkNew, which writes
// the slot hnswlib handed it and nothing shared besides.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_VECTOR_INDEX_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_VECTOR_INDEX_H_

#include <atomic>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "common/base/rw_lock.h"
#include "services/index/core/packed_record.h"
#include "services/index/core/types.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
template <typename T>
class SpaceInterface;
}  // namespace hnswlib

namespace dogsearch::index {

struct ApplyStats {
  uint32_t inserted = 0, replaced = 0, deleted = 0, not_found = 0;
};

class VectorIndex {
 public:
  static absl::StatusOr<std::unique_ptr<VectorIndex>> Create(const CollectionOptions& options);
  // Loads graph + slot table written by Save into `dir`. The caller has verified checksums.
  static absl::StatusOr<std::unique_ptr<VectorIndex>> Load(const CollectionOptions& options,
                                                           const std::string& graph_path,
                                                           const std::string& slots_path);
  ~VectorIndex();

  // Checks and, for cosine, normalises a record in place. INVALID_ARGUMENT naming the problem.
  absl::Status PrepareRecord(Record* record) const;
  absl::Status PrepareQuery(std::vector<float>* query) const;

  // Grows the graph (if needed) so `new_records` more inserts cannot fail for lack of room.
  // RESOURCE_EXHAUSTED at max_records. REQUIRES the single writer.
  absl::Status Reserve(size_t new_records);
  // How many of `ids` are not in the index (duplicates counted once). Thread-safe.
  uint64_t CountNew(const std::vector<std::string>& ids) const;

  // Applies a batch (already prepared and validated). Within a batch, a later record with the
  // same id wins. Fails only on allocation failure (then nothing of the record was linked).
  absl::StatusOr<ApplyStats> ApplyUpsert(const std::vector<Record>& records);
  ApplyStats ApplyDelete(const std::vector<std::string>& ids);
  // Applies a batch read back from the WAL (validates each record first).
  absl::StatusOr<ApplyStats> ReplayUpsert(std::vector<Record> records);

  // Thread-safe against everything. REQUIRES query prepared.
  std::vector<SearchHit> Search(const std::vector<float>& query, const SearchParams& params) const;
  // nullopt for unknown ids.
  std::vector<std::optional<Record>> Get(const std::vector<std::string>& ids,
                                         bool include_vectors) const;

  // Ids of live records in slot order, starting at slot `from_slot`: at most `max_ids`, and at
  // most kMaxSlotsPerListing slots examined per call. `next_slot` continues the listing; `done`
  // when every slot was examined. A record written or deleted between two calls may be missed
  // or listed twice (list with writes stopped for an exact answer). Thread-safe.
  struct IdPage {
    std::vector<std::string> ids;
    uint64_t next_slot = 0;
    bool done = false;
  };
  IdPage ListIds(uint64_t from_slot, size_t max_ids) const;
  static constexpr uint64_t kMaxSlotsPerListing = 1 << 20;

  // Writes the graph and slot table. REQUIRES no concurrent writer.
  absl::Status Save(const std::string& graph_path, const std::string& slots_path) const;

  uint64_t live_count() const;
  uint64_t capacity() const;
  uint64_t deleted_slots() const;
  // An estimate, not a measurement: hnswlib's elements at capacity plus, per slot, a PackedRecord
  // handle and ~6 bytes of id set, and per used slot ~112 bytes of packed record (a gateway
  // record, 64-character id, with malloc's overhead). tools/bench/scale_bench measures RSS.
  uint64_t memory_bytes() const;
  const CollectionOptions& options() const { return options_; }

 private:
  // The id -> slot map is a hash set of slot numbers keyed by the id each slot's record holds
  // (5-6 bytes per record instead of a node and a copy of the id). Both functors read
  // slots_[slot].id(): REQUIRES the slot's record written (the writer publishes a slot only
  // after writing it) and slots_ not being resized (structure_mu_ held, or the writer).
  struct SlotIdHash {
    using is_transparent = void;
    const std::vector<PackedRecord>* slots;
    size_t operator()(absl::string_view id) const { return absl::Hash<absl::string_view>{}(id); }
    size_t operator()(uint32_t slot) const { return (*this)((*slots)[slot].id()); }
  };
  struct SlotIdEq {
    using is_transparent = void;
    const std::vector<PackedRecord>* slots;
    absl::string_view Id(uint32_t slot) const { return (*slots)[slot].id(); }
    static absl::string_view Id(absl::string_view id) { return id; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Id(a) == Id(b);
    }
  };
  using IdIndex = absl::flat_hash_set<uint32_t, SlotIdHash, SlotIdEq>;

  explicit VectorIndex(const CollectionOptions& options);
  // A vector as the graph stores it (options_.vector_encoding): float32 is `v` itself, other
  // encodings are written into *scratch. And back.
  const void* Stored(const std::vector<float>& v, std::string* scratch) const;
  std::vector<float> Decode(const void* stored) const;
  absl::Status InitGraph(uint64_t capacity);
  // Links one new record; returns the slot hnswlib gave it. Any number may run at once.
  absl::StatusOr<uint32_t> LinkNew(const Record& r, uint64_t label);
  // Links `records` as new nodes, from several threads when there are many (hnswlib inserts
  // concurrently); (*slots)[i] is kNoSlot for a record that failed (the first failure is
  // returned). REQUIRES capacity for all.
  absl::Status LinkAll(const std::vector<const Record*>& records, std::vector<uint32_t>* slots);
  std::optional<uint32_t> TakeFreeSlot();
  void ReturnFreeSlot(uint32_t slot);  // After a failed reuse (its flag is still set).
  // Flags a record's slot deleted and makes it reusable. REQUIRES map_mu_ held exclusively.
  void FreeSlotLocked(uint32_t slot);
  // Points the records' ids at their new slots; frees the slots of replaced copies.
  void Publish(const std::vector<const Record*>& records, const std::vector<uint32_t>& slots,
               ApplyStats* stats);
  absl::Status Grow();
  absl::Status ReuseSlot(uint32_t slot, const Record& r);
  using DistId = std::pair<float, uint32_t>;  // Distance, slot.
  // Results of a search (nearest first) as hits: at most k, one per id, with payloads.
  std::vector<SearchHit> CollectHits(const std::vector<DistId>& best,
                                     const SearchParams& params) const;

  static constexpr uint32_t kNoSlot = ~uint32_t{0};
  // A batch is linked by one thread per this many new records, up to insert_threads_.
  static constexpr size_t kMinRecordsPerInsertThread = 64;

  const CollectionOptions options_;
  const size_t insert_threads_;  // The machine's cores, at least 1.
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;

  // Writer-preferring, so resize and slot reuse cannot be starved by a stream of searches.
  mutable WriterPriorityRwLock structure_mu_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph_;  // Resized under exclusive lock.
  // Indexed by hnswlib internal id; sized to capacity under the exclusive lock.
  std::vector<PackedRecord> slots_;
  std::unique_ptr<std::atomic<uint8_t>[]> deleted_;
  uint64_t capacity_ = 0;
  std::atomic<uint64_t> used_slots_{0};  // Slots ever handed to the graph.

  // Lock-free search protocol (see the top of this file). insert_pending_ is written only by
  // the single writer; lockfree_searches_ counts searches walking without link locks.
  std::atomic<bool> insert_pending_{false};
  mutable std::atomic<int> lockfree_searches_{0};
  // Used slots whose deleted_ flag is set (free_slots_.size(), plus nodes whose insert threw
  // midway); written by the writer after it sets or clears a flag, read by searches (none
  // deleted and no insert running: no per-node checks).
  std::atomic<uint64_t> deleted_count_{0};
  class InsertWindow;

  mutable std::shared_mutex map_mu_;
  IdIndex id_to_slot_ ABSL_GUARDED_BY(map_mu_){0, SlotIdHash{&slots_}, SlotIdEq{&slots_}};
  std::vector<uint32_t> free_slots_ ABSL_GUARDED_BY(map_mu_);  // Deleted, reusable.
};

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_VECTOR_INDEX_H_
