// The deployment end to end, without a Docker engine: tests/deploy/compose_processes.py starts
// the four services with exactly the commands, flags and environment deploy/docker-compose.yml
// gives them (mutual TLS between services, bearer tokens), then the `dogsearch` CLI runs
// enroll -> search -> retrain -> promote -> (the gateway upgrades itself) -> search, and the
// security rules are checked: no token, no writes (gateway, trainer, index); a certificate from
// another CA cannot connect; plaintext to a TLS port fails cleanly. Skips when docker-compose or
// Python's yaml module is missing (tools/install_deps.sh installs both).
#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/rpc/channel.h"
#include "dogsearch/v1/dogsearch.pb.h"
#include "dogsearch/v1/index.grpc.pb.h"
#include "dogsearch/v1/trainer.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/eventually.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/trainer/synthetic_dogs.h"

namespace dogsearch::deploy {
namespace {

using dogsearch::testing::Subprocess;

using Result = dogsearch::testing::CommandResult;
Result Shell(const std::string& cmd) { return dogsearch::testing::RunCommand(cmd); }

std::string Field(const std::string& line, int i) {  // i-th space-separated word.
  size_t start = 0;
  for (int k = 0; k < i; ++k) start = line.find(' ', start) + 1;
  return line.substr(start, line.find(' ', start) - start);
}

class ComposeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Debian's python3 (with python3-yaml from tools/install_deps.sh), not whatever is first on
    // PATH.
    if (Shell("command -v docker-compose").code != 0 ||
        Shell("/usr/bin/python3 -c 'import yaml'").code != 0) {
      GTEST_SKIP() << "needs docker-compose and python3-yaml (tools/install_deps.sh installs them)";
    }
    ASSERT_EQ(Shell(absl::StrCat(SOURCE_DIR, "/tools/gen_dev_certs.sh ", dir_.File("certs"))).code,
              0);
    ASSERT_EQ(
        Shell(absl::StrCat(SOURCE_DIR, "/tools/gen_dev_certs.sh ", dir_.File("other"), " client"))
            .code,
        0);
    dogsearch::testing::WriteSyntheticDogs(dir_.File("datasets/dogs"), 16, 5, 32, 1);
    std::filesystem::create_directories(dir_.File("work"));
    auto p = Subprocess::Start(
        {"/usr/bin/python3", absl::StrCat(SOURCE_DIR, "/tests/deploy/compose_processes.py"),
         absl::StrCat("--compose=", SOURCE_DIR, "/deploy/docker-compose.yml"),
         absl::StrCat("--build=", BUILD_DIR), "--work=" + dir_.File("work"),
         "--env=DOGSEARCH_TOKEN=pub", "--env=DOGSEARCH_BACKEND_TOKEN=back",
         "--env=DOGSEARCH_CERTS=" + dir_.File("certs"),
         "--env=DOGSEARCH_DATASETS=" + dir_.File("datasets")});
    ASSERT_TRUE(p.ok()) << p.status();
    stack_ = *std::move(p);
    for (const char* service : {"index", "embedding", "trainer", "gateway"}) {
      auto line = stack_->WaitForLine(absl::StrCat("ready ", service), absl::Seconds(180));
      ASSERT_TRUE(line.ok()) << service << ": " << line.status();
      address_[service] = Field(*line, 2);
    }
    auto web = stack_->WaitForLine("web ", absl::Seconds(10));
    ASSERT_TRUE(web.ok()) << web.status();
    web_url_ = Field(*web, 1);
    ASSERT_TRUE(stack_->WaitForLine("all ready", absl::Seconds(10)).ok());
  }
  void TearDown() override {
    if (stack_) {
      stack_->Kill(SIGTERM);
      stack_->Wait();
    }
  }
  // The CLI with the deployment's CA; `token` empty = none.
  Result Cli(const std::string& args, const std::string& token) {
    return Shell(absl::StrCat(
        CLI_PATH, " --gateway=", address_["gateway"], " --trainer=", address_["trainer"],
        " --tls_ca=", dir_.File("certs/ca.crt"), " --tls_cert=", dir_.File("certs/client.crt"),
        " --tls_key=", dir_.File("certs/client.key"), token.empty() ? "" : " --token=" + token, " ",
        args));
  }
  std::string Photo(int dog, int i) {
    return dir_.File(absl::StrCat("datasets/dogs/dog", dog, "/", i, ".jpg"));
  }
  std::string Serving() {
    v1::ModelStatus st;
    (void)google::protobuf::util::JsonStringToMessage(Cli("--json status", "").out, &st);
    return st.serving_version();
  }

  dogsearch::testing::TempDir dir_;
  std::unique_ptr<Subprocess> stack_;
  std::map<std::string, std::string> address_;
  std::string web_url_;
};

