#include "services/trainer/core/run_state.h"

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/file_util.h"
#include "common/base/status_macros.h"

namespace dogsearch::trainer {
namespace {
constexpr char kFile[] = "run_state.txt";
}

std::string StateDir(const std::string& output_dir) { return output_dir + "/state"; }

absl::Status SaveRunState(const std::string& output_dir, const RunState& s) {
  DS_RETURN_IF_ERROR(MakeDirs(StateDir(output_dir)));
  const std::string text = absl::StrCat(
      "last_version ", s.last_version, "\nbest_version ", s.best_version, "\nbest_accuracy ",
      s.best_accuracy, "\nepochs_done ", s.epochs_done, "\nsteps_done ", s.steps_done,
      "\nelapsed_seconds ", s.elapsed_seconds, "\noptimizer_file ", s.optimizer_file, "\n");
  return WriteFileAtomic(StateDir(output_dir) + "/" + kFile, text);
}

absl::StatusOr<RunState> LoadRunState(const std::string& output_dir) {
  const std::string path = StateDir(output_dir) + "/" + kFile;
  absl::StatusOr<std::string> text = ReadFile(path, 1 << 16);
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("no resumable run in '", output_dir,
                                                           "': ", text.status().message()));
  }
  std::map<std::string, std::string> kv;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> p = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    kv[p.first] = p.second;
  }
  RunState s;
  s.last_version = kv["last_version"];
  s.best_version = kv["best_version"];
  s.optimizer_file = kv["optimizer_file"];
  if (!absl::SimpleAtod(kv["best_accuracy"], &s.best_accuracy) ||
      !absl::SimpleAtoi(kv["epochs_done"], &s.epochs_done) ||
      !absl::SimpleAtoi(kv["steps_done"], &s.steps_done) ||
      !absl::SimpleAtod(kv["elapsed_seconds"], &s.elapsed_seconds) || s.last_version.empty()) {
    return absl::DataLossError(absl::StrCat(path, " is malformed"));
  }
  return s;
}

}  // namespace dogsearch::trainer
