// The whole system must not lose accuracy the model has: 1,000 DogFaceNet dogs, one gallery
// photo each (the exact photos dogsearch-eval picks for its rank-1), imported with the CLI into
// a running gateway/embedding/index; every other photo of those dogs searched over gRPC. The
// system's rank-1 must be at least dogsearch-eval's for the same model and split. Skips cleanly
// without the photos (tools/fetch_dogfacenet.sh fetches them).
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/file_util.h"
#include "common/rpc/channel.h"
#include "dogsearch/v1/dogsearch.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::gateway {
namespace {

namespace fs = std::filesystem;
using dogsearch::testing::Subprocess;

std::string RunCommand(const std::string& cmd, int* code) {
  dogsearch::testing::CommandResult r = dogsearch::testing::RunCommand(cmd);
  *code = r.code;
  return r.out;
}

double JsonNumber(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\":");
  return at == std::string::npos ? -1 : std::stod(json.substr(at + key.size() + 3));
}

std::unique_ptr<Subprocess> StartServer(const std::vector<std::string>& argv,
                                        const std::string& ready, int* port) {
  auto p = dogsearch::testing::StartServer(argv, ready, port);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

TEST(GatewayRealPhotosTest, SystemRank1IsAtLeastTheModelsOnTheSameSplit) {
  if (!fs::exists(DOGFACENET_DIR)) {
    GTEST_SKIP() << "DogFaceNet photos not found at " << DOGFACENET_DIR
                 << " (tools/fetch_dogfacenet.sh fetches them)";
  }
  dogsearch::testing::TempDir tmp;
  // 1,000 dogs with at least two photos, by folder name; linked, never copied.
  std::vector<std::string> dogs;
  for (const auto& e : fs::directory_iterator(DOGFACENET_DIR)) {
    size_t n = 0;
    for (const auto& f : fs::directory_iterator(e.path())) n += f.is_regular_file();
    if (n >= 2) dogs.push_back(e.path().filename().string());
  }
  std::sort(dogs.begin(), dogs.end());
  ASSERT_GE(dogs.size(), 1000u);
  dogs.resize(1000);
  fs::create_directories(tmp.File("dogs"));
  for (const std::string& d : dogs) {
    fs::create_directory_symlink(fs::path(DOGFACENET_DIR) / d, tmp.File("dogs/" + d));
  }

  // The model's own rank-1 on this split, and the gallery photos it chose.
  int code = 0;
  const std::string eval = RunCommand(
      absl::StrCat(EVAL_PATH, " --models_root ", DEFAULT_MODELS_DIR, " --data ", tmp.File("dogs"),
                   " --gallery_list ", tmp.File("gallery.txt")),
      &code);
  ASSERT_EQ(code, 0) << eval;
  const double model_rank1 = JsonNumber(eval, "rank1");
  std::set<std::string> gallery;
  for (absl::string_view line :
       absl::StrSplit(*ReadFile(tmp.File("gallery.txt")), '\n', absl::SkipEmpty())) {
    const fs::path p(std::string{line});
    gallery.insert(fs::weakly_canonical(p).string());
    const std::string dog = p.parent_path().filename().string();
    fs::create_directories(tmp.File("gallery/" + dog));
    fs::create_symlink(fs::weakly_canonical(p), tmp.File("gallery/" + dog + "/" + p.filename().string()));
  }
  ASSERT_EQ(gallery.size(), 1000u);

  int index_port = 0, embedding_port = 0, gateway_port = 0;
  auto index = StartServer({INDEX_SERVER_PATH, "--address=127.0.0.1:0",
                            "--data_dir=" + tmp.File("index"), "--log_level=warning"},
                           "index listening on port", &index_port);
  auto embedding = StartServer({EMBEDDING_SERVER_PATH, "--address=127.0.0.1:0",
                                "--model_dir=" + std::string(DEFAULT_MODELS_DIR),
                                "--watch_interval_seconds=0", "--log_level=warning"},
                               "embedding listening on port", &embedding_port);
  auto gateway = StartServer({GATEWAY_SERVER_PATH, "--address=127.0.0.1:0", "--http_port=-1",
                              "--data_dir=" + tmp.File("gateway"),
                              absl::StrCat("--embedding_address=127.0.0.1:", embedding_port),
                              absl::StrCat("--index_address=127.0.0.1:", index_port),
                              "--log_level=warning"},
                             "gateway listening on port", &gateway_port);
  const std::string gw = absl::StrCat("127.0.0.1:", gateway_port);
  std::string status;
  for (int i = 0; i < 300; ++i) {
    status = RunCommand(absl::StrCat(DOGSEARCH_CLI_PATH, " --gateway=", gw, " status"), &code);
    if (status.find("Serving model: (none") == std::string::npos && code == 0) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  const absl::Time import_start = absl::Now();
  const std::string imported = RunCommand(
      absl::StrCat(DOGSEARCH_CLI_PATH, " --gateway=", gw, " import ", tmp.File("gallery"),
                   " --parallel=4"),
      &code);
  ASSERT_EQ(code, 0) << imported;
  ASSERT_NE(imported.find("1000 enrolled"), std::string::npos) << imported;
  const double import_seconds = absl::ToDoubleSeconds(absl::Now() - import_start);

  // Every other photo of those dogs is a probe.
  std::vector<std::pair<std::string, std::string>> probes;  // (dog, path)
  for (const std::string& d : dogs) {
    for (const auto& f : fs::directory_iterator(fs::path(DOGFACENET_DIR) / d)) {
      if (!gallery.count(fs::weakly_canonical(f.path()).string())) {
        probes.emplace_back(d, f.path().string());
      }
    }
  }
  auto stub = v1::DogSearch::NewStub(*rpc::CreateChannel(gw, {}));
  std::atomic<size_t> next{0}, hits{0}, errors{0};
  std::vector<std::thread> workers;
  const absl::Time search_start = absl::Now();
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < probes.size(); i = next++) {
        v1::SearchRequest req;
        req.mutable_photo()->set_data(*ReadFile(probes[i].second));
        req.set_k(1);
        grpc::ClientContext ctx;
        rpc::PrepareContext(&ctx, {}, absl::Seconds(60));
        v1::SearchResponse resp;
        if (!stub->Search(&ctx, req, &resp).ok() || resp.matches().empty()) {
          ++errors;
          continue;
        }
        hits += resp.matches(0).dog_id() == probes[i].first;
      }
    });
  }
  for (auto& t : workers) t.join();
  const double search_seconds = absl::ToDoubleSeconds(absl::Now() - search_start);
  const double system_rank1 = static_cast<double>(hits) / probes.size();
  std::printf("real photos: %zu dogs, %zu probes; dogsearch-eval rank-1 %.4f, system rank-1 %.4f; "
              "import %.1f s, %zu searches in %.1f s with 4 clients\n",
              dogs.size(), probes.size(), model_rank1, system_rank1, import_seconds,
              probes.size(), search_seconds);
  EXPECT_EQ(errors.load(), 0u);
  // Ties between equally distant gallery photos may fall either way: allow one probe in 2,000.
  EXPECT_GE(system_rank1, model_rank1 - 0.0005) << eval;
}

}  // namespace
}  // namespace dogsearch::gateway
