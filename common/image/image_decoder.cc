#include "common/image/image_decoder.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"

namespace dogsearch::image {
namespace {

absl::StatusOr<cv::Mat> ToRgb8(const cv::Mat& in) {
  cv::Mat m = in;
  if (m.depth() == CV_16U) {
    m.convertTo(m, CV_8U, 1.0 / 257.0);
  } else if (m.depth() != CV_8U) {
    return absl::InvalidArgumentError("unsupported pixel depth (want 8 or 16 bits)");
  }
  cv::Mat rgb;
  switch (m.channels()) {
    case 1:
      cv::cvtColor(m, rgb, cv::COLOR_GRAY2RGB);
      break;
    case 2: {  // Grey + alpha: keep the grey plane.
      cv::Mat grey;
      cv::extractChannel(m, grey, 0);
      cv::cvtColor(grey, rgb, cv::COLOR_GRAY2RGB);
      break;
    }
    case 3:
      cv::cvtColor(m, rgb, cv::COLOR_BGR2RGB);
      break;
    case 4:
      cv::cvtColor(m, rgb, cv::COLOR_BGRA2RGB);
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat("unsupported channel count ", m.channels()));
  }
  return rgb;
}

}  // namespace

absl::StatusOr<cv::Mat> DecodeImage(absl::string_view bytes, const ImageLimits& limits) {
  DS_ASSIGN_OR_RETURN(ImageHeader h, CheckImage(bytes, limits));
  cv::Mat decoded;
  try {
    // The Mat header wraps the bytes without copying them.
    const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    decoded = cv::imdecode(buf, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("corrupt ", FormatName(h.format), " image: ", e.what()));
  }
  if (decoded.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("corrupt ", FormatName(h.format), " image: the decoder could not read it"));
  }
  if (static_cast<uint32_t>(decoded.cols) != h.width ||
      static_cast<uint32_t>(decoded.rows) != h.height) {
    return absl::InvalidArgumentError(
        absl::StrCat("corrupt ", FormatName(h.format), " image: header says ", h.width, "x",
                     h.height, ", decoder produced ", decoded.cols, "x", decoded.rows));
  }
  return ToRgb8(decoded);
}

cv::Mat ResizeToInput(const cv::Mat& rgb, const model::InputSpec& spec) {
  const int w = static_cast<int>(spec.width), h = static_cast<int>(spec.height);
  if (rgb.cols == w && rgb.rows == h) return rgb;
  cv::Mat resized;
  const bool shrinking = rgb.cols > w || rgb.rows > h;
  cv::resize(rgb, resized, cv::Size(w, h), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return resized;
}

void WriteInputCHW(const cv::Mat& rgb, const model::InputSpec& spec, float* out) {
  const int w = static_cast<int>(spec.width), h = static_cast<int>(spec.height);
  const cv::Mat resized = ResizeToInput(rgb, spec);
  const size_t plane = static_cast<size_t>(w) * h;
  float scale[3], offset[3];
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.f / (255.f * spec.std[c]);
    offset[c] = -spec.mean[c] / spec.std[c];
  }
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = resized.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      for (int c = 0; c < 3; ++c) out[c * plane + i] = row[3 * x + c] * scale[c] + offset[c];
    }
  }
}

std::vector<float> ToInputCHW(const cv::Mat& rgb, const model::InputSpec& spec) {
  std::vector<float> out(size_t{3} * spec.width * spec.height);
  WriteInputCHW(rgb, spec, out.data());
  return out;
}

}  // namespace dogsearch::image
