// The whole system must not lose accuracy the model has: 1,000 DogFaceNet dogs, one gallery
// photo each (the exact photos dogsearch-eval picks for its rank-1), imported with the CLI into
// a running gateway/embedding/index; every other photo of those dogs searched over gRPC. The
// system's rank-1 must be at least dogsearch-eval's for the same model and split. Skips cleanly
// without the photos (tools/fetch_dogfacenet.sh fetches them).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/file_util.h"
#include "common/rpc/channel.h"
#include "dogsearch/v1/dogsearch.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/eventually.h"
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

// Index, embedding (the default model) and gateway servers in `tmp`; the constructor returns
// once the gateway serves a model.
struct Stack {
  explicit Stack(dogsearch::testing::TempDir& tmp) {
    int index_port = 0, embedding_port = 0, gateway_port = 0;
    index = StartServer({INDEX_SERVER_PATH, "--address=127.0.0.1:0",
                         "--data_dir=" + tmp.File("index"), "--log_level=warning"},
                        "index listening on port", &index_port);
    embedding = StartServer({EMBEDDING_SERVER_PATH, "--address=127.0.0.1:0",
                             "--model_dir=" + std::string(DEFAULT_MODELS_DIR),
                             "--watch_interval_seconds=0", "--log_level=warning"},
                            "embedding listening on port", &embedding_port);
    server =
        StartServer({GATEWAY_SERVER_PATH, "--address=127.0.0.1:0", "--http_port=-1",
                     "--data_dir=" + tmp.File("gateway"),
                     absl::StrCat("--embedding_address=127.0.0.1:", embedding_port),
                     absl::StrCat("--index_address=127.0.0.1:", index_port), "--log_level=warning"},
                    "gateway listening on port", &gateway_port);
    gateway = absl::StrCat("127.0.0.1:", gateway_port);
    (void)dogsearch::testing::Eventually(
        [&] {
          int code = 0;
          const std::string status = RunCommand(
              absl::StrCat(DOGSEARCH_CLI_PATH, " --gateway=", gateway, " status"), &code);
          return status.find("Serving model: (none") == std::string::npos && code == 0;
        },
        absl::Seconds(30), absl::Milliseconds(100));
  }
  std::unique_ptr<Subprocess> index, embedding, server;
  std::string gateway;
};

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
  const std::string eval =
      RunCommand(absl::StrCat(EVAL_PATH, " --models_root ", DEFAULT_MODELS_DIR, " --data ",
                              tmp.File("dogs"), " --gallery_list ", tmp.File("gallery.txt")),
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
    fs::create_symlink(fs::weakly_canonical(p),
                       tmp.File("gallery/" + dog + "/" + p.filename().string()));
  }
  ASSERT_EQ(gallery.size(), 1000u);

  Stack stack(tmp);
  const std::string& gw = stack.gateway;
  const absl::Time import_start = absl::Now();
  const std::string imported =
      RunCommand(absl::StrCat(DOGSEARCH_CLI_PATH, " --gateway=", gw, " import ",
                              tmp.File("gallery"), " --parallel=4"),
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
  std::printf(
      "real photos: %zu dogs, %zu probes; dogsearch-eval rank-1 %.4f, system rank-1 %.4f; "
      "import %.1f s, %zu searches in %.1f s with 4 clients\n",
      dogs.size(), probes.size(), model_rank1, system_rank1, import_seconds, probes.size(),
      search_seconds);
  EXPECT_EQ(errors.load(), 0u);
  // Ties between equally distant gallery photos may fall either way: allow one probe in 2,000.
  EXPECT_GE(system_rank1, model_rank1 - 0.0005) << eval;
}

