#include "common/torch_model/test_time_views.h"

namespace dogsearch::model {

int TestTimeViewCount(const ModelSpec& spec) { return spec.flip_average ? 2 : 1; }

torch::Tensor CentreZoom(const torch::Tensor& x, double side) {
  namespace F = torch::nn::functional;
  // affine_grid with align_corners false maps output pixel centres to side x their offset
  // from the image centre: exactly the crop-and-resize above.
  const torch::Tensor theta = torch::tensor({{side, 0.0, 0.0}, {0.0, side, 0.0}}, x.options())
                                  .unsqueeze(0)
                                  .expand({x.size(0), 2, 3});
  const torch::Tensor grid = F::affine_grid(theta, x.sizes(), /*align_corners=*/false);
  return F::grid_sample(x, grid,
                        F::GridSampleFuncOptions()
                            .mode(torch::kBilinear)
                            .padding_mode(torch::kBorder)
                            .align_corners(false));
}

torch::Tensor ServedViews(const torch::Tensor& x, const ModelSpec& spec) {
  if (!spec.flip_average) return x;
  const torch::Tensor second = spec.test_time_zoom > 0.f ? CentreZoom(x, spec.test_time_zoom) : x;
  return torch::cat({x, second.flip({3})});  // Photos, then their second views.
}

torch::Tensor CombineViews(const torch::Tensor& y, const ModelSpec& spec) {
  if (!spec.flip_average) return y;
  const int64_t m = y.size(0) / 2;
  torch::Tensor sum = y.slice(0, 0, m) + y.slice(0, m, 2 * m);
  return sum / sum.norm(2, 1, true).clamp_min(1e-12);
}

}  // namespace dogsearch::model
