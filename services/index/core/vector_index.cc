#include "services/index/core/vector_index.h"

// hnswlib 0.6.2's header defines non-inline functions (cpuid, AVXCapable, ...), so exactly one
// translation unit of the project may include it: this one.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <queue>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "common/base/file_util.h"
#include "common/base/status_macros.h"
#include "services/index/core/hnsw_walk.h"
#include "services/index/core/limits.h"
#include "services/index/core/record_codec.h"
#include "services/index/core/vector_codec.h"

namespace dogsearch::index {
namespace {

// hnswlib space over encoded vectors (float16, int8: vector_codec.h).
class EncodedSpace final : public hnswlib::SpaceInterface<float> {
 public:
  EncodedSpace(VectorEncoding e, size_t dim, bool l2)
      : bytes_(EncodedBytes(e, dim)), dim_(dim), fn_(EncodedDistanceFunction(e, l2)) {}
  size_t get_data_size() override { return bytes_; }
  hnswlib::DISTFUNC<float> get_dist_func() override { return fn_; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  const size_t bytes_;
  size_t dim_;
  const EncodedDistance fn_;
};

}  // namespace

VectorIndex::VectorIndex(const CollectionOptions& options)
    : options_(options), insert_threads_(std::max<size_t>(1, std::thread::hardware_concurrency())) {
  if (options.vector_encoding != VectorEncoding::kFloat32) {
    space_ = std::make_unique<EncodedSpace>(options.vector_encoding, options.dimension,
                                            options.metric == Metric::kL2);
  } else if (options.metric == Metric::kL2) {
    space_ = std::make_unique<hnswlib::L2Space>(options.dimension);
  } else {
    space_ = std::make_unique<hnswlib::InnerProductSpace>(options.dimension);
  }
}

VectorIndex::~VectorIndex() = default;

absl::Status VectorIndex::InitGraph(uint64_t capacity) {
  try {
    graph_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), capacity, options_.m,
                                                               options_.ef_construction);
  } catch (const std::exception& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate an HNSW graph of ", capacity, " records: ", e.what()));
  }
  capacity_ = capacity;
  slots_.resize(capacity);
  deleted_.reset(new std::atomic<uint8_t>[capacity]);
  // A slot not yet linked counts as deleted until its record is written (see LinkNew).
  for (uint64_t i = 0; i < capacity; ++i) deleted_[i].store(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Create(const CollectionOptions& o) {
  DS_RETURN_IF_ERROR(ValidateCollectionOptions(o));
  std::unique_ptr<VectorIndex> index(new VectorIndex(o));
  DS_RETURN_IF_ERROR(
      index->InitGraph(std::max<uint64_t>(16, std::min(o.initial_capacity, o.max_records))));
  return index;
}

absl::Status VectorIndex::PrepareRecord(Record* r) const {
  DS_RETURN_IF_ERROR(ValidateRecordId(r->id));
  DS_RETURN_IF_ERROR(ValidatePayload(r->payload));
  return PrepareQuery(&r->vector);
}

absl::Status VectorIndex::PrepareQuery(std::vector<float>* v) const {
  if (v->size() != options_.dimension) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vector has ", v->size(), " values, the collection's dimension is ", options_.dimension));
  }
  double norm2 = 0;
  for (size_t i = 0; i < v->size(); ++i) {
    if (!std::isfinite((*v)[i])) {
      return absl::InvalidArgumentError(absl::StrCat("vector value ", i, " is not finite"));
    }
    norm2 += double{(*v)[i]} * (*v)[i];
  }
  if (options_.metric == Metric::kCosine) {
    // Cosine vectors are normalised here (documented in index.proto): callers need not send
    // exact unit vectors, and the stored ones are.
    if (norm2 < 1e-24) return absl::InvalidArgumentError("zero vector has no direction (cosine)");
    const float inv = static_cast<float>(1.0 / std::sqrt(norm2));
    for (float& x : *v) x *= inv;
  }
  return absl::OkStatus();
}

const void* VectorIndex::Stored(const std::vector<float>& v, std::string* scratch) const {
  if (options_.vector_encoding == VectorEncoding::kFloat32) return v.data();
  scratch->resize(EncodedBytes(options_.vector_encoding, v.size()));
  EncodeVector(options_.vector_encoding, v.data(), v.size(), scratch->data());
  return scratch->data();
}

std::vector<float> VectorIndex::Decode(const void* stored) const {
  std::vector<float> v(options_.dimension);
  DecodeVector(options_.vector_encoding, stored, v.size(), v.data());
  return v;
}

absl::Status VectorIndex::Grow() {
  // Room beyond max_records for one request's replacements: a replaced record's old slot is
  // freed only after its new one is linked.
  const uint64_t limit = options_.max_records + kMaxRecordsPerUpsert;
  const uint64_t target = std::min<uint64_t>(std::max<uint64_t>(capacity_ * 2, 1024), limit);
  if (target <= capacity_) {
    return absl::ResourceExhaustedError(absl::StrCat("collection '", options_.name, "' is full (",
                                                     options_.max_records, " records)"));
  }
  std::unique_lock<WriterPriorityRwLock> lock(structure_mu_);
  try {
    graph_->resizeIndex(target);
  } catch (const std::exception& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot grow to ", target, " records: ", e.what()));
  }
  slots_.resize(target);
  std::unique_ptr<std::atomic<uint8_t>[]> flags(new std::atomic<uint8_t>[target]);
  for (uint64_t i = 0; i < target; ++i) {
    flags[i].store(i < capacity_ ? deleted_[i].load() : 1, std::memory_order_relaxed);
  }
  deleted_ = std::move(flags);
  capacity_ = target;
  return absl::OkStatus();
}

absl::Status VectorIndex::ReuseSlot(uint32_t slot, const Record& r) {
  // Rewrites a deleted element's vector and links in place: readers must not be walking.
  std::unique_lock<WriterPriorityRwLock> lock(structure_mu_);
  std::string scratch;
  try {
    graph_->updatePoint(Stored(r.vector, &scratch), slot, 1.0f);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("HNSW update failed: ", e.what()));
  }
  slots_[slot] = PackedRecord(r.id, r.payload);
  deleted_[slot].store(0, std::memory_order_release);
  deleted_count_.fetch_sub(1, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> VectorIndex::LinkNew(const Record& r, uint64_t label) {
  std::shared_lock<WriterPriorityRwLock> lock(structure_mu_);
  uint32_t slot;
  std::string scratch;
  try {
    slot = graph_->addPoint(Stored(r.vector, &scratch), label, -1);
  } catch (const std::exception& e) {
    return absl::ResourceExhaustedError(absl::StrCat("HNSW insert failed: ", e.what()));
  }
  // hnswlib numbers nodes in arrival order, so the slot is known only now; a search that
  // reaches the node meanwhile sees its flag still set and passes through it without reading
  // the slot. The release store publishes the slot to searches that see the flag clear.
  slots_[slot] = PackedRecord(r.id, r.payload);
  deleted_[slot].store(0, std::memory_order_release);
  return slot;
}

absl::Status VectorIndex::LinkAll(const std::vector<const Record*>& records,
                                  std::vector<uint32_t>* slots) {
  slots->assign(records.size(), kNoSlot);
  // Labels only need to be unique: this batch's start at the node count, above all earlier.
  const uint64_t first_label = graph_->cur_element_count;
  const size_t threads =
      std::clamp<size_t>(records.size() / kMinRecordsPerInsertThread, 1, insert_threads_);
  std::atomic<size_t> next{0};
  std::vector<absl::Status> errors(threads);
  auto work = [&](size_t t) {
    for (size_t i; (i = next.fetch_add(1)) < records.size();) {
      absl::StatusOr<uint32_t> slot = LinkNew(*records[i], first_label + i);
      if (!slot.ok()) {
        errors[t] = slot.status();
        return;
      }
      (*slots)[i] = *slot;
    }
  };
  std::vector<std::thread> helpers;
  try {
    for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work, t);
  } catch (const std::system_error&) {
    // No more threads to be had: the ones running (at least this one) link the rest.
  }
  work(0);
  for (auto& h : helpers) h.join();
  used_slots_.store(graph_->cur_element_count);
  // A node whose insert threw after hnswlib counted it keeps its flag set for good: counted
  // as deleted, so that searches keep checking flags.
  const size_t linked = static_cast<size_t>(
      std::count_if(slots->begin(), slots->end(), [](uint32_t s) { return s != kNoSlot; }));
  deleted_count_.fetch_add(graph_->cur_element_count - first_label - linked,
                           std::memory_order_release);
  for (const absl::Status& e : errors) DS_RETURN_IF_ERROR(e);
  return absl::OkStatus();
}

absl::Status VectorIndex::Reserve(size_t new_records) {
  while (true) {
    size_t free;
    {
      std::shared_lock<std::shared_mutex> map_lock(map_mu_);
      free = free_slots_.size();
    }
    if (used_slots_.load() + new_records <= capacity_ + free) return absl::OkStatus();
    DS_RETURN_IF_ERROR(Grow());
  }
}

uint64_t VectorIndex::CountNew(const std::vector<std::string>& ids) const {
  std::unordered_set<std::string> fresh;
  std::shared_lock<WriterPriorityRwLock> lock(structure_mu_);  // The id set reads slots_.
  std::shared_lock<std::shared_mutex> map_lock(map_mu_);
  for (const std::string& id : ids) {
    if (id_to_slot_.count(id) == 0) fresh.insert(id);
  }
  return fresh.size();
}

absl::StatusOr<ApplyStats> VectorIndex::ReplayUpsert(std::vector<Record> records) {
  for (Record& r : records) {
    if (absl::Status s = PrepareRecord(&r); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("WAL holds an invalid record '", r.id, "': ", s.message()));
    }
  }
  DS_RETURN_IF_ERROR(Reserve(records.size()));
  return ApplyUpsert(records);
}

