#include "services/trainer/core/plots.h"

#include <algorithm>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/file_util.h"

namespace dogsearch::trainer {
namespace {

cv::Scalar ColourOf(size_t i) {
  const double hue = std::fmod(i * 0.618033988749895, 1.0) * 180;
  cv::Mat hsv(1, 1, CV_8UC3, cv::Scalar(hue, 200, 210)), bgr;
  cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
  const cv::Vec3b c = bgr.at<cv::Vec3b>(0, 0);
  return cv::Scalar(c[0], c[1], c[2]);
}

absl::Status WritePng(const cv::Mat& bgr, const std::string& path) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", bgr, png)) return absl::InternalError("PNG encoding failed");
  return WriteFileAtomic(path,
                         absl::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace

std::vector<cv::Point2f> PcaProject(const EmbeddingTable& t, const std::vector<size_t>& rows) {
  cv::Mat data(static_cast<int>(rows.size()), static_cast<int>(t.dim), CV_32F);
  for (size_t r = 0; r < rows.size(); ++r) {
    std::copy(t.row(rows[r]), t.row(rows[r]) + t.dim, data.ptr<float>(static_cast<int>(r)));
  }
  cv::PCA pca(data, cv::noArray(), cv::PCA::DATA_AS_ROW, 2);
  cv::Mat projected = pca.project(data);
  std::vector<cv::Point2f> out;
  for (int r = 0; r < projected.rows; ++r) {
    out.emplace_back(projected.at<float>(r, 0),
                     projected.cols > 1 ? projected.at<float>(r, 1) : 0.f);
  }
  return out;
}

absl::Status WritePcaPlot(const EmbeddingTable& t, const std::vector<cv::Mat>& thumbs,
                          const PcaPlotOptions& o, const std::string& path) {
  if (t.size() < 3 || t.dim < 2)
    return absl::InvalidArgumentError("PCA plot needs 3 or more embeddings");
  if (o.thumbnails && thumbs.size() != t.size()) {
    return absl::InvalidArgumentError("PCA plot: one thumbnail per embedding is needed");
  }
  std::map<int32_t, std::vector<size_t>> by_label;
  for (size_t i = 0; i < t.size(); ++i) by_label[t.labels[i]].push_back(i);
  std::vector<std::pair<size_t, int32_t>> order;  // (photos, label), most photos first.
  for (const auto& [l, rows] : by_label) order.emplace_back(rows.size(), l);
  std::stable_sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::vector<size_t> rows;
  std::vector<size_t> colour;
  for (size_t d = 0; d < order.size() && static_cast<int>(d) < o.max_dogs; ++d) {
    for (size_t r : by_label[order[d].second]) {
      rows.push_back(r);
      colour.push_back(d);
    }
  }
  if (rows.size() < 3) return absl::InvalidArgumentError("PCA plot needs 3 or more embeddings");
  const std::vector<cv::Point2f> pts = PcaProject(t, rows);
  float x0 = pts[0].x, x1 = x0, y0 = pts[0].y, y1 = y0;
  for (const cv::Point2f& p : pts) {
    x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  }
  const int margin = 50, span = o.size - 2 * margin;
  cv::Mat canvas(o.size, o.size, CV_8UC3, cv::Scalar(255, 255, 255));
  auto at = [&](const cv::Point2f& p) {
    return cv::Point(margin + static_cast<int>((p.x - x0) / std::max(1e-6f, x1 - x0) * span),
                     margin + static_cast<int>((p.y - y0) / std::max(1e-6f, y1 - y0) * span));
  };
  for (size_t i = 0; i < pts.size(); ++i) {
    const cv::Point c = at(pts[i]);
    if (o.thumbnails) {
      cv::Mat small, bgr;
      cv::resize(thumbs[rows[i]], small, cv::Size(o.thumbnail_size, o.thumbnail_size), 0, 0,
                 cv::INTER_AREA);
      cv::cvtColor(small, bgr, cv::COLOR_RGB2BGR);
      const int h = o.thumbnail_size / 2;
      cv::Rect r(c.x - h, c.y - h, o.thumbnail_size, o.thumbnail_size);
      r &= cv::Rect(0, 0, o.size, o.size);
      if (r.area() == o.thumbnail_size * o.thumbnail_size) {
        bgr.copyTo(canvas(r));
        cv::rectangle(canvas, r, ColourOf(colour[i]), 2);
      }
    } else {
      cv::circle(canvas, c, 6, ColourOf(colour[i]), cv::FILLED, cv::LINE_AA);
    }
  }
  cv::putText(canvas,
              absl::StrCat("PCA of embeddings: ", std::min<size_t>(order.size(), o.max_dogs),
                           " dogs, ", rows.size(), " photos"),
              cv::Point(margin, 30), cv::FONT_HERSHEY_SIMPLEX, 0.7, cv::Scalar(0, 0, 0), 1,
              cv::LINE_AA);
  return WritePng(canvas, path);
}

absl::Status WriteRocPlot(const std::vector<RocPoint>& roc, double auc, const std::string& path,
                          int size) {
  if (roc.size() < 2) return absl::InvalidArgumentError("ROC plot needs at least 2 points");
  const int margin = 70, span = size - 2 * margin;
  cv::Mat canvas(size, size, CV_8UC3, cv::Scalar(255, 255, 255));
  auto at = [&](double far, double tar) {
    return cv::Point(margin + static_cast<int>(far * span),
                     size - margin - static_cast<int>(tar * span));
  };
  cv::rectangle(canvas, at(0, 1), at(1, 0), cv::Scalar(0, 0, 0), 1);
  cv::line(canvas, at(0, 0), at(1, 1), cv::Scalar(180, 180, 180), 1, cv::LINE_AA);
  for (int i = 1; i <= 4; ++i) {
    const double v = i * 0.25;
    cv::putText(canvas, absl::StrFormat("%.2f", v), at(v, 0) + cv::Point(-18, 22),
                cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    cv::putText(canvas, absl::StrFormat("%.2f", v), at(0, v) + cv::Point(-48, 5),
                cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  for (size_t i = 1; i < roc.size(); ++i) {
    cv::line(canvas, at(roc[i - 1].far, roc[i - 1].tar), at(roc[i].far, roc[i].tar),
             cv::Scalar(200, 80, 0), 2, cv::LINE_AA);
  }
  cv::putText(canvas, "false accept rate", cv::Point(size / 2 - 80, size - 20),
              cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::putText(canvas, "true accept rate", cv::Point(5, margin - 20), cv::FONT_HERSHEY_SIMPLEX, 0.6,
              cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::putText(canvas, absl::StrFormat("ROC, AUC = %.4f", auc),
              cv::Point(size / 2 - 40, size / 2 + 60), cv::FONT_HERSHEY_SIMPLEX, 0.8,
              cv::Scalar(200, 80, 0), 2, cv::LINE_AA);
  return WritePng(canvas, path);
}

}  // namespace dogsearch::trainer
