// The deployment for real: deploy/docker-compose.yml brought up with podman-compose from the
// images tools/containers/build_images.sh built, then, through the published ports only:
// mutual TLS + token on gRPC (a call without the token is refused), the web page over HTTPS,
// enrollments and searches; the index's and the gateway's server processes are SIGKILLed in turn
// (a crash: the restart policy brings each back) and every acknowledged enrollment is still
// found; `down` + `up` keeps the gallery (named volumes); the trainer container trains on a
// small data set mounted into it, and a promotion reaches the serving fleet.
//
// Needs podman, runc and podman-compose (tools/install_deps.sh --containers) and the four images
// (tools/containers/build_images.sh); tools/containers/test_containers.sh does both and runs
// this test. Where podman is missing or cannot run a container here, the test is skipped and
// says why.
#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "dogsearch/v1/dogsearch.pb.h"
#include "dogsearch/v1/trainer.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/eventually.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/trainer/synthetic_dogs.h"

namespace dogsearch::deploy {
namespace {

using Result = dogsearch::testing::CommandResult;
Result Shell(const std::string& cmd) { return dogsearch::testing::RunCommand(cmd); }

const std::string kConf = absl::StrCat(SOURCE_DIR, "/tools/containers/containers.conf");
const std::string kCompose = absl::StrCat(SOURCE_DIR, "/deploy/docker-compose.yml");
constexpr const char* kServices[] = {"index", "embedding", "trainer", "gateway"};
constexpr uid_t kServerUid = 10001;  // The images' `dogsearch` user.

Result Podman(const std::string& args) {
  return Shell(absl::StrCat("CONTAINERS_CONF=", kConf, " podman ", args));
}

// Why containers cannot be tested here, or "" when they can.
std::string WhyNoContainers() {
  if (Shell("command -v podman && command -v podman-compose").code != 0) {
    return "needs podman, runc and podman-compose (tools/install_deps.sh --containers)";
  }
  for (const char* s : kServices) {
    if (Podman(absl::StrCat("image exists dogsearch/", s, ":latest")).code != 0) {
      return absl::StrCat("image dogsearch/", s,
                          ":latest is missing: run tools/containers/build_images.sh");
    }
  }
  Result run = Podman(
      "run --rm --pull=never --entrypoint /usr/local/bin/dogsearch "
      "dogsearch/index:latest --help");
  if (run.out.find("find a dog by a photo") == std::string::npos) {
    return "podman cannot run a container on this machine: " + run.out;
  }
  return "";
}

class ContainerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = WhyNoContainers();
    if (!why.empty()) GTEST_SKIP() << why;
    namespace fs = std::filesystem;
    const std::string gen = absl::StrCat(SOURCE_DIR, "/tools/gen_dev_certs.sh ");
    ASSERT_EQ(Shell(gen + dir_.File("certs")).code, 0);
    // The servers run as uid 10001 and read the bind-mounted keys (as the compose file says).
    ASSERT_EQ(Shell(absl::StrCat("chmod 755 ", dir_.path(), " ", dir_.File("certs"),
                                 " && chmod 644 ", dir_.File("certs"), "/*.key"))
                  .code,
              0);
    dogsearch::testing::WriteSyntheticDogs(dir_.File("datasets/dogs"), 16, 5, 32, 1);
    dogsearch::testing::WriteTinyTrainingConfig(dir_.File("datasets/tiny.json"), "dogs", 2);
    ASSERT_EQ(Shell("chmod -R a+rX " + dir_.File("datasets")).code, 0);
    project_ = absl::StrCat("dstest", getpid());
    web_port_ = dogsearch::testing::FreeLoopbackPort();
    grpc_port_ = dogsearch::testing::FreeLoopbackPort();
    Result up = Compose("up -d");
    ASSERT_EQ(up.code, 0) << up.out;
    up_ = true;
    WaitHealthy();
  }
  void TearDown() override {
    if (!up_) return;
    if (HasFailure()) {
      for (const char* s : kServices) {
        std::printf("---- logs of %s\n%s\n", s,
                    Podman("logs --tail 30 " + Container(s)).out.c_str());
      }
    }
    Result down = Compose("down -v");
    if (down.code != 0) std::printf("down -v failed:\n%s\n", down.out.c_str());
    // podman-compose 1.0's `down` leaves the project's network (and, after a failed `up`, may
    // leave volumes).
    Podman(absl::StrCat("volume rm -f $(CONTAINERS_CONF=", kConf,
                        " podman volume ls -q --filter name=", project_, "_) >/dev/null 2>&1"));
    Podman(absl::StrCat("network rm -f ", project_, "_default >/dev/null 2>&1"));
  }

