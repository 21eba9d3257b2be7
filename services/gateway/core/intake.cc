#include "services/gateway/core/intake.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/sha256.h"
#include "common/image_header/image_header.h"

namespace dogsearch::gateway {
namespace {

// Well-formed UTF-8 (no overlongs, no surrogates); `allow_newlines` admits \n, \r and \t.
bool ValidText(absl::string_view s, bool allow_newlines) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      const bool control = c < 0x20 || c == 0x7f;
      if (control && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t'))) return false;
      ++i;
      continue;
    }
    int extra = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace

absl::Status CheckDogId(absl::string_view id, const IntakeLimits& limits) {
  if (id.empty()) return absl::InvalidArgumentError("dog_id is empty");
  if (id.size() > limits.max_dog_id_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("dog_id is longer than ", limits.max_dog_id_bytes, " characters"));
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return absl::InvalidArgumentError(
          "dog_id may contain only letters, digits, '_', '.' and '-'");
    }
  }
  if (id == "." || id == "..") return absl::InvalidArgumentError("dog_id may not be '.' or '..'");
  return absl::OkStatus();
}

absl::Status CheckName(absl::string_view name, const IntakeLimits& limits) {
  if (name.empty()) return absl::InvalidArgumentError("name is empty");
  if (name.size() > limits.max_name_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("name is longer than ", limits.max_name_bytes, " bytes"));
  }
  if (!ValidText(name, false)) {
    return absl::InvalidArgumentError("name must be UTF-8 text without control characters");
  }
  return absl::OkStatus();
}

absl::Status CheckNotes(absl::string_view notes, const IntakeLimits& limits) {
  if (notes.size() > limits.max_notes_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("notes are longer than ", limits.max_notes_bytes, " bytes"));
  }
  if (!ValidText(notes, true)) return absl::InvalidArgumentError("notes must be UTF-8 text");
  return absl::OkStatus();
}

absl::Status CheckPhotoId(absl::string_view id) {
  bool ok = id.size() == 64;
  for (char c : id) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok) return absl::InvalidArgumentError("photo_id must be 64 lowercase hex digits (SHA-256)");
  return absl::OkStatus();
}

absl::StatusOr<CheckedPhoto> CheckPhoto(absl::string_view data, absl::string_view name,
                                        absl::string_view label, const IntakeLimits& limits) {
  if (data.empty()) return absl::InvalidArgumentError(absl::StrCat(label, " is empty"));
  if (data.size() > limits.max_photo_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, " is ", data.size(), " bytes; the limit is ", limits.max_photo_bytes));
  }
  auto header = image::ReadImageHeader(data);
  if (!header.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": ", header.status().message()));
  }
  if (header->width == 0 || header->height == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, " has no pixels (", header->width, "x", header->height, ")"));
  }
  const uint64_t pixels = uint64_t{header->width} * header->height;
  if (pixels > limits.max_pixels) {
    return absl::InvalidArgumentError(absl::StrCat(label, " is ", header->width, "x",
                                                   header->height, " pixels; the limit is ",
                                                   limits.max_pixels, " pixels"));
  }
  if (absl::Status s = image::CheckComplete(data, *header); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": ", s.message()));
  }
  CheckedPhoto p;
  p.photo_id = Sha256::Hex(data);
  for (char c : name.substr(0, limits.max_photo_name_bytes)) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) p.name.push_back(c);
  }
  if (!ValidText(p.name, false)) p.name.clear();
  p.width = header->width;
  p.height = header->height;
  p.bytes = data.size();
  return p;
}

}  // namespace dogsearch::gateway
