// A record's id and payload packed into one exact-size allocation, for the slot table of a
// collection (issue #22: at 10 million records, std::strings and a std::map per record cost
// ~450 bytes each; packed, a gateway record of 64-character ids takes ~100). The photo id is
// stored once when it equals the record id (the gateway's records). Immutable once built;
// reading is thread-safe.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_PACKED_RECORD_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_PACKED_RECORD_H_

#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"
#include "services/index/core/types.h"

namespace dogsearch::index {

class PackedRecord {
 public:
  PackedRecord() = default;  // Empty: id() and dog_id() are "".
  PackedRecord(absl::string_view id, const Payload& payload);

  absl::string_view id() const { return Field(0); }
  absl::string_view dog_id() const { return Field(1); }
  Payload payload() const;
  // Bytes of the one allocation (0 when empty).
  size_t packed_bytes() const;

 private:
  // Layout: four little-endian u32 lengths (id, dog id, photo id or kPhotoIsId, attributes)
  // then the id, dog id, photo id and the attributes (count, then key/value strings as
  // record_codec's Encoder writes them).
  static constexpr uint32_t kPhotoIsId = ~uint32_t{0};
  uint32_t Length(int field) const;
  absl::string_view Field(int field) const;  // 0 id, 1 dog id, 2 photo id (as stored), 3 attrs.
  std::unique_ptr<char[]> bytes_;
};

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_PACKED_RECORD_H_
