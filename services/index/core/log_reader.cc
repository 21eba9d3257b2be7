#include "services/index/core/log_reader.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/base/crc32c.h"
#include "common/base/file_util.h"

namespace dogsearch::index {
namespace {

uint32_t Le32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

bool AllZero(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<LogReader> LogReader::Open(const std::string& path) {
  LogReader r;
  r.path_ = path;
  auto data = ReadFile(path);
  if (!data.ok()) return data.status();
  r.data_ = *std::move(data);
  if (r.data_.size() < kWalFileHeaderSize) {
    // A crash right after creating the file: nothing in it was ever acknowledged.
    r.torn_tail_offset_ = 0;
    r.pos_ = r.data_.size();
    return r;
  }
  if (std::memcmp(r.data_.data(), kWalMagic, sizeof(kWalMagic)) != 0) {
    return absl::DataLossError(absl::StrCat(path, ": not a dogsearch WAL file (bad magic)"));
  }
  std::memcpy(&r.first_sequence_, r.data_.data() + 8, 8);
  r.pos_ = kWalFileHeaderSize;
  return r;
}

bool LogReader::RecordValidAt(uint64_t at) const {
  if (at + kRecordHeaderSize > data_.size()) return false;
  const char* h = data_.data() + at;
  const uint32_t length = Le32(h + 4);
  if (length > kMaxRecordPayload || at + kRecordHeaderSize + length > data_.size()) return false;
  const uint8_t type = static_cast<uint8_t>(h[8]);
  if (type != 1 && type != 2) return false;
  const uint32_t crc = crc32c::Value(h + 8, 1 + length);
  return crc32c::Unmask(Le32(h)) == crc;
}

bool LogReader::ValidRecordAfter(uint64_t from) const {
  for (uint64_t at = from + 1; at + kRecordHeaderSize <= data_.size(); ++at) {
    if (RecordValidAt(at)) return true;
  }
  return false;
}

absl::StatusOr<bool> LogReader::Next(LogRecord* record) {
  if (torn_tail_offset_ >= 0 || pos_ >= data_.size()) return false;
  const uint64_t at = pos_;
  const uint64_t left = data_.size() - at;
  if (left < kRecordHeaderSize || AllZero(data_.data() + at, left)) {
    torn_tail_offset_ = static_cast<int64_t>(at);
    return false;
  }
  if (!RecordValidAt(at)) {
    if (ValidRecordAfter(at)) {
      return absl::DataLossError(
          absl::StrCat(path_, ": corrupt WAL record at offset ", at,
                       " with valid records after it; refusing to start (see --repair_wal)"));
    }
    torn_tail_offset_ = static_cast<int64_t>(at);
    return false;
  }
  const uint32_t length = Le32(data_.data() + at + 4);
  record->type = static_cast<RecordType>(data_[at + 8]);
  record->payload.assign(data_.data() + at + kRecordHeaderSize, length);
  record->offset = at;
  pos_ = at + kRecordHeaderSize + length;
  return true;
}

}  // namespace dogsearch::index
