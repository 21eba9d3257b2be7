#include "services/index/core/durable_collection.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "services/index/core/limits.h"
#include "services/index/core/record_codec.h"
#include "services/index/core/storage_files.h"

namespace dogsearch::index {
namespace {

WalOptions WalOptionsFor(const CollectionOptions& o) {
  return {o.sync_policy, absl::Milliseconds(o.sync_interval_ms)};
}

std::string PathIn(const std::string& dir, const std::string& name) {
  return absl::StrCat(dir, "/", name);
}

}  // namespace

DurableCollection::DurableCollection(std::string dir, std::unique_ptr<VectorIndex> index)
    : dir_(std::move(dir)), index_(std::move(index)) {}

DurableCollection::~DurableCollection() = default;

absl::StatusOr<std::unique_ptr<DurableCollection>> DurableCollection::Create(
    const std::string& dir, const CollectionOptions& options) {
  CollectionOptions o = options;
  if (o.created_unix_seconds == 0) o.created_unix_seconds = absl::ToUnixSeconds(absl::Now());
  DS_ASSIGN_OR_RETURN(auto index, VectorIndex::Create(o));
  DS_RETURN_IF_ERROR(MakeDirs(dir));
  if (!std::filesystem::is_empty(dir)) {
    return absl::AlreadyExistsError(absl::StrCat("collection directory ", dir, " is not empty"));
  }
  std::unique_ptr<DurableCollection> c(new DurableCollection(dir, std::move(index)));
  std::lock_guard<std::mutex> lock(c->write_mu_);
  DS_ASSIGN_OR_RETURN(c->wal_, Wal::Create(PathIn(dir, WalFileName(1)), 1, WalOptionsFor(o)));
  // The options file is written last: a directory without it is an unfinished creation.
  DS_RETURN_IF_ERROR(WriteOptionsFile(dir, o));
  return c;
}

absl::StatusOr<std::unique_ptr<DurableCollection>> DurableCollection::Open(
    const std::string& dir, const RecoveryOptions& recovery) {
  DS_ASSIGN_OR_RETURN(CollectionOptions o, ReadOptionsFile(dir));
  DS_ASSIGN_OR_RETURN(std::vector<uint64_t> snaps, ListSnapshots(dir));
  std::unique_ptr<VectorIndex> index;
  SnapshotManifest manifest;
  for (auto it = snaps.rbegin(); it != snaps.rend() && index == nullptr; ++it) {
    const std::string snap = PathIn(dir, SnapshotDirName(*it));
    auto m = VerifySnapshot(snap);
    auto loaded = m.ok() ? VectorIndex::Load(o, PathIn(snap, kGraphFile), PathIn(snap, kSlotsFile))
                         : absl::StatusOr<std::unique_ptr<VectorIndex>>(m.status());
    if (loaded.ok()) {
      index = *std::move(loaded);
      manifest = *m;
    } else if (!recovery.repair) {
      return absl::DataLossError(absl::StrCat("snapshot ", snap,
                                              " is unusable: ", loaded.status().message(),
                                              "; refusing to start (--repair falls back to an "
                                              "older snapshot if the WAL reaches back to it)"));
    } else {
      DS_LOG(kError, "snapshot_skipped").Kv("dir", snap).Kv("status", loaded.status());
    }
  }
  if (index == nullptr) {
    DS_ASSIGN_OR_RETURN(index, VectorIndex::Create(o));
  }
  std::unique_ptr<DurableCollection> c(new DurableCollection(dir, std::move(index)));
  std::lock_guard<std::mutex> lock(c->write_mu_);
  c->last_sequence_ = c->snapshot_sequence_ = manifest.sequence;
  c->snapshot_unix_seconds_ = manifest.created_unix_seconds;
  DS_ASSIGN_OR_RETURN(std::vector<uint64_t> wals, ListWalFiles(dir));
  DS_ASSIGN_OR_RETURN(uint64_t valid_bytes, c->Replay(wals, recovery));
  DS_RETURN_IF_ERROR(c->OpenWalForAppend(wals, valid_bytes, WalOptionsFor(o)));
  DS_LOG(kInfo, "collection_recovered")
      .Kv("collection", o.name)
      .Kv("snapshot_sequence", manifest.sequence)
      .Kv("last_sequence", c->last_sequence_)
      .Kv("records", c->index_->live_count());
  return c;
}

absl::Status DurableCollection::ApplyLogRecord(const LogRecord& rec, const std::string& file) {
  auto where = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(file, " offset ", rec.offset, ": ", what));
  };
  uint64_t seq;
  if (rec.type == RecordType::kUpsert) {
    auto batch = DecodeUpsert(rec.payload);
    if (!batch.ok()) return where(batch.status().message());
    seq = batch->sequence;
    if (seq <= last_sequence_) return absl::OkStatus();  // Covered by the snapshot.
    if (seq != last_sequence_ + 1)
      return where(absl::StrCat("sequence gap: ", last_sequence_, " -> ", seq));
    auto applied = index_->ReplayUpsert(std::move(batch->records));
    if (!applied.ok()) return where(applied.status().message());
  } else {
    auto batch = DecodeDelete(rec.payload);
    if (!batch.ok()) return where(batch.status().message());
    seq = batch->sequence;
    if (seq <= last_sequence_) return absl::OkStatus();
    if (seq != last_sequence_ + 1)
      return where(absl::StrCat("sequence gap: ", last_sequence_, " -> ", seq));
    index_->ApplyDelete(batch->ids);
  }
  last_sequence_ = seq;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> DurableCollection::Replay(const std::vector<uint64_t>& wals,
                                                   const RecoveryOptions& recovery) {
  uint64_t valid_bytes = 0;
  for (size_t i = 0; i < wals.size(); ++i) {
    const std::string file = PathIn(dir_, WalFileName(wals[i]));
    DS_ASSIGN_OR_RETURN(LogReader reader, LogReader::Open(file));
    LogRecord rec;
    while (true) {
      auto more = reader.Next(&rec);
      if (!more.ok() && recovery.repair) {
        DS_LOG(kError, "wal_repaired").Kv("file", file).Kv("status", more.status());
        break;  // Drop the corrupt record and everything after it.
      }
      if (!more.ok()) return more.status();
      if (!*more) break;
      DS_RETURN_IF_ERROR(ApplyLogRecord(rec, file));
    }
    const bool last = i + 1 == wals.size();
    if (reader.torn_tail_offset() >= 0 && !last && !recovery.repair) {
      return absl::DataLossError(absl::StrCat(file, ": damaged at offset ",
                                              reader.torn_tail_offset(),
                                              " but newer WAL files follow it"));
    }
    valid_bytes = reader.valid_bytes();
    if (reader.torn_tail_offset() >= 0) {
      DS_LOG(kWarning, "wal_torn_tail_dropped")
          .Kv("file", file)
          .Kv("offset", reader.torn_tail_offset());
    }
  }
  return valid_bytes;
}

