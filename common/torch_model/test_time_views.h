// The views of a photo that a model's embedding averages at serving and evaluation time
// (ModelSpec.flip_average, .test_time_zoom, .test_time_four_views): one implementation for the
// embedding service and dogsearch-eval, so that evaluation measures what is served. Includes
// LibTorch.
#ifndef DOGSEARCH_COMMON_TORCH_MODEL_TEST_TIME_VIEWS_H_
#define DOGSEARCH_COMMON_TORCH_MODEL_TEST_TIME_VIEWS_H_

#include <torch/torch.h>

#include "common/model/model_spec.h"

namespace dogsearch::model {

// How many views of each photo the spec's forward pass runs: 1 without flip_average, 4 with
// test_time_four_views (and a zoom), else 2.
int TestTimeViewCount(const ModelSpec& spec);

// The centre crop of `side` (in (0, 1]) of each image's width and height, zoomed back to the
// full size with bilinear sampling (pixel centres as OpenCV's warpAffine places them: output
// pixel j samples the input at side * (j - (n - 1) / 2) + (n - 1) / 2). x: N x C x H x W float.
torch::Tensor CentreZoom(const torch::Tensor& x, double side);

// The network input for a batch of photos x (N x 3 x H x W), view after view (each block of N
// rows one view of every photo): x itself; with flip_average x followed by the second views
// (the mirror image of x, or of CentreZoom(x, test_time_zoom)); with test_time_four_views x,
// its mirror, the zoom and the zoom's mirror.
torch::Tensor ServedViews(const torch::Tensor& x, const ModelSpec& spec);

// The photos' embeddings from the network's output y for ServedViews(x): y itself, or the
// L2-normalised sum of each photo's TestTimeViewCount rows.
torch::Tensor CombineViews(const torch::Tensor& y, const ModelSpec& spec);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_TORCH_MODEL_TEST_TIME_VIEWS_H_
