#include "common/base/process_stats.h"

#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace dogsearch {

absl::StatusOr<uint64_t> ResidentMemoryBytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    absl::string_view rest(line);
    if (!absl::ConsumePrefix(&rest, "VmRSS:")) continue;
    rest = absl::StripAsciiWhitespace(rest);  // "123456 kB"
    uint64_t kib;
    if (absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &kib)) return kib * 1024;
  }
  return absl::UnavailableError("cannot read VmRSS from /proc/self/status");
}

}  // namespace dogsearch