// Keeps lock-free searches out while the single writer inserts (protocol in the header):
// announces the insert, then waits for the lock-free searches already inside to finish.
class VectorIndex::InsertWindow {
 public:
  explicit InsertWindow(VectorIndex* index) : index_(index) {
    index_->insert_pending_.store(true, std::memory_order_seq_cst);
    while (index_->lockfree_searches_.load(std::memory_order_seq_cst) != 0) {
      std::this_thread::yield();
    }
  }
  ~InsertWindow() { index_->insert_pending_.store(false, std::memory_order_release); }

 private:
  VectorIndex* index_;
};

absl::StatusOr<ApplyStats> VectorIndex::ApplyUpsert(const std::vector<Record>& records) {
  ApplyStats stats;
  InsertWindow window(this);
  // Within a batch a later record with the same id wins: only the last copy is linked, and
  // each earlier one counts as replaced by the next.
  std::unordered_map<std::string_view, size_t> last;
  for (size_t i = 0; i < records.size(); ++i) last[records[i].id] = i;
  std::vector<const Record*> fresh, placed;
  std::vector<uint32_t> placed_slots;
  for (size_t i = 0; i < records.size(); ++i) {
    if (last[records[i].id] != i) {
      ++stats.replaced;
      continue;
    }
    // Deleted slots are reused only when the graph is full (rather than growing it), one at
    // a time: rewriting a node in place keeps searches out.
    std::optional<uint32_t> reuse;
    if (used_slots_.load() + fresh.size() >= capacity_) reuse = TakeFreeSlot();
    if (!reuse) {
      fresh.push_back(&records[i]);
      continue;
    }
    if (absl::Status s = ReuseSlot(*reuse, records[i]); !s.ok()) {
      ReturnFreeSlot(*reuse);
      Publish(placed, placed_slots, &stats);  // Those before it stay applied.
      return s;
    }
    placed.push_back(&records[i]);
    placed_slots.push_back(*reuse);
  }
  while (used_slots_.load() + fresh.size() > capacity_) {
    if (absl::Status s = Grow(); !s.ok()) {
      Publish(placed, placed_slots, &stats);  // Records in reused slots stay applied.
      return s;
    }
  }
  std::vector<uint32_t> fresh_slots;
  const absl::Status linked = LinkAll(fresh, &fresh_slots);
  for (size_t i = 0; i < fresh.size(); ++i) {
    if (fresh_slots[i] == kNoSlot) continue;  // Failed: not linked (the status says why).
    placed.push_back(fresh[i]);
    placed_slots.push_back(fresh_slots[i]);
  }
  Publish(placed, placed_slots, &stats);
  DS_RETURN_IF_ERROR(linked);
  return stats;
}

