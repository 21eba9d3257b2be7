// Conversions between dogsearch.v1 index messages and the core's plain types. Pure functions.
#ifndef DOGSEARCH_SERVICES_INDEX_PROTO_CONVERT_H_
#define DOGSEARCH_SERVICES_INDEX_PROTO_CONVERT_H_

#include "absl/status/statusor.h"
#include "dogsearch/v1/index.pb.h"
#include "services/index/core/durable_collection.h"
#include "services/index/core/types.h"

namespace dogsearch::index {

// Server-side defaults for fields a CreateCollectionRequest leaves at zero.
struct CollectionDefaults {
  uint64_t initial_capacity = 1024;
  uint64_t max_records = 10'000'000;
  SyncPolicy sync_policy = SyncPolicy::kAlways;
  uint32_t sync_interval_ms = 100;
  VectorEncoding vector_encoding = VectorEncoding::kFloat32;
};

absl::StatusOr<CollectionOptions> FromProto(const v1::CreateCollectionRequest& req,
                                            const CollectionDefaults& defaults);
void ToProto(const CollectionOptions& o, uint64_t record_count, v1::CollectionInfo* out);
Record FromProto(const v1::Record& r);
void ToProto(const Record& r, bool include_vector, v1::Record* out);
Payload FromProto(const v1::Payload& p);
void ToProto(const Payload& p, v1::Payload* out);
SearchParams FromProto(const v1::VectorSearchRequest& r);
void ToProto(const SearchHit& h, v1::VectorSearchHit* out);
void ToProto(const CollectionStats& s, const std::string& name, v1::CollectionStats* out);

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_PROTO_CONVERT_H_
