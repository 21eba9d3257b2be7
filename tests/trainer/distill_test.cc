// Relational distillation: the loss against hand-computed values and gradients, its invariance
// to the teacher's frame and size, and a frozen checkpoint as teacher (input re-normalised,
// input size checked).
#include "services/trainer/core/distill.h"

#include <gtest/gtest.h>

#include "common/torch_model/checkpoint.h"
#include "tests/testing/random_checkpoints.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::trainer {
namespace {

TEST(RelationalDistillationLossTest, HandComputedValueAndGradient) {
  // Student: two identical rows (cosine 1); teacher: orthogonal rows (cosine 0). Over the two
  // ordered pairs, loss = (s1.s2 - 0)^2 = 1 and d loss / d s1 = 2 (s1.s2) s2 = (2, 0).
  torch::Tensor s = torch::tensor({1.f, 0.f, 1.f, 0.f}).view({2, 2}).requires_grad_();
  const torch::Tensor t = torch::tensor({1.f, 0.f, 0.f, 1.f}).view({2, 2});
  torch::Tensor loss = RelationalDistillationLoss(s, t);
  EXPECT_NEAR(loss.item<float>(), 1.0, 1e-6);
  loss.backward();
  EXPECT_TRUE(torch::allclose(s.grad(), torch::tensor({2.f, 0.f, 2.f, 0.f}).view({2, 2})))
      << s.grad();
  // Three rows: the mean over the six ordered pairs.
  const torch::Tensor s3 = torch::tensor({1.f, 0.f, 0.f, 1.f, 1.f, 0.f}).view({3, 2});
  const torch::Tensor t3 = torch::tensor({1.f, 0.f, 1.f, 0.f, 1.f, 0.f}).view({3, 2});
  // Student cosines (12, 13, 23) = (0, 1, 0), teacher's all 1: squared differences 1, 0, 1.
  EXPECT_NEAR(RelationalDistillationLoss(s3, t3).item<float>(), 2.0 * 2 / 6, 1e-6);
}

TEST(RelationalDistillationLossTest, TeachersFrameAndSizeDoNotMatter) {
  torch::manual_seed(1);
  const torch::Tensor s = model::L2Normalize(torch::randn({12, 8}));
  const torch::Tensor q = std::get<0>(torch::linalg::qr(torch::randn({8, 8})));  // Orthogonal.
  const torch::Tensor rotated_and_padded = torch::cat({torch::mm(s, q), torch::zeros({12, 5})}, 1);
  EXPECT_LT(RelationalDistillationLoss(s, rotated_and_padded).item<float>(), 1e-10);
  const torch::Tensor other = model::L2Normalize(torch::randn({12, 13}));
  EXPECT_GT(RelationalDistillationLoss(s, other).item<float>(), 1e-2);
  EXPECT_THROW(RelationalDistillationLoss(s, other.slice(0, 0, 11)), c10::Error);
  EXPECT_THROW(RelationalDistillationLoss(s.slice(0, 0, 1), other.slice(0, 0, 1)), c10::Error);
}

TEST(RelationalDistillationLossTest, GradientDescentMatchesTheTeachersSimilarities) {
  torch::manual_seed(2);
  const torch::Tensor teacher = model::L2Normalize(torch::randn({16, 6}));
  torch::Tensor raw = torch::randn({16, 10}).requires_grad_();
  torch::optim::Adam opt({raw}, torch::optim::AdamOptions(0.05));
  const float start = RelationalDistillationLoss(model::L2Normalize(raw), teacher).item<float>();
  for (int i = 0; i < 300; ++i) {
    opt.zero_grad();
    RelationalDistillationLoss(model::L2Normalize(raw), teacher).backward();
    opt.step();
  }
  const float end = RelationalDistillationLoss(model::L2Normalize(raw), teacher).item<float>();
  EXPECT_LT(end, start / 100) << "start " << start;
}

TEST(DistillationTeacherTest, EmbedsTheStudentsBatchInItsOwnNormalisation) {
  testing::TempDir root;
  model::ModelSpec spec = testing::SmallSpec();
  spec.input.mean = {0.5f, 0.4f, 0.3f};
  spec.input.std = {0.2f, 0.25f, 0.3f};
  ASSERT_TRUE(testing::PublishRandomCheckpoint(root.path(), "teacher-1", 1, spec).ok());
  const std::string dir = root.path() + "/teacher-1";
  model::InputSpec student = spec.input;
  student.mean = {0.f, 0.f, 0.f};
  student.std = {1.f, 1.f, 1.f};
  auto teacher = DistillationTeacher::Load(dir, student, torch::kCPU);
  ASSERT_TRUE(teacher.ok()) << teacher.status();
  EXPECT_EQ((*teacher)->version(), "teacher-1");
  auto reference = model::LoadCheckpoint(dir);
  ASSERT_TRUE(reference.ok());
  reference->net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor pixels = torch::rand({3, 3, spec.input.height, spec.input.width});
  const torch::Tensor mean = torch::tensor(std::vector<float>{0.5f, 0.4f, 0.3f}).view({1, 3, 1, 1});
  const torch::Tensor stdv =
      torch::tensor(std::vector<float>{0.2f, 0.25f, 0.3f}).view({1, 3, 1, 1});
  const torch::Tensor want = reference->net->forward((pixels - mean) / stdv);
  const torch::Tensor got = (*teacher)->Embed(pixels);  // The student's normalisation: raw.
  EXPECT_LT((got - want).abs().max().item<float>(), 1e-4);
  EXPECT_FALSE(got.requires_grad());

  model::InputSpec bigger = student;
  bigger.width = bigger.height = spec.input.width * 2;
  auto refused = DistillationTeacher::Load(dir, bigger, torch::kCPU);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("teacher teacher-1 takes"), std::string::npos)
      << refused.status();
  EXPECT_EQ(DistillationTeacher::Load(root.path() + "/none", student, torch::kCPU).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dogsearch::trainer
