// Status propagation helpers. Debian's Abseil (20220623) ships no status macros, so these are
// the project's own, written once.
#ifndef DOGSEARCH_COMMON_BASE_STATUS_MACROS_H_
#define DOGSEARCH_COMMON_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define DS_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status ds_status_ = (expr);      \
    if (!ds_status_.ok()) return ds_status_; \
  } while (0)

#define DS_STATUS_CONCAT_INNER_(a, b) a##b
#define DS_STATUS_CONCAT_(a, b) DS_STATUS_CONCAT_INNER_(a, b)

// `lhs` = value of `rexpr` (an absl::StatusOr<T>), or returns its status from the enclosing
// function. `lhs` may be a declaration: DS_ASSIGN_OR_RETURN(auto x, MakeX());
#define DS_ASSIGN_OR_RETURN(lhs, rexpr) \
  DS_ASSIGN_OR_RETURN_IMPL_(DS_STATUS_CONCAT_(ds_statusor_, __LINE__), lhs, rexpr)

#define DS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)    \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // DOGSEARCH_COMMON_BASE_STATUS_MACROS_H_
