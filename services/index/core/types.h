// Plain data of the index core: records, payloads, search results, collection options.
// Mirrors dogsearch.v1 index messages without depending on them.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_TYPES_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_TYPES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dogsearch::index {

enum class Metric : uint8_t { kCosine = 1, kInnerProduct = 2, kL2 = 3 };
enum class SyncPolicy : uint8_t { kAlways = 1, kInterval = 2, kNone = 3 };
// How vectors are stored in the graph (vector_codec.h).
enum class VectorEncoding : uint8_t { kFloat32 = 1, kFloat16 = 2, kInt8 = 3 };

struct Payload {
  std::string dog_id;
  std::string photo_id;
  std::map<std::string, std::string> attributes;

  bool operator==(const Payload& o) const {
    return dog_id == o.dog_id && photo_id == o.photo_id && attributes == o.attributes;
  }
};

struct Record {
  std::string id;
  std::vector<float> vector;
  Payload payload;
};

struct CollectionOptions {
  std::string name;
  uint32_t dimension = 0;
  Metric metric = Metric::kCosine;
  std::string model_version;
  uint32_t m = 16;
  uint32_t ef_construction = 200;
  uint32_t ef_search = 64;
  VectorEncoding vector_encoding = VectorEncoding::kFloat32;
  uint64_t initial_capacity = 1024;
  uint64_t max_records = 10'000'000;
  SyncPolicy sync_policy = SyncPolicy::kAlways;
  uint32_t sync_interval_ms = 100;
  int64_t created_unix_seconds = 0;
};

struct SearchHit {
  std::string id;
  float distance = 0;
  Payload payload;
  std::vector<float> vector;  // Only when asked for.
};

struct SearchParams {
  uint32_t k = 10;
  uint32_t ef = 0;  // 0 = the collection's default.
  std::vector<std::string> include_dog_ids;
  std::vector<std::string> exclude_dog_ids;
  bool include_vectors = false;
};

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_TYPES_H_
