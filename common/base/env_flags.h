// Command-line flags (Abseil flags) with environment-variable equivalents: every flag
// `--foo_bar` can also be given as `<PREFIX>FOO_BAR` (e.g. DOGSEARCH_FOO_BAR). The command line
// wins over the environment, which wins over the built-in default. Call once from main().
#ifndef DOGSEARCH_COMMON_BASE_ENV_FLAGS_H_
#define DOGSEARCH_COMMON_BASE_ENV_FLAGS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace dogsearch {

inline constexpr absl::string_view kEnvPrefix = "DOGSEARCH_";

// Environment variable name for a flag: prefix + upper-cased flag name.
std::string EnvNameForFlag(absl::string_view prefix, absl::string_view flag_name);

// Sets every registered flag whose environment variable is present. `getenv` is injectable for
// tests. Returns INVALID_ARGUMENT naming the variable and the parse error on a bad value.
absl::Status ApplyFlagsFromEnv(absl::string_view prefix,
                               const std::function<const char*(const std::string&)>& getenv_fn);

// ApplyFlagsFromEnv(kEnvPrefix, ::getenv), then absl::ParseCommandLine. Exits with a message
// (status 2) on a bad environment value, like absl does on a bad command line.
std::vector<char*> ParseFlagsWithEnv(int argc, char** argv);

// A command-line tool's exit status for the outcome of its work: 0 when ok; otherwise prints
// "<tool>: <status>" to stderr and returns 2 for INVALID_ARGUMENT (a bad flag or input) and 1
// for anything else.
int ToolExitCode(absl::string_view tool, const absl::Status& status);

// A --threads flag's value: itself when > 0, else every hardware thread (at least 1).
int ThreadsOrAllCores(int threads_flag);

}  // namespace dogsearch

#endif  // DOGSEARCH_COMMON_BASE_ENV_FLAGS_H_
