// gRPC adapter of the index core: dogsearch.v1.Index over a Catalog. Converts messages, checks
// bearer tokens on mutating RPCs, runs writes (which wait for fsync) on a bounded worker pool so
// they never block gRPC's callback threads (a full pool answers RESOURCE_EXHAUSTED), runs reads
// inline, and maps absl::Status to gRPC codes. Counts requests and latencies per method.
// Thread-safe; the catalog and pool it is given must outlive it.
#ifndef DOGSEARCH_SERVICES_INDEX_INDEX_SERVICE_H_
#define DOGSEARCH_SERVICES_INDEX_INDEX_SERVICE_H_

#include <functional>

#include "common/base/thread_pool.h"
#include "common/metrics/metrics.h"
#include "common/rpc/handler.h"
#include "dogsearch/v1/index.grpc.pb.h"
#include "services/index/core/catalog.h"
#include "services/index/proto_convert.h"

namespace dogsearch::index {

class IndexService final : public v1::Index::CallbackService {
 public:
  IndexService(Catalog* catalog, ThreadPool* write_pool, rpc::TokenAuthenticator auth,
               CollectionDefaults defaults, metrics::MetricsRegistry* metrics);

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* CreateCollection(Ctx*, const v1::CreateCollectionRequest*, v1::CollectionInfo*) override;
  Reactor* DropCollection(Ctx*, const v1::DropCollectionRequest*,
                          v1::DropCollectionResponse*) override;
  Reactor* GetCollection(Ctx*, const v1::GetCollectionRequest*, v1::CollectionInfo*) override;
  Reactor* ListCollections(Ctx*, const v1::ListCollectionsRequest*,
                           v1::ListCollectionsResponse*) override;
  Reactor* Upsert(Ctx*, const v1::UpsertRequest*, v1::UpsertResponse*) override;
  Reactor* Delete(Ctx*, const v1::DeleteRequest*, v1::DeleteResponse*) override;
  Reactor* Get(Ctx*, const v1::GetRequest*, v1::GetResponse*) override;
  Reactor* ListRecordIds(Ctx*, const v1::ListRecordIdsRequest*,
                         v1::ListRecordIdsResponse*) override;
  Reactor* Search(Ctx*, const v1::VectorSearchRequest*, v1::VectorSearchResponse*) override;
  Reactor* BatchSearch(Ctx*, const v1::BatchSearchRequest*, v1::BatchSearchResponse*) override;
  Reactor* SetAlias(Ctx*, const v1::SetAliasRequest*, v1::AliasInfo*) override;
  Reactor* DeleteAlias(Ctx*, const v1::DeleteAliasRequest*, v1::DeleteAliasResponse*) override;
  Reactor* ListAliases(Ctx*, const v1::ListAliasesRequest*, v1::ListAliasesResponse*) override;
  Reactor* Snapshot(Ctx*, const v1::SnapshotRequest*, v1::SnapshotResponse*) override;
  Reactor* GetStats(Ctx*, const v1::GetStatsRequest*, v1::CollectionStats*) override;

 private:
  // The shared handler (rpc::Handlers), running `fn` inline or on the write pool.
  Reactor* Run(Ctx* ctx, const char* method, bool on_pool, std::function<absl::Status()> fn);
  absl::StatusOr<std::shared_ptr<DurableCollection>> Resolve(const std::string& name,
                                                             const std::string& model_version);
  absl::Status DoSearch(const DurableCollection& c, const v1::VectorSearchRequest& req,
                        v1::VectorSearchResponse* resp);

  Catalog* const catalog_;
  ThreadPool* const write_pool_;
  const CollectionDefaults defaults_;
  const rpc::Handlers handlers_;
};

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_INDEX_SERVICE_H_