std::optional<uint32_t> VectorIndex::TakeFreeSlot() {
  std::unique_lock<std::shared_mutex> map_lock(map_mu_);
  if (free_slots_.empty()) return std::nullopt;
  const uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

void VectorIndex::ReturnFreeSlot(uint32_t slot) {
  std::unique_lock<std::shared_mutex> map_lock(map_mu_);
  free_slots_.push_back(slot);
}

void VectorIndex::FreeSlotLocked(uint32_t slot) {
  deleted_[slot].store(1, std::memory_order_release);
  deleted_count_.fetch_add(1, std::memory_order_release);
  free_slots_.push_back(slot);
}

void VectorIndex::Publish(const std::vector<const Record*>& records,
                          const std::vector<uint32_t>& slots, ApplyStats* stats) {
  std::unique_lock<std::shared_mutex> map_lock(map_mu_);
  for (size_t i = 0; i < records.size(); ++i) {
    auto it = id_to_slot_.find(absl::string_view(records[i]->id));
    if (it == id_to_slot_.end()) {
      id_to_slot_.insert(slots[i]);
      ++stats->inserted;
      continue;
    }
    // The replaced copy stays findable until here; a search meanwhile may see both (and
    // keeps the nearer, see CollectHits).
    FreeSlotLocked(*it);
    id_to_slot_.erase(it);
    id_to_slot_.insert(slots[i]);
    ++stats->replaced;
  }
}

ApplyStats VectorIndex::ApplyDelete(const std::vector<std::string>& ids) {
  ApplyStats stats;
  std::unique_lock<std::shared_mutex> map_lock(map_mu_);
  for (const std::string& id : ids) {
    auto it = id_to_slot_.find(absl::string_view(id));
    if (it == id_to_slot_.end()) {
      ++stats.not_found;
      continue;
    }
    FreeSlotLocked(*it);
    id_to_slot_.erase(it);
    ++stats.deleted;
  }
  return stats;
}

std::vector<std::optional<Record>> VectorIndex::Get(const std::vector<std::string>& ids,
                                                    bool include_vectors) const {
  std::shared_lock<WriterPriorityRwLock> lock(structure_mu_);
  std::shared_lock<std::shared_mutex> map_lock(map_mu_);
  std::vector<std::optional<Record>> out;
  for (const std::string& id : ids) {
    auto it = id_to_slot_.find(absl::string_view(id));
    if (it == id_to_slot_.end()) {
      out.emplace_back();
      continue;
    }
    Record r{std::string(slots_[*it].id()), {}, slots_[*it].payload()};
    if (include_vectors) {
      r.vector = Decode(graph_->getDataByInternalId(*it));
    }
    out.emplace_back(std::move(r));
  }
  return out;
}

VectorIndex::IdPage VectorIndex::ListIds(uint64_t from_slot, size_t max_ids) const {
  std::shared_lock<WriterPriorityRwLock> lock(structure_mu_);
  std::shared_lock<std::shared_mutex> map_lock(map_mu_);
  IdPage page;
  const uint64_t used = std::min<uint64_t>(used_slots_.load(), capacity_);
  const uint64_t end = std::min(used, from_slot + kMaxSlotsPerListing);
  uint64_t slot = from_slot;
  for (; slot < end && page.ids.size() < max_ids; ++slot) {
    // A clear flag means the slot's record is written (LinkNew's release store); it is listed
    // only if the id map points at it (not a copy being linked beside the one it replaces).
    if (deleted_[slot].load(std::memory_order_acquire) != 0) continue;
    const absl::string_view id = slots_[slot].id();
    auto it = id_to_slot_.find(id);
    if (it == id_to_slot_.end() || *it != slot) continue;
    page.ids.emplace_back(id);
  }
  page.next_slot = slot;
  page.done = slot >= used;
  return page;
}

uint64_t VectorIndex::live_count() const {
  std::shared_lock<std::shared_mutex> lock(map_mu_);
  return id_to_slot_.size();
}

uint64_t VectorIndex::capacity() const {
  std::shared_lock<WriterPriorityRwLock> lock(structure_mu_);
  return capacity_;
}

uint64_t VectorIndex::deleted_slots() const {
  return deleted_count_.load(std::memory_order_acquire);
}

uint64_t VectorIndex::memory_bytes() const {
  std::shared_lock<WriterPriorityRwLock> lock(structure_mu_);
  const uint64_t per_element = graph_->size_data_per_element_ + sizeof(void*) + 64;
  return capacity_ * (per_element + sizeof(PackedRecord) + 6) + used_slots_.load() * 112;
}

absl::Status VectorIndex::Save(const std::string& graph_path, const std::string& slots_path) const {
  std::shared_lock<WriterPriorityRwLock> lock(structure_mu_);
  try {
    graph_->saveIndex(graph_path);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("saving HNSW graph to ", graph_path, ": ", e.what()));
  }
  std::string slots;
  Encoder e(&slots);
  const uint64_t used = used_slots_.load();
  e.U64(used);
  for (uint64_t i = 0; i < used; ++i) {
    e.U8(deleted_[i].load());
    e.Str(slots_[i].id());
    e.PayloadValue(slots_[i].payload());
  }
  DS_RETURN_IF_ERROR(WriteNewFileSynced(slots_path, slots));
  return SyncPath(graph_path);
}

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Load(const CollectionOptions& o,
                                                               const std::string& graph_path,
                                                               const std::string& slots_path) {
  DS_RETURN_IF_ERROR(ValidateCollectionOptions(o));
  std::unique_ptr<VectorIndex> index(new VectorIndex(o));
  DS_ASSIGN_OR_RETURN(std::string slots, ReadFile(slots_path));
  Decoder d(slots);
  DS_ASSIGN_OR_RETURN(uint64_t used, d.U64());
  try {
    index->graph_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        index->space_.get(), graph_path, false, std::max<uint64_t>(used, 16));
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("cannot load HNSW graph ", graph_path, ": ", e.what()));
  }
  if (index->graph_->cur_element_count != used) {
    return absl::DataLossError(absl::StrCat(slots_path, " lists ", used, " slots, the graph has ",
                                            index->graph_->cur_element_count));
  }
  index->capacity_ = index->graph_->max_elements_;
  index->slots_.resize(index->capacity_);
  index->deleted_.reset(new std::atomic<uint8_t>[index->capacity_]);
  for (uint64_t i = 0; i < index->capacity_; ++i) index->deleted_[i].store(1);
  std::unique_lock<std::shared_mutex> map_lock(index->map_mu_);
  for (uint64_t i = 0; i < used; ++i) {
    DS_ASSIGN_OR_RETURN(uint8_t deleted, d.U8());
    DS_ASSIGN_OR_RETURN(const std::string id, d.Str());
    DS_ASSIGN_OR_RETURN(const Payload payload, d.PayloadValue());
    index->slots_[i] = PackedRecord(id, payload);
    index->deleted_[i].store(deleted);
    if (deleted) {
      index->free_slots_.push_back(static_cast<uint32_t>(i));
      index->deleted_count_.fetch_add(1, std::memory_order_relaxed);
    } else {
      index->id_to_slot_.insert(static_cast<uint32_t>(i));
    }
  }
  if (!d.done()) return absl::DataLossError(absl::StrCat(slots_path, " has trailing bytes"));
  index->used_slots_.store(used);
  return index;
}

