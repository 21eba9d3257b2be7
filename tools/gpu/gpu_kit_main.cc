// The GPU kit's program (docs/GPU.md). Run by tools/gpu/run_kit.sh, which builds it against
// the LibTorch at hand; writes <report_dir>/gpu_report.json and gpu_report.md and prints the
// Markdown. Exit 0 when every section ran and its checks held, 2 otherwise, 1 on bad flags.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/base/file_util.h"
#include "common/base/process_stats.h"
#include "services/embedding/core/torch_model.h"
#include "tools/gpu/kit.h"
#include "tools/gpu/kit_json.h"
#include "tools/gpu/kit_torch.h"

ABSL_FLAG(std::string, device, "cuda", "cuda, cuda:N or cpu (the dry run)");
ABSL_FLAG(std::string, model_dir, "", "The default model's checkpoint directory");
ABSL_FLAG(std::string, photos, "gpu_kit/photos.bin", "Photo file (gpu_kit_photos)");
ABSL_FLAG(std::string, scratch_dir, "", "Folder for checkpoints the kit makes");
ABSL_FLAG(std::string, report_dir, ".", "Where gpu_report.{json,md} go");
ABSL_FLAG(double, budget_s, 420, "Sections still to measure after this many seconds are skipped");
ABSL_FLAG(bool, quick, false, "Dry run: few batch sizes, short cells (CPU)");
ABSL_FLAG(int, threads, 0, "LibTorch intra-op threads (0: LibTorch's default)");
ABSL_FLAG(std::string, machine, "", "Free text describing the machine (the script fills it)");
ABSL_FLAG(std::string, commit, "", "Source commit (the script fills it)");
ABSL_FLAG(std::string, only, "", "Comma-separated sections to run (default: all)");

namespace dogsearch::gpu_kit {
namespace {

KitOptions FromFlags() {
  KitOptions o;
  o.device = absl::GetFlag(FLAGS_device);
  o.model_dir = absl::GetFlag(FLAGS_model_dir);
  o.scratch_dir = absl::GetFlag(FLAGS_scratch_dir);
  o.deadline = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_budget_s));
  if (absl::GetFlag(FLAGS_quick)) {
    o.batch_sizes = {1, 8, 64};
    o.big_batch_sizes = {1, 4};
    o.cell_seconds = 0.2;
    o.train_seconds = 1;
    o.train_warmup_steps = 1;
  }
  return o;
}

int Main() {
  const KitOptions o = FromFlags();
  if (o.model_dir.empty() || o.scratch_dir.empty()) {
    std::fprintf(stderr, "gpu_kit: --model_dir and --scratch_dir are required\n");
    return 1;
  }
  auto photos = ReadKitPhotos(absl::GetFlag(FLAGS_photos));
  if (!photos.ok()) {
    std::fprintf(stderr, "gpu_kit: %s\n", photos.status().ToString().c_str());
    return 1;
  }
  if (o.cuda() && !CudaAvailable()) {
    std::fprintf(stderr, "gpu_kit: --device=%s but this LibTorch (%s) sees no CUDA device\n",
                 o.device.c_str(), TorchVersion().c_str());
    return 1;
  }
  const int threads = embedding::SetTorchThreads(absl::GetFlag(FLAGS_threads));
  std::filesystem::create_directories(o.scratch_dir);
  const std::string only = absl::GetFlag(FLAGS_only);
  const std::vector<std::string> wanted = absl::StrSplit(only, ',', absl::SkipEmpty());
  auto want = [&](const char* name) {
    return wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end();
  };
  using Runner = Section (*)(const KitOptions&, const KitPhotos&);
  const std::vector<std::pair<const char*, Runner>> runners = {{"parity", RunParity},
                                                               {"throughput", RunThroughput},
                                                               {"hot_reload", RunReload},
                                                               {"training", RunTraining}};
  const absl::Time start = absl::Now();
  std::vector<Section> sections;
  for (const auto& [name, run] : runners) {
    if (!want(name)) continue;
    const absl::Time t0 = absl::Now();
    sections.push_back(absl::Now() > o.deadline ? Skipped(name, "time budget spent")
                                                : run(o, *photos));
    std::fprintf(stderr, "gpu_kit: %s %s in %.1f s\n", name, sections.back().ok ? "ok" : "FAILED",
                 absl::ToDoubleSeconds(absl::Now() - t0));
  }
  bool all_ok = true;
  JsonObject j;
  j.Str("kit", "dogsearch GPU kit")
      .Str("date", absl::FormatTime("%Y-%m-%d %H:%M UTC", start, absl::UTCTimeZone()))
      .Str("commit", absl::GetFlag(FLAGS_commit))
      .Str("machine", absl::GetFlag(FLAGS_machine))
      .Str("libtorch", TorchVersion())
      .Str("device", o.device)
      .Int("torch_threads", threads)
      .Int("photos", static_cast<int64_t>(photos->size()))
      .Bool("quick", absl::GetFlag(FLAGS_quick));
  std::vector<std::string> md = {
      "# dogsearch GPU kit report", "",
      absl::StrCat("- date: ", absl::FormatTime("%Y-%m-%d %H:%M UTC", start, absl::UTCTimeZone()),
                   "; commit ", absl::GetFlag(FLAGS_commit)),
      absl::StrCat("- machine: ", absl::GetFlag(FLAGS_machine)),
      absl::StrCat("- LibTorch ", TorchVersion(), ", device ", o.device, ", ", threads,
                   " intra-op threads, ", photos->size(), " photos",
                   absl::GetFlag(FLAGS_quick) ? " (quick dry run)" : "")};
  for (const Section& s : sections) {
    all_ok = all_ok && s.ok;
    j.Raw(s.name, JsonObject().Bool("ok", s.ok).Raw("figures", s.json).Done());
    md.push_back("");
    md.push_back(absl::StrCat("## ", s.name, s.ok ? "" : " (FAILED)"));
    md.push_back("");
    md.insert(md.end(), s.markdown.begin(), s.markdown.end());
  }
  j.Bool("ok", all_ok).Num("seconds", absl::ToDoubleSeconds(absl::Now() - start));
  const std::string dir = absl::GetFlag(FLAGS_report_dir);
  const std::string markdown = absl::StrCat(absl::StrJoin(md, "\n"), "\n");
  absl::Status w = WriteFileAtomic(dir + "/gpu_report.json", j.Done() + "\n");
  if (w.ok()) w = WriteFileAtomic(dir + "/gpu_report.md", markdown);
  std::fputs(markdown.c_str(), stdout);
  if (!w.ok()) {
    std::fprintf(stderr, "gpu_kit: %s\n", w.ToString().c_str());
    return 1;
  }
  return all_ok ? 0 : 2;
}

}  // namespace
}  // namespace dogsearch::gpu_kit

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return dogsearch::gpu_kit::Main();
}