  // The documented wrapper (podman-compose -f deploy/docker-compose.yml, project settings).
  Result Compose(const std::string& args) {
    return Shell(absl::StrCat(
        "CONTAINERS_CONF=", kConf, " DOGSEARCH_TOKEN=pub DOGSEARCH_BACKEND_TOKEN=back",
        " DOGSEARCH_CERTS=", dir_.File("certs"), " DOGSEARCH_DATASETS=", dir_.File("datasets"),
        " DOGSEARCH_WEB_PORT=", web_port_, " DOGSEARCH_GRPC_PORT=", grpc_port_, " ", SOURCE_DIR,
        "/tools/containers/compose.sh -p ", project_, " ", args));
  }
  std::string Container(const std::string& service) const {
    return absl::StrCat(project_, "_", service, "_1");
  }
  // Runs each service's own health check (the compose file's command, through podman: without
  // systemd, podman runs health checks only when asked) until all pass.
  void WaitHealthy(absl::Duration timeout = absl::Seconds(240)) {
    for (const char* s : kServices) {
      bool ok = dogsearch::testing::Eventually(
          [&] { return Podman("healthcheck run " + Container(s)).code == 0; }, timeout,
          absl::Seconds(1));
      ASSERT_TRUE(ok) << s << " never became healthy:\n"
                      << Podman("logs --tail 40 " + Container(s)).out;
    }
  }
  int Restarts(const std::string& service) {
    return std::atoi(
        Podman("inspect --format '{{.RestartCount}}' " + Container(service)).out.c_str());
  }
  // SIGKILLs the server process inside a service's container from the host (as the kernel's OOM
  // killer or a crash would), then waits for the restart policy and the health check.
  void CrashAndWaitForRestart(const std::string& service) {
    const int before = Restarts(service);
    Result top = Podman("top " + Container(service) + " hpid,comm");
    ASSERT_EQ(top.code, 0) << top.out;
    std::string pid;
    for (absl::string_view line : absl::StrSplit(top.out, '\n')) {
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() >= 2 && absl::StartsWith(f[1], service + "_serv")) pid = f[0];  // comm: 15 chars
    }
    ASSERT_FALSE(pid.empty()) << "no server process in " << service << ":\n" << top.out;
    ASSERT_EQ(Shell("kill -KILL " + pid).code, 0);
    ASSERT_TRUE(dogsearch::testing::Eventually([&] { return Restarts(service) > before; },
                                               absl::Seconds(60), absl::Milliseconds(500)))
        << service << " was not restarted after its server was killed";
    WaitHealthy(absl::Seconds(120));
  }
  // The CLI on the host, through the gateway's published gRPC port, mutual TLS.
  Result Cli(const std::string& args, const std::string& token) {
    return Shell(absl::StrCat(
        CLI_PATH, " --gateway=127.0.0.1:", grpc_port_, " --tls_ca=", dir_.File("certs/ca.crt"),
        " --tls_cert=", dir_.File("certs/client.crt"), " --tls_key=", dir_.File("certs/client.key"),
        token.empty() ? "" : " --token=" + token, " ", args));
  }
  // The CLI inside the trainer container (the trainer's port is not published).
  Result TrainerCli(const std::string& args) {
    return Podman(absl::StrCat("exec ", Container("trainer"),
                               " dogsearch --trainer=127.0.0.1:50053 --tls_ca=/certs/ca.crt"
                               " --tls_cert=/certs/trainer.crt --tls_key=/certs/trainer.key"
                               " --token=back ",
                               args));
  }
  std::string Photo(int dog, int i) {
    return dir_.File(absl::StrCat("datasets/dogs/dog", dog, "/", i, ".jpg"));
  }
  void Enroll(int dog) {
    Result r = Cli(absl::StrCat("enroll --dog=d", dog, " --name=Dog", dog, " ", Photo(dog, 0), " ",
                                Photo(dog, 1)),
                   "pub");
    ASSERT_EQ(r.code, 0) << r.out;
    enrolled_.insert(dog);
  }
  // Every enrolled dog comes first for one of its enrolled photos, as a confident match when
  // the model is calibrated (the tiny model trained below is not: it answers "Possibly").
  void ExpectAllFound(const std::string& when, bool calibrated = true) {
    for (int dog : enrolled_) {
      Result r = Cli("search " + Photo(dog, 1), "");
      const std::string first = r.out.substr(0, r.out.find('\n'));
      if (calibrated) {
        EXPECT_EQ(r.code, 0) << when << ": " << r.out;
        EXPECT_EQ(first.rfind(absl::StrCat("Match: Dog", dog, " (d", dog, ")"), 0), 0u)
            << when << ": " << r.out;
      } else {
        EXPECT_NE(first.find(absl::StrCat("Dog", dog, " (d", dog, ")")), std::string::npos)
            << when << ": " << r.out;
      }
    }
  }
  std::string Serving() {
    v1::ModelStatus st;
    (void)google::protobuf::util::JsonStringToMessage(Cli("--json status", "").out, &st);
    return st.serving_version();
  }

  dogsearch::testing::TempDir dir_;
  std::string project_;
  int web_port_ = 0, grpc_port_ = 0;
  bool up_ = false;
  std::set<int> enrolled_;
};

