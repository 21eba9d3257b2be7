#include "common/image_header/image_header.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"

namespace dogsearch::image {
namespace {

uint32_t Be16(absl::string_view b, size_t i) {
  return uint32_t{static_cast<uint8_t>(b[i])} << 8 | static_cast<uint8_t>(b[i + 1]);
}
uint32_t Be32(absl::string_view b, size_t i) { return Be16(b, i) << 16 | Be16(b, i + 2); }
uint32_t Le16(absl::string_view b, size_t i) {
  return uint32_t{static_cast<uint8_t>(b[i + 1])} << 8 | static_cast<uint8_t>(b[i]);
}
uint32_t Le24(absl::string_view b, size_t i) {
  return Le16(b, i) | uint32_t{static_cast<uint8_t>(b[i + 2])} << 16;
}
uint32_t Le32(absl::string_view b, size_t i) { return Le16(b, i) | Le16(b, i + 2) << 16; }

absl::Status Bad(absl::string_view what) { return absl::InvalidArgumentError(std::string(what)); }

bool IsSofMarker(uint8_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

// Offset just past the SOF segment, for CheckComplete.
absl::StatusOr<ImageHeader> ParseJpeg(absl::string_view b, size_t* frame_end) {
  size_t i = 2;
  while (true) {
    while (i < b.size() && static_cast<uint8_t>(b[i]) == 0xFF) ++i;  // Fill bytes.
    if (i >= b.size()) return Bad("truncated JPEG: no frame header (SOF) before end of data");
    if (static_cast<uint8_t>(b[i - 1]) != 0xFF) return Bad("corrupt JPEG: bad marker structure");
    const uint8_t marker = static_cast<uint8_t>(b[i++]);
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // No length.
    if (marker == 0xD9 || marker == 0xDA) {
      return Bad("corrupt JPEG: image data starts before any frame header (SOF)");
    }
    if (i + 2 > b.size()) return Bad("truncated JPEG header");
    const uint32_t len = Be16(b, i);
    if (len < 2) return Bad("corrupt JPEG: segment length below 2");
    if (i + len > b.size()) return Bad("truncated JPEG header");
    if (IsSofMarker(marker)) {
      if (len < 8) return Bad("corrupt JPEG: frame header too short");
      ImageHeader h{ImageFormat::kJpeg, Be16(b, i + 5), Be16(b, i + 3)};
      if (h.width == 0 || h.height == 0) {
        return Bad("unsupported JPEG: zero width or height in the frame header");
      }
      *frame_end = i + len;
      return h;
    }
    i += len;
  }
}

absl::StatusOr<ImageHeader> ParsePng(absl::string_view b) {
  if (b.size() < 33) return Bad("truncated PNG header");
  if (Be32(b, 8) != 13 || b.substr(12, 4) != "IHDR") {
    return Bad("corrupt PNG: first chunk is not a 13-byte IHDR");
  }
  ImageHeader h{ImageFormat::kPng, Be32(b, 16), Be32(b, 20)};
  if (h.width == 0 || h.height == 0 || h.width > 0x7FFFFFFF || h.height > 0x7FFFFFFF) {
    return Bad("corrupt PNG: invalid width or height in IHDR");
  }
  return h;
}

absl::StatusOr<ImageHeader> ParseWebp(absl::string_view b) {
  if (b.size() < 30) return Bad("truncated WebP header");
  absl::string_view chunk = b.substr(12, 4);
  ImageHeader h{ImageFormat::kWebp, 0, 0};
  if (chunk == "VP8 ") {
    if (b.substr(23, 3) != absl::string_view("\x9d\x01\x2a", 3)) {
      return Bad("corrupt WebP: missing VP8 start code");
    }
    h.width = Le16(b, 26) & 0x3FFF;
    h.height = Le16(b, 28) & 0x3FFF;
  } else if (chunk == "VP8L") {
    if (static_cast<uint8_t>(b[20]) != 0x2F) return Bad("corrupt WebP: bad VP8L signature");
    const uint32_t bits = Le32(b, 21);
    h.width = (bits & 0x3FFF) + 1;
    h.height = ((bits >> 14) & 0x3FFF) + 1;
  } else if (chunk == "VP8X") {
    h.width = Le24(b, 24) + 1;
    h.height = Le24(b, 27) + 1;
  } else {
    return Bad(absl::StrCat("unsupported WebP chunk '", absl::CEscape(chunk), "'"));
  }
  if (h.width == 0 || h.height == 0) return Bad("corrupt WebP: zero width or height");
  return h;
}

absl::Status NameOtherFormat(absl::string_view b) {
  if (absl::StartsWith(b, "GIF87a") || absl::StartsWith(b, "GIF89a")) {
    return Bad("unsupported image format GIF (use JPEG, PNG or WebP)");
  }
  if (absl::StartsWith(b, "BM")) return Bad("unsupported image format BMP (use JPEG, PNG or WebP)");
  if (absl::StartsWith(b, absl::string_view("II*\0", 4)) ||
      absl::StartsWith(b, absl::string_view("MM\0*", 4))) {
    return Bad("unsupported image format TIFF (use JPEG, PNG or WebP)");
  }
  if (b.size() >= 12 && b.substr(4, 4) == "ftyp") {
    return Bad("unsupported image format HEIF/AVIF (use JPEG, PNG or WebP)");
  }
  return Bad("unsupported or unrecognised image format (not JPEG, PNG or WebP)");
}

}  // namespace

const char* FormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "JPEG";
    case ImageFormat::kPng:
      return "PNG";
    case ImageFormat::kWebp:
      return "WebP";
  }
  return "?";
}

