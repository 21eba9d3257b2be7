// Triplet mining strategies (semantics in triplet_loss.h). No dependencies.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_MINING_KIND_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_MINING_KIND_H_

namespace dogsearch::trainer {

enum class MiningKind { kBatchHard, kSemiHard, kBatchAll };

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_MINING_KIND_H_
