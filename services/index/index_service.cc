#include "services/index/index_service.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "services/index/core/limits.h"

namespace dogsearch::index {

IndexService::IndexService(Catalog* catalog, ThreadPool* write_pool, rpc::TokenAuthenticator auth,
                           CollectionDefaults defaults, metrics::MetricsRegistry* metrics)
    : catalog_(catalog),
      write_pool_(write_pool),
      defaults_(defaults),
      handlers_(v1::Index::service_full_name(), "dogsearch_index", std::move(auth), metrics) {}

IndexService::Reactor* IndexService::Run(Ctx* ctx, const char* method, bool on_pool,
                                         std::function<absl::Status()> fn) {
  if (!on_pool) return handlers_.RunInline(ctx, method, [&](absl::Time) { return fn(); });
  return handlers_.RunDeferred(ctx, method, [&](absl::Time, rpc::Handlers::Finish finish) {
    const bool queued = write_pool_->TrySchedule([ctx, fn = std::move(fn), finish] {
      // A request whose caller gave up while it queued is not computed.
      if (ctx->IsCancelled()) {
        finish(absl::CancelledError("request cancelled or past its deadline before it ran"));
        return;
      }
      finish(fn());
    });
    if (!queued) finish(absl::ResourceExhaustedError("index write queue is full; retry later"));
  });
}

absl::StatusOr<std::shared_ptr<DurableCollection>> IndexService::Resolve(
    const std::string& name, const std::string& model_version) {
  DS_ASSIGN_OR_RETURN(auto c, catalog_->Resolve(name));
  if (!model_version.empty() && model_version != c->options().model_version) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection '", c->options().name, "' holds vectors of model '",
                     c->options().model_version, "', not '", model_version, "'"));
  }
  return c;
}

IndexService::Reactor* IndexService::CreateCollection(Ctx* ctx,
                                                      const v1::CreateCollectionRequest* req,
                                                      v1::CollectionInfo* resp) {
  return Run(ctx, "CreateCollection", true, [=] {
    DS_ASSIGN_OR_RETURN(CollectionOptions o, FromProto(*req, defaults_));
    DS_ASSIGN_OR_RETURN(auto c, catalog_->CreateCollection(o));
    ToProto(c->options(), 0, resp);
    return absl::OkStatus();
  });
}

IndexService::Reactor* IndexService::DropCollection(Ctx* ctx, const v1::DropCollectionRequest* req,
                                                    v1::DropCollectionResponse*) {
  return Run(ctx, "DropCollection", true, [=] { return catalog_->DropCollection(req->name()); });
}

IndexService::Reactor* IndexService::GetCollection(Ctx* ctx, const v1::GetCollectionRequest* req,
                                                   v1::CollectionInfo* resp) {
  return Run(ctx, "GetCollection", false, [=] {
    DS_ASSIGN_OR_RETURN(auto c, catalog_->Resolve(req->name()));
    ToProto(c->options(), c->Stats().record_count, resp);
    for (const auto& a : catalog_->AliasesOf(c->options().name)) resp->add_aliases(a);
    return absl::OkStatus();
  });
}

IndexService::Reactor* IndexService::ListCollections(Ctx* ctx, const v1::ListCollectionsRequest*,
                                                     v1::ListCollectionsResponse* resp) {
  return Run(ctx, "ListCollections", false, [=] {
    for (const auto& c : catalog_->Collections()) {
      v1::CollectionInfo* info = resp->add_collections();
      ToProto(c->options(), c->Stats().record_count, info);
      for (const auto& a : catalog_->AliasesOf(c->options().name)) info->add_aliases(a);
    }
    return absl::OkStatus();
  });
}

IndexService::Reactor* IndexService::Upsert(Ctx* ctx, const v1::UpsertRequest* req,
                                            v1::UpsertResponse* resp) {
  return Run(ctx, "Upsert", true, [=] {
    DS_ASSIGN_OR_RETURN(auto c, Resolve(req->collection(), req->model_version()));
    std::vector<Record> records;
    records.reserve(req->records_size());
    for (const auto& r : req->records()) records.push_back(FromProto(r));
    DS_ASSIGN_OR_RETURN(WriteResult w, c->Upsert(std::move(records)));
    resp->set_inserted(w.stats.inserted);
    resp->set_replaced(w.stats.replaced);
    resp->set_sequence(w.sequence);
    return absl::OkStatus();
  });
}

IndexService::Reactor* IndexService::Delete(Ctx* ctx, const v1::DeleteRequest* req,
                                            v1::DeleteResponse* resp) {
  return Run(ctx, "Delete", true, [=] {
    DS_ASSIGN_OR_RETURN(auto c, catalog_->Resolve(req->collection()));
    DS_ASSIGN_OR_RETURN(WriteResult w, c->Delete({req->ids().begin(), req->ids().end()}));
    resp->set_deleted(w.stats.deleted);
    resp->set_not_found(w.stats.not_found);
    resp->set_sequence(w.sequence);
    return absl::OkStatus();
  });
}

IndexService::Reactor* IndexService::Get(Ctx* ctx, const v1::GetRequest* req,
                                         v1::GetResponse* resp) {
  return Run(ctx, "Get", false, [=] {
    if (req->ids_size() == 0 || static_cast<size_t>(req->ids_size()) > kMaxIdsPerRequest) {
      return absl::InvalidArgumentError(absl::StrCat("Get takes 1..", kMaxIdsPerRequest, " ids"));
    }
    DS_ASSIGN_OR_RETURN(auto c, catalog_->Resolve(req->collection()));
    std::vector<std::string> ids(req->ids().begin(), req->ids().end());
    auto got = c->Get(ids, req->include_vectors());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (got[i]) {
        ToProto(*got[i], req->include_vectors(), resp->add_records());
      } else {
        resp->add_missing_ids(ids[i]);
      }
    }
    return absl::OkStatus();
  });
}

