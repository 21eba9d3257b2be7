#include "services/gateway/core/sharded_index.h"

#include <algorithm>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"

namespace dogsearch::gateway {
namespace {

// Statuses of one call per shard, summarised: OK if all OK; `tolerated` codes count as OK
// when at least one shard succeeded; otherwise the first failure.
absl::Status Combine(const std::vector<absl::Status>& all, absl::StatusCode tolerated) {
  bool any_ok = false;
  for (const absl::Status& s : all) any_ok = any_ok || s.ok();
  for (const absl::Status& s : all) {
    if (s.ok() || (any_ok && s.code() == tolerated)) continue;
    return s;
  }
  return absl::OkStatus();
}

}  // namespace

size_t ShardOfId(absl::string_view id, size_t shards) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64: stable across processes and builds.
  for (unsigned char c : id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<size_t>(h % shards);
}

ShardedIndex::ShardedIndex(std::vector<IndexBackend*> shards) : shards_(std::move(shards)) {}

size_t ShardedIndex::ShardOf(const std::string& id) const { return ShardOfId(id, shards_.size()); }

std::vector<size_t> ShardedIndex::All() const {
  std::vector<size_t> all(shards_.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  return all;
}

absl::Status ShardedIndex::ForShards(const std::vector<size_t>& which,
                                     const std::function<absl::Status(size_t)>& fn) const {
  std::vector<absl::Status> results(which.size());
  if (which.size() == 1) {
    results[0] = fn(which[0]);
  } else {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < which.size(); ++i) {
      threads.emplace_back([&, i] { results[i] = fn(which[i]); });
    }
    for (auto& t : threads) t.join();
  }
  for (size_t i = 0; i < which.size(); ++i) {
    if (!results[i].ok()) {
      return absl::Status(results[i].code(),
                          absl::StrCat("index shard ", which[i], ": ", results[i].message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::CollectionInfo> ShardedIndex::CreateCollection(
    const v1::CreateCollectionRequest& request, absl::Time deadline) {
  std::vector<absl::StatusOr<v1::CollectionInfo>> out(shards_.size(), absl::UnknownError(""));
  (void)ForShards(All(), [&](size_t i) {
    out[i] = shards_[i]->CreateCollection(request, deadline);
    return absl::OkStatus();
  });
  // A retry after a partial failure finds it on some shards: ALREADY_EXISTS lets the caller
  // check the existing collection (EnsureCollection does).
  bool all_ok = true, any_exists = false;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].ok()) continue;
    all_ok = false;
    if (absl::IsAlreadyExists(out[i].status())) {
      any_exists = true;
      continue;
    }
    return absl::Status(out[i].status().code(),
                        absl::StrCat("index shard ", i, ": ", out[i].status().message()));
  }
  if (!all_ok && any_exists) {
    return absl::AlreadyExistsError(
        absl::StrCat("collection ", request.name(), " exists on some or all index shards"));
  }
  return out[0];
}

absl::StatusOr<v1::CollectionInfo> ShardedIndex::GetCollection(const std::string& name,
                                                               absl::Time deadline) {
  std::vector<v1::CollectionInfo> infos(shards_.size());
  DS_RETURN_IF_ERROR(ForShards(All(), [&](size_t i) -> absl::Status {
    DS_ASSIGN_OR_RETURN(infos[i], shards_[i]->GetCollection(name, deadline));
    return absl::OkStatus();
  }));
  v1::CollectionInfo merged = infos[0];
  for (size_t i = 1; i < infos.size(); ++i) {
    if (infos[i].model_version() != merged.model_version() ||
        infos[i].dimension() != merged.dimension()) {
      return absl::FailedPreconditionError(
          absl::StrCat("collection ", name, " differs between index shards 0 and ", i, " (",
                       merged.model_version(), " vs ", infos[i].model_version(), ")"));
    }
    merged.set_record_count(merged.record_count() + infos[i].record_count());
  }
  return merged;
}

absl::StatusOr<v1::ListCollectionsResponse> ShardedIndex::ListCollections(absl::Time deadline) {
  return shards_[0]->ListCollections(deadline);
}

absl::Status ShardedIndex::DropCollection(const std::string& name, absl::Time deadline) {
  std::vector<absl::Status> out(shards_.size());
  (void)ForShards(All(), [&](size_t i) {
    out[i] = shards_[i]->DropCollection(name, deadline);
    return absl::OkStatus();
  });
  return Combine(out, absl::StatusCode::kNotFound);
}

// Sends parts[i] to shard i for every non-empty part, in parallel; one response per shard
// (default-constructed where nothing was sent).
template <typename Req, typename Resp>
absl::StatusOr<std::vector<Resp>> ShardedIndex::Scatter(
    const std::vector<Req>& parts, int (Req::*size)() const,
    absl::StatusOr<Resp> (IndexBackend::*call)(const Req&, absl::Time), absl::Time deadline) const {
  std::vector<size_t> which;
  for (size_t i = 0; i < parts.size(); ++i) {
    if ((parts[i].*size)() > 0) which.push_back(i);
  }
  std::vector<Resp> resp(shards_.size());
  DS_RETURN_IF_ERROR(ForShards(which, [&](size_t i) -> absl::Status {
    DS_ASSIGN_OR_RETURN(resp[i], (shards_[i]->*call)(parts[i], deadline));
    return absl::OkStatus();
  }));
  return resp;
}

absl::StatusOr<v1::UpsertResponse> ShardedIndex::Upsert(const v1::UpsertRequest& request,
                                                        absl::Time deadline) {
  std::vector<v1::UpsertRequest> parts(shards_.size());
  for (auto& p : parts) {
    p.set_collection(request.collection());
    p.set_model_version(request.model_version());
  }
  for (const v1::Record& r : request.records()) *parts[ShardOf(r.id())].add_records() = r;
  DS_ASSIGN_OR_RETURN(
      auto resp, Scatter(parts, &v1::UpsertRequest::records_size, &IndexBackend::Upsert, deadline));
  v1::UpsertResponse total;
  for (const auto& r : resp) {
    total.set_inserted(total.inserted() + r.inserted());
    total.set_replaced(total.replaced() + r.replaced());
    total.set_sequence(std::max(total.sequence(), r.sequence()));
  }
  return total;
}

absl::StatusOr<v1::DeleteResponse> ShardedIndex::Delete(const v1::DeleteRequest& request,
                                                        absl::Time deadline) {
  std::vector<v1::DeleteRequest> parts(shards_.size());
  for (auto& p : parts) p.set_collection(request.collection());
  for (const std::string& id : request.ids()) parts[ShardOf(id)].add_ids(id);
  DS_ASSIGN_OR_RETURN(
      auto resp, Scatter(parts, &v1::DeleteRequest::ids_size, &IndexBackend::Delete, deadline));
  v1::DeleteResponse total;
  for (const auto& r : resp) {
    total.set_deleted(total.deleted() + r.deleted());
    total.set_not_found(total.not_found() + r.not_found());
    total.set_sequence(std::max(total.sequence(), r.sequence()));
  }
  return total;
}

absl::StatusOr<v1::GetResponse> ShardedIndex::Get(const v1::GetRequest& request,
                                                  absl::Time deadline) {
  std::vector<v1::GetRequest> parts(shards_.size());
  for (auto& p : parts) {
    p.set_collection(request.collection());
    p.set_include_vectors(request.include_vectors());
  }
  for (const std::string& id : request.ids()) parts[ShardOf(id)].add_ids(id);
  DS_ASSIGN_OR_RETURN(auto resp,
                      Scatter(parts, &v1::GetRequest::ids_size, &IndexBackend::Get, deadline));
  v1::GetResponse merged;
  for (auto& r : resp) {
    for (auto& rec : *r.mutable_records()) *merged.add_records() = std::move(rec);
    for (auto& id : *r.mutable_missing_ids()) merged.add_missing_ids(std::move(id));
  }
  return merged;
}

absl::StatusOr<v1::VectorSearchResponse> ShardedIndex::Search(
    const v1::VectorSearchRequest& request, absl::Time deadline) {
  std::vector<v1::VectorSearchResponse> resp(shards_.size());
  DS_RETURN_IF_ERROR(ForShards(All(), [&](size_t i) -> absl::Status {
    DS_ASSIGN_OR_RETURN(resp[i], shards_[i]->Search(request, deadline));
    return absl::OkStatus();
  }));
  std::vector<v1::VectorSearchHit*> hits;
  for (auto& r : resp) {
    for (auto& h : *r.mutable_hits()) hits.push_back(&h);
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const v1::VectorSearchHit* a, const v1::VectorSearchHit* b) {
                     return a->distance() < b->distance();
                   });
  v1::VectorSearchResponse merged;
  merged.set_collection(resp[0].collection());
  merged.set_model_version(resp[0].model_version());
  for (size_t i = 0; i < hits.size() && i < request.k(); ++i) *merged.add_hits() = *hits[i];
  return merged;
}

absl::StatusOr<v1::AliasInfo> ShardedIndex::SetAlias(const v1::SetAliasRequest& request,
                                                     absl::Time deadline) {
  std::vector<v1::AliasInfo> out(shards_.size());
  DS_RETURN_IF_ERROR(ForShards(All(), [&](size_t i) -> absl::Status {
    DS_ASSIGN_OR_RETURN(out[i], shards_[i]->SetAlias(request, deadline));
    return absl::OkStatus();
  }));
  return out[0];
}

absl::StatusOr<v1::ListAliasesResponse> ShardedIndex::ListAliases(absl::Time deadline) {
  return shards_[0]->ListAliases(deadline);
}

// Page tokens are "<shard>/<that shard's token>": shard by shard, each listed to its end.
absl::StatusOr<v1::ListRecordIdsResponse> ShardedIndex::ListRecordIds(
    const v1::ListRecordIdsRequest& request, absl::Time deadline) {
  size_t shard = 0;
  v1::ListRecordIdsRequest part = request;
  part.clear_page_token();
  if (!request.page_token().empty()) {
    const size_t slash = request.page_token().find('/');
    if (slash == std::string::npos ||
        !absl::SimpleAtoi(absl::string_view(request.page_token()).substr(0, slash), &shard) ||
        shard >= shards_.size()) {
      return absl::InvalidArgumentError("page_token is not one the sharded index returned");
    }
    part.set_page_token(request.page_token().substr(slash + 1));
  }
  absl::StatusOr<v1::ListRecordIdsResponse> page = shards_[shard]->ListRecordIds(part, deadline);
  if (!page.ok()) {
    return absl::Status(page.status().code(),
                        absl::StrCat("index shard ", shard, ": ", page.status().message()));
  }
  if (!page->next_page_token().empty()) {
    page->set_next_page_token(absl::StrCat(shard, "/", page->next_page_token()));
  } else if (shard + 1 < shards_.size()) {
    page->set_next_page_token(absl::StrCat(shard + 1, "/"));
  }
  return page;
}

}  // namespace dogsearch::gateway
