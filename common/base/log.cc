#include "common/base/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dogsearch {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

// Guards the sink and serialises writes so lines never interleave.
std::mutex g_sink_mu;
std::function<void(absl::string_view)>* g_sink ABSL_GUARDED_BY(g_sink_mu) = nullptr;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool NeedsQuoting(absl::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

absl::Status ParseLogLevel(absl::string_view text, LogLevel* level) {
  std::string t = absl::AsciiStrToLower(text);
  if (t == "debug") {
    *level = LogLevel::kDebug;
  } else if (t == "info") {
    *level = LogLevel::kInfo;
  } else if (t == "warning" || t == "warn") {
    *level = LogLevel::kWarning;
  } else if (t == "error") {
    *level = LogLevel::kError;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown log level '", text, "' (want debug, info, warning or error)"));
  }
  return absl::OkStatus();
}

void SetLogSinkForTesting(std::function<void(absl::string_view)> sink) {
  std::lock_guard<std::mutex> lock(g_sink_mu);
  delete g_sink;
  g_sink = sink ? new std::function<void(absl::string_view)>(std::move(sink)) : nullptr;
}

std::string LogQuote(absl::string_view value) {
  if (!NeedsQuoting(value)) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

LogLine::LogLine(LogLevel level, absl::string_view event) {
  line_ = absl::StrCat(
      "ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()),
      " level=", LevelName(level), " event=", LogQuote(event));
}

LogLine& LogLine::Kv(absl::string_view key, absl::string_view value) {
  absl::StrAppend(&line_, " ", key, "=", LogQuote(value));
  return *this;
}

LogLine& LogLine::Kv(absl::string_view key, const absl::Status& status) {
  Kv(absl::StrCat(key, "_code"), absl::StatusCodeToString(status.code()));
  if (!status.ok()) Kv(key, status.message());
  return *this;
}

LogLine::~LogLine() {
  std::lock_guard<std::mutex> lock(g_sink_mu);
  if (g_sink != nullptr) {
    (*g_sink)(line_);
    return;
  }
  line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), stderr);
  std::fflush(stderr);
}

}  // namespace dogsearch
