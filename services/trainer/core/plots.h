// PNG plots of an evaluation: a 2-D PCA map of embeddings coloured by dog (optionally with
// photo thumbnails), and the ROC curve. OpenCV drawing; files written atomically.
// Thread-safe: pure functions.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_PLOTS_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_PLOTS_H_

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/trainer/core/evaluation.h"

namespace dogsearch::trainer {

struct PcaPlotOptions {
  int size = 900;     // Square canvas, pixels.
  int max_dogs = 20;  // The dogs with the most photos are drawn (PCA fitted on them).
  bool thumbnails = false;
  int thumbnail_size = 32;
};

// thumbnails: one RGB image per table row (may be empty when options.thumbnails is false).
// INVALID_ARGUMENT if the table has fewer than 3 rows or mismatched thumbnails.
absl::Status WritePcaPlot(const EmbeddingTable& table, const std::vector<cv::Mat>& thumbnails,
                          const PcaPlotOptions& options, const std::string& png_path);

// The 2-D PCA coordinates of `rows` of the table (exposed for tests).
std::vector<cv::Point2f> PcaProject(const EmbeddingTable& table, const std::vector<size_t>& rows);

absl::Status WriteRocPlot(const std::vector<RocPoint>& roc, double auc, const std::string& png_path,
                          int size = 700);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_PLOTS_H_