absl::StatusOr<ImageHeader> ReadImageHeader(absl::string_view b) {
  if (b.empty()) return Bad("empty image (0 bytes)");
  if (b.size() >= 3 && absl::StartsWith(b, "\xFF\xD8\xFF")) {
    size_t frame_end = 0;
    return ParseJpeg(b, &frame_end);
  }
  if (absl::StartsWith(b, "\x89PNG\r\n\x1a\n")) return ParsePng(b);
  if (b.size() >= 12 && absl::StartsWith(b, "RIFF") && b.substr(8, 4) == "WEBP") {
    return ParseWebp(b);
  }
  if (b.size() < 8)
    return Bad(absl::StrCat("image too short (", b.size(), " bytes) to be a photo"));
  return NameOtherFormat(b);
}

absl::Status CheckComplete(absl::string_view b, const ImageHeader& header) {
  switch (header.format) {
    case ImageFormat::kJpeg: {
      size_t frame_end = 0;
      auto h = ParseJpeg(b, &frame_end);
      if (!h.ok()) return h.status();
      // Entropy-coded data never contains FF D9 (0xFF is stuffed as FF 00), so an EOI after the
      // frame header marks the real end; an embedded thumbnail's EOI lies before it.
      size_t eoi = b.rfind(absl::string_view("\xFF\xD9", 2));
      if (eoi == absl::string_view::npos || eoi < frame_end) {
        return Bad("truncated JPEG: no end-of-image marker");
      }
      return absl::OkStatus();
    }
    case ImageFormat::kPng:
      if (b.rfind("IEND") == absl::string_view::npos || b.size() < 45) {
        return Bad("truncated PNG: no IEND chunk");
      }
      return absl::OkStatus();
    case ImageFormat::kWebp:
      if (uint64_t{Le32(b, 4)} + 8 > b.size()) {
        return Bad(absl::StrCat("truncated WebP: RIFF header says ", uint64_t{Le32(b, 4)} + 8,
                                " bytes, got ", b.size()));
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::StatusOr<ImageHeader> CheckImage(absl::string_view bytes, const ImageLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image is ", bytes.size(), " bytes, more than the limit of ", limits.max_bytes));
  }
  DS_ASSIGN_OR_RETURN(ImageHeader h, ReadImageHeader(bytes));
  const uint64_t pixels = uint64_t{h.width} * h.height;
  if (h.width > limits.max_side || h.height > limits.max_side || pixels > limits.max_pixels) {
    return absl::InvalidArgumentError(absl::StrCat(FormatName(h.format), " image is ", h.width, "x",
                                                   h.height, " pixels, more than the limit of ",
                                                   limits.max_pixels, " pixels or ",
                                                   limits.max_side, " per side"));
  }
  if (h.width < limits.min_side || h.height < limits.min_side) {
    return absl::InvalidArgumentError(absl::StrCat(FormatName(h.format), " image is ", h.width, "x",
                                                   h.height, " pixels, smaller than ",
                                                   limits.min_side, " per side"));
  }
  DS_RETURN_IF_ERROR(CheckComplete(bytes, h));
  return h;
}

}  // namespace dogsearch::image