absl::Status DurableCollection::OpenWalForAppend(const std::vector<uint64_t>& wals,
                                                 uint64_t valid_bytes, const WalOptions& opts) {
  if (!wals.empty() && valid_bytes >= kWalFileHeaderSize) {
    DS_ASSIGN_OR_RETURN(
        wal_, Wal::OpenForAppend(PathIn(dir_, WalFileName(wals.back())), valid_bytes, opts));
    return absl::OkStatus();
  }
  // No WAL, or the last one died before its header was written: start a fresh file.
  if (!wals.empty()) std::filesystem::remove(PathIn(dir_, WalFileName(wals.back())));
  DS_ASSIGN_OR_RETURN(
      wal_, Wal::Create(PathIn(dir_, WalFileName(last_sequence_ + 1)), last_sequence_ + 1, opts));
  return absl::OkStatus();
}

absl::StatusOr<WriteResult> DurableCollection::Upsert(std::vector<Record> records) {
  if (records.empty()) return absl::InvalidArgumentError("upsert has no records");
  if (records.size() > kMaxRecordsPerUpsert) {
    return absl::InvalidArgumentError(
        absl::StrCat("upsert has ", records.size(), " records, more than ", kMaxRecordsPerUpsert));
  }
  std::vector<std::string> ids;
  for (size_t i = 0; i < records.size(); ++i) {
    if (absl::Status s = index_->PrepareRecord(&records[i]); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("record ", i, " ('", records[i].id, "'): ", s.message()));
    }
    ids.push_back(records[i].id);
  }
  WriteResult result;
  uint64_t ticket;
  std::shared_ptr<Wal> wal;
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    DS_RETURN_IF_ERROR(broken_);
    if (index_->live_count() + index_->CountNew(ids) > options().max_records) {
      return absl::ResourceExhaustedError(absl::StrCat("collection '", options().name,
                                                       "' would exceed its limit of ",
                                                       options().max_records, " records"));
    }
    DS_RETURN_IF_ERROR(index_->Reserve(records.size()));
    result.sequence = last_sequence_ + 1;
    ticket = wal_->Enqueue(RecordType::kUpsert, EncodeUpsert(result.sequence, records));
    auto applied = index_->ApplyUpsert(records);
    if (!applied.ok()) {
      broken_ = absl::InternalError(
          absl::StrCat("collection '", options().name, "' is read-only after a failed insert (",
                       applied.status().message(), "); restart to recover from the WAL"));
      return broken_;
    }
    result.stats = *applied;
    last_sequence_ = result.sequence;
    wal = wal_;
  }
  // Snapshot may have rotated wal_ meanwhile; it synced the old one first, so this returns at
  // once in that case.
  DS_RETURN_IF_ERROR(wal->WaitDurable(ticket));
  return result;
}