// --- Search (safe beside concurrent inserts; see the lock discipline in the header). ---
using hnsw_walk::DistId;
using hnsw_walk::DogFilter;
using hnsw_walk::LockFreeSearch;
using hnsw_walk::Walk;

std::vector<SearchHit> VectorIndex::Search(const std::vector<float>& query,
                                           const SearchParams& params) const {
  std::shared_lock<WriterPriorityRwLock> lock(structure_mu_);
  const LockFreeSearch mode(insert_pending_, lockfree_searches_);
  std::string scratch;
  Walk walk(*graph_, Stored(query, &scratch), mode.entered());
  const std::optional<DistId> start = walk.Descend();
  if (!start) return {};
  const size_t ef = std::max<size_t>(params.ef ? params.ef : options_.ef_search, params.k);
  const DogFilter filter(params);
  std::vector<DistId> best;
  // Like hnswlib, a search without a filter in a collection without deleted records checks
  // nothing per node, unless an insert is running (its new nodes are flagged until their
  // slots are written). A delete racing this search may or may not be seen by it.
  if (mode.entered() && !filter.active() && deleted_count_.load(std::memory_order_acquire) == 0) {
    best = walk.SearchBaseLayer(*start, ef, nullptr, [](uint32_t) { return true; });
  } else {
    best = walk.SearchBaseLayer(*start, ef, deleted_.get(), [&](uint32_t slot) {
      return deleted_[slot].load(std::memory_order_acquire) == 0 &&
             (!filter.active() || filter.Accepts(slots_[slot].dog_id()));
    });
  }
  return CollectHits(best, params);
}

