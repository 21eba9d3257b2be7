#include "common/torch_model/test_time_views.h"

namespace dogsearch::model {

int TestTimeViewCount(const ModelSpec& spec) {
  if (!spec.flip_average) return 1;
  return spec.test_time_four_views && spec.test_time_zoom > 0.f ? 4 : 2;
}

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
  switch (TestTimeViewCount(spec)) {
    case 1:
      return x;
    case 4: {
      const torch::Tensor zoom = CentreZoom(x, spec.test_time_zoom);
      return torch::cat({x, x.flip({3}), zoom, zoom.flip({3})});
    }
    default: {
      const torch::Tensor second =
          spec.test_time_zoom > 0.f ? CentreZoom(x, spec.test_time_zoom) : x;
      return torch::cat({x, second.flip({3})});  // Photos, then their second views.
    }
  }
}

torch::Tensor CombineViews(const torch::Tensor& y, const ModelSpec& spec) {
  const int views = TestTimeViewCount(spec);
  if (views == 1) return y;
  const int64_t m = y.size(0) / views;
  torch::Tensor sum = y.slice(0, 0, m);
  for (int v = 1; v < views; ++v) sum = sum + y.slice(0, v * m, (v + 1) * m);
  return sum / sum.norm(2, 1, true).clamp_min(1e-12);
}

}  // namespace dogsearch::model