TEST_F(ComposeE2eTest, EnrollSearchRetrainPromoteSearchWithTlsAndTokens) {
  const std::string initial = Serving();
  ASSERT_FALSE(initial.empty());
  // Enroll and search.
  EXPECT_EQ(
      Cli(absl::StrCat("enroll --dog=rex --name=Rex ", Photo(1, 0), " ", Photo(1, 1)), "").code, 5);
  Result enrolled =
      Cli(absl::StrCat("enroll --dog=rex --name=Rex ", Photo(1, 0), " ", Photo(1, 1)), "pub");
  ASSERT_EQ(enrolled.code, 0) << enrolled.out;
  ASSERT_EQ(
      Cli(absl::StrCat("import ", dir_.File("datasets/dogs"), " --photos_per_dog=2 --max_dogs=8"),
          "pub")
          .code,
      7)
      << "dog1's photos 0 and 1 belong to rex: the import reports the conflict";
  Result found = Cli("search " + Photo(1, 1), "");
  EXPECT_EQ(found.code, 0) << found.out;
  EXPECT_EQ(found.out.rfind("Match: Rex (rex)", 0), 0u) << found.out;

  // Retrain (the trainer needs the services' token), then promote.
  const std::string config = dir_.File("tiny.json");
  dogsearch::testing::WriteTinyTrainingConfig(config, "dogs", 2);
  EXPECT_EQ(Cli("train start --config=" + config, "").code, 5);
  EXPECT_EQ(Cli("train start --config=" + config, "pub").code, 5);
  Result started = Cli("--json train start --config=" + config, "back");
  ASSERT_EQ(started.code, 0) << started.out;
  v1::Job job;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(started.out, &job).ok()) << started.out;
  Result watched = Cli("train watch " + job.id(), "back");
  ASSERT_EQ(watched.code, 0) << watched.out;
  v1::ListCheckpointsResponse list;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(Cli("--json models list", "back").out, &list)
          .ok());
  std::string trained;
  for (const auto& c : list.checkpoints()) {
    if (c.job_id() == job.id()) trained = c.manifest().version();
  }
  ASSERT_FALSE(trained.empty());
  EXPECT_EQ(Cli("models promote " + trained, "").code, 5);
  ASSERT_EQ(Cli("models promote " + trained, "back").code, 0);
  (void)dogsearch::testing::Eventually([&] { return Serving() == trained; }, absl::Seconds(30),
                                       absl::Milliseconds(100));
  ASSERT_EQ(Serving(), trained);
  Result after = Cli("search " + Photo(1, 1), "");
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_NE(after.out.find("Rex (rex)"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("model " + trained), std::string::npos) << after.out;

  // The web page is HTTPS with the deployment's certificate.
  ASSERT_EQ(web_url_.rfind("https://127.0.0.1:", 0), 0u) << web_url_;
  httplib::SSLClient web("127.0.0.1", std::stoi(web_url_.substr(web_url_.rfind(':') + 1)));
  web.set_ca_cert_path(dir_.File("certs/ca.crt").c_str());
  web.enable_server_certificate_verification(true);
  auto page = web.Get("/");
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(web.Get("/api/dogs/rex")->status, 200);

  // Security between services: the index takes no write without the token, even over mTLS.
  rpc::ChannelOptions mtls;
  mtls.tls = {dir_.File("certs/client.crt"), dir_.File("certs/client.key"),
              dir_.File("certs/ca.crt")};
  auto index = v1::Index::NewStub(*rpc::CreateChannel(address_["index"], mtls));
  v1::CreateCollectionRequest create;
  create.set_name("intruder");
  create.set_dimension(4);
  create.set_model_version("x");
  {
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, mtls);
    v1::CollectionInfo info;
    EXPECT_EQ(index->CreateCollection(&ctx, create, &info).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // A certificate from another CA cannot connect; plaintext to a TLS port fails cleanly.
  Result other = Shell(absl::StrCat(CLI_PATH, " --tls_ca=", dir_.File("certs/ca.crt"),
                                    " --tls_cert=", dir_.File("other/client.crt"), " --tls_key=",
                                    dir_.File("other/client.key"), " health ", address_["index"]));
  EXPECT_EQ(other.code, 6) << other.out;
  Result plain = Shell(absl::StrCat(CLI_PATH, " --gateway=", address_["gateway"], " status"));
  EXPECT_EQ(plain.code, 6) << plain.out;
  EXPECT_NE(plain.out.find("UNAVAILABLE"), std::string::npos) << plain.out;
}

TEST(ComposeFileTest, ConfigPassesForTheBaseAndGpuFiles) {
  if (Shell("command -v docker-compose").code != 0) GTEST_SKIP() << "needs docker-compose";
  const std::string env = "DOGSEARCH_TOKEN=a DOGSEARCH_BACKEND_TOKEN=b ";
  const std::string base = absl::StrCat(SOURCE_DIR, "/deploy/docker-compose.yml");
  Result r = Shell(env + "docker-compose -f " + base + " config -q");
  EXPECT_EQ(r.code, 0) << r.out;
  r = Shell(absl::StrCat(env, "docker-compose -f ", base, " -f ", SOURCE_DIR,
                         "/deploy/docker-compose.gpu.yml config -q"));
  EXPECT_EQ(r.code, 0) << r.out;
  // Without the tokens the file refuses to render: no deployment without secrets.
  r = Shell("env -u DOGSEARCH_TOKEN -u DOGSEARCH_BACKEND_TOKEN docker-compose -f " + base +
            " config -q");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("DOGSEARCH_BACKEND_TOKEN"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace dogsearch::deploy
