// Bounds on every input of the index, and the checks that enforce them. Each check returns
// INVALID_ARGUMENT naming the field and the bound. Pure functions; thread-safe.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_LIMITS_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_LIMITS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/index/core/types.h"

namespace dogsearch::index {

inline constexpr uint32_t kMinDimension = 2;
inline constexpr uint32_t kMaxDimension = 4096;
inline constexpr uint32_t kMaxM = 100;
inline constexpr uint32_t kMaxEf = 10000;
inline constexpr uint32_t kMaxK = 1000;
inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kMaxNameBytes = 128;
inline constexpr size_t kMaxPayloadBytes = 64 << 10;
inline constexpr size_t kMaxAttributeKeyBytes = 64;
inline constexpr size_t kMaxRecordsPerUpsert = 1000;
inline constexpr size_t kMaxIdsPerRequest = 1000;
inline constexpr size_t kMaxQueriesPerBatch = 64;
inline constexpr size_t kMaxFilterIds = 10000;
inline constexpr uint64_t kMaxRecordsPerCollection = 100'000'000;

// Collection and alias names: [A-Za-z0-9_.-], 1..128 bytes, not starting with '.'.
absl::Status ValidateName(absl::string_view kind, absl::string_view name);
absl::Status ValidateCollectionOptions(const CollectionOptions& options);
absl::Status ValidateRecordId(absl::string_view id);
absl::Status ValidatePayload(const Payload& payload);
absl::Status ValidateSearchParams(const SearchParams& params);

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_LIMITS_H_
