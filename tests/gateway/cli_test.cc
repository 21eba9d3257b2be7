// The `dogsearch` CLI as a user runs it, against real trainer, embedding, index and gateway
// processes (tokens on; the gateway follows the trainer): every subcommand's happy path and
// its main error with its exit code, ending in enroll -> search -> train -> promote -> the
// gateway upgrades itself -> search in the new model.
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dogsearch/v1/dogsearch.pb.h"
#include "dogsearch/v1/trainer.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/eventually.h"
#include "tests/testing/random_checkpoints.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/trainer/synthetic_dogs.h"

namespace dogsearch::gateway {
namespace {

using dogsearch::testing::Subprocess;

using CliRun = dogsearch::testing::CommandResult;  // stdout and stderr, exit code.

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dogsearch::testing::WriteSyntheticDogs(dir_.File("data/dogs"), 16, 5, 32, 1);
    // A first model to serve, with random weights, beside where the trainer publishes.
    ASSERT_TRUE(dogsearch::testing::PublishRandomCheckpoint(dir_.File("models"), "base", 100,
                                                            dogsearch::testing::TinySpec(), 0.5)
                    .ok());

    trainer_ =
        Start({TRAINER_SERVER_PATH, "--address=127.0.0.1:0", "--state_dir=" + dir_.File("trainer"),
               "--data_root=" + dir_.File("data"), "--models_root=" + dir_.File("models"),
               "--threads=1", "--auth_token=tok", "--log_level=warning"},
              "trainer listening on port", &trainer_port_);
    index_ = Start({INDEX_SERVER_PATH, "--address=127.0.0.1:0", "--data_dir=" + dir_.File("index"),
                    "--auth_token=tok", "--log_level=warning"},
                   "index listening on port", &index_port_);
    embedding_ =
        Start({EMBEDDING_SERVER_PATH, "--address=127.0.0.1:0", "--model_dir=" + dir_.File("models"),
               "--default_model=base", "--watch_interval_seconds=0", "--auth_token=tok",
               "--threads=1", "--log_level=warning"},
              "embedding listening on port", &embedding_port_);
    gateway_ =
        Start({GATEWAY_SERVER_PATH, "--address=127.0.0.1:0", "--http_port=-1",
               "--data_dir=" + dir_.File("gateway"),
               absl::StrCat("--embedding_address=127.0.0.1:", embedding_port_),
               absl::StrCat("--index_address=127.0.0.1:", index_port_),
               absl::StrCat("--trainer_address=127.0.0.1:", trainer_port_), "--backend_token=tok",
               "--auth_token=tok", "--retire_grace_seconds=1", "--log_level=warning"},
              "gateway listening on port", &gateway_port_);
  }
  std::unique_ptr<Subprocess> Start(const std::vector<std::string>& argv, const std::string& ready,
                                    int* port) {
    auto p = dogsearch::testing::StartServer(argv, ready, port);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  }
  // Runs the CLI with the deployment's addresses (and the token unless told otherwise).
  CliRun Cli(const std::vector<std::string>& args, bool token = true) {
    std::vector<std::string> argv = {DOGSEARCH_CLI_PATH,
                                     absl::StrCat("--gateway=127.0.0.1:", gateway_port_),
                                     absl::StrCat("--trainer=127.0.0.1:", trainer_port_)};
    if (token) argv.push_back("--token=tok");
    argv.insert(argv.end(), args.begin(), args.end());
    std::string cmd;
    for (const std::string& a : argv) absl::StrAppend(&cmd, "'", a, "' ");
    return dogsearch::testing::RunCommand(cmd);
  }
  std::string Photo(int dog, int i) {
    return dir_.File(absl::StrCat("data/dogs/dog", dog, "/", i, ".jpg"));
  }
  std::string ServingVersion() {
    CliRun r = Cli({"--json", "status"});
    v1::ModelStatus st;
    (void)google::protobuf::util::JsonStringToMessage(r.out, &st);
    return st.serving_version();
  }

  dogsearch::testing::TempDir dir_;
  std::unique_ptr<Subprocess> trainer_, index_, embedding_, gateway_;
  int trainer_port_ = 0, index_port_ = 0, embedding_port_ = 0, gateway_port_ = 0;
};

