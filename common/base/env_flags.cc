#include "common/base/env_flags.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace dogsearch {

std::string EnvNameForFlag(absl::string_view prefix, absl::string_view flag_name) {
  return absl::StrCat(prefix, absl::AsciiStrToUpper(flag_name));
}

absl::Status ApplyFlagsFromEnv(absl::string_view prefix,
                               const std::function<const char*(const std::string&)>& getenv_fn) {
  for (auto& [name, flag] : absl::GetAllFlags()) {
    const std::string env = EnvNameForFlag(prefix, name);
    const char* value = getenv_fn(env);
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", env, "='", value, "': ", error));
    }
  }
  return absl::OkStatus();
}

std::vector<char*> ParseFlagsWithEnv(int argc, char** argv) {
  absl::Status s =
      ApplyFlagsFromEnv(kEnvPrefix, [](const std::string& n) { return std::getenv(n.c_str()); });
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    std::exit(2);
  }
  return absl::ParseCommandLine(argc, argv);
}

int ToolExitCode(absl::string_view tool, const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(tool.size()), tool.data(),
               status.ToString().c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

int ThreadsOrAllCores(int threads_flag) {
  if (threads_flag > 0) return threads_flag;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace dogsearch
