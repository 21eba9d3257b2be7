// CRC32C (Castagnoli polynomial, as in iSCSI, ext4 and LevelDB). Debian's Abseil 20220623 has
// none. Uses the SSE4.2 crc32 instruction when the CPU has it, a table otherwise; both give
// identical results. Thread-safe (pure functions).
#ifndef DOGSEARCH_COMMON_BASE_CRC32C_H_
#define DOGSEARCH_COMMON_BASE_CRC32C_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace dogsearch::crc32c {

// CRC32C of concat(A, data) where init_crc is the CRC32C of some string A.
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);

inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(absl::string_view s) { return Extend(0, s.data(), s.size()); }

// The table-only implementation, exposed so tests can check both paths agree.
uint32_t ExtendPortable(uint32_t init_crc, const char* data, size_t n);

// Masked form for CRCs stored next to the data they cover (a CRC of a string containing
// embedded CRCs is otherwise weak); as in LevelDB.
constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return ((rot >> 17) | (rot << 15));
}

}  // namespace dogsearch::crc32c

#endif  // DOGSEARCH_COMMON_BASE_CRC32C_H_
