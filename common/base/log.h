// Structured logging: one line per event, key=value fields, to stderr (or a test sink).
//
//   DS_LOG(kInfo, "server_started").Kv("service", "index").Kv("port", port);
//
// prints
//
//   ts=2026-11-28T18:11:21.123456Z level=info event=server_started service=index port=50051
//
// Values containing spaces, quotes, '=' or control characters are quoted and escaped. Lines
// below the current level cost one atomic load. Thread-safe: each line is written whole.
#ifndef DOGSEARCH_COMMON_BASE_LOG_H_
#define DOGSEARCH_COMMON_BASE_LOG_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace dogsearch {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// "debug", "info", "warning"/"warn", "error" (case-insensitive).
absl::Status ParseLogLevel(absl::string_view text, LogLevel* level);
inline bool ShouldLog(LogLevel level) { return level >= GetLogLevel(); }

// Replaces where lines go (nullptr restores stderr). For tests.
void SetLogSinkForTesting(std::function<void(absl::string_view line)> sink);

// Quotes a value if it needs quoting (see above).
std::string LogQuote(absl::string_view value);

class LogLine {
 public:
  LogLine(LogLevel level, absl::string_view event);
  ~LogLine();  // Emits the line.
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Kv(absl::string_view key, absl::string_view value);
  LogLine& Kv(absl::string_view key, const char* value) {
    return Kv(key, absl::string_view(value));
  }
  LogLine& Kv(absl::string_view key, const std::string& value) {
    return Kv(key, absl::string_view(value));
  }
  LogLine& Kv(absl::string_view key, bool value) { return Kv(key, value ? "true" : "false"); }
  LogLine& Kv(absl::string_view key, const absl::Status& status);
  template <typename T>
  LogLine& Kv(absl::string_view key, T value) {
    return Kv(key, absl::string_view(absl::StrCat(value)));
  }

 private:
  std::string line_;
};

}  // namespace dogsearch

#define DS_LOG(level, event)                                   \
  if (!::dogsearch::ShouldLog(::dogsearch::LogLevel::level)) { \
  } else                                                       \
    ::dogsearch::LogLine(::dogsearch::LogLevel::level, event)

#endif  // DOGSEARCH_COMMON_BASE_LOG_H_
