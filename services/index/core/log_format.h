// Framing of write-ahead-log records (see docs/INDEX_STORAGE.md). Every record is
//
//   masked CRC32C (4, LE) | payload length (4, LE) | type (1) | payload (length bytes)
//
// where the CRC covers type and payload. A file starts with an 16-byte header:
// magic "DSWAL001" (8) | first sequence number (8, LE).
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_LOG_FORMAT_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_LOG_FORMAT_H_

#include <cstdint>

namespace dogsearch::index {

inline constexpr char kWalMagic[8] = {'D', 'S', 'W', 'A', 'L', '0', '0', '1'};
inline constexpr int kWalFileHeaderSize = 16;
inline constexpr int kRecordHeaderSize = 9;
// Largest payload accepted when reading; larger lengths are corruption.
inline constexpr uint32_t kMaxRecordPayload = 256u << 20;

enum class RecordType : uint8_t {
  kUpsert = 1,  // One Upsert request: all its records, applied together.
  kDelete = 2,  // One Delete request.
};

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_LOG_FORMAT_H_
