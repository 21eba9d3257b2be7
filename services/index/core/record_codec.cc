#include "services/index/core/record_codec.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"

namespace dogsearch::index {

void Encoder::PayloadValue(const Payload& p) {
  Str(p.dog_id);
  Str(p.photo_id);
  U32(static_cast<uint32_t>(p.attributes.size()));
  for (const auto& [k, v] : p.attributes) {
    Str(k);
    Str(v);
  }
}

absl::Status Decoder::Need(size_t n) const {
  if (in_.size() < n) {
    return absl::DataLossError(
        absl::StrCat("record truncated: need ", n, " bytes, ", in_.size(), " left"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint8_t> Decoder::U8() {
  DS_RETURN_IF_ERROR(Need(1));
  uint8_t v = static_cast<uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return v;
}

absl::StatusOr<uint32_t> Decoder::U32() {
  DS_RETURN_IF_ERROR(Need(4));
  uint32_t v;
  std::memcpy(&v, in_.data(), 4);
  in_.remove_prefix(4);
  return v;
}

absl::StatusOr<uint64_t> Decoder::U64() {
  DS_RETURN_IF_ERROR(Need(8));
  uint64_t v;
  std::memcpy(&v, in_.data(), 8);
  in_.remove_prefix(8);
  return v;
}

absl::StatusOr<std::string> Decoder::Str() {
  DS_ASSIGN_OR_RETURN(uint32_t n, U32());
  DS_RETURN_IF_ERROR(Need(n));
  std::string s(in_.substr(0, n));
  in_.remove_prefix(n);
  return s;
}

absl::StatusOr<std::vector<float>> Decoder::Floats() {
  DS_ASSIGN_OR_RETURN(uint32_t n, U32());
  DS_RETURN_IF_ERROR(Need(size_t{n} * sizeof(float)));
  std::vector<float> v(n);
  std::memcpy(v.data(), in_.data(), size_t{n} * sizeof(float));
  in_.remove_prefix(size_t{n} * sizeof(float));
  return v;
}

absl::StatusOr<Payload> Decoder::PayloadValue() {
  Payload p;
  DS_ASSIGN_OR_RETURN(p.dog_id, Str());
  DS_ASSIGN_OR_RETURN(p.photo_id, Str());
  DS_ASSIGN_OR_RETURN(uint32_t n, U32());
  for (uint32_t i = 0; i < n; ++i) {
    DS_ASSIGN_OR_RETURN(std::string k, Str());
    DS_ASSIGN_OR_RETURN(std::string v, Str());
    p.attributes.emplace(std::move(k), std::move(v));
  }
  return p;
}

std::string EncodeUpsert(uint64_t sequence, const std::vector<Record>& records) {
  std::string out;
  Encoder e(&out);
  e.U64(sequence);
  e.U32(static_cast<uint32_t>(records.size()));
  for (const Record& r : records) {
    e.Str(r.id);
    e.Floats(r.vector);
    e.PayloadValue(r.payload);
  }
  return out;
}

std::string EncodeDelete(uint64_t sequence, const std::vector<std::string>& ids) {
  std::string out;
  Encoder e(&out);
  e.U64(sequence);
  e.U32(static_cast<uint32_t>(ids.size()));
  for (const std::string& id : ids) e.Str(id);
  return out;
}

absl::StatusOr<UpsertBatch> DecodeUpsert(absl::string_view payload) {
  Decoder d(payload);
  UpsertBatch b;
  DS_ASSIGN_OR_RETURN(b.sequence, d.U64());
  DS_ASSIGN_OR_RETURN(uint32_t n, d.U32());
  for (uint32_t i = 0; i < n; ++i) {
    Record r;
    DS_ASSIGN_OR_RETURN(r.id, d.Str());
    DS_ASSIGN_OR_RETURN(r.vector, d.Floats());
    DS_ASSIGN_OR_RETURN(r.payload, d.PayloadValue());
    b.records.push_back(std::move(r));
  }
  if (!d.done()) return absl::DataLossError("upsert record has trailing bytes");
  return b;
}

absl::StatusOr<DeleteBatch> DecodeDelete(absl::string_view payload) {
  Decoder d(payload);
  DeleteBatch b;
  DS_ASSIGN_OR_RETURN(b.sequence, d.U64());
  DS_ASSIGN_OR_RETURN(uint32_t n, d.U32());
  for (uint32_t i = 0; i < n; ++i) {
    DS_ASSIGN_OR_RETURN(std::string id, d.Str());
    b.ids.push_back(std::move(id));
  }
  if (!d.done()) return absl::DataLossError("delete record has trailing bytes");
  return b;
}

}  // namespace dogsearch::index
