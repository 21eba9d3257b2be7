#include "services/index/core/limits.h"

#include "absl/strings/str_cat.h"

namespace dogsearch::index {
namespace {

absl::Status Bad(absl::string_view msg) { return absl::InvalidArgumentError(std::string(msg)); }

}  // namespace

absl::Status ValidateName(absl::string_view kind, absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || name[0] == '.') {
    return Bad(absl::StrCat(kind, " name '", name, "' must be 1..", kMaxNameBytes,
                            " characters of [A-Za-z0-9_.-] not starting with '.'"));
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-')) {
      return Bad(
          absl::StrCat(kind, " name '", name, "' contains a character outside [A-Za-z0-9_.-]"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCollectionOptions(const CollectionOptions& o) {
  if (absl::Status s = ValidateName("collection", o.name); !s.ok()) return s;
  if (o.dimension < kMinDimension || o.dimension > kMaxDimension) {
    return Bad(absl::StrCat("dimension ", o.dimension, " is outside ", kMinDimension, "..",
                            kMaxDimension));
  }
  if (o.metric != Metric::kCosine && o.metric != Metric::kInnerProduct && o.metric != Metric::kL2) {
    return Bad("metric must be COSINE, INNER_PRODUCT or L2");
  }
  if (o.vector_encoding != VectorEncoding::kFloat32 &&
      o.vector_encoding != VectorEncoding::kFloat16 && o.vector_encoding != VectorEncoding::kInt8) {
    return Bad("vector_encoding must be FLOAT32, FLOAT16 or INT8");
  }
  if (o.model_version.empty()) return Bad("model_version is required");
  if (o.m < 2 || o.m > kMaxM) return Bad(absl::StrCat("hnsw.m ", o.m, " is outside 2..", kMaxM));
  if (o.ef_construction < 1 || o.ef_construction > kMaxEf) {
    return Bad(absl::StrCat("hnsw.ef_construction ", o.ef_construction, " is outside 1..", kMaxEf));
  }
  if (o.ef_search < 1 || o.ef_search > kMaxEf) {
    return Bad(absl::StrCat("hnsw.ef_search ", o.ef_search, " is outside 1..", kMaxEf));
  }
  if (o.max_records < 1 || o.max_records > kMaxRecordsPerCollection) {
    return Bad(
        absl::StrCat("max_records ", o.max_records, " is outside 1..", kMaxRecordsPerCollection));
  }
  if (o.sync_policy == SyncPolicy::kInterval &&
      (o.sync_interval_ms < 1 || o.sync_interval_ms > 60000)) {
    return Bad(absl::StrCat("sync_interval_ms ", o.sync_interval_ms, " is outside 1..60000"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRecordId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return Bad(absl::StrCat("record id must be 1..", kMaxIdBytes, " bytes, got ", id.size()));
  }
  return absl::OkStatus();
}

absl::Status ValidatePayload(const Payload& p) {
  size_t bytes = p.dog_id.size() + p.photo_id.size();
  for (const auto& [k, v] : p.attributes) {
    if (k.empty() || k.size() > kMaxAttributeKeyBytes) {
      return Bad(
          absl::StrCat("payload attribute key must be 1..", kMaxAttributeKeyBytes, " bytes"));
    }
    bytes += k.size() + v.size();
  }
  if (bytes > kMaxPayloadBytes) {
    return Bad(absl::StrCat("payload is ", bytes, " bytes, more than ", kMaxPayloadBytes));
  }
  return absl::OkStatus();
}

absl::Status ValidateSearchParams(const SearchParams& p) {
  if (p.k < 1 || p.k > kMaxK) return Bad(absl::StrCat("k ", p.k, " is outside 1..", kMaxK));
  if (p.ef > kMaxEf) return Bad(absl::StrCat("ef ", p.ef, " is outside 0..", kMaxEf));
  if (p.include_dog_ids.size() > kMaxFilterIds || p.exclude_dog_ids.size() > kMaxFilterIds) {
    return Bad(absl::StrCat("a dog filter lists more than ", kMaxFilterIds, " ids"));
  }
  return absl::OkStatus();
}

}  // namespace dogsearch::index