std::vector<SearchHit> VectorIndex::CollectHits(const std::vector<DistId>& best,
                                                const SearchParams& params) const {
  for (const DistId& b : best) {
    _mm_prefetch(reinterpret_cast<const char*>(&slots_[b.second]), _MM_HINT_T0);
  }
  std::vector<SearchHit> hits;
  hits.reserve(std::min<size_t>(params.k, best.size()));
  // The old and the new copy of a record can both be found during a racing upsert: keep the
  // nearer. Duplicates are rare and k is small, so a linear check is cheaper than a hash set.
  auto seen = [&hits](absl::string_view id) {
    for (const SearchHit& h : hits) {
      if (h.id == id) return true;
    }
    return false;
  };
  absl::flat_hash_set<absl::string_view> seen_large;  // Only for k above kLinearDedupLimit.
  constexpr size_t kLinearDedupLimit = 32;
  for (const auto& [d, slot] : best) {
    if (hits.size() >= params.k) break;
    const PackedRecord& s = slots_[slot];
    if (params.k <= kLinearDedupLimit ? seen(s.id()) : !seen_large.insert(s.id()).second) continue;
    SearchHit h{std::string(s.id()), d, s.payload(), {}};
    if (params.include_vectors) {
      h.vector = Decode(graph_->getDataByInternalId(slot));
    }
    hits.push_back(std::move(h));
  }
  return hits;
}

}  // namespace dogsearch::index
