// An IndexBackend over several index servers ("shards"), for galleries larger than one index
// process should hold: every collection and alias exists on every shard; a record lives on the
// shard chosen by a stable hash of its id (FNV-1a, so every gateway agrees); searches go to all
// shards in parallel and the hits are merged by distance. The gateway core is unchanged: it sees
// one IndexBackend.
//
// The shard count is part of the data layout: dogsearch-reshard (reshard.h) moves the records
// when it changes.
//
// Thread-safe: immutable after construction; the shards are thread-safe; each call fans out on
// short-lived threads it joins before returning.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_SHARDED_INDEX_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_SHARDED_INDEX_H_

#include <memory>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/gateway/core/backends.h"

namespace dogsearch::gateway {

// The shard (0..shards-1) a record id belongs to: FNV-1a 64 of the id, modulo the shard count;
// stable across processes and builds, so every gateway and dogsearch-reshard agree.
size_t ShardOfId(absl::string_view id, size_t shards);

class ShardedIndex : public IndexBackend {
 public:
  // REQUIRES: at least one shard. Shards are not owned and must outlive this object.
  explicit ShardedIndex(std::vector<IndexBackend*> shards);

  // The shard a record id belongs to.
  size_t ShardOf(const std::string& id) const;

  absl::StatusOr<v1::CollectionInfo> CreateCollection(const v1::CreateCollectionRequest& request,
                                                      absl::Time deadline) override;
  absl::StatusOr<v1::CollectionInfo> GetCollection(const std::string& name,
                                                   absl::Time deadline) override;
  absl::StatusOr<v1::ListCollectionsResponse> ListCollections(absl::Time deadline) override;
  absl::Status DropCollection(const std::string& name, absl::Time deadline) override;
  absl::StatusOr<v1::UpsertResponse> Upsert(const v1::UpsertRequest& request,
                                            absl::Time deadline) override;
  absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& request,
                                            absl::Time deadline) override;
  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& request, absl::Time deadline) override;
  absl::StatusOr<v1::VectorSearchResponse> Search(const v1::VectorSearchRequest& request,
                                                  absl::Time deadline) override;
  absl::StatusOr<v1::AliasInfo> SetAlias(const v1::SetAliasRequest& request,
                                         absl::Time deadline) override;
  absl::StatusOr<v1::ListAliasesResponse> ListAliases(absl::Time deadline) override;
  absl::StatusOr<v1::ListRecordIdsResponse> ListRecordIds(const v1::ListRecordIdsRequest& request,
                                                          absl::Time deadline) override;

 private:
  // Runs fn(shard index) for every shard in `which` in parallel; the first error (by shard
  // order) wins, prefixed with the shard number.
  absl::Status ForShards(const std::vector<size_t>& which,
                         const std::function<absl::Status(size_t)>& fn) const;
  std::vector<size_t> All() const;
  template <typename Req, typename Resp>
  absl::StatusOr<std::vector<Resp>> Scatter(const std::vector<Req>& parts, int (Req::*size)() const,
                                            absl::StatusOr<Resp> (IndexBackend::*call)(const Req&,
                                                                                       absl::Time),
                                            absl::Time deadline) const;

  const std::vector<IndexBackend*> shards_;
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_SHARDED_INDEX_H_
