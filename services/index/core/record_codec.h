// Binary encoding of WAL payloads and snapshot slot tables: little-endian fixed-width integers,
// length-prefixed strings, raw float32 vectors. Decoders check every length against the bytes
// left and return DATA_LOSS instead of reading past the end. Pure functions; thread-safe.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_RECORD_CODEC_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_RECORD_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/index/core/types.h"

namespace dogsearch::index {

// Appends fixed-width and length-prefixed values to a string.
class Encoder {
 public:
  explicit Encoder(std::string* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { out_->append(reinterpret_cast<const char*>(&v), 4); }
  void U64(uint64_t v) { out_->append(reinterpret_cast<const char*>(&v), 8); }
  void Str(absl::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_->append(s.data(), s.size());
  }
  void Floats(const std::vector<float>& v) {
    U32(static_cast<uint32_t>(v.size()));
    out_->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  }
  void PayloadValue(const Payload& p);

 private:
  std::string* out_;
};

// Reads what Encoder wrote; every call fails with DATA_LOSS past the end.
class Decoder {
 public:
  explicit Decoder(absl::string_view in) : in_(in) {}
  absl::StatusOr<uint8_t> U8();
  absl::StatusOr<uint32_t> U32();
  absl::StatusOr<uint64_t> U64();
  absl::StatusOr<std::string> Str();
  absl::StatusOr<std::vector<float>> Floats();
  absl::StatusOr<Payload> PayloadValue();
  bool done() const { return in_.empty(); }

 private:
  absl::Status Need(size_t n) const;
  absl::string_view in_;
};

struct UpsertBatch {
  uint64_t sequence = 0;
  std::vector<Record> records;
};
struct DeleteBatch {
  uint64_t sequence = 0;
  std::vector<std::string> ids;
};

std::string EncodeUpsert(uint64_t sequence, const std::vector<Record>& records);
std::string EncodeDelete(uint64_t sequence, const std::vector<std::string>& ids);
absl::StatusOr<UpsertBatch> DecodeUpsert(absl::string_view payload);
absl::StatusOr<DeleteBatch> DecodeDelete(absl::string_view payload);

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_RECORD_CODEC_H_
