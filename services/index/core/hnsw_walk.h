// The search walk over an hnswlib graph for VectorIndex: upper-level descent and best-first
// base-layer search, reading neighbour lists in place while no insert runs and under the link
// locks otherwise (protocol in vector_index.h), plus the lock-free entry counter and the dog
// filter. Internal to vector_index.cc: hnswlib 0.6.2's header defines non-inline functions, so
// only that translation unit includes it, and it includes this after it.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_HNSW_WALK_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_HNSW_WALK_H_

#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "services/index/core/types.h"

namespace dogsearch::index::hnsw_walk {

using Graph = hnswlib::HierarchicalNSW<float>;
using DistId = std::pair<float, uint32_t>;  // Distance, slot.

// Orders by distance only (the id does not matter for ties).
struct Nearer {
  bool operator()(const DistId& a, const DistId& b) const { return a.first < b.first; }
};
struct Farther {
  bool operator()(const DistId& a, const DistId& b) const { return a.first > b.first; }
};

// Node's neighbour list at `level`. While an insert may be running, copied into `copy` under
// the node's link lock (hnswlib's insert holds it while it writes that list); while none can
// (`lock_free`), read in place.
struct NeighbourList {
  const uint32_t* ids;
  size_t size;
};

inline NeighbourList Neighbours(const Graph& g, uint32_t node, int level, bool lock_free,
                                std::vector<uint32_t>* copy) {
  auto read = [&] {
    unsigned int* list = level == 0 ? g.get_linklist0(node) : g.get_linklist(node, level);
    return NeighbourList{reinterpret_cast<const uint32_t*>(list + 1), g.getListCount(list)};
  };
  if (lock_free) return read();
  std::lock_guard<std::mutex> lock(const_cast<Graph&>(g).link_list_locks_[node]);
  const NeighbourList in_place = read();
  copy->assign(in_place.ids, in_place.ids + in_place.size);
  return {copy->data(), copy->size()};
}

// Counts a search in as lock-free if no insert is pending (protocol in vector_index.h); the
// destructor counts it out again.
class LockFreeSearch {
 public:
  LockFreeSearch(const std::atomic<bool>& insert_pending, std::atomic<int>& searches)
      : searches_(searches) {
    if (insert_pending.load(std::memory_order_seq_cst)) return;
    searches_.fetch_add(1, std::memory_order_seq_cst);
    entered_ = !insert_pending.load(std::memory_order_seq_cst);
    if (!entered_) searches_.fetch_sub(1, std::memory_order_release);
  }
  ~LockFreeSearch() {
    if (entered_) searches_.fetch_sub(1, std::memory_order_release);
  }
  bool entered() const { return entered_; }

 private:
  std::atomic<int>& searches_;
  bool entered_ = false;
};

// One search's walk over the graph: the query, the distance kernel, the lock mode.
class Walk {
 public:
  Walk(const Graph& g, const void* query, bool lock_free)
      : g_(g), fn_(g.fstdistfunc_), param_(g.dist_func_param_), q_(query), lock_free_(lock_free) {
    scratch_.reserve(64);
  }

  float Distance(uint32_t slot) const { return fn_(q_, g_.getDataByInternalId(slot), param_); }

  // Greedy descent through the upper levels: the base layer's entry point and its distance,
  // or nullopt for an empty graph.
  std::optional<DistId> Descend() {
    uint32_t entry;
    int top_level;
    {
      std::unique_lock<std::mutex> global;
      if (!lock_free_) global = std::unique_lock<std::mutex>(const_cast<Graph&>(g_).global);
      entry = g_.enterpoint_node_;
      top_level = g_.maxlevel_;
    }
    if (top_level < 0) return std::nullopt;
    float best = Distance(entry);
    for (int level = top_level; level > 0; --level) {
      for (bool changed = true; changed;) {
        changed = false;
        const NeighbourList list = Neighbours(g_, entry, level, lock_free_, &scratch_);
        for (size_t j = 0; j < list.size; ++j) {
          const float d = Distance(list.ids[j]);
          if (d < best) {
            best = d;
            entry = list.ids[j];
            changed = true;
          }
        }
      }
    }
    return DistId{best, entry};
  }

