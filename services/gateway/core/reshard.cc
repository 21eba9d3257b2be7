#include "services/gateway/core/reshard.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "services/gateway/core/sharded_index.h"

namespace dogsearch::gateway {
namespace {

absl::Status Named(const IndexServer& server, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat("index server ", server.address, ": ", status.message()));
}

absl::Status CheckLists(const std::vector<IndexServer>& from, const std::vector<IndexServer>& to,
                        const ReshardOptions& options) {
  if (from.empty() || to.empty()) {
    return absl::InvalidArgumentError("both the old and the new shard lists need a server");
  }
  if (options.batch < 1 || options.batch > 1000) {
    return absl::InvalidArgumentError(absl::StrCat("batch is ", options.batch, "; 1..1000"));
  }
  for (const auto* list : {&from, &to}) {
    std::set<std::string> seen;
    for (const IndexServer& s : *list) {
      if (s.address.empty() || s.backend == nullptr) {
        return absl::InvalidArgumentError("an index server address is empty");
      }
      if (!seen.insert(s.address).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("index server ", s.address, " is listed twice in one layout"));
      }
    }
  }
  return absl::OkStatus();
}

// Everything one run needs: the layouts, the options and the collection being moved.
class Mover {
 public:
  Mover(const std::vector<IndexServer>& from, const std::vector<IndexServer>& to,
        const ReshardOptions& options)
      : to_(to), options_(options) {
    std::set<std::string> seen;
    for (const auto* list : {&from, &to}) {
      for (const IndexServer& s : *list) {
        if (seen.insert(s.address).second) all_.push_back(s);
      }
    }
    for (const IndexServer& s : to) in_to_.insert(s.address);
    for (const IndexServer& s : from) old_.push_back(s);
  }

  absl::StatusOr<std::map<std::string, v1::CollectionInfo>> Collections() const {
    std::map<std::string, v1::CollectionInfo> out;
    for (const IndexServer& s : old_) {
      absl::StatusOr<v1::ListCollectionsResponse> list = s.backend->ListCollections(Deadline());
      DS_RETURN_IF_ERROR(Named(s, list.status()));
      for (const v1::CollectionInfo& c : list->collections()) out.emplace(c.name(), c);
    }
    return out;
  }

  absl::StatusOr<CollectionMove> Move(const v1::CollectionInfo& info) {
    CollectionMove m;
    m.name = info.name();
    std::vector<IndexServer> holders;  // Servers that have the collection (after creation).
    for (const IndexServer& s : all_) {
      absl::StatusOr<v1::CollectionInfo> got = s.backend->GetCollection(info.name(), Deadline());
      if (absl::IsNotFound(got.status()) && in_to_.count(s.address)) {
        if (options_.dry_run) continue;
        DS_RETURN_IF_ERROR(Named(s, Create(s, info)));
        holders.push_back(s);
        continue;
      }
      if (absl::IsNotFound(got.status())) continue;
      DS_RETURN_IF_ERROR(Named(s, got.status()));
      DS_RETURN_IF_ERROR(Named(s, Compatible(info, *got)));
      m.records_before += got->record_count();
      holders.push_back(s);
    }
    for (const IndexServer& s : holders) DS_RETURN_IF_ERROR(MoveOff(s, info, &m));
    if (options_.dry_run) return m;
    for (const IndexServer& s : holders) {
      absl::StatusOr<v1::CollectionInfo> got = s.backend->GetCollection(info.name(), Deadline());
      DS_RETURN_IF_ERROR(Named(s, got.status()));
      if (in_to_.count(s.address)) {
        m.records_after += got->record_count();
      } else if (got->record_count() != 0) {
        return absl::DataLossError(absl::StrCat("index server ", s.address, " still holds ",
                                                got->record_count(), " records of ", info.name(),
                                                " after the move"));
      }
    }
    if (m.records_before != m.records_after + m.duplicates) {
      return absl::DataLossError(absl::StrCat(
          info.name(), ": ", m.records_before, " records before the move, ", m.records_after,
          " after (", m.duplicates, " duplicates removed); run again with writes stopped"));
    }
    return m;
  }

  absl::StatusOr<size_t> CopyAliases() const {
    std::map<std::string, std::string> aliases;
    for (const IndexServer& s : old_) {
      absl::StatusOr<v1::ListAliasesResponse> list = s.backend->ListAliases(Deadline());
      DS_RETURN_IF_ERROR(Named(s, list.status()));
      for (const v1::AliasInfo& a : list->aliases()) aliases.emplace(a.alias(), a.collection());
    }
    if (options_.dry_run) return aliases.size();
    for (const auto& [alias, collection] : aliases) {
      v1::SetAliasRequest req;
      req.set_alias(alias);
      req.set_collection(collection);
      for (const IndexServer& s : to_) {
        DS_RETURN_IF_ERROR(Named(s, s.backend->SetAlias(req, Deadline()).status()));
      }
    }
    return aliases.size();
  }

 private:
  absl::Time Deadline() const { return absl::Now() + options_.call_timeout; }

  void Log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  absl::Status Create(const IndexServer& s, const v1::CollectionInfo& info) const {
    v1::CreateCollectionRequest req;
    req.set_name(info.name());
    req.set_dimension(info.dimension());
    req.set_metric(info.metric());
    req.set_model_version(info.model_version());
    *req.mutable_hnsw() = info.hnsw();
    req.set_max_records(info.max_records());
    req.set_sync_policy(info.sync_policy());
    req.set_sync_interval_ms(info.sync_interval_ms());
    req.set_vector_encoding(info.vector_encoding());
    Log(absl::StrCat("creating ", info.name(), " on ", s.address));
    return s.backend->CreateCollection(req, Deadline()).status();
  }

