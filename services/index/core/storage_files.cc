#include "services/index/core/storage_files.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/base/crc32c.h"
#include "common/base/file_util.h"
#include "common/base/status_macros.h"
#include "services/index/core/record_codec.h"

namespace dogsearch::index {
namespace {

constexpr char kOptionsMagic[] = "DSIXCOL1";
constexpr char kSnapshotMagic[] = "DSIXSNP1";
constexpr uint32_t kFormatVersion = 1;

}  // namespace

std::string SealFile(absl::string_view magic, absl::string_view body) {
  std::string s(magic);
  s.append(reinterpret_cast<const char*>(&kFormatVersion), 4);
  s.append(body.data(), body.size());
  const uint32_t crc = crc32c::Mask(crc32c::Value(s));
  s.append(reinterpret_cast<const char*>(&crc), 4);
  return s;
}

absl::StatusOr<std::string> UnsealFile(const std::string& path, const std::string& data,
                                       absl::string_view magic) {
  if (data.size() < magic.size() + 8 || !absl::StartsWith(data, magic)) {
    return absl::DataLossError(
        absl::StrCat(path, ": bad magic or too short (", data.size(), " bytes)"));
  }
  uint32_t stored;
  std::memcpy(&stored, data.data() + data.size() - 4, 4);
  if (crc32c::Unmask(stored) != crc32c::Value(data.data(), data.size() - 4)) {
    return absl::DataLossError(absl::StrCat(path, ": checksum mismatch"));
  }
  uint32_t version;
  std::memcpy(&version, data.data() + magic.size(), 4);
  if (version != kFormatVersion) {
    return absl::DataLossError(absl::StrCat(path, ": format version ", version,
                                            " is not supported (want ", kFormatVersion, ")"));
  }
  return data.substr(magic.size() + 4, data.size() - magic.size() - 8);
}

namespace {

absl::StatusOr<std::vector<uint64_t>> ListNumbered(const std::string& dir, absl::string_view prefix,
                                                   absl::string_view suffix) {
  std::vector<uint64_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (!absl::StartsWith(name, prefix) || !absl::EndsWith(name, suffix)) continue;
    uint64_t seq;
    absl::string_view digits(name);
    digits.remove_prefix(prefix.size());
    digits.remove_suffix(suffix.size());
    if (digits.size() == 20 && absl::SimpleAtoi(digits, &seq)) out.push_back(seq);
  }
  if (ec) return ErrnoToStatus(ec.value(), absl::StrCat("list ", dir));
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<uint32_t> FileCrc(const std::string& path, uint64_t* size) {
  DS_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  *size = data.size();
  return crc32c::Value(data);
}

}  // namespace

absl::Status WriteOptionsFile(const std::string& dir, const CollectionOptions& o) {
  std::string body;
  Encoder e(&body);
  e.Str(o.name);
  e.U32(o.dimension);
  e.U8(static_cast<uint8_t>(o.metric));
  e.Str(o.model_version);
  e.U32(o.m);
  e.U32(o.ef_construction);
  e.U32(o.ef_search);
  e.U64(o.initial_capacity);
  e.U64(o.max_records);
  e.U8(static_cast<uint8_t>(o.sync_policy));
  e.U32(o.sync_interval_ms);
  e.U64(static_cast<uint64_t>(o.created_unix_seconds));
  e.U8(static_cast<uint8_t>(o.vector_encoding));  // Absent in files written before issue #22.
  return WriteFileAtomic(absl::StrCat(dir, "/", kOptionsFile), SealFile(kOptionsMagic, body));
}

absl::StatusOr<CollectionOptions> ReadOptionsFile(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/", kOptionsFile);
  DS_ASSIGN_OR_RETURN(std::string data, ReadFile(path, 1 << 20));
  DS_ASSIGN_OR_RETURN(std::string body, UnsealFile(path, data, kOptionsMagic));
  Decoder d(body);
  CollectionOptions o;
  DS_ASSIGN_OR_RETURN(o.name, d.Str());
  DS_ASSIGN_OR_RETURN(o.dimension, d.U32());
  DS_ASSIGN_OR_RETURN(uint8_t metric, d.U8());
  o.metric = static_cast<Metric>(metric);
  DS_ASSIGN_OR_RETURN(o.model_version, d.Str());
  DS_ASSIGN_OR_RETURN(o.m, d.U32());
  DS_ASSIGN_OR_RETURN(o.ef_construction, d.U32());
  DS_ASSIGN_OR_RETURN(o.ef_search, d.U32());
  DS_ASSIGN_OR_RETURN(o.initial_capacity, d.U64());
  DS_ASSIGN_OR_RETURN(o.max_records, d.U64());
  DS_ASSIGN_OR_RETURN(uint8_t policy, d.U8());
  o.sync_policy = static_cast<SyncPolicy>(policy);
  DS_ASSIGN_OR_RETURN(o.sync_interval_ms, d.U32());
  DS_ASSIGN_OR_RETURN(uint64_t created, d.U64());
  o.created_unix_seconds = static_cast<int64_t>(created);
  if (!d.done()) {
    DS_ASSIGN_OR_RETURN(uint8_t encoding, d.U8());
    o.vector_encoding = static_cast<VectorEncoding>(encoding);
  }
  return o;
}

std::string WalFileName(uint64_t seq) { return absl::StrFormat("wal-%020u.log", seq); }
std::string SnapshotDirName(uint64_t seq) { return absl::StrFormat("snap-%020u", seq); }

absl::StatusOr<std::vector<uint64_t>> ListWalFiles(const std::string& dir) {
  return ListNumbered(dir, "wal-", ".log");
}
absl::StatusOr<std::vector<uint64_t>> ListSnapshots(const std::string& dir) {
  return ListNumbered(dir, "snap-", "");
}

absl::StatusOr<SnapshotManifest> WriteSnapshotManifest(const std::string& snap_dir,
                                                       uint64_t sequence) {
  SnapshotManifest m;
  m.sequence = sequence;
  m.created_unix_seconds = absl::ToUnixSeconds(absl::Now());
  DS_ASSIGN_OR_RETURN(m.graph_crc,
                      FileCrc(absl::StrCat(snap_dir, "/", kGraphFile), &m.graph_bytes));
  DS_ASSIGN_OR_RETURN(m.slots_crc,
                      FileCrc(absl::StrCat(snap_dir, "/", kSlotsFile), &m.slots_bytes));
  std::string body;
  Encoder e(&body);
  e.U64(m.sequence);
  e.U64(static_cast<uint64_t>(m.created_unix_seconds));
  e.U64(m.graph_bytes);
  e.U32(m.graph_crc);
  e.U64(m.slots_bytes);
  e.U32(m.slots_crc);
  DS_RETURN_IF_ERROR(WriteNewFileSynced(absl::StrCat(snap_dir, "/", kSnapshotManifest),
                                        SealFile(kSnapshotMagic, body)));
  return m;
}

absl::StatusOr<SnapshotManifest> VerifySnapshot(const std::string& snap_dir) {
  const std::string path = absl::StrCat(snap_dir, "/", kSnapshotManifest);
  auto data = ReadFile(path, 1 << 20);
  if (!data.ok()) return absl::DataLossError(std::string(data.status().message()));
  DS_ASSIGN_OR_RETURN(std::string body, UnsealFile(path, *data, kSnapshotMagic));
  Decoder d(body);
  SnapshotManifest m;
  DS_ASSIGN_OR_RETURN(m.sequence, d.U64());
  DS_ASSIGN_OR_RETURN(uint64_t created, d.U64());
  m.created_unix_seconds = static_cast<int64_t>(created);
  DS_ASSIGN_OR_RETURN(m.graph_bytes, d.U64());
  DS_ASSIGN_OR_RETURN(m.graph_crc, d.U32());
  DS_ASSIGN_OR_RETURN(m.slots_bytes, d.U64());
  DS_ASSIGN_OR_RETURN(m.slots_crc, d.U32());
  for (auto [name, bytes, crc] : {std::tuple{kGraphFile, m.graph_bytes, m.graph_crc},
                                  std::tuple{kSlotsFile, m.slots_bytes, m.slots_crc}}) {
    const std::string file = absl::StrCat(snap_dir, "/", name);
    uint64_t size = 0;
    auto got = FileCrc(file, &size);
    if (!got.ok())
      return absl::DataLossError(absl::StrCat("snapshot file ", got.status().message()));
    if (size != bytes) {
      return absl::DataLossError(absl::StrCat(
          file, " is ", size, " bytes, the snapshot manifest says ", bytes, " (truncated)"));
    }
    if (*got != crc) return absl::DataLossError(absl::StrCat(file, ": checksum mismatch"));
  }
  return m;
}

}  // namespace dogsearch::index
