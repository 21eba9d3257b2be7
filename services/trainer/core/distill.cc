#include "services/trainer/core/distill.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/torch_model/checkpoint.h"

namespace dogsearch::trainer {

torch::Tensor RelationalDistillationLoss(const torch::Tensor& student,
                                         const torch::Tensor& teacher) {
  TORCH_CHECK(student.dim() == 2 && teacher.dim() == 2 && student.size(0) == teacher.size(0) &&
                  student.size(0) >= 2,
              "RelationalDistillationLoss: [N, d] rows of one batch, N >= 2");
  const int64_t n = student.size(0);
  const torch::Tensor off_diagonal =
      1 -
      torch::eye(n, torch::TensorOptions().dtype(student.scalar_type()).device(student.device()));
  const torch::Tensor diff = (torch::mm(student, student.t()) -
                              torch::mm(teacher, teacher.t()).to(student.scalar_type())) *
                             off_diagonal;
  return diff.pow(2).sum() / static_cast<double>(n * (n - 1));
}

absl::StatusOr<std::unique_ptr<DistillationTeacher>> DistillationTeacher::Load(
    const std::string& dir, const model::InputSpec& student_input, torch::Device device) {
  DS_ASSIGN_OR_RETURN(model::LoadedCheckpoint ckpt, model::LoadCheckpoint(dir, device));
  const model::InputSpec& in = ckpt.manifest.model.input;
  if (in.width != student_input.width || in.height != student_input.height) {
    return absl::InvalidArgumentError(
        absl::StrCat("teacher ", ckpt.manifest.version, " takes ", in.width, "x", in.height,
                     " photos, the student ", student_input.width, "x", student_input.height));
  }
  ckpt.net->PrepareForServing();  // Eval mode, folded batch norms.
  return std::unique_ptr<DistillationTeacher>(new DistillationTeacher(
      ckpt.net, model::InputConversion(student_input, in), ckpt.manifest.version));
}

torch::Tensor DistillationTeacher::Embed(const torch::Tensor& student_batch) const {
  torch::NoGradGuard no_grad;
  return net_->forward(input_.Apply(student_batch));  // No graph under NoGradGuard.
}

}  // namespace dogsearch::trainer
