// train start|watch|cancel|list and models list|promote, against the trainer service.
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "common/base/file_util.h"
#include "google/protobuf/util/json_util.h"
#include "tools/cli/cli.h"

ABSL_FLAG(std::string, dataset, "",
          "train start: dataset folder name under the trainer's data root");
ABSL_FLAG(int, epochs, 0, "train start: epochs (0 = trainer default)");
ABSL_FLAG(int, time_budget, 0, "train start: wall-clock budget in seconds (0 = none)");
ABSL_FLAG(bool, auto_promote, false,
          "train start: promote the result if it beats the serving model");
ABSL_FLAG(std::string, label, "", "train start: free-form label");
ABSL_FLAG(std::string, config, "", "train start: TrainingConfig JSON file (flags override it)");
ABSL_FLAG(std::string, parent, "", "train start: fine-tune from this checkpoint version");

namespace dogsearch::cli {
namespace {

std::string State(v1::JobState s) { return v1::JobState_Name(s).substr(strlen("JOB_STATE_")); }

void PrintJob(const v1::Job& job) {
  const v1::JobProgress& p = job.progress();
  std::printf("%-28s %-12s epoch %u step %llu/%llu", job.id().c_str(), State(p.state()).c_str(),
              p.epoch(), static_cast<unsigned long long>(p.step()),
              static_cast<unsigned long long>(p.total_steps()));
  if (p.best_validation().verification_accuracy() > 0) {
    std::printf("  best verification %.3f (%s)", p.best_validation().verification_accuracy(),
                p.best_checkpoint_version().c_str());
  }
  if (!p.state_reason().empty()) std::printf("  %s", p.state_reason().c_str());
  std::printf("\n");
}

int Start(const Cli& cli) {
  v1::StartTrainingRequest req;
  v1::TrainingConfig* config = req.mutable_config();
  if (const std::string path = absl::GetFlag(FLAGS_config); !path.empty()) {
    auto text = ReadFile(path, 1 << 20);
    if (!text.ok()) return Usage("train start: cannot read " + path);
    if (auto s = google::protobuf::util::JsonStringToMessage(*text, config); !s.ok()) {
      std::fprintf(stderr, "dogsearch train start: %s is not a TrainingConfig: %s\n", path.c_str(),
                   s.ToString().c_str());
      return kExitInvalid;
    }
  }
  if (!absl::GetFlag(FLAGS_dataset).empty()) config->set_dataset(absl::GetFlag(FLAGS_dataset));
  if (absl::GetFlag(FLAGS_epochs) > 0) config->set_epochs(absl::GetFlag(FLAGS_epochs));
  if (absl::GetFlag(FLAGS_time_budget) > 0) {
    config->set_time_budget_seconds(absl::GetFlag(FLAGS_time_budget));
  }
  if (!absl::GetFlag(FLAGS_parent).empty()) config->set_parent_version(absl::GetFlag(FLAGS_parent));
  if (config->dataset().empty()) {
    return Usage(
        "usage: dogsearch train start --dataset=NAME [--config=FILE.json] [--epochs=N] "
        "[--time_budget=S] [--auto_promote]");
  }
  req.set_auto_promote(absl::GetFlag(FLAGS_auto_promote));
  req.set_label(absl::GetFlag(FLAGS_label));
  grpc::ClientContext ctx;
  cli.Prepare(&ctx, true);
  v1::Job job;
  if (grpc::Status s = cli.trainer->StartTraining(&ctx, req, &job); !s.ok()) {
    return Fail(s, "train start");
  }
  if (cli.json) {
    PrintJson(job);
  } else {
    std::printf("Started job %s (watch it with: dogsearch train watch %s)\n", job.id().c_str(),
                job.id().c_str());
  }
  return kExitOk;
}

int Watch(const Cli& cli, const std::string& id) {
  grpc::ClientContext ctx;
  rpc::PrepareContext(&ctx, cli.trainer_options, absl::Hours(24 * 7));
  v1::WatchJobRequest req;
  req.set_job_id(id);
  auto reader = cli.trainer->WatchJob(&ctx, req);
  v1::JobProgress p;
  v1::JobState last = v1::JOB_STATE_UNSPECIFIED;
  while (reader->Read(&p)) {
    last = p.state();
    if (cli.json) {
      PrintJson(p);
    } else {
      std::printf("%-10s epoch %3u step %6llu/%-6llu loss %.4f  %.0f photos/s  eta %.0f s",
                  State(p.state()).c_str(), p.epoch(), static_cast<unsigned long long>(p.step()),
                  static_cast<unsigned long long>(p.total_steps()), p.last_step().loss(),
                  p.photos_per_second(), p.eta_seconds());
      if (p.validation().verification_accuracy() > 0) {
        std::printf("  val %.3f", p.validation().verification_accuracy());
      }
      if (!p.state_reason().empty()) std::printf("  %s", p.state_reason().c_str());
      std::printf("\n");
    }
    std::fflush(stdout);
  }
  if (grpc::Status s = reader->Finish(); !s.ok()) return Fail(s, "train watch");
  return last == v1::JOB_STATE_SUCCEEDED ? kExitOk : kExitFailure;
}

}  // namespace

int CmdTrain(const Cli& cli, const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "" : args[0];
  if (sub == "start" && args.size() == 1) return Start(cli);
  if (sub == "watch" && args.size() == 2) return Watch(cli, args[1]);
  if (sub == "cancel" && args.size() == 2) {
    v1::CancelJobRequest req;
    req.set_job_id(args[1]);
    grpc::ClientContext ctx;
    cli.Prepare(&ctx, true);
    v1::Job job;
    if (grpc::Status s = cli.trainer->CancelJob(&ctx, req, &job); !s.ok()) {
      return Fail(s, "train cancel");
    }
    cli.json ? PrintJson(job) : PrintJob(job);
    return kExitOk;
  }
  if (sub == "list" && args.size() == 1) {
    v1::ListJobsRequest req;
    v1::ListJobsResponse all;
    do {
      grpc::ClientContext ctx;
      cli.Prepare(&ctx, true);
      v1::ListJobsResponse page;
      if (grpc::Status s = cli.trainer->ListJobs(&ctx, req, &page); !s.ok()) {
        return Fail(s, "train list");
      }
      for (const v1::Job& j : page.jobs()) *all.add_jobs() = j;
      req.set_page_token(page.next_page_token());
    } while (!req.page_token().empty());
    if (cli.json) {
      PrintJson(all);
    } else {
      for (const v1::Job& j : all.jobs()) PrintJob(j);
      std::printf("%d job(s)\n", all.jobs_size());
    }
    return kExitOk;
  }
  return Usage("usage: dogsearch train start|watch JOB|cancel JOB|list");
}

int CmdModels(const Cli& cli, const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "" : args[0];
  if (sub == "list" && args.size() == 1) {
    grpc::ClientContext ctx;
    cli.Prepare(&ctx, true);
    v1::ListCheckpointsResponse resp;
    if (grpc::Status s = cli.trainer->ListCheckpoints(&ctx, v1::ListCheckpointsRequest(), &resp);
        !s.ok()) {
      return Fail(s, "models list");
    }
    if (cli.json) {
      PrintJson(resp);
      return kExitOk;
    }
    for (const v1::CheckpointInfo& c : resp.checkpoints()) {
      const v1::CheckpointManifest& m = c.manifest();
      std::printf("%s %-32s %-20s verification %.3f rank-1 %.3f\n", c.promoted() ? "*" : " ",
                  m.version().c_str(), m.model().architecture().c_str(),
                  m.metrics().verification_accuracy(), m.metrics().rank1());
    }
    std::printf("%d checkpoint(s); * = promoted\n", resp.checkpoints_size());
    return kExitOk;
  }
  if (sub == "promote" && args.size() == 2) {
    v1::PromoteCheckpointRequest req;
    req.set_version(args[1]);
    grpc::ClientContext ctx;
    cli.Prepare(&ctx, true);
    v1::CheckpointInfo info;
    if (grpc::Status s = cli.trainer->PromoteCheckpoint(&ctx, req, &info); !s.ok()) {
      return Fail(s, "models promote");
    }
    if (cli.json) {
      PrintJson(info);
    } else {
      std::printf("Promoted %s; gateways following the trainer upgrade to it.\n", args[1].c_str());
    }
    return kExitOk;
  }
  return Usage("usage: dogsearch models list|promote VERSION");
}

}  // namespace dogsearch::cli
