// The embedding core's types <-> dogsearch.v1 messages (protobuf only), as every service writes
// them: ToProto(const T&, Message*) / FromProto(const Message&).
#ifndef DOGSEARCH_SERVICES_EMBEDDING_PROTO_CONVERT_H_
#define DOGSEARCH_SERVICES_EMBEDDING_PROTO_CONVERT_H_

#include "dogsearch/v1/embedding.pb.h"
#include "services/embedding/core/model_repository.h"

namespace dogsearch::embedding {

// A ModelInfo from a repository status (spec, device, metrics, counters when loaded).
void ToProto(const ModelStatus& s, v1::ModelInfo* out);

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_PROTO_CONVERT_H_