IndexService::Reactor* IndexService::ListRecordIds(Ctx* ctx, const v1::ListRecordIdsRequest* req,
                                                   v1::ListRecordIdsResponse* resp) {
  return Run(ctx, "ListRecordIds", false, [=] {
    if (req->page_size() > kMaxIdsPerRequest) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_size is ", req->page_size(), "; at most ", kMaxIdsPerRequest));
    }
    uint64_t from = 0;
    if (!req->page_token().empty() &&
        (!absl::StartsWith(req->page_token(), "s") ||
         !absl::SimpleAtoi(absl::string_view(req->page_token()).substr(1), &from))) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_token '", absl::CHexEscape(req->page_token().substr(0, 64)),
                       "' is not one this service returned"));
    }
    DS_ASSIGN_OR_RETURN(auto c, catalog_->Resolve(req->collection()));
    const size_t size = req->page_size() == 0 ? kMaxIdsPerRequest : req->page_size();
    VectorIndex::IdPage page = c->ListIds(from, size);
    for (std::string& id : page.ids) resp->add_ids(std::move(id));
    if (!page.done) resp->set_next_page_token(absl::StrCat("s", page.next_slot));
    return absl::OkStatus();
  });
}

absl::Status IndexService::DoSearch(const DurableCollection& c, const v1::VectorSearchRequest& req,
                                    v1::VectorSearchResponse* resp) {
  DS_ASSIGN_OR_RETURN(auto hits,
                      c.Search({req.vector().begin(), req.vector().end()}, FromProto(req)));
  for (const auto& h : hits) ToProto(h, resp->add_hits());
  resp->set_collection(c.options().name);
  resp->set_model_version(c.options().model_version);
  return absl::OkStatus();
}

IndexService::Reactor* IndexService::Search(Ctx* ctx, const v1::VectorSearchRequest* req,
                                            v1::VectorSearchResponse* resp) {
  return Run(ctx, "Search", false, [=] {
    DS_ASSIGN_OR_RETURN(auto c, Resolve(req->collection(), req->model_version()));
    return DoSearch(*c, *req, resp);
  });
}

IndexService::Reactor* IndexService::BatchSearch(Ctx* ctx, const v1::BatchSearchRequest* req,
                                                 v1::BatchSearchResponse* resp) {
  return Run(ctx, "BatchSearch", false, [=] {
    if (req->queries_size() == 0 ||
        static_cast<size_t>(req->queries_size()) > kMaxQueriesPerBatch) {
      return absl::InvalidArgumentError(
          absl::StrCat("BatchSearch takes 1..", kMaxQueriesPerBatch, " queries"));
    }
    DS_ASSIGN_OR_RETURN(auto c, Resolve(req->collection(), req->model_version()));
    for (int i = 0; i < req->queries_size(); ++i) {
      absl::Status s = DoSearch(*c, req->queries(i), resp->add_results());
      if (!s.ok()) return absl::Status(s.code(), absl::StrCat("query ", i, ": ", s.message()));
    }
    return absl::OkStatus();
  });
}

IndexService::Reactor* IndexService::SetAlias(Ctx* ctx, const v1::SetAliasRequest* req,
                                              v1::AliasInfo* resp) {
  return Run(ctx, "SetAlias", true, [=] {
    DS_RETURN_IF_ERROR(
        catalog_->SetAlias(req->alias(), req->collection(), req->expected_collection()));
    resp->set_alias(req->alias());
    resp->set_collection(req->collection());
    return absl::OkStatus();
  });
}

IndexService::Reactor* IndexService::DeleteAlias(Ctx* ctx, const v1::DeleteAliasRequest* req,
                                                 v1::DeleteAliasResponse*) {
  return Run(ctx, "DeleteAlias", true, [=] { return catalog_->DeleteAlias(req->alias()); });
}

IndexService::Reactor* IndexService::ListAliases(Ctx* ctx, const v1::ListAliasesRequest*,
                                                 v1::ListAliasesResponse* resp) {
  return Run(ctx, "ListAliases", false, [=] {
    for (const auto& [a, t] : catalog_->Aliases()) {
      v1::AliasInfo* info = resp->add_aliases();
      info->set_alias(a);
      info->set_collection(t);
    }
    return absl::OkStatus();
  });
}

IndexService::Reactor* IndexService::Snapshot(Ctx* ctx, const v1::SnapshotRequest* req,
                                              v1::SnapshotResponse* resp) {
  return Run(ctx, "Snapshot", true, [=] {
    DS_ASSIGN_OR_RETURN(auto c, catalog_->Resolve(req->collection()));
    DS_ASSIGN_OR_RETURN(SnapshotResult r, c->Snapshot());
    resp->set_sequence(r.sequence);
    resp->set_bytes(r.bytes);
    resp->set_seconds(r.seconds);
    return absl::OkStatus();
  });
}

IndexService::Reactor* IndexService::GetStats(Ctx* ctx, const v1::GetStatsRequest* req,
                                              v1::CollectionStats* resp) {
  return Run(ctx, "GetStats", false, [=] {
    DS_ASSIGN_OR_RETURN(auto c, catalog_->Resolve(req->collection()));
    ToProto(c->Stats(), c->options().name, resp);
    return absl::OkStatus();
  });
}

}  // namespace dogsearch::index
