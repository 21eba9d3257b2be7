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
#include <map>
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

// dogsearch-eval's --gallery_list read back: each dog's chosen photos (canonical paths).
std::map<std::string, std::vector<fs::path>> ReadGalleryList(const std::string& file) {
  std::map<std::string, std::vector<fs::path>> by_dog;
  for (absl::string_view line : absl::StrSplit(*ReadFile(file), '\n', absl::SkipEmpty())) {
    const fs::path p = fs::weakly_canonical(fs::path(std::string{line}));
    by_dog[p.parent_path().filename().string()].push_back(p);
  }
  return by_dog;
}

// Links a dog's photos into <dir>/<dog>/ (what `dogsearch import` reads; never copied) and
// adds their canonical paths to *enrolled.
void LinkDog(const std::string& dir, const std::string& dog, const std::vector<fs::path>& photos,
             std::set<std::string>* enrolled) {
  fs::create_directories(dir + "/" + dog);
  for (const fs::path& p : photos) {
    fs::create_symlink(p, dir + "/" + dog + "/" + p.filename().string());
    enrolled->insert(p.string());
  }
}

// Every photo in a dog's folder that is not enrolled: its searches.
std::vector<std::string> OtherPhotos(const fs::path& dog_dir,
                                     const std::set<std::string>& enrolled) {
  std::vector<std::string> out;
  for (const auto& f : fs::directory_iterator(dog_dir)) {
    if (!enrolled.count(fs::weakly_canonical(f.path()).string())) out.push_back(f.path());
  }
  return out;
}