TEST_F(ContainerE2eTest, StackServesSurvivesCrashesAndRestartsAndTrains) {
  // Every container runs as the unprivileged user.
  for (const char* s : kServices) {
    EXPECT_EQ(Podman("exec " + Container(s) + " id -u").out, absl::StrCat(kServerUid, "\n")) << s;
  }
  // gRPC through the published port: mutual TLS, and no write without the token.
  EXPECT_EQ(Cli(absl::StrCat("enroll --dog=d0 --name=Dog0 ", Photo(0, 0)), "").code, 5);
  EXPECT_EQ(Cli(absl::StrCat("enroll --dog=d0 --name=Dog0 ", Photo(0, 0)), "wrong").code, 5);
  for (int dog = 0; dog < 3; ++dog) Enroll(dog);
  ExpectAllFound("after enrolling");

  // The web page and its API over HTTPS with the deployment's certificate.
  httplib::SSLClient web("127.0.0.1", web_port_);
  web.set_ca_cert_path(dir_.File("certs/ca.crt").c_str());
  web.enable_server_certificate_verification(true);
  auto page = web.Get("/");
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<html"), std::string::npos);
  auto dog = web.Get("/api/dogs/d1");
  ASSERT_TRUE(dog);
  EXPECT_EQ(dog->status, 200);

  // A crash of the index, then of the gateway, each right after an enrollment: the restart
  // policy brings each back and nothing acknowledged is lost. (`podman kill` would not do:
  // podman and Docker count it as an operator's stop, which no restart policy undoes.)
  Enroll(3);
  CrashAndWaitForRestart("index");
  ExpectAllFound("after the index's crash");
  Enroll(4);
  CrashAndWaitForRestart("gateway");
  ExpectAllFound("after the gateway's crash");

  // down + up: new containers, same named volumes, same gallery.
  Result down = Compose("down");
  ASSERT_EQ(down.code, 0) << down.out;
  Result up = Compose("up -d");
  ASSERT_EQ(up.code, 0) << up.out;
  WaitHealthy();
  ExpectAllFound("after down and up");

  // The trainer container trains on the data set mounted into it; the promoted checkpoint
  // reaches the embedding container through the shared models volume and the gateway serves it.
  const std::string initial = Serving();
  ASSERT_FALSE(initial.empty());
  Result started = TrainerCli("--json train start --config=/datasets/tiny.json");
  ASSERT_EQ(started.code, 0) << started.out;
  v1::Job job;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(started.out, &job).ok()) << started.out;
  Result watched = TrainerCli("train watch " + job.id());
  ASSERT_EQ(watched.code, 0) << watched.out;
  v1::ListCheckpointsResponse list;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(TrainerCli("--json models list").out, &list)
          .ok());
  std::string trained;
  for (const auto& c : list.checkpoints()) {
    if (c.job_id() == job.id()) trained = c.manifest().version();
  }
  ASSERT_FALSE(trained.empty());
  ASSERT_EQ(TrainerCli("models promote " + trained).code, 0);
  EXPECT_TRUE(dogsearch::testing::Eventually([&] { return Serving() == trained; },
                                             absl::Seconds(120), absl::Seconds(1)))
      << "serving " << Serving() << ", promoted " << trained;
  ExpectAllFound("after the promoted model's upgrade", /*calibrated=*/false);
}

