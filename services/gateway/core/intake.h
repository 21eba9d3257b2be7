// Checks on what users send the gateway, before anything is stored or sent to a backend:
// dog ids, names, notes, and photos (size, format, dimensions, completeness, read from the
// encoded header without decoding). Every refusal is INVALID_ARGUMENT naming the field or
// the photo. Pure functions; thread-safe.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_INTAKE_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_INTAKE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dogsearch::gateway {

struct IntakeLimits {
  uint64_t max_photo_bytes = 10 << 20;
  uint64_t max_pixels = 40'000'000;
  uint32_t max_photos_per_request = 32;
  // Encoded bytes and header pixels of all photos in one request together: a single call
  // cannot hold hundreds of MiB, nor buy minutes of decoding with a few small files.
  uint64_t max_request_bytes = 64 << 20;
  uint64_t max_request_pixels = 400'000'000;
  uint32_t max_k = 100;
  uint32_t max_photos_per_dog_in_results = 10;
  uint32_t max_page_size = 500;
  size_t max_dog_id_bytes = 128;
  size_t max_name_bytes = 256;
  size_t max_notes_bytes = 4096;
  size_t max_photo_name_bytes = 256;
};

// [A-Za-z0-9_.-], 1..max chars, not "." or "..".
absl::Status CheckDogId(absl::string_view id, const IntakeLimits& limits);
// 1..max bytes of valid UTF-8 without control characters.
absl::Status CheckName(absl::string_view name, const IntakeLimits& limits);
// Up to max bytes of valid UTF-8 (newlines and tabs allowed).
absl::Status CheckNotes(absl::string_view notes, const IntakeLimits& limits);
// 64 lowercase hex digits.
absl::Status CheckPhotoId(absl::string_view id);

struct CheckedPhoto {
  std::string photo_id;  // SHA-256 hex of the bytes.
  std::string name;      // Name given at upload (sanitised: control characters dropped).
  uint32_t width = 0;
  uint32_t height = 0;
  uint64_t bytes = 0;
};

// `label` names the photo in messages (e.g. "photo 2 'rex.jpg'").
absl::StatusOr<CheckedPhoto> CheckPhoto(absl::string_view data, absl::string_view name,
                                        absl::string_view label, const IntakeLimits& limits);

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_INTAKE_H_