absl::StatusOr<WriteResult> DurableCollection::Delete(const std::vector<std::string>& ids) {
  if (ids.empty()) return absl::InvalidArgumentError("delete has no ids");
  if (ids.size() > kMaxIdsPerRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat("delete has ", ids.size(), " ids, more than ", kMaxIdsPerRequest));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (absl::Status s = ValidateRecordId(ids[i]); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("id ", i, ": ", s.message()));
    }
  }
  WriteResult result;
  uint64_t ticket;
  std::shared_ptr<Wal> wal;
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    DS_RETURN_IF_ERROR(broken_);
    result.sequence = last_sequence_ + 1;
    ticket = wal_->Enqueue(RecordType::kDelete, EncodeDelete(result.sequence, ids));
    result.stats = index_->ApplyDelete(ids);
    last_sequence_ = result.sequence;
    wal = wal_;
  }
  DS_RETURN_IF_ERROR(wal->WaitDurable(ticket));
  return result;
}

absl::StatusOr<std::vector<SearchHit>> DurableCollection::Search(std::vector<float> query,
                                                                 const SearchParams& params) const {
  DS_RETURN_IF_ERROR(ValidateSearchParams(params));
  DS_RETURN_IF_ERROR(index_->PrepareQuery(&query));
  return index_->Search(query, params);
}

std::vector<std::optional<Record>> DurableCollection::Get(const std::vector<std::string>& ids,
                                                          bool include_vectors) const {
  return index_->Get(ids, include_vectors);
}

absl::StatusOr<SnapshotResult> DurableCollection::Snapshot() {
  if (snapshotting_.exchange(true)) {
    return absl::AbortedError(
        absl::StrCat("a snapshot of '", options().name, "' is already running"));
  }
  struct Reset {
    std::atomic<bool>& flag;
    ~Reset() { flag.store(false); }
  } reset{snapshotting_};
  const absl::Time start = absl::Now();
  std::lock_guard<std::mutex> lock(write_mu_);
  DS_RETURN_IF_ERROR(broken_);
  const uint64_t seq = last_sequence_;
  DS_RETURN_IF_ERROR(wal_->Sync());
  const std::string final_dir = PathIn(dir_, SnapshotDirName(seq));
  if (seq == snapshot_sequence_ && std::filesystem::exists(final_dir)) {
    return SnapshotResult{seq, 0, 0};  // Nothing new since the last snapshot.
  }
  const std::string tmp = PathIn(dir_, absl::StrCat(".tmp-", SnapshotDirName(seq)));
  std::filesystem::remove_all(tmp);
  DS_RETURN_IF_ERROR(MakeDirs(tmp));
  DS_RETURN_IF_ERROR(index_->Save(PathIn(tmp, kGraphFile), PathIn(tmp, kSlotsFile)));
  DS_ASSIGN_OR_RETURN(SnapshotManifest m, WriteSnapshotManifest(tmp, seq));
  DS_RETURN_IF_ERROR(SyncPath(tmp));
  DS_RETURN_IF_ERROR(RenameDurably(tmp, final_dir));
  // New writes go to a new WAL; the old ones are covered by the snapshot.
  DS_ASSIGN_OR_RETURN(
      wal_, Wal::Create(PathIn(dir_, WalFileName(seq + 1)), seq + 1, WalOptionsFor(options())));
  snapshot_sequence_ = seq;
  snapshot_unix_seconds_ = m.created_unix_seconds;
  RemoveObsoleteFiles(seq);
  return SnapshotResult{seq, m.graph_bytes + m.slots_bytes,
                        absl::ToDoubleSeconds(absl::Now() - start)};
}

void DurableCollection::RemoveObsoleteFiles(uint64_t snapshot_seq) {
  // Only after the new snapshot and the new WAL are durable: a crash before this line leaves
  // extra files that recovery skips, never missing ones.
  auto wals = ListWalFiles(dir_);
  if (wals.ok()) {
    for (uint64_t w : *wals) {
      if (w <= snapshot_seq) std::filesystem::remove(PathIn(dir_, WalFileName(w)));
    }
  }
  auto snaps = ListSnapshots(dir_);
  if (snaps.ok()) {
    for (uint64_t s : *snaps) {
      if (s < snapshot_seq) std::filesystem::remove_all(PathIn(dir_, SnapshotDirName(s)));
    }
  }
  (void)SyncPath(dir_);
}

CollectionStats DurableCollection::Stats() const {
  CollectionStats s;
  s.record_count = index_->live_count();
  s.deleted_slots = index_->deleted_slots();
  s.capacity = index_->capacity();
  s.memory_bytes = index_->memory_bytes();
  std::lock_guard<std::mutex> lock(write_mu_);
  s.wal_bytes = wal_ ? wal_->bytes() : 0;
  s.last_sequence = last_sequence_;
  s.snapshot_sequence = snapshot_sequence_;
  s.snapshot_unix_seconds = snapshot_unix_seconds_;
  return s;
}

}  // namespace dogsearch::index