// podman-compose 1.0 has no `config`: its dry run prints the podman commands it would run.
TEST(ComposeConfigTest, GpuOverrideSelectsCudaUnderPodmanCompose) {
  if (Shell("command -v podman-compose").code != 0) GTEST_SKIP() << "needs podman-compose";
  const std::string project = absl::StrCat("dsconfig", getpid());
  auto dry_run = [&](const std::string& files) {
    return Shell(absl::StrCat(
        "CONTAINERS_CONF=", kConf, " DOGSEARCH_TOKEN=a DOGSEARCH_BACKEND_TOKEN=b",
        " podman-compose --dry-run -p ", project, " -f ", kCompose, files,
        " up -d 2>&1 | grep -E '^podman run --name=", project, "_(embedding|trainer)_1 '"));
  };
  Result base = dry_run("");
  Result gpu = dry_run(absl::StrCat(" -f ", SOURCE_DIR, "/deploy/docker-compose.gpu.yml"));
  // The dry run still creates the project's volumes and network: remove them.
  Podman(absl::StrCat("volume rm -f $(CONTAINERS_CONF=", kConf,
                      " podman volume ls -q --filter name=", project,
                      "_) >/dev/null 2>&1; CONTAINERS_CONF=", kConf, " podman network rm -f ",
                      project, "_default >/dev/null 2>&1"));
  ASSERT_EQ(base.code, 0) << base.out;
  ASSERT_EQ(gpu.code, 0) << gpu.out;
  for (const char* service : {"embedding", "trainer"}) {
    auto line = [&](const std::string& out) {
      for (absl::string_view l : absl::StrSplit(out, '\n')) {
        if (absl::StrContains(l, absl::StrCat("_", service, "_1 "))) return std::string(l);
      }
      return std::string();
    };
    EXPECT_NE(line(base.out).find("-e DOGSEARCH_DEVICE=cpu"), std::string::npos) << base.out;
    EXPECT_NE(line(gpu.out).find("-e DOGSEARCH_DEVICE=cuda"), std::string::npos) << gpu.out;
    EXPECT_EQ(line(gpu.out).find("DOGSEARCH_DEVICE=cpu"), std::string::npos) << gpu.out;
    EXPECT_EQ(line(gpu.out).find("--device"), std::string::npos)
        << "the device is chosen by environment only, so the override needs no command:\n"
        << gpu.out;
  }
}

}  // namespace
}  // namespace dogsearch::deploy
