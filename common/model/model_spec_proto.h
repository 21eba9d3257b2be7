// ModelSpec <-> dogsearch.v1.ModelSpec and EvalMetrics <-> dogsearch.v1.EvalMetrics. Protobuf
// messages only (no gRPC, no LibTorch).
#ifndef DOGSEARCH_COMMON_MODEL_MODEL_SPEC_PROTO_H_
#define DOGSEARCH_COMMON_MODEL_MODEL_SPEC_PROTO_H_

#include "absl/status/statusor.h"
#include "common/model/checkpoint_manifest.h"
#include "common/model/model_spec.h"
#include "dogsearch/v1/model.pb.h"

namespace dogsearch::model {

void ToProto(const ModelSpec& spec, ::dogsearch::v1::ModelSpec* proto);
// FAILED_PRECONDITION if mean/std do not have 3 values (or none). Does not validate the spec.
absl::StatusOr<ModelSpec> FromProto(const ::dogsearch::v1::ModelSpec& proto);

void ToProto(const EvalMetrics& metrics, ::dogsearch::v1::EvalMetrics* proto);
EvalMetrics FromProto(const ::dogsearch::v1::EvalMetrics& proto);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_MODEL_MODEL_SPEC_PROTO_H_
