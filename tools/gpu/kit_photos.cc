#include "tools/gpu/kit_photos.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/base/crc32c.h"
#include "common/base/file_util.h"
#include "common/base/status_macros.h"

namespace dogsearch::gpu_kit {
namespace {

constexpr char kMagic[] = "DSKITPH1";
constexpr size_t kMagicBytes = 8;
constexpr size_t kHeaderBytes = kMagicBytes + 3 * sizeof(uint32_t);

void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

uint32_t GetU32(const std::string& in, size_t at) {
  uint32_t v = 0;
  std::memcpy(&v, in.data() + at, sizeof(v));
  return v;
}

absl::Status CheckShape(uint64_t count, uint64_t height, uint64_t width) {
  if (count == 0 || count > kMaxKitPhotos) {
    return absl::InvalidArgumentError(
        absl::StrCat("kit photos: ", count, " photos (1..", kMaxKitPhotos, " allowed)"));
  }
  if (height == 0 || width == 0 || height > kMaxKitSide || width > kMaxKitSide) {
    return absl::InvalidArgumentError(absl::StrCat("kit photos: size ", width, "x", height, " (1..",
                                                   kMaxKitSide, " per side allowed)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteKitPhotos(const std::string& path, const KitPhotos& photos) {
  DS_RETURN_IF_ERROR(CheckShape(photos.size(), photos.height, photos.width));
  if (photos.pixels.size() != photos.size() * photos.photo_bytes()) {
    return absl::InvalidArgumentError("kit photos: pixel count does not match labels x size");
  }
  std::string out(kMagic, kMagicBytes);
  PutU32(&out, static_cast<uint32_t>(photos.size()));
  PutU32(&out, photos.height);
  PutU32(&out, photos.width);
  out.append(reinterpret_cast<const char*>(photos.labels.data()),
             photos.labels.size() * sizeof(int32_t));
  out.append(reinterpret_cast<const char*>(photos.pixels.data()), photos.pixels.size());
  PutU32(&out, crc32c::Value(out));
  return WriteFileAtomic(path, out);
}

absl::StatusOr<KitPhotos> ReadKitPhotos(const std::string& path) {
  DS_ASSIGN_OR_RETURN(std::string in, ReadFile(path, uint64_t{4} << 30));
  if (in.size() < kHeaderBytes + 4 || in.compare(0, kMagicBytes, kMagic) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a kit photo file"));
  }
  KitPhotos p;
  const uint32_t count = GetU32(in, kMagicBytes);
  p.height = GetU32(in, kMagicBytes + 4);
  p.width = GetU32(in, kMagicBytes + 8);
  DS_RETURN_IF_ERROR(CheckShape(count, p.height, p.width));
  const uint64_t labels_bytes = uint64_t{count} * sizeof(int32_t);
  const uint64_t pixel_bytes = uint64_t{count} * 3 * p.height * p.width;
  if (in.size() != kHeaderBytes + labels_bytes + pixel_bytes + 4) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", in.size(), " bytes, expected ",
                                                   kHeaderBytes + labels_bytes + pixel_bytes + 4));
  }
  if (crc32c::Value(in.data(), in.size() - 4) != GetU32(in, in.size() - 4)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": checksum mismatch"));
  }
  p.labels.resize(count);
  std::memcpy(p.labels.data(), in.data() + kHeaderBytes, labels_bytes);
  p.pixels.assign(in.begin() + static_cast<std::ptrdiff_t>(kHeaderBytes + labels_bytes),
                  in.end() - 4);
  return p;
}

std::vector<float> ToModelInput(const KitPhotos& photos, size_t first, size_t n,
                                const model::InputSpec& spec) {
  const size_t plane = size_t{photos.height} * photos.width;
  std::vector<float> out(n * 3 * plane);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* src = photos.pixels.data() + (first + i) * photos.photo_bytes();
    float* dst = out.data() + i * 3 * plane;
    for (size_t px = 0; px < plane; ++px) {
      for (int c = 0; c < 3; ++c) {
        dst[c * plane + px] = (src[px * 3 + c] / 255.f - spec.mean[c]) / spec.std[c];
      }
    }
  }
  return out;
}

}  // namespace dogsearch::gpu_kit
