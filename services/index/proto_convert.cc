#include "services/index/proto_convert.h"

namespace dogsearch::index {

absl::StatusOr<CollectionOptions> FromProto(const v1::CreateCollectionRequest& req,
                                            const CollectionDefaults& d) {
  CollectionOptions o;
  o.name = req.name();
  o.dimension = req.dimension();
  switch (req.metric()) {
    case v1::METRIC_UNSPECIFIED:
    case v1::METRIC_COSINE:
      o.metric = Metric::kCosine;
      break;
    case v1::METRIC_INNER_PRODUCT:
      o.metric = Metric::kInnerProduct;
      break;
    case v1::METRIC_L2:
      o.metric = Metric::kL2;
      break;
    default:
      return absl::InvalidArgumentError("unknown metric");
  }
  o.model_version = req.model_version();
  if (req.hnsw().m()) o.m = req.hnsw().m();
  if (req.hnsw().ef_construction()) o.ef_construction = req.hnsw().ef_construction();
  if (req.hnsw().ef_search()) o.ef_search = req.hnsw().ef_search();
  o.initial_capacity = req.initial_capacity() ? req.initial_capacity() : d.initial_capacity;
  o.max_records = req.max_records() ? req.max_records() : d.max_records;
  switch (req.sync_policy()) {
    case v1::SYNC_POLICY_UNSPECIFIED:
      o.sync_policy = d.sync_policy;
      break;
    case v1::SYNC_POLICY_ALWAYS:
      o.sync_policy = SyncPolicy::kAlways;
      break;
    case v1::SYNC_POLICY_INTERVAL:
      o.sync_policy = SyncPolicy::kInterval;
      break;
    case v1::SYNC_POLICY_NONE:
      o.sync_policy = SyncPolicy::kNone;
      break;
    default:
      return absl::InvalidArgumentError("unknown sync_policy");
  }
  o.sync_interval_ms = req.sync_interval_ms() ? req.sync_interval_ms() : d.sync_interval_ms;
  switch (req.vector_encoding()) {
    case v1::VECTOR_ENCODING_UNSPECIFIED:
      o.vector_encoding = d.vector_encoding;
      break;
    case v1::VECTOR_ENCODING_FLOAT32:
      o.vector_encoding = VectorEncoding::kFloat32;
      break;
    case v1::VECTOR_ENCODING_FLOAT16:
      o.vector_encoding = VectorEncoding::kFloat16;
      break;
    case v1::VECTOR_ENCODING_INT8:
      o.vector_encoding = VectorEncoding::kInt8;
      break;
    default:
      return absl::InvalidArgumentError("unknown vector_encoding");
  }
  return o;
}

void ToProto(const CollectionOptions& o, uint64_t record_count, v1::CollectionInfo* out) {
  out->set_name(o.name);
  out->set_dimension(o.dimension);
  out->set_metric(o.metric == Metric::kCosine         ? v1::METRIC_COSINE
                  : o.metric == Metric::kInnerProduct ? v1::METRIC_INNER_PRODUCT
                                                      : v1::METRIC_L2);
  out->set_model_version(o.model_version);
  out->mutable_hnsw()->set_m(o.m);
  out->mutable_hnsw()->set_ef_construction(o.ef_construction);
  out->mutable_hnsw()->set_ef_search(o.ef_search);
  out->set_sync_policy(o.sync_policy == SyncPolicy::kAlways     ? v1::SYNC_POLICY_ALWAYS
                       : o.sync_policy == SyncPolicy::kInterval ? v1::SYNC_POLICY_INTERVAL
                                                                : v1::SYNC_POLICY_NONE);
  out->set_sync_interval_ms(o.sync_interval_ms);
  out->set_vector_encoding(static_cast<v1::VectorEncoding>(o.vector_encoding));
  out->set_max_records(o.max_records);
  out->set_record_count(record_count);
  out->set_created_unix_seconds(o.created_unix_seconds);
}

Payload FromProto(const v1::Payload& p) {
  Payload out{p.dog_id(), p.photo_id(), {}};
  for (const auto& [k, v] : p.attributes()) out.attributes[k] = v;
  return out;
}

void ToProto(const Payload& p, v1::Payload* out) {
  out->set_dog_id(p.dog_id);
  out->set_photo_id(p.photo_id);
  for (const auto& [k, v] : p.attributes) (*out->mutable_attributes())[k] = v;
}

Record FromProto(const v1::Record& r) {
  return Record{r.id(), {r.vector().begin(), r.vector().end()}, FromProto(r.payload())};
}

void ToProto(const Record& r, bool include_vector, v1::Record* out) {
  out->set_id(r.id);
  if (include_vector) *out->mutable_vector() = {r.vector.begin(), r.vector.end()};
  ToProto(r.payload, out->mutable_payload());
}

SearchParams FromProto(const v1::VectorSearchRequest& r) {
  SearchParams p;
  p.k = r.k();
  p.ef = r.ef();
  p.include_dog_ids.assign(r.filter().include_dog_ids().begin(),
                           r.filter().include_dog_ids().end());
  p.exclude_dog_ids.assign(r.filter().exclude_dog_ids().begin(),
                           r.filter().exclude_dog_ids().end());
  p.include_vectors = r.include_vectors();
  return p;
}

void ToProto(const SearchHit& h, v1::VectorSearchHit* out) {
  out->set_id(h.id);
  out->set_distance(h.distance);
  ToProto(h.payload, out->mutable_payload());
  if (!h.vector.empty()) *out->mutable_vector() = {h.vector.begin(), h.vector.end()};
}

void ToProto(const CollectionStats& s, const std::string& name, v1::CollectionStats* out) {
  out->set_collection(name);
  out->set_record_count(s.record_count);
  out->set_deleted_slots(s.deleted_slots);
  out->set_capacity(s.capacity);
  out->set_memory_bytes(s.memory_bytes);
  out->set_wal_bytes(s.wal_bytes);
  out->set_last_sequence(s.last_sequence);
  out->set_snapshot_sequence(s.snapshot_sequence);
  out->set_snapshot_unix_seconds(s.snapshot_unix_seconds);
}

}  // namespace dogsearch::index
