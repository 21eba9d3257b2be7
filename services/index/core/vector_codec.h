// How a collection stores its vectors in the graph (issue #22: at 10 million records float32
// vectors alone are 4.8 GiB). Pure functions, no hnswlib; thread-safe.
//  - kFloat32: as given (4 bytes a value).
//  - kFloat16: IEEE half precision (2 bytes a value; relative error <= 2^-11 per value).
//  - kInt8: a float scale (the largest |value| / 127) then one signed byte a value, rounded
//    (1 byte a value + 4; error <= scale / 2 per value).
// Distances between two encoded vectors have hnswlib's signature (DISTFUNC<float>; `param`
// points to the dimension as size_t): 1 - dot product for cosine and inner product, squared
// L2 for L2, computed on the decoded values.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_VECTOR_CODEC_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_VECTOR_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/index/core/types.h"

namespace dogsearch::index {

absl::string_view EncodingName(VectorEncoding e);  // "float32", "float16", "int8".
// INVALID_ARGUMENT naming the accepted names.
absl::StatusOr<VectorEncoding> ParseEncoding(absl::string_view name);

// Bytes one encoded vector of `dim` values takes (a multiple of 4).
size_t EncodedBytes(VectorEncoding e, size_t dim);
// `out` has EncodedBytes(e, dim) bytes.
void EncodeVector(VectorEncoding e, const float* in, size_t dim, void* out);
void DecodeVector(VectorEncoding e, const void* in, size_t dim, float* out);

using EncodedDistance = float (*)(const void* a, const void* b, const void* dim_param);
// For kFloat16 and kInt8 (kFloat32 uses hnswlib's own SIMD kernels). `l2`: squared L2, else
// 1 - dot product.
EncodedDistance EncodedDistanceFunction(VectorEncoding e, bool l2);

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_VECTOR_CODEC_H_
