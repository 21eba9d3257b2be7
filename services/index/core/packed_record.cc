#include "services/index/core/packed_record.h"

#include <cstring>
#include <string>

#include "services/index/core/record_codec.h"

namespace dogsearch::index {

PackedRecord::PackedRecord(absl::string_view id, const Payload& payload) {
  std::string attrs;
  if (!payload.attributes.empty()) {
    Encoder e(&attrs);
    e.U32(static_cast<uint32_t>(payload.attributes.size()));
    for (const auto& [k, v] : payload.attributes) {
      e.Str(k);
      e.Str(v);
    }
  }
  const bool photo_is_id = payload.photo_id == id;
  const absl::string_view photo = photo_is_id ? absl::string_view() : payload.photo_id;
  const uint32_t lengths[4] = {static_cast<uint32_t>(id.size()),
                               static_cast<uint32_t>(payload.dog_id.size()),
                               photo_is_id ? kPhotoIsId : static_cast<uint32_t>(photo.size()),
                               static_cast<uint32_t>(attrs.size())};
  const size_t total =
      sizeof(lengths) + id.size() + payload.dog_id.size() + photo.size() + attrs.size();
  bytes_.reset(new char[total]);
  char* p = bytes_.get();
  std::memcpy(p, lengths, sizeof(lengths));
  p += sizeof(lengths);
  for (absl::string_view part :
       {id, absl::string_view(payload.dog_id), photo, absl::string_view(attrs)}) {
    std::memcpy(p, part.data(), part.size());
    p += part.size();
  }
}

uint32_t PackedRecord::Length(int field) const {
  uint32_t n;
  std::memcpy(&n, bytes_.get() + field * sizeof(uint32_t), sizeof(n));
  return field == 2 && n == kPhotoIsId ? 0 : n;
}

absl::string_view PackedRecord::Field(int field) const {
  if (!bytes_) return {};
  size_t offset = 4 * sizeof(uint32_t);
  for (int f = 0; f < field; ++f) offset += Length(f);
  return absl::string_view(bytes_.get() + offset, Length(field));
}

size_t PackedRecord::packed_bytes() const {
  if (!bytes_) return 0;
  return 4 * sizeof(uint32_t) + Length(0) + Length(1) + Length(2) + Length(3);
}

Payload PackedRecord::payload() const {
  Payload p;
  if (!bytes_) return p;
  p.dog_id = std::string(dog_id());
  uint32_t photo_length;
  std::memcpy(&photo_length, bytes_.get() + 2 * sizeof(uint32_t), sizeof(photo_length));
  p.photo_id = std::string(photo_length == kPhotoIsId ? id() : Field(2));
  if (const absl::string_view attrs = Field(3); !attrs.empty()) {
    // Written by the constructor from valid strings: decoding cannot fail.
    Decoder d(attrs);
    const uint32_t count = d.U32().value_or(0);
    for (uint32_t i = 0; i < count; ++i) {
      std::string k = d.Str().value_or(""), v = d.Str().value_or("");
      p.attributes.emplace(std::move(k), std::move(v));
    }
  }
  return p;
}

}  // namespace dogsearch::index
