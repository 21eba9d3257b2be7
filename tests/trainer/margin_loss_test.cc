// The margin heads (ArcFace, CosFace, sub-center ArcFace) against hand-computed logits and
// losses, their gradients against central finite differences, and a tiny generated data set
// on which the loss falls and the dogs become separable.
#include "services/trainer/core/margin_loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace dogsearch::trainer {
namespace {

// A unit 2-d vector at `angle` radians.
std::vector<double> At(double angle) { return {std::cos(angle), std::sin(angle)}; }

torch::Tensor Rows(const std::vector<std::vector<double>>& rows) {
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return torch::tensor(flat, torch::kDouble).view({static_cast<int64_t>(rows.size()), -1});
}

MarginHead MakeHead(MarginKind kind, int64_t classes, int64_t subcenters, float scale, float margin,
                    const std::vector<std::vector<double>>& centres) {
  MarginHeadOptions o;
  o.kind = kind;
  o.classes = classes;
  o.dim = 2;
  o.subcenters = subcenters;
  o.scale = scale;
  o.margin = margin;
  EXPECT_TRUE(ValidateMarginHeadOptions(o).ok());
  MarginHead head(o);
  head->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  head->weight().copy_(Rows(centres));
  return head;
}

double CrossEntropy(const std::vector<double>& logits, size_t target) {
  double max = logits[0];
  for (double l : logits) max = std::max(max, l);
  double sum = 0;
  for (double l : logits) sum += std::exp(l - max);
  return -(logits[target] - max - std::log(sum));
}

TEST(MarginLossTest, ArcFaceAddsTheAngularMarginToTheOwnDogOnly) {
  // Centres at 0, pi/2 and pi; the photo at 0.5 rad shows dog 0.
  MarginHead head =
      MakeHead(MarginKind::kArcFace, 3, 1, 10.f, 0.3f, {At(0), At(M_PI / 2), At(M_PI)});
  const torch::Tensor x = Rows({At(0.5)});
  const torch::Tensor y = torch::tensor({0}, torch::kInt64);
  const torch::Tensor logits = head->Logits(x, y);
  const std::vector<double> want = {10 * std::cos(0.5 + 0.3), 10 * std::cos(M_PI / 2 - 0.5),
                                    10 * std::cos(M_PI - 0.5)};
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(logits[0][c].item<double>(), want[c], 1e-6) << c;
  const MarginLossResult r = MarginLoss(head, x, y);
  EXPECT_NEAR(r.loss.item<double>(), CrossEntropy(want, 0), 1e-6);
  EXPECT_DOUBLE_EQ(r.accuracy, 1.0);  // Plain cosines: dog 0 is nearest.
  EXPECT_NEAR(r.mean_target_cos, std::cos(0.5), 1e-6);
}

TEST(MarginLossTest, ArcFacePastPiMinusMarginContinuesLinearly) {
  // The photo 3.0 rad from its own dog's centre: theta + m > pi, so cos(theta) - m sin(m).
  MarginHead head = MakeHead(MarginKind::kArcFace, 2, 1, 8.f, 0.3f, {At(0), At(M_PI / 2)});
  const torch::Tensor logits = head->Logits(Rows({At(3.0)}), torch::tensor({0}, torch::kInt64));
  EXPECT_NEAR(logits[0][0].item<double>(), 8 * (std::cos(3.0) - 0.3 * std::sin(0.3)), 1e-6);
  EXPECT_NEAR(logits[0][1].item<double>(), 8 * std::cos(3.0 - M_PI / 2), 1e-6);
}

TEST(MarginLossTest, CosFaceSubtractsTheMarginFromTheOwnDogsCosine) {
  MarginHead head =
      MakeHead(MarginKind::kCosFace, 3, 1, 30.f, 0.35f, {At(0), At(M_PI / 2), At(M_PI)});
  const torch::Tensor x = Rows({At(0.5), At(2.0)});
  const torch::Tensor y = torch::tensor({0, 1}, torch::kInt64);
  const torch::Tensor logits = head->Logits(x, y);
  const std::vector<std::vector<double>> want = {
      {30 * (std::cos(0.5) - 0.35), 30 * std::cos(M_PI / 2 - 0.5), 30 * std::cos(M_PI - 0.5)},
      {30 * std::cos(2.0), 30 * (std::cos(2.0 - M_PI / 2) - 0.35), 30 * std::cos(M_PI - 2.0)}};
  for (int i = 0; i < 2; ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(logits[i][c].item<double>(), want[i][c], 1e-6);
  }
  EXPECT_NEAR(MarginLoss(head, x, y).loss.item<double>(),
              (CrossEntropy(want[0], 0) + CrossEntropy(want[1], 1)) / 2, 1e-6);
}

TEST(MarginLossTest, SubCentersTakeTheNearestCentreOfEachDog) {
  // Dog 0 has centres at 0 and pi/2, dog 1 at pi and 3pi/2. A photo at 1.2 rad is nearest to
  // dog 0's second centre (cos(pi/2 - 1.2)), and to dog 1's first (cos(pi - 1.2)).
  MarginHead head = MakeHead(MarginKind::kArcFace, 2, 2, 16.f, 0.2f,
                             {At(0), At(M_PI / 2), At(M_PI), At(3 * M_PI / 2)});
  const torch::Tensor x = Rows({At(1.2)});
  const torch::Tensor cos = head->Cosines(x);
  EXPECT_NEAR(cos[0][0].item<double>(), std::cos(M_PI / 2 - 1.2), 1e-9);
  EXPECT_NEAR(cos[0][1].item<double>(), std::cos(M_PI - 1.2), 1e-9);
  const torch::Tensor logits = head->Logits(x, torch::tensor({0}, torch::kInt64));
  EXPECT_NEAR(logits[0][0].item<double>(), 16 * std::cos(M_PI / 2 - 1.2 + 0.2), 1e-6);
}

// Central finite differences of the loss against autograd, for the embeddings and the centres.
void CheckGradients(MarginKind kind, int64_t subcenters) {
  torch::manual_seed(7);
  MarginHeadOptions o;
  o.kind = kind;
  o.classes = 4;
  o.dim = 5;
  o.subcenters = subcenters;
  o.scale = 4.f;
  o.margin = 0.3f;
  MarginHead head(o);
  head->to(torch::kDouble);
  torch::Tensor x = torch::randn({6, 5}, torch::kDouble);
  x = (x / x.norm(2, 1, true)).detach().requires_grad_(true);
  const torch::Tensor y = torch::tensor({0, 1, 2, 3, 0, 1}, torch::kInt64);
  torch::Tensor loss = MarginLoss(head, x, y).loss;
  loss.backward();
  const double eps = 1e-6;
  auto numeric = [&](torch::Tensor t, int64_t i) {
    torch::NoGradGuard no_grad;
    double* p = t.data_ptr<double>() + i;
    const double keep = *p;
    *p = keep + eps;
    const double up = MarginLoss(head, x, y).loss.item<double>();
    *p = keep - eps;
    const double down = MarginLoss(head, x, y).loss.item<double>();
    *p = keep;
    return (up - down) / (2 * eps);
  };
  const torch::Tensor gx = x.grad().clone();
  for (int64_t i = 0; i < x.numel(); ++i) {
    EXPECT_NEAR(gx.view(-1)[i].item<double>(), numeric(x, i), 1e-5) << "embedding " << i;
  }
  torch::Tensor w = head->weight();
  const torch::Tensor gw = w.grad().clone();
  for (int64_t i = 0; i < w.numel(); ++i) {
    EXPECT_NEAR(gw.view(-1)[i].item<double>(), numeric(w, i), 1e-5) << "centre " << i;
  }
}

TEST(MarginLossTest, ArcFaceGradientsMatchFiniteDifferences) {
  CheckGradients(MarginKind::kArcFace, 1);
}
TEST(MarginLossTest, CosFaceGradientsMatchFiniteDifferences) {
  CheckGradients(MarginKind::kCosFace, 1);
}
TEST(MarginLossTest, SubCenterGradientsMatchFiniteDifferences) {
  CheckGradients(MarginKind::kArcFace, 3);
}

TEST(MarginLossTest, LossFallsAndDogsSeparateOnAGeneratedDataSet) {
  // 8 dogs, 12 noisy 16-d "photos" each around a dog-specific point; a linear map to 8-d unit
  // embeddings trained with each margin loss.
  for (MarginKind kind : {MarginKind::kArcFace, MarginKind::kCosFace}) {
    torch::manual_seed(3);
    const int64_t dogs = 8, per = 12;
    const torch::Tensor centres = torch::randn({dogs, 16});
    const torch::Tensor y = torch::arange(dogs).repeat_interleave(per);
    const torch::Tensor x = centres.index_select(0, y) + 0.5 * torch::randn({dogs * per, 16});
    torch::nn::Linear net(16, 8);
    MarginHeadOptions o;
    o.kind = kind;
    o.classes = dogs;
    o.dim = 8;
    o.scale = 16.f;
    o.margin = kind == MarginKind::kArcFace ? 0.3f : 0.35f;
    MarginHead head(o);
    std::vector<torch::Tensor> params = net->parameters();
    for (const torch::Tensor& p : head->parameters()) params.push_back(p);
    torch::optim::Adam opt(params, torch::optim::AdamOptions(0.01));
    auto embed = [&] {
      torch::Tensor e = net(x);
      return e / e.norm(2, 1, true);
    };
    const double first = MarginLoss(head, embed(), y).loss.item<double>();
    MarginLossResult r;
    for (int step = 0; step < 300; ++step) {
      r = MarginLoss(head, embed(), y);
      opt.zero_grad();
      r.loss.backward();
      opt.step();
    }
    EXPECT_LT(r.loss.item<double>(), first * 0.25) << static_cast<int>(kind);
    EXPECT_DOUBLE_EQ(r.accuracy, 1.0) << static_cast<int>(kind);
    EXPECT_GT(r.mean_target_cos, 0.8) << static_cast<int>(kind);
  }
}

// A fine-tune's head starts at each dog's mean embedding: photos are then classified as their
// own dog from the first step; sub-centres start next to it; a dog without photos keeps its
// centre; bad shapes and labels are refused.
TEST(MarginLossTest, CentresStartAtEachDogsMeanEmbedding) {
  torch::manual_seed(5);
  MarginHead head = MakeHead(MarginKind::kArcFace, 3, 2, 10.f, 0.3f,
                             {At(2.0), At(2.1), At(2.2), At(2.3), At(-2.0), At(-2.1)});
  const torch::Tensor before = head->weight().clone();
  // Dog 0 at 0.1 and 0.3 rad (mean direction 0.2), dog 1 at 1.4 and 1.6 (1.5); dog 2 has none.
  const torch::Tensor emb = Rows({At(0.1), At(0.3), At(1.4), At(1.6)});
  const torch::Tensor labels = torch::tensor({0, 0, 1, 1}, torch::kInt32);
  ASSERT_TRUE(InitCentresFromEmbeddings(head, emb, labels).ok());
  const torch::Tensor w = head->weight();
  auto angle_of = [&](int64_t row) {
    const torch::Tensor r = w[row] / w[row].norm();
    return std::atan2(r[1].item<double>(), r[0].item<double>());
  };
  EXPECT_NEAR(angle_of(0), 0.2, 1e-6);  // Dog 0, first sub-centre: exactly the mean direction.
  EXPECT_NEAR(angle_of(1), 0.2, 0.05);  // Its second: near it, not on it.
  EXPECT_GT(std::abs(angle_of(1) - 0.2), 1e-6);
  EXPECT_NEAR(angle_of(2), 1.5, 1e-6);
  EXPECT_NEAR(angle_of(3), 1.5, 0.05);
  EXPECT_TRUE(torch::equal(w.slice(0, 4, 6), before.slice(0, 4, 6)));  // Dog 2 kept.
  EXPECT_DOUBLE_EQ(MarginLoss(head, emb, labels).accuracy, 1.0);

  EXPECT_EQ(
      InitCentresFromEmbeddings(head, Rows({{1, 0, 0}}), torch::tensor({0}, torch::kInt32)).code(),
      absl::StatusCode::kInvalidArgument);  // 3-d embeddings for a 2-d head.
  EXPECT_EQ(InitCentresFromEmbeddings(head, emb, torch::tensor({0, 1}, torch::kInt32)).code(),
            absl::StatusCode::kInvalidArgument);  // Two labels for four embeddings.
  const absl::Status bad =
      InitCentresFromEmbeddings(head, emb, torch::tensor({0, 0, 1, 3}, torch::kInt32));
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("label"), std::string::npos) << bad.message();
  EXPECT_TRUE(torch::equal(head->weight().slice(0, 4, 6), before.slice(0, 4, 6)));
}

TEST(MarginLossTest, BadOptionsAreRefusedNamingTheField) {
  MarginHeadOptions o;
  o.classes = 10;
  o.subcenters = 0;
  EXPECT_NE(ValidateMarginHeadOptions(o).message().find("head_subcenters"), std::string::npos);
  o.subcenters = 1;
  o.scale = 0.5f;
  EXPECT_NE(ValidateMarginHeadOptions(o).message().find("head_scale"), std::string::npos);
  o.scale = 30;
  o.margin = 1.6f;
  EXPECT_NE(ValidateMarginHeadOptions(o).message().find("head_margin"), std::string::npos);
  o.kind = MarginKind::kCosFace;
  o.margin = 1.f;
  EXPECT_NE(ValidateMarginHeadOptions(o).message().find("head_margin"), std::string::npos);
  o.margin = 0.35f;
  o.classes = 1;
  EXPECT_FALSE(ValidateMarginHeadOptions(o).ok());
  o.classes = 2;
  EXPECT_TRUE(ValidateMarginHeadOptions(o).ok());
}

}  // namespace
}  // namespace dogsearch::trainer