  static absl::Status Compatible(const v1::CollectionInfo& a, const v1::CollectionInfo& b) {
    if (a.dimension() != b.dimension() || a.model_version() != b.model_version() ||
        a.metric() != b.metric() || a.vector_encoding() != b.vector_encoding()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "collection ", a.name(), " differs from the first server's (model ", b.model_version(),
          " vs ", a.model_version(), ", dimension ", b.dimension(), " vs ", a.dimension(), ")"));
    }
    return absl::OkStatus();
  }

  const IndexServer& Target(const std::string& id) const { return to_[ShardOfId(id, to_.size())]; }

  // Lists every record of the collection on `s` and moves those that belong elsewhere.
  absl::Status MoveOff(const IndexServer& s, const v1::CollectionInfo& info, CollectionMove* m) {
    v1::ListRecordIdsRequest list;
    list.set_collection(info.name());
    list.set_page_size(static_cast<uint32_t>(options_.batch));
    uint64_t listed = 0, moved_here = 0;
    absl::Time next_log = absl::Now() + absl::Seconds(10);
    do {
      absl::StatusOr<v1::ListRecordIdsResponse> page = s.backend->ListRecordIds(list, Deadline());
      DS_RETURN_IF_ERROR(Named(s, page.status()));
      std::map<size_t, std::vector<std::string>> by_target;  // Index into to_ -> ids.
      for (const std::string& id : page->ids()) {
        const size_t t = ShardOfId(id, to_.size());
        if (to_[t].address != s.address) by_target[t].push_back(id);
      }
      listed += page->ids_size();
      for (const auto& [t, ids] : by_target) {
        if (options_.dry_run) {
          moved_here += ids.size();
        } else {
          DS_ASSIGN_OR_RETURN(uint64_t n, MoveBatch(s, to_[t], info, ids, m));
          moved_here += n;
        }
      }
      list.set_page_token(page->next_page_token());
      if (absl::Now() >= next_log) {
        Log(absl::StrCat(info.name(), " on ", s.address, ": ", listed, " listed, ", moved_here,
                         options_.dry_run ? " to move" : " moved"));
        next_log = absl::Now() + absl::Seconds(10);
      }
    } while (!list.page_token().empty());
    m->moved += moved_here;
    Log(absl::StrCat(info.name(), " on ", s.address, ": ", listed, " records, ", moved_here,
                     options_.dry_run ? " would move" : " moved"));
    return absl::OkStatus();
  }

  // Copies `ids` from `src` to `dst`, then deletes them from `src`; returns how many moved.
  absl::StatusOr<uint64_t> MoveBatch(const IndexServer& src, const IndexServer& dst,
                                     const v1::CollectionInfo& info,
                                     const std::vector<std::string>& ids, CollectionMove* m) {
    v1::GetRequest get;
    get.set_collection(info.name());
    get.set_include_vectors(true);
    for (const std::string& id : ids) get.add_ids(id);
    absl::StatusOr<v1::GetResponse> got = src.backend->Get(get, Deadline());
    DS_RETURN_IF_ERROR(Named(src, got.status()));
    if (got->records_size() == 0) return 0;
    v1::UpsertRequest put;
    put.set_collection(info.name());
    put.set_model_version(info.model_version());
    *put.mutable_records() = got->records();
    absl::StatusOr<v1::UpsertResponse> written = dst.backend->Upsert(put, Deadline());
    DS_RETURN_IF_ERROR(Named(dst, written.status()));
    m->duplicates += written->replaced();
    v1::DeleteRequest del;
    del.set_collection(info.name());
    for (const v1::Record& r : got->records()) del.add_ids(r.id());
    DS_RETURN_IF_ERROR(Named(src, src.backend->Delete(del, Deadline()).status()));
    // If the two addresses reach one server, the delete just removed what was written: put it
    // back and stop before anything else is lost.
    v1::GetRequest check;
    check.set_collection(info.name());
    *check.mutable_ids() = del.ids();
    absl::StatusOr<v1::GetResponse> there = dst.backend->Get(check, Deadline());
    DS_RETURN_IF_ERROR(Named(dst, there.status()));
    if (there->missing_ids_size() > 0) {
      DS_RETURN_IF_ERROR(Named(dst, dst.backend->Upsert(put, Deadline()).status()));
      return absl::FailedPreconditionError(absl::StrCat(
          "index servers ", src.address, " and ", dst.address,
          " are one server (a record deleted from the first vanished from the second; it was "
          "written back): spell each server the same way in both layouts"));
    }
    return static_cast<uint64_t>(got->records_size());
  }

  std::vector<IndexServer> all_;  // Old servers first, then the new ones not among them.
  std::vector<IndexServer> old_;
  const std::vector<IndexServer> to_;
  std::set<std::string> in_to_;
  const ReshardOptions options_;
};

}  // namespace

absl::StatusOr<ReshardReport> Reshard(const std::vector<IndexServer>& from,
                                      const std::vector<IndexServer>& to,
                                      const ReshardOptions& options) {
  DS_RETURN_IF_ERROR(CheckLists(from, to, options));
  const absl::Time start = absl::Now();
  Mover mover(from, to, options);
  DS_ASSIGN_OR_RETURN(auto collections, mover.Collections());
  ReshardReport report;
  for (const auto& [name, info] : collections) {
    DS_ASSIGN_OR_RETURN(CollectionMove m, mover.Move(info));
    report.collections.push_back(std::move(m));
  }
  DS_ASSIGN_OR_RETURN(report.aliases, mover.CopyAliases());
  report.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return report;
}

}  // namespace dogsearch::gateway