// Honest answers on dogs the model never saw (the training run's 125 held-out dogs): half of
// them enrolled with one photo each (the photo dogsearch-eval picks), every photo of the other
// half searched as a dog that is not enrolled, every other photo of the enrolled half as one
// that is. At the gateway's default --target_fpir (5%), the share of never-enrolled dogs'
// searches answered with a confident match must stay near 5%; the share of enrolled dogs'
// searches answered confidently and rightly must be what dogsearch-eval predicted for this
// gallery size (served_threshold_dir_0.05); and the top answer's stated confidence must match
// how often it is right, bin by bin.
TEST(GatewayRealPhotosTest, NeverEnrolledDogsRarelyGetAConfidentMatch) {
  if (!fs::exists(DOGFACENET_DIR)) {
    GTEST_SKIP() << "DogFaceNet photos not found at " << DOGFACENET_DIR
                 << " (tools/fetch_dogfacenet.sh fetches them)";
  }
  dogsearch::testing::TempDir tmp;
  int code = 0;
  const std::string eval = RunCommand(
      absl::StrCat(EVAL_PATH, " --models_root ", DEFAULT_MODELS_DIR, " --data ", DOGFACENET_DIR,
                   " --holdout_fraction 0.1 --gallery_list ", tmp.File("gallery.txt")),
      &code);
  ASSERT_EQ(code, 0) << eval;
  const double predicted_dir = JsonNumber(eval, "served_threshold_dir_0.05");
  std::vector<fs::path> chosen;  // One photo per held-out dog, in dog order.
  for (absl::string_view line :
       absl::StrSplit(*ReadFile(tmp.File("gallery.txt")), '\n', absl::SkipEmpty())) {
    chosen.push_back(fs::weakly_canonical(fs::path(std::string{line})));
  }
  ASSERT_GE(chosen.size(), 100u);
  // Alternate dogs: enrolled, stranger, enrolled, ...
  std::set<std::string> enrolled_dogs;
  fs::create_directories(tmp.File("gallery"));
  for (size_t i = 0; i < chosen.size(); i += 2) {
    const std::string dog = chosen[i].parent_path().filename().string();
    enrolled_dogs.insert(dog);
    fs::create_directories(tmp.File("gallery/" + dog));
    fs::create_symlink(chosen[i], tmp.File("gallery/" + dog + "/" + chosen[i].filename().string()));
  }
  std::vector<std::tuple<std::string, std::string, bool>> probes;  // (dog, path, enrolled)
  for (const fs::path& g : chosen) {
    const std::string dog = g.parent_path().filename().string();
    const bool enrolled = enrolled_dogs.count(dog) > 0;
    for (const auto& f : fs::directory_iterator(g.parent_path())) {
      if (fs::weakly_canonical(f.path()) != g || !enrolled) {
        probes.emplace_back(dog, f.path().string(), enrolled);
      }
    }
  }

  Stack stack(tmp);
  const std::string& gw = stack.gateway;
  const std::string imported = RunCommand(
      absl::StrCat(DOGSEARCH_CLI_PATH, " --gateway=", gw, " import ", tmp.File("gallery")), &code);
  ASSERT_EQ(code, 0) << imported;

  auto stub = v1::DogSearch::NewStub(*rpc::CreateChannel(gw, {}));
  std::atomic<size_t> next{0}, errors{0};
  std::vector<v1::SearchResponse> answers(probes.size());
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < probes.size(); i = next++) {
        v1::SearchRequest req;
        req.mutable_photo()->set_data(*ReadFile(std::get<1>(probes[i])));
        grpc::ClientContext ctx;
        rpc::PrepareContext(&ctx, {}, absl::Seconds(60));
        if (!stub->Search(&ctx, req, &answers[i]).ok() || answers[i].matches().empty()) ++errors;
      }
    });
  }
  for (auto& t : workers) t.join();
  ASSERT_EQ(errors.load(), 0u);
  size_t strangers = 0, stranger_matches = 0, enrolled = 0, right_matches = 0;
  std::vector<double> stated(10, 0), observed(10, 0), count(10, 0);
  for (size_t i = 0; i < probes.size(); ++i) {
    const v1::SearchResponse& r = answers[i];
    const bool is_enrolled = std::get<2>(probes[i]);
    const bool right = is_enrolled && r.matches(0).dog_id() == std::get<0>(probes[i]);
    const bool match = r.answer() == v1::SEARCH_ANSWER_MATCH;
    EXPECT_EQ(r.confident(), match);
    EXPECT_EQ(r.gallery_photos(), enrolled_dogs.size());
    for (const v1::DogMatch& m : r.matches()) EXPECT_EQ(m.same_dog(), match && m.rank() == 1);
    if (is_enrolled) {
      ++enrolled;
      right_matches += match && right;
    } else {
      ++strangers;
      stranger_matches += match;
    }
    const int bin = std::min(9, static_cast<int>(r.top_confidence() * 10));
    stated[bin] += r.top_confidence();
    observed[bin] += right;
    ++count[bin];
  }
  const double fpir = static_cast<double>(stranger_matches) / strangers;
  const double dir = static_cast<double>(right_matches) / enrolled;
  double ece = 0;
  std::string bins;
  for (int b = 0; b < 10; ++b) {
    if (count[b] == 0) continue;
    ece += std::abs(stated[b] - observed[b]) / probes.size();
    absl::StrAppend(&bins, " [", b / 10.0, ",", (b + 1) / 10.0, "): ", count[b], " stated ",
                    stated[b] / count[b], " observed ", observed[b] / count[b], ";");
  }
  std::printf(
      "honest answers: %zu enrolled dogs (1 photo each), %zu stranger searches, %zu "
      "enrolled searches; confident matches for strangers %.4f (target 0.05), confident "
      "and right for enrolled %.4f (dogsearch-eval predicted %.4f); top-answer "
      "confidence ECE %.4f;%s\n",
      enrolled_dogs.size(), strangers, enrolled, fpir, dir, predicted_dir, ece, bins.c_str());
  EXPECT_LE(fpir, 0.05 + 0.04);
  EXPECT_NEAR(dir, predicted_dir, 0.10);
  EXPECT_LT(ece, 0.08);
}

}  // namespace
}  // namespace dogsearch::gateway
