// Reads an encoded photo's format and pixel dimensions from its first bytes, without decoding
// and without allocating for the pixels, so limits can be checked before any decoder runs.
// Knows JPEG (baseline/progressive SOF markers), PNG (IHDR) and WebP (VP8, VP8L, VP8X).
// Pure functions; thread-safe.
#ifndef DOGSEARCH_COMMON_IMAGE_HEADER_IMAGE_HEADER_H_
#define DOGSEARCH_COMMON_IMAGE_HEADER_IMAGE_HEADER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dogsearch::image {

enum class ImageFormat { kJpeg, kPng, kWebp };

const char* FormatName(ImageFormat format);

struct ImageHeader {
  ImageFormat format;
  uint32_t width = 0;
  uint32_t height = 0;
};

// INVALID_ARGUMENT when the bytes are empty, not a supported format (known other formats are
// named: GIF, BMP, TIFF, HEIF/AVIF), or the header is truncated or corrupt.
absl::StatusOr<ImageHeader> ReadImageHeader(absl::string_view bytes);

// Whether the encoded data reaches its format's end marker (JPEG EOI after the frame header,
// PNG IEND chunk, the WebP RIFF length). Decoders tend to return a half-grey image for a
// truncated file instead of failing; this catches it. INVALID_ARGUMENT when truncated.
absl::Status CheckComplete(absl::string_view bytes, const ImageHeader& header);

// What a service accepts before it decodes anything (the embedding service, the gateway).
struct ImageLimits {
  uint64_t max_bytes = 10 << 20;     // Encoded size.
  uint64_t max_pixels = 40'000'000;  // width * height from the header.
  uint32_t max_side = 16384;         // Either side, pixels.
  uint32_t min_side = 16;            // Smaller is not a usable face photo.
};

// Checks bytes and header against the limits without decoding.
absl::StatusOr<ImageHeader> CheckImage(absl::string_view bytes, const ImageLimits& limits);

}  // namespace dogsearch::image

#endif  // DOGSEARCH_COMMON_IMAGE_HEADER_IMAGE_HEADER_H_
