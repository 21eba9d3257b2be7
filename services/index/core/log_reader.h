// Reads a WAL file written by Wal (see log_format.h), record by record, distinguishing a torn
// tail from corruption:
//  - a final record that is incomplete (header or payload cut off by the end of the file), or
//    whose bytes are all zero, or whose CRC fails with nothing valid after it, is a torn tail:
//    the write was never acknowledged (acknowledgement waits for fsync), so it is dropped and
//    reading ends normally;
//  - a record that fails its CRC or has an impossible length with valid data after it is
//    corruption: DATA_LOSS naming the file and the record's offset.
// Not thread-safe; one reader per file.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_LOG_READER_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_LOG_READER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "services/index/core/log_format.h"

namespace dogsearch::index {

struct LogRecord {
  RecordType type;
  std::string payload;
  uint64_t offset = 0;  // Of the record header in the file.
};

class LogReader {
 public:
  // Reads the whole file into memory (WAL files are bounded by snapshots).
  static absl::StatusOr<LogReader> Open(const std::string& path);

  uint64_t first_sequence() const { return first_sequence_; }

  // Next record: true and fills *record; false at the end (or at a torn tail, after which
  // torn_tail_offset() says where valid data ends). DATA_LOSS on corruption.
  absl::StatusOr<bool> Next(LogRecord* record);

  // Offset where valid data ends when a torn tail was dropped, else -1.
  int64_t torn_tail_offset() const { return torn_tail_offset_; }
  // Bytes of valid data read so far (file header included).
  uint64_t valid_bytes() const { return pos_; }

 private:
  LogReader() = default;
  // Whether a valid record starts anywhere after `from` (used to tell torn from corrupt).
  bool ValidRecordAfter(uint64_t from) const;
  bool RecordValidAt(uint64_t at) const;

  std::string path_;
  std::string data_;
  uint64_t first_sequence_ = 0;
  uint64_t pos_ = 0;
  int64_t torn_tail_offset_ = -1;
};

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_LOG_READER_H_