// Searches every photo at `paths` through the gateway, 4 clients at a time, with request size
// k (0 = the default); one response per photo, in order. *errors counts the searches that
// failed or found nothing (their responses are left empty).
std::vector<v1::SearchResponse> SearchAll(const std::string& gateway,
                                          const std::vector<std::string>& paths, uint32_t k,
                                          size_t* errors) {
  auto stub = v1::DogSearch::NewStub(*rpc::CreateChannel(gateway, {}));
  std::vector<v1::SearchResponse> answers(paths.size());
  std::atomic<size_t> next{0}, failed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < paths.size(); i = next++) {
        v1::SearchRequest req;
        req.mutable_photo()->set_data(*ReadFile(paths[i]));
        req.set_k(k);
        grpc::ClientContext ctx;
        rpc::PrepareContext(&ctx, {}, absl::Seconds(60));
        if (!stub->Search(&ctx, req, &answers[i]).ok() || answers[i].matches().empty()) {
          answers[i].Clear();
          ++failed;
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  *errors = failed;
  return answers;
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
  const std::string eval =
      RunCommand(absl::StrCat(EVAL_PATH, " --models_root ", DEFAULT_MODELS_DIR, " --data ",
                              tmp.File("dogs"), " --gallery_list ", tmp.File("gallery.txt")),
                 &code);
  ASSERT_EQ(code, 0) << eval;
  const double model_rank1 = JsonNumber(eval, "rank1");
  std::set<std::string> gallery;
  for (const auto& [dog, photos] : ReadGalleryList(tmp.File("gallery.txt"))) {
    LinkDog(tmp.File("gallery"), dog, photos, &gallery);
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
    for (std::string& path : OtherPhotos(fs::path(DOGFACENET_DIR) / d, gallery)) {
      probes.emplace_back(d, std::move(path));
    }
  }
  std::vector<std::string> paths;
  for (const auto& [dog, path] : probes) paths.push_back(path);
  const absl::Time search_start = absl::Now();
  size_t errors = 0, hits = 0;
  const std::vector<v1::SearchResponse> answers = SearchAll(gw, paths, 1, &errors);
  for (size_t i = 0; i < probes.size(); ++i) {
    hits += !answers[i].matches().empty() && answers[i].matches(0).dog_id() == probes[i].first;
  }
  const double search_seconds = absl::ToDoubleSeconds(absl::Now() - search_start);
  const double system_rank1 = static_cast<double>(hits) / probes.size();
  std::printf(
      "real photos: %zu dogs, %zu probes; dogsearch-eval rank-1 %.4f, system rank-1 %.4f; "
      "import %.1f s, %zu searches in %.1f s with 4 clients\n",
      dogs.size(), probes.size(), model_rank1, system_rank1, import_seconds, probes.size(),
      search_seconds);
  EXPECT_EQ(errors, 0u);
  // Ties between equally distant gallery photos may fall either way: allow one probe in 2,000.
  EXPECT_GE(system_rank1, model_rank1 - 0.0005) << eval;
}

// Dogs enrolled with several photos are ranked by all of them (common/model/dog_score.h): the
// training run's 125 held-out dogs, three photos each (the photos dogsearch-eval picks for
// rank1_3_enrolled; a dog with fewer has all its photos enrolled), imported with the CLI; every
// other photo of theirs searched over gRPC with the default request. The system's rank-1 must
// be what dogsearch-eval predicts for the gateway's ranking (searched_rank1_3_enrolled), up to
// the index's approximate search and ties.
TEST(GatewayRealPhotosTest, DogsWithThreePhotosRankAsDogsearchEvalPredicts) {
  if (!fs::exists(DOGFACENET_DIR)) {
    GTEST_SKIP() << "DogFaceNet photos not found at " << DOGFACENET_DIR
                 << " (tools/fetch_dogfacenet.sh fetches them)";
  }
  dogsearch::testing::TempDir tmp;
  int code = 0;
  const std::string eval = RunCommand(
      absl::StrCat(EVAL_PATH, " --models_root ", DEFAULT_MODELS_DIR, " --data ", DOGFACENET_DIR,
                   " --holdout_fraction 0.1 --gallery_per_dog 3 --gallery_list ",
                   tmp.File("gallery.txt")),
      &code);
  ASSERT_EQ(code, 0) << eval;
  const double predicted = JsonNumber(eval, "searched_rank1_3_enrolled");
  const double best_photo = JsonNumber(eval, "rank1_3_enrolled");
  std::set<std::string> gallery, dogs;
  for (const auto& [dog, photos] : ReadGalleryList(tmp.File("gallery.txt"))) {
    LinkDog(tmp.File("gallery"), dog, photos, &gallery);
    dogs.insert(dog);
  }
  ASSERT_GE(dogs.size(), 100u);
  ASSERT_GT(gallery.size(), 2 * dogs.size());
  std::vector<std::pair<std::string, std::string>> probes;  // (dog, path)
  for (const std::string& d : dogs) {
    for (std::string& path : OtherPhotos(fs::path(DOGFACENET_DIR) / d, gallery)) {
      probes.emplace_back(d, std::move(path));
    }
  }
  ASSERT_GE(probes.size(), 100u);

  Stack stack(tmp);
  const std::string imported =
      RunCommand(absl::StrCat(DOGSEARCH_CLI_PATH, " --gateway=", stack.gateway, " import ",
                              tmp.File("gallery"), " --parallel=4"),
                 &code);
  ASSERT_EQ(code, 0) << imported;
  std::vector<std::string> paths;
  for (const auto& [dog, path] : probes) paths.push_back(path);
  size_t errors = 0, hits = 0, multi_photo_matches = 0;
  const std::vector<v1::SearchResponse> answers = SearchAll(stack.gateway, paths, 0, &errors);
  for (size_t i = 0; i < probes.size(); ++i) {
    const v1::SearchResponse& resp = answers[i];
    if (resp.matches().empty()) continue;
    hits += resp.matches(0).dog_id() == probes[i].first;
    for (int m = 1; m < resp.matches_size(); ++m) {
      // Dogs come in score order.
      EXPECT_LE(resp.matches(m - 1).score(), resp.matches(m).score());
    }
    multi_photo_matches += resp.matches(0).photos_size() > 1;
  }
  const double system_rank1 = static_cast<double>(hits) / probes.size();
  std::printf(
      "three photos per dog: %zu held-out dogs, %zu photos enrolled, %zu probes; dogsearch-eval "
      "rank-1 by the best photo %.4f, as the gateway ranks %.4f; system rank-1 %.4f; top match "
      "with more than one photo in %zu searches\n",
      dogs.size(), gallery.size(), probes.size(), best_photo, predicted, system_rank1,
      multi_photo_matches);
  EXPECT_EQ(errors, 0u);
  EXPECT_GT(multi_photo_matches, probes.size() / 2);
  // HNSW is approximate and equal scores may fall either way: allow one probe in 100.
  EXPECT_GE(system_rank1, predicted - 0.01) << eval;
}

// What a gallery of the held-out dogs answers: half of them enrolled (alternate dogs, with
// the photos dogsearch-eval picks for its gallery of `per_dog` photos), every photo of the
// other half searched as a dog that is not enrolled, every other photo of the enrolled half as
// one that is.
struct HonestAnswers {
  size_t enrolled_dogs = 0, enrolled_photos = 0, strangers = 0, enrolled = 0;
  double fpir = 0;           // Share of strangers' searches answered with a confident match.
  double dir = 0;            // Share of enrolled dogs' searches answered confidently and rightly.
  double ece = 0;            // Top-answer confidence against how often it is right, 10 bins.
  double predicted_dir = 0;  // dogsearch-eval's served_threshold_dir_0.05 (one photo per dog).
  std::string bins;
};

HonestAnswers MeasureHonestAnswers(uint32_t per_dog) {
  HonestAnswers h;
  dogsearch::testing::TempDir tmp;
  int code = 0;
  const std::string eval =
      RunCommand(absl::StrCat(EVAL_PATH, " --models_root ", DEFAULT_MODELS_DIR, " --data ",
                              DOGFACENET_DIR, " --holdout_fraction 0.1 --gallery_per_dog ", per_dog,
                              " --gallery_list ", tmp.File("gallery.txt")),
                 &code);
  EXPECT_EQ(code, 0) << eval;
  h.predicted_dir = JsonNumber(eval, "served_threshold_dir_0.05");
  const std::map<std::string, std::vector<fs::path>> chosen =
      ReadGalleryList(tmp.File("gallery.txt"));  // Gallery photos of each held-out dog.
  EXPECT_GE(chosen.size(), 100u);
  // Alternate dogs: enrolled, stranger, enrolled, ...
  std::set<std::string> gallery;
  std::vector<std::tuple<std::string, std::string, bool>> probes;  // (dog, path, enrolled)
  bool enrol = true;
  for (const auto& [dog, photos] : chosen) {
    if (enrol) {
      ++h.enrolled_dogs;
      LinkDog(tmp.File("gallery"), dog, photos, &gallery);
    }
    for (std::string& path : OtherPhotos(photos.front().parent_path(), gallery)) {
      probes.emplace_back(dog, std::move(path), enrol);
    }
    enrol = !enrol;
  }
  h.enrolled_photos = gallery.size();

  Stack stack(tmp);
  const std::string imported =
      RunCommand(absl::StrCat(DOGSEARCH_CLI_PATH, " --gateway=", stack.gateway, " import ",
                              tmp.File("gallery")),
                 &code);
  EXPECT_EQ(code, 0) << imported;

  std::vector<std::string> paths;
  for (const auto& probe : probes) paths.push_back(std::get<1>(probe));
  size_t errors = 0;
  const std::vector<v1::SearchResponse> answers = SearchAll(stack.gateway, paths, 0, &errors);
  EXPECT_EQ(errors, 0u);
  if (errors > 0) return h;
  size_t stranger_matches = 0, right_matches = 0;
  std::vector<double> stated(10, 0), observed(10, 0), count(10, 0);
  for (size_t i = 0; i < probes.size(); ++i) {
    const v1::SearchResponse& r = answers[i];
    const bool is_enrolled = std::get<2>(probes[i]);
    const bool right = is_enrolled && r.matches(0).dog_id() == std::get<0>(probes[i]);
    const bool match = r.answer() == v1::SEARCH_ANSWER_MATCH;
    EXPECT_EQ(r.confident(), match);
    EXPECT_EQ(r.gallery_photos(), h.enrolled_photos);
    for (const v1::DogMatch& m : r.matches()) EXPECT_EQ(m.same_dog(), match && m.rank() == 1);
    if (is_enrolled) {
      ++h.enrolled;
      right_matches += match && right;
    } else {
      ++h.strangers;
      stranger_matches += match;
    }
    const int bin = std::min(9, static_cast<int>(r.top_confidence() * 10));
    stated[bin] += r.top_confidence();
    observed[bin] += right;
    ++count[bin];
  }
  h.fpir = static_cast<double>(stranger_matches) / h.strangers;
  h.dir = static_cast<double>(right_matches) / h.enrolled;
  for (int b = 0; b < 10; ++b) {
    if (count[b] == 0) continue;
    h.ece += std::abs(stated[b] - observed[b]) / probes.size();
    absl::StrAppend(&h.bins, " [", b / 10.0, ",", (b + 1) / 10.0, "): ", count[b], " stated ",
                    stated[b] / count[b], " observed ", observed[b] / count[b], ";");
  }
  std::printf(
      "honest answers: %zu enrolled dogs (%u photo(s) each, %zu photos), %zu stranger searches, "
      "%zu enrolled searches; confident matches for strangers %.4f (target 0.05), confident "
      "and right for enrolled %.4f (dogsearch-eval predicted %.4f for one photo each); "
      "top-answer confidence ECE %.4f;%s\n",
      h.enrolled_dogs, per_dog, h.enrolled_photos, h.strangers, h.enrolled, h.fpir, h.dir,
      h.predicted_dir, h.ece, h.bins.c_str());
  return h;
}

// Honest answers on dogs the model never saw (the training run's 125 held-out dogs), one photo
// per enrolled dog. At the gateway's default --target_fpir (5%), the share of never-enrolled
// dogs' searches answered with a confident match must stay near 5%; the share of enrolled dogs'
// searches answered confidently and rightly must be what dogsearch-eval predicted for this
// gallery size (served_threshold_dir_0.05); and the top answer's stated confidence must match
// how often it is right, bin by bin.
TEST(GatewayRealPhotosTest, NeverEnrolledDogsRarelyGetAConfidentMatch) {
  if (!fs::exists(DOGFACENET_DIR)) {
    GTEST_SKIP() << "DogFaceNet photos not found at " << DOGFACENET_DIR
                 << " (tools/fetch_dogfacenet.sh fetches them)";
  }
  const HonestAnswers h = MeasureHonestAnswers(1);
  EXPECT_LE(h.fpir, 0.05 + 0.04);
  EXPECT_NEAR(h.dir, h.predicted_dir, 0.10);
  EXPECT_LT(h.ece, 0.08);
}

// The same with three photos per enrolled dog, as users enrol: more photos of the enrolled dogs
// (each a chance for a stranger to land near one) must not break the promise to strangers, and
// the enrolled dogs must be found confidently at least as often as with one photo.
TEST(GatewayRealPhotosTest, NeverEnrolledDogsRarelyMatchDogsEnrolledWithThreePhotos) {
  if (!fs::exists(DOGFACENET_DIR)) {
    GTEST_SKIP() << "DogFaceNet photos not found at " << DOGFACENET_DIR
                 << " (tools/fetch_dogfacenet.sh fetches them)";
  }
  const HonestAnswers h = MeasureHonestAnswers(3);
  EXPECT_GT(h.enrolled_photos, 2 * h.enrolled_dogs);
  EXPECT_LE(h.fpir, 0.05 + 0.04);
  EXPECT_GE(h.dir, h.predicted_dir - 0.05);
  EXPECT_LT(h.ece, 0.08);
}

}  // namespace
}  // namespace dogsearch::gateway