  // Best-first search of the base layer from `start` with a candidate list of size `ef`; only
  // slots that pass `eligible` are results. `flags` (may be null) is prefetched beside each
  // vector (eligible reads it). Returns the results nearest first.
  template <typename Eligible>
  std::vector<DistId> SearchBaseLayer(DistId start, size_t ef, const void* flags,
                                      Eligible eligible);

 private:
  const Graph& g_;
  const hnswlib::DISTFUNC<float> fn_;
  const void* const param_;
  const void* const q_;  // Encoded as the graph's vectors are.
  const bool lock_free_;
  std::vector<uint32_t> scratch_;
};

template <typename Eligible>
inline std::vector<DistId> Walk::SearchBaseLayer(DistId start, size_t ef, const void* flags,
                                                 Eligible eligible) {
  std::vector<DistId> top_storage, frontier_storage;
  top_storage.reserve(ef + 1);
  frontier_storage.reserve(4 * ef);
  std::priority_queue<DistId, std::vector<DistId>, Nearer> top(Nearer(), std::move(top_storage));
  std::priority_queue<DistId, std::vector<DistId>, Farther> frontier(Farther(),
                                                                     std::move(frontier_storage));
  hnswlib::VisitedList* visited = g_.visited_list_pool_->getFreeVisitedList();
  const hnswlib::vl_type mark = visited->curV;
  visited->mass[start.second] = mark;
  frontier.push(start);
  if (eligible(start.second)) top.push(start);
  // The farthest result while the list is full; +inf until then.
  float bound = top.size() >= ef ? top.top().first : std::numeric_limits<float>::infinity();
  // A large collection does not fit in cache: the next neighbour's vector (and flag) is
  // fetched while this one is compared, as hnswlib does.
  auto prefetch = [&](uint32_t n) {
    _mm_prefetch(g_.getDataByInternalId(n), _MM_HINT_T0);
    if (flags) _mm_prefetch(static_cast<const char*>(flags) + n, _MM_HINT_T0);
  };
  while (!frontier.empty() && frontier.top().first <= bound) {
    const uint32_t node = frontier.top().second;
    frontier.pop();
    const NeighbourList list = Neighbours(g_, node, 0, lock_free_, &scratch_);
    // All visited marks at once (a 2-byte read each, so many misses overlap).
    for (size_t j = 0; j < list.size; ++j) {
      _mm_prefetch(reinterpret_cast<const char*>(visited->mass + list.ids[j]), _MM_HINT_T0);
    }
    if (list.size > 0) prefetch(list.ids[0]);
    for (size_t j = 0; j < list.size; ++j) {
      const uint32_t n = list.ids[j];
      if (j + 1 < list.size) prefetch(list.ids[j + 1]);
      if (visited->mass[n] == mark) continue;
      visited->mass[n] = mark;
      const float d = Distance(n);
      if (d >= bound) continue;
      frontier.emplace(d, n);
      // The best candidate is expanded next: fetch its neighbour list now.
      _mm_prefetch(reinterpret_cast<const char*>(g_.get_linklist0(frontier.top().second)),
                   _MM_HINT_T0);
      if (!eligible(n)) continue;
      top.emplace(d, n);
      if (top.size() > ef) top.pop();
      if (top.size() >= ef) bound = top.top().first;
    }
  }
  g_.visited_list_pool_->releaseVisitedList(visited);
  std::vector<DistId> best(top.size());
  for (size_t i = top.size(); i > 0; --i, top.pop()) best[i - 1] = top.top();
  return best;
}

// Include/exclude lists of dog ids; sets built only when a filter is given.
class DogFilter {
 public:
  explicit DogFilter(const SearchParams& p)
      : include_(p.include_dog_ids.begin(), p.include_dog_ids.end()),
        exclude_(p.exclude_dog_ids.begin(), p.exclude_dog_ids.end()) {}
  bool active() const { return !include_.empty() || !exclude_.empty(); }
  bool Accepts(absl::string_view dog) const {
    return (include_.empty() || include_.count(dog) > 0) && exclude_.count(dog) == 0;
  }

 private:
  const absl::flat_hash_set<std::string> include_, exclude_;
};

}  // namespace dogsearch::index::hnsw_walk

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_HNSW_WALK_H_