TEST_F(CliTest, EverySubcommandAndTheRetrainPromoteLoop) {
  (void)dogsearch::testing::Eventually([&] { return !ServingVersion().empty(); }, absl::Seconds(10),
                                       absl::Milliseconds(100));
  CliRun status = Cli({"status"});
  EXPECT_EQ(status.code, 0) << status.out;
  EXPECT_NE(status.out.find("Serving model: base"), std::string::npos) << status.out;

  // enroll: needs the token (exit 5), then works; a second time the id is taken (exit 7).
  CliRun denied = Cli({"enroll", "--dog=rex", "--name=Rex", Photo(0, 3), Photo(0, 4)}, false);
  EXPECT_EQ(denied.code, 5) << denied.out;
  EXPECT_NE(denied.out.find("UNAUTHENTICATED"), std::string::npos);
  CliRun enrolled = Cli({"enroll", "--dog=rex", "--name=Rex", Photo(0, 3), Photo(0, 4)});
  EXPECT_EQ(enrolled.code, 0) << enrolled.out;
  EXPECT_NE(enrolled.out.find("Enrolled Rex (rex) with 2 photo(s)"), std::string::npos);
  EXPECT_EQ(Cli({"enroll", "--dog=rex", "--name=Rex", Photo(0, 2)}).code, 7);
  EXPECT_EQ(Cli({"enroll", "--name=NoId", Photo(0, 2)}).code, 2);

  // import: every dog folder; resumable.
  CliRun imported = Cli({"import", dir_.File("data/dogs"), "--photos_per_dog=3"});
  EXPECT_EQ(imported.code, 0) << imported.out;
  EXPECT_NE(imported.out.find("16 enrolled"), std::string::npos) << imported.out;
  CliRun again = Cli({"import", dir_.File("data/dogs"), "--photos_per_dog=3"});
  EXPECT_EQ(again.code, 0);
  EXPECT_NE(again.out.find("16 already up to date"), std::string::npos) << again.out;
  EXPECT_EQ(Cli({"import", dir_.File("nowhere")}).code, 2);

  // dogs (and status) against a gateway that is not there: exit 6, quickly.
  {
    dogsearch::testing::CommandResult down = dogsearch::testing::RunCommand(
        absl::StrCat(DOGSEARCH_CLI_PATH, " --gateway=127.0.0.1:1 dogs"));
    EXPECT_EQ(down.code, 6) << down.out;
    EXPECT_NE(down.out.find("UNAVAILABLE"), std::string::npos);
  }
  CliRun dogs = Cli({"dogs"});
  EXPECT_EQ(dogs.code, 0);
  EXPECT_NE(dogs.out.find("17 dog(s)"), std::string::npos) << dogs.out;

  // search: an enrolled photo finds its dog first. This test's models have no 1:N calibration,
  // so the answer is "possibly" (exit 8, no confident match); a file that is not a photo is
  // exit 4.
  CliRun found = Cli({"search", Photo(5, 1)});
  EXPECT_EQ(found.code, 8) << found.out;
  EXPECT_EQ(found.out.rfind("Possibly ", 0), 0u) << found.out;
  EXPECT_NE(found.out.find("(dog5), "), std::string::npos) << found.out;
  EXPECT_NE(found.out.find("Also similar:"), std::string::npos) << found.out;
  dogsearch::testing::WriteAll(dir_.File("notes.txt"), "not a photo");
  EXPECT_EQ(Cli({"search", dir_.File("notes.txt")}).code, 4);
  EXPECT_EQ(Cli({"search", dir_.File("missing.jpg")}).code, 4);

  // verify: the same photo twice is the same dog.
  CliRun same = Cli({"verify", Photo(3, 0), Photo(3, 0)});
  EXPECT_EQ(same.code, 0) << same.out;
  EXPECT_NE(same.out.find("Same dog"), std::string::npos);
  EXPECT_EQ(Cli({"verify", Photo(3, 0)}).code, 2);

  // train: start from a config file, watch to the end, list; cancel of a finished job fails.
  dogsearch::testing::WriteTinyTrainingConfig(dir_.File("tiny.json"), "dogs", 2);
  EXPECT_EQ(Cli({"train", "start", "--config=" + dir_.File("tiny.json")}, false).code, 5);
  CliRun started = Cli({"--json", "train", "start", "--config=" + dir_.File("tiny.json")});
  ASSERT_EQ(started.code, 0) << started.out;
  v1::Job job;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(started.out, &job).ok()) << started.out;
  CliRun watched = Cli({"train", "watch", job.id()});
  EXPECT_EQ(watched.code, 0) << watched.out;
  EXPECT_NE(watched.out.find("SUCCEEDED"), std::string::npos) << watched.out;
  CliRun jobs = Cli({"train", "list"});
  EXPECT_NE(jobs.out.find(job.id()), std::string::npos) << jobs.out;
  EXPECT_NE(Cli({"train", "cancel", job.id()}).code, 0);
  EXPECT_EQ(Cli({"train", "watch", "no-such-job"}).code, 3);

  // models: the new checkpoint is listed; promoting it makes the gateway upgrade itself.
  CliRun models = Cli({"--json", "models", "list"});
  ASSERT_EQ(models.code, 0) << models.out;
  v1::ListCheckpointsResponse list;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(models.out, &list).ok());
  std::string trained;
  for (const auto& c : list.checkpoints()) {
    if (c.job_id() == job.id()) trained = c.manifest().version();
  }
  ASSERT_FALSE(trained.empty()) << models.out;
  EXPECT_EQ(Cli({"models", "promote", "no-such-version"}).code, 3);
  CliRun promoted = Cli({"models", "promote", trained});
  EXPECT_EQ(promoted.code, 0) << promoted.out;
  (void)dogsearch::testing::Eventually([&] { return ServingVersion() == trained; },
                                       absl::Seconds(30), absl::Milliseconds(100));
  EXPECT_EQ(ServingVersion(), trained);
  // The trained model carries the 1:N calibration its training measured: an enrolled photo is
  // now a confident match (exit 0).
  CliRun after = Cli({"search", Photo(5, 1)});
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_EQ(after.out.rfind("Match: ", 0), 0u) << after.out;
  EXPECT_NE(after.out.find("(dog5), "), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("model " + trained), std::string::npos) << after.out;
  CliRun final_status = Cli({"status"});
  EXPECT_NE(final_status.out.find("SUCCEEDED (base -> " + trained + ")"), std::string::npos)
      << final_status.out;
  // The gateway follows the trainer: the promoted version next to the served one, converged.
  (void)dogsearch::testing::Eventually(
      [&] {
        if (final_status.out.find("(converged)") != std::string::npos) return true;
        final_status = Cli({"status"});
        return final_status.out.find("(converged)") != std::string::npos;
      },
      absl::Seconds(15), absl::Milliseconds(100));
  EXPECT_NE(final_status.out.find("Trainer promotes: " + trained + " (converged)"),
            std::string::npos)
      << final_status.out;
}

}  // namespace
}  // namespace dogsearch::gateway
