// Relational distillation (Park et al. 2019, "Relational Knowledge Distillation", its angle-free
// cosine form): a student network is trained so that the cosine similarities between the photos
// of a batch match a teacher's. What is distilled is the structure of the teacher's embedding
// space, not its coordinates, so the two may differ in embedding size and by any rotation, and a
// student that starts as one of an ensemble's members is not first pulled into the ensemble's
// projected frame. Includes LibTorch. Not thread-safe: owned by the training loop.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_DISTILL_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_DISTILL_H_

#include <torch/torch.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/torch_model/embedding_net.h"

namespace dogsearch::trainer {

// Mean over ordered pairs i != j of (s_i.s_j - t_i.t_j)^2, for student rows s and teacher rows
// t of one batch ([N, d_s] and [N, d_t], N >= 2, unit rows as the networks give them). Zero
// exactly when the two similarity matrices agree; differentiable in the student.
torch::Tensor RelationalDistillationLoss(const torch::Tensor& student,
                                         const torch::Tensor& teacher);

// A published checkpoint used as a frozen teacher: eval mode, batch norms folded for speed
// (PrepareForServing), no gradients, each photo seen once (no test-time flip: the student
// sees single views).
class DistillationTeacher {
 public:
  // Loads `dir` onto `device` for a student whose batches are normalised for `student_input`.
  // NOT_FOUND / INVALID_ARGUMENT / DATA_LOSS as LoadCheckpoint; INVALID_ARGUMENT when the
  // teacher's input size differs from the student's.
  static absl::StatusOr<std::unique_ptr<DistillationTeacher>> Load(
      const std::string& dir, const model::InputSpec& student_input, torch::Device device);

  // The teacher's unit embeddings [N, d_t] of a student batch [N, 3, H, W].
  torch::Tensor Embed(const torch::Tensor& student_batch) const;
  const std::string& version() const { return version_; }

 private:
  DistillationTeacher(std::shared_ptr<model::EmbeddingNet> net, model::InputConversion input,
                      std::string version)
      : net_(std::move(net)), input_(std::move(input)), version_(std::move(version)) {}

  std::shared_ptr<model::EmbeddingNet> net_;
  model::InputConversion input_;  // The student's normalisation to the teacher's.
  std::string version_;
};

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_DISTILL_H_
