// GatewayCore over in-memory backends: enrolment, search and verification answers, error
// mapping and atomicity when a backend fails, and blue/green upgrades (under concurrent
// searches and enrolments, failing part-way, and interrupted by a restart).
#include "services/gateway/core/gateway_core.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/sha256.h"
#include "common/metrics/metrics.h"
#include "common/model/cohort.h"
#include "common/model/model_spec_proto.h"
#include "services/gateway/core/rollout_hooks.h"
#include "services/gateway/core/search_answer.h"
#include "services/gateway/core/vectors.h"
#include "services/trainer/core/open_set.h"
#include "tests/gateway/fakes.h"
#include "tests/testing/eventually.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::gateway {
namespace {

using testing::FakeEmbedding;
using testing::FakeIndex;
using testing::FakePhoto;

const absl::Time kNoDeadline = absl::InfiniteFuture();

class GatewayCoreTest : public ::testing::Test {
 protected:
  GatewayCoreTest() : embedding_("v1") {
    store_ = *GalleryStore::Open(dir_.File("gallery.sqlite"));
    photos_ = std::make_unique<PhotoStore>(*PhotoStore::Open(dir_.File("photos")));
    options_.retire_grace = absl::Milliseconds(300);
    options_.supervise_interval = absl::Milliseconds(50);
    options_.reembed_batch = 4;
    embedding_.AddCheckpoint("v2");
  }
  ~GatewayCoreTest() override { core_.reset(); }

  // (Re)starts the core on the same store and backends; waits until it serves.
  void StartCore() {
    core_.reset();
    core_ = std::make_unique<GatewayCore>(
        GatewayDeps{store_.get(), photos_.get(), &embedding_, &index_}, options_);
    core_->Start();
    (void)dogsearch::testing::Eventually([&] { return core_->serving(); }, absl::Seconds(2),
                                         absl::Milliseconds(10));
    ASSERT_TRUE(core_->serving());
  }
  v1::EnrollRequest EnrollRequest(int dog, int photos) {
    v1::EnrollRequest r;
    r.set_dog_id(absl::StrCat("dog", dog));
    r.set_name(absl::StrCat("Dog ", dog));
    for (int p = 0; p < photos; ++p) {
      v1::Photo* ph = r.add_photos();
      ph->set_data(FakePhoto(dog, p));
      ph->set_name(absl::StrCat(dog, ".", p, ".jpg"));
    }
    return r;
  }
  absl::Status Enroll(int dog, int photos) {
    return core_->Enroll(EnrollRequest(dog, photos), kNoDeadline).status();
  }
  absl::StatusOr<v1::SearchResponse> Search(int dog, int photo, uint32_t k = 3) {
    v1::SearchRequest r;
    r.mutable_photo()->set_data(FakePhoto(dog, photo));
    r.set_k(k);
    return core_->Search(r, kNoDeadline);
  }
  v1::UpgradeProgress WaitUpgrade() {
    v1::UpgradeProgress p;
    (void)dogsearch::testing::Eventually(
        [&] {
          p = core_->GetModelStatus().upgrade();
          return p.state() == v1::UPGRADE_STATE_SUCCEEDED || p.state() == v1::UPGRADE_STATE_FAILED;
        },
        absl::Seconds(10));
    return p;
  }

  dogsearch::testing::TempDir dir_;
  FakeEmbedding embedding_;
  FakeIndex index_;
  std::unique_ptr<GalleryStore> store_;
  std::unique_ptr<PhotoStore> photos_;
  GatewayOptions options_;
  std::unique_ptr<GatewayCore> core_;
};

// --index_vector_encoding, --index_max_records and the HNSW flags reach the gallery
// collections the gateway creates, at bootstrap and on an upgrade.
TEST_F(GatewayCoreTest, GalleryCollectionsAreCreatedWithTheConfiguredEncoding) {
  options_.setup.vector_encoding = v1::VECTOR_ENCODING_INT8;
  options_.setup.hnsw.set_m(24);
  options_.setup.max_records = 25'000'000;
  StartCore();
  auto info = index_.GetCollection("gallery__v1", kNoDeadline);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->vector_encoding(), v1::VECTOR_ENCODING_INT8);
  EXPECT_EQ(info->hnsw().m(), 24u);
  EXPECT_EQ(info->max_records(), 25'000'000u);
  ASSERT_TRUE(Enroll(1, 2).ok());
  v1::StartModelUpgradeRequest up;
  up.set_version("v2");
  ASSERT_TRUE(core_->StartModelUpgrade(up).ok());
  EXPECT_EQ(WaitUpgrade().state(), v1::UPGRADE_STATE_SUCCEEDED);
  info = index_.GetCollection("gallery__v2", kNoDeadline);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->vector_encoding(), v1::VECTOR_ENCODING_INT8);
  EXPECT_EQ(info->max_records(), 25'000'000u);
}

// An enrolled photo searched again is at distance 0: the index's 1 - cos carries float rounding
// (a few 1e-7) that must not become an L2 distance of 5e-4 after the square root (a threshold
// of 0, as an extreme target FPIR gives, would then refuse the enrolled photo itself). A
// difference beyond rounding is kept.
TEST_F(GatewayCoreTest, AnEnrolledPhotoSearchedAgainIsAtDistanceZeroDespiteRounding) {
  StartCore();
  ASSERT_TRUE(Enroll(1, 2).ok());
  ASSERT_TRUE(Enroll(2, 2).ok());
  auto search_enrolled = [&] {
    v1::SearchRequest r;
    r.mutable_photo()->set_data(FakePhoto(1, 0));
    return core_->Search(r, kNoDeadline);
  };
  index_.set_distance_noise(2.4e-7f);  // Two float ulps of 1 - cos.
  auto same = search_enrolled();
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->matches(0).dog_id(), "dog1");
  EXPECT_EQ(same->matches(0).distance(), 0.f);
  EXPECT_EQ(same->matches(0).photos(0).distance(), 0.f);
  index_.set_distance_noise(1e-5f);  // Beyond rounding: a real (tiny) difference.
  auto near = search_enrolled();
  ASSERT_TRUE(near.ok()) << near.status();
  EXPECT_NEAR(near->matches(0).distance(), std::sqrt(2e-5f), 1e-4);
}

TEST_F(GatewayCoreTest, BootstrapsFromTheEmbeddingDefaultAndPersistsIt) {
  StartCore();
  EXPECT_EQ(core_->GetModelStatus().serving_version(), "v1");
  EXPECT_EQ(index_.AliasTarget("gallery"), "gallery__v1");
  EXPECT_EQ(store_->GetMeta("serving_version").value_or(""), "v1");
  // The embedding default changes; a restarted gateway keeps serving its gallery's version.
  ASSERT_TRUE(embedding_.LoadModel("v2", true, kNoDeadline).ok());
  StartCore();
  EXPECT_EQ(core_->GetModelStatus().serving_version(), "v1");
}

TEST_F(GatewayCoreTest, SearchFindsTheEnrolledDogFirst) {
  StartCore();
  for (int d = 0; d < 12; ++d) ASSERT_TRUE(Enroll(d, 3).ok());
  for (int d = 0; d < 12; ++d) {
    auto r = Search(d, 7);  // A photo that was never enrolled.
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->matches_size(), 3);
    EXPECT_EQ(r->matches(0).dog_id(), absl::StrCat("dog", d));
    EXPECT_EQ(r->matches(0).name(), absl::StrCat("Dog ", d));
    EXPECT_EQ(r->matches(0).rank(), 1u);
    EXPECT_TRUE(r->matches(0).same_dog());
    EXPECT_TRUE(r->confident());
    EXPECT_EQ(r->answer(), v1::SEARCH_ANSWER_MATCH);
    EXPECT_GT(r->top_confidence(), 0.9f);
    EXPECT_EQ(r->gallery_photos(), 36u);
    EXPECT_GT(r->match_threshold(), r->matches(0).distance());
    EXPECT_GT(r->matches(0).confidence(), 0.9f);
    EXPECT_LT(r->matches(1).confidence(), 0.1f);
    EXPECT_FALSE(r->matches(1).same_dog());  // Lower ranks are only "also similar".
    EXPECT_EQ(r->matches(0).photos_size(), 3);
    EXPECT_LE(r->matches(0).distance(), r->matches(1).distance());
    EXPECT_EQ(r->model_version(), "v1");
  }
  // A dog that is not enrolled: answers, but not confidently.
  auto stranger = Search(99, 0);
  ASSERT_TRUE(stranger.ok());
  EXPECT_FALSE(stranger->confident());
  EXPECT_EQ(stranger->answer(), v1::SEARCH_ANSWER_NO_MATCH);
  EXPECT_LT(stranger->top_confidence(), 0.25f);
  EXPECT_FALSE(stranger->matches(0).same_dog());
}

TEST_F(GatewayCoreTest, AMatchNeedsACloserDogAsTheGalleryGrows) {
  // The same query distance that is a confident match in a small gallery is only a possible
  // match in a large one: the 1:N threshold follows the gallery's size.
  const model::IdentificationCalibration c =
      model::FromProto(embedding_.GetModel("v1", kNoDeadline)->metrics()).identification;
  AnswerPolicy policy;
  const float d = 0.5f;  // FMR ~ 2.5e-5 on the fake calibration.
  EXPECT_EQ(DecideAnswer(c, 0.6f, d, 1.4f, 100, policy).answer, v1::SEARCH_ANSWER_MATCH);
  EXPECT_EQ(DecideAnswer(c, 0.6f, d, 1.4f, 3000, policy).answer, v1::SEARCH_ANSWER_POSSIBLE_MATCH);
  EXPECT_EQ(DecideAnswer(c, 0.6f, 1.4f, 1.41f, 100, policy).answer, v1::SEARCH_ANSWER_NO_MATCH);
  EXPECT_GT(DecideAnswer(c, 0.6f, d, 1.4f, 100, policy).match_threshold,
            DecideAnswer(c, 0.6f, d, 1.4f, 3000, policy).match_threshold);
  // A model without a 1:N calibration never claims a match.
  const SearchDecision none = DecideAnswer({}, 0.6f, 0.1f, 1.4f, 100, policy);
  EXPECT_EQ(none.answer, v1::SEARCH_ANSWER_POSSIBLE_MATCH);
  EXPECT_EQ(DecideAnswer({}, 0.6f, 0.9f, 1.4f, 100, policy).answer, v1::SEARCH_ANSWER_NO_MATCH);
  // An empty gallery: no match, thresholds still reported.
  EXPECT_EQ(DecideAnswer(c, 0.6f, std::nullopt, std::nullopt, 0, policy).answer,
            v1::SEARCH_ANSWER_NO_MATCH);
}

// Honest answers end to end on generated dogs: the trainer's evaluation fits the 1:N
// calibration on 200 other generated dogs ("validation"); 40 dogs are enrolled with one photo
// each; 400 dogs that were never enrolled are searched. At the default 5% target the share of
// strangers answered with a confident match stays within a few points of 5%, and the share of
// enrolled dogs' searches answered confidently and rightly is what the evaluation predicted
// for a gallery of this size.
TEST_F(GatewayCoreTest, NeverEnrolledDogsGetAConfidentMatchAtTheConfiguredRate) {
  auto table = [](int first, int dogs, int photos) {
    trainer::EmbeddingTable t;
    t.dim = FakeEmbedding::kDim;
    for (int d = first; d < first + dogs; ++d) {
      for (int p = 0; p < photos; ++p) {
        const std::vector<float> v = FakeEmbedding::VectorFor("v1", FakePhoto(d, p));
        t.vectors.insert(t.vectors.end(), v.begin(), v.end());
        t.labels.push_back(d);
      }
    }
    return t;
  };
  model::EvalMetrics metrics;
  metrics.identification = trainer::CalibrateIdentification(table(1000, 200, 4), 1);
  ASSERT_TRUE(metrics.identification.calibrated());
  // What the evaluation predicts for 40 enrolled dogs (half of an 80-dog table).
  const trainer::OpenSetFigures predicted =
      trainer::OpenSet(table(1000, 80, 4), 1, &metrics.identification);
  v1::EvalMetrics proto;
  model::ToProto(metrics, &proto);
  embedding_.set_identification(proto.identification());
  StartCore();
  for (int d = 0; d < 40; ++d) ASSERT_TRUE(Enroll(d, 1).ok());
  int stranger_matches = 0;
  for (int d = 2000; d < 2400; ++d) {
    auto r = Search(d, 0);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->gallery_photos(), 40u);
    stranger_matches += r->answer() == v1::SEARCH_ANSWER_MATCH;
  }
  int right_matches = 0;
  for (int d = 0; d < 40; ++d) {
    for (int p = 1; p <= 3; ++p) {
      auto r = Search(d, p);
      ASSERT_TRUE(r.ok()) << r.status();
      right_matches += r->answer() == v1::SEARCH_ANSWER_MATCH &&
                       r->matches(0).dog_id() == absl::StrCat("dog", d);
    }
  }
  const double fpir = stranger_matches / 400.0, dir = right_matches / 120.0;
  EXPECT_NEAR(fpir, 0.05, 0.04) << stranger_matches << " of 400 strangers matched";
  EXPECT_NEAR(dir, predicted.model_dir_5e2, 0.1);
  EXPECT_NEAR(predicted.model_fpir_5e2, 0.05, 0.04);
}

TEST_F(GatewayCoreTest, ReturnsKDistinctDogsEvenWhenOneDogHasManyPhotos) {
  StartCore();
  ASSERT_TRUE(Enroll(0, 32).ok());
  for (int d = 1; d < 6; ++d) ASSERT_TRUE(Enroll(d, 1).ok());
  auto r = Search(0, 40, 5);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->matches_size(), 5);
}

TEST_F(GatewayCoreTest, EnrollRefusalsNameTheProblem) {
  StartCore();
  ASSERT_TRUE(Enroll(1, 2).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(Enroll(1, 2)));
  v1::EnrollRequest steal = EnrollRequest(2, 1);
  steal.add_photos()->set_data(FakePhoto(1, 0));  // Rex's photo.
  auto s = core_->Enroll(steal, kNoDeadline);
  EXPECT_TRUE(absl::IsAlreadyExists(s.status()));
  EXPECT_NE(s.status().message().find("dog1"), std::string::npos);
  v1::EnrollRequest bad = EnrollRequest(3, 1);
  bad.add_photos()->set_data("not a photo");
  bad.mutable_photos(1)->set_name("junk.bin");
  auto b = core_->Enroll(bad, kNoDeadline);
  EXPECT_TRUE(absl::IsInvalidArgument(b.status()));
  EXPECT_NE(b.status().message().find("junk.bin"), std::string::npos);
  v1::EnrollRequest none = EnrollRequest(4, 0);
  EXPECT_TRUE(absl::IsInvalidArgument(core_->Enroll(none, kNoDeadline).status()));
  v1::EnrollRequest many = EnrollRequest(5, 33);
  EXPECT_TRUE(absl::IsInvalidArgument(core_->Enroll(many, kNoDeadline).status()));
  v1::EnrollRequest noname = EnrollRequest(6, 1);
  noname.set_name("");
  EXPECT_TRUE(absl::IsInvalidArgument(core_->Enroll(noname, kNoDeadline).status()));
  // Duplicated photos within one request are stored once.
  v1::EnrollRequest twice = EnrollRequest(7, 1);
  *twice.add_photos() = twice.photos(0);
  auto t = core_->Enroll(twice, kNoDeadline);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->photos_size(), 1);
  EXPECT_EQ(store_->CountDogs(), 2u);
}

TEST_F(GatewayCoreTest, BackendFailuresLeaveNothingHalfDone) {
  StartCore();
  // The embedding service refuses a photo: nothing stored.
  embedding_.set_fail_dog(5);
  EXPECT_TRUE(absl::IsInvalidArgument(Enroll(5, 2)));
  embedding_.set_fail_dog(-1);
  EXPECT_TRUE(absl::IsNotFound(core_
                                   ->GetDog([] {
                                     v1::GetDogRequest g;
                                     g.set_dog_id("dog5");
                                     return g;
                                   }())
                                   .status()));
  // The index fails the write: no dog row; a retry succeeds.
  index_.FailUpserts("gallery__v1", 1);
  EXPECT_TRUE(absl::IsUnavailable(Enroll(6, 2)));
  EXPECT_EQ(store_->CountDogs(), 0u);
  ASSERT_TRUE(Enroll(6, 2).ok());
  EXPECT_EQ(index_.Count("gallery__v1"), 2u);
  // The index is down for a delete: the dog stays, and the delete can be retried.
  index_.set_down(true);
  v1::DeleteDogRequest del;
  del.set_dog_id("dog6");
  absl::Status d = core_->DeleteDog(del, kNoDeadline);
  EXPECT_TRUE(absl::IsUnavailable(d)) << d;
  EXPECT_EQ(store_->CountDogs(), 1u);
  // Searches fail fast and say which backend.
  auto s = Search(6, 0);
  EXPECT_TRUE(absl::IsUnavailable(s.status()));
  EXPECT_NE(s.status().message().find("index"), std::string::npos);
  index_.set_down(false);
  ASSERT_TRUE(core_->DeleteDog(del, kNoDeadline).ok());
  EXPECT_EQ(index_.Count("gallery__v1"), 0u);
  EXPECT_EQ(store_->CountPhotos(), 0u);
  EXPECT_TRUE(absl::IsNotFound(core_->DeleteDog(del, kNoDeadline)));
  embedding_.set_down(true);
  EXPECT_TRUE(absl::IsUnavailable(Search(6, 0).status()));
}

TEST_F(GatewayCoreTest, PhotosCanBeAddedAndRemoved) {
  StartCore();
  ASSERT_TRUE(Enroll(1, 1).ok());
  v1::AddPhotosRequest add;
  add.set_dog_id("dog1");
  add.add_photos()->set_data(FakePhoto(1, 0));  // Already there.
  add.add_photos()->set_data(FakePhoto(1, 1));
  auto r = core_->AddPhotos(add, kNoDeadline);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->added_photo_ids_size(), 1);
  EXPECT_EQ(r->duplicate_photo_ids_size(), 1);
  EXPECT_EQ(r->dog().photos_size(), 2);
  EXPECT_EQ(index_.Count("gallery__v1"), 2u);
  v1::RemovePhotoRequest rm;
  rm.set_dog_id("dog1");
  rm.set_photo_id(r->added_photo_ids(0));
  auto after = core_->RemovePhoto(rm, kNoDeadline);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->photos_size(), 1);
  EXPECT_EQ(index_.Count("gallery__v1"), 1u);
  EXPECT_TRUE(absl::IsNotFound(core_->GetPhoto(rm.photo_id()).status()));
  rm.set_photo_id(after->photos(0).photo_id());
  EXPECT_TRUE(absl::IsFailedPrecondition(core_->RemovePhoto(rm, kNoDeadline).status()));
  EXPECT_EQ(*core_->GetPhoto(rm.photo_id()), FakePhoto(1, 0));
  add.set_dog_id("nobody");
  EXPECT_TRUE(absl::IsNotFound(core_->AddPhotos(add, kNoDeadline).status()));
}

// A score-normalising model (dogsearch.v1.ScoreNormalisation): the gateway stores each gallery
// photo's offset beside its vector, ranks the index's candidates by the normalised distance and
// reports it, and verifies on it; an upgrade re-embeds the gallery with the new offsets.
TEST_F(GatewayCoreTest, ScoreNormalisedModelRanksAndVerifiesOnTheNormalisedDistance) {
  const std::vector<float> offsets = {0.6f, -0.5f, 0.3f, -0.2f, 0.0f, 0.45f, -0.35f, 0.1f};
  for (int d = 0; d < 8; ++d) embedding_.set_score_offset(d, offsets[d]);
  // Ranked by the best photo alone (the centroid's share: ADogSeveralPhotosAgreeOn... and
  // DogScoreBlendsTheBestPhotoWithTheCentroid, which checks its normalisation).
  options_.dog_centroid_weight = 0;
  StartCore();
  for (int d = 0; d < 8; ++d) ASSERT_TRUE(Enroll(d, 2).ok());
  // What the answer must be: each dog at its best photo's normalised distance, nearest first.
  const int qd = 0, qp = 7;
  auto expected = [&](const std::string& version, bool normalise) {
    const std::vector<float> q = FakeEmbedding::VectorFor(version, FakePhoto(qd, qp));
    std::vector<std::pair<float, std::string>> dogs;
    for (int d = 0; d < 8; ++d) {
      float best = 9;
      for (int p = 0; p < 2; ++p) {
        const float l2 = L2Distance(q, FakeEmbedding::VectorFor(version, FakePhoto(d, p)));
        best =
            std::min(best, normalise ? model::NormalisedDistance(l2, offsets[qd], offsets[d]) : l2);
      }
      dogs.emplace_back(best, absl::StrCat("dog", d));
    }
    std::sort(dogs.begin(), dogs.end());
    return dogs;
  };
  auto order = [](const std::vector<std::pair<float, std::string>>& dogs) {
    std::vector<std::string> ids;
    for (const auto& d : dogs) ids.push_back(d.second);
    return ids;
  };
  auto check = [&](const std::string& version) {
    const auto want = expected(version, true);
    ASSERT_NE(order(want), order(expected(version, false)));  // The offsets reorder these dogs.
    auto r = Search(qd, qp, 8);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->model_version(), version);
    ASSERT_EQ(r->matches_size(), 8);
    for (int i = 0; i < 8; ++i) {
      EXPECT_EQ(r->matches(i).dog_id(), want[i].second) << version << " rank " << i + 1;
      EXPECT_NEAR(r->matches(i).distance(), want[i].first, 1e-4) << version << " rank " << i + 1;
    }
    v1::GetRequest get;
    get.set_collection(absl::StrCat("gallery__", version));
    get.add_ids(Sha256::Hex(FakePhoto(3, 1)));
    auto got = index_.Get(get, kNoDeadline);
    ASSERT_TRUE(got.ok() && got->records_size() == 1);
    EXPECT_EQ(got->records(0).payload().attributes().at(kScoreOffsetAttribute), "-0.200000003");
  };
  check("v1");
  // An enrolled photo searched again is itself, at distance 0, whatever its offset (0.6 here).
  auto again = Search(0, 1, 1);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->matches(0).dog_id(), "dog0");
  EXPECT_EQ(again->matches(0).distance(), 0.0f);
  v1::VerifyRequest v;
  v.mutable_photo_a()->set_data(FakePhoto(2, 0));
  v.mutable_photo_b()->set_data(FakePhoto(5, 1));
  auto verified = core_->Verify(v, kNoDeadline);
  ASSERT_TRUE(verified.ok()) << verified.status();
  const float l2 = L2Distance(FakeEmbedding::VectorFor("v1", FakePhoto(2, 0)),
                              FakeEmbedding::VectorFor("v1", FakePhoto(5, 1)));
  EXPECT_NEAR(verified->distance(), model::NormalisedDistance(l2, offsets[2], offsets[5]), 1e-5);
  EXPECT_GT(std::abs(verified->distance() - l2), 0.05f);

  v1::StartModelUpgradeRequest up;
  up.set_version("v2");
  ASSERT_TRUE(core_->StartModelUpgrade(up).ok());
  ASSERT_EQ(WaitUpgrade().state(), v1::UPGRADE_STATE_SUCCEEDED);
  ASSERT_TRUE(dogsearch::testing::Eventually(
      [&] { return core_->GetModelStatus().serving_version() == "v2"; }, absl::Seconds(5)));
  check("v2");
}

// A gallery record without an offset (written before its model normalised) or with a broken
// one counts as offset 0; a plain model's distance is plain L2.
TEST(GatewayVectorsTest, ScoreOffsetsAndServedDistance) {
  v1::Payload p;
  EXPECT_EQ(HitScoreOffset(p), 0.0f);
  (*p.mutable_attributes())[kScoreOffsetAttribute] = "0.25";
  EXPECT_EQ(HitScoreOffset(p), 0.25f);
  (*p.mutable_attributes())[kScoreOffsetAttribute] = "junk";
  EXPECT_EQ(HitScoreOffset(p), 0.0f);
  (*p.mutable_attributes())[kScoreOffsetAttribute] = "7";
  EXPECT_EQ(HitScoreOffset(p), 0.0f);
  ModelTarget plain, normalised;
  normalised.score_normalised = true;
  EXPECT_EQ(ServedDistance(plain, 0.9f, 0.3f, 0.2f), 0.9f);
  EXPECT_FLOAT_EQ(ServedDistance(normalised, 0.9f, 0.3f, 0.2f), std::sqrt(0.81f + 0.5f));
}

// Search ranks dogs by their score: a dog three photos agree on outranks a dog with one stray
// close photo and one far one, while each match's distance stays its best photo's (what the
// answer and the confidence are calibrated on). With --dog_centroid_weight 0 the best photo
// alone decides, as before.
TEST_F(GatewayCoreTest, ADogSeveralPhotosAgreeOnOutranksOneStrayClosePhoto) {
  auto axis = [](std::vector<std::pair<int, float>> parts) {
    std::vector<float> v(FakeEmbedding::kDim, 0.0f);
    float n = 0;
    for (auto [i, x] : parts) v[i] = x, n += x * x;
    for (float& x : v) x /= std::sqrt(n);
    return v;
  };
  embedding_.set_vector(90, 0, axis({{0, 1}}));             // The query.
  embedding_.set_vector(1, 0, axis({{0, 1}, {1, 0.30f}}));  // Dog 1: one stray close photo,
  embedding_.set_vector(1, 1, axis({{5, 1}}));              // and one far away.
  embedding_.set_vector(2, 0, axis({{0, 1}, {2, 0.35f}}));  // Dog 2: three photos, each a
  embedding_.set_vector(2, 1, axis({{0, 1}, {3, 0.35f}}));  // little farther than dog 1's
  embedding_.set_vector(2, 2, axis({{0, 1}, {4, 0.35f}}));  // best, all around the query.
  embedding_.set_vector(3, 0, axis({{0, 1}, {6, 1.0f}}));   // Dog 3: one photo.
  EXPECT_EQ(options_.dog_centroid_weight, 0.5f);            // The default.
  StartCore();
  ASSERT_TRUE(Enroll(1, 2).ok());
  ASSERT_TRUE(Enroll(2, 3).ok());
  ASSERT_TRUE(Enroll(3, 1).ok());
  for (float weight : {0.5f, 0.0f}) {
    SCOPED_TRACE(weight);
    options_.dog_centroid_weight = weight;
    StartCore();  // The same gallery, another weight.
    auto r = Search(90, 0, 3);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->matches_size(), 3);
    std::map<std::string, v1::DogMatch> by_dog;
    for (const auto& m : r->matches()) by_dog[m.dog_id()] = m;
    EXPECT_LT(by_dog["dog1"].distance(), by_dog["dog2"].distance());  // Best photos.
    EXPECT_EQ(by_dog["dog3"].score(), by_dog["dog3"].distance());     // One photo.
    EXPECT_EQ(r->matches(0).dog_id(), weight > 0 ? "dog2" : "dog1");
    EXPECT_EQ(r->matches(1).dog_id(), weight > 0 ? "dog1" : "dog2");
    for (int i = 0; i + 1 < r->matches_size(); ++i) {
      EXPECT_LE(r->matches(i).score(), r->matches(i + 1).score());
    }
    if (weight == 0) {
      EXPECT_EQ(by_dog["dog1"].score(), by_dog["dog1"].distance());
    }
  }
}

TEST_F(GatewayCoreTest, VerifyAndListDogs) {
  StartCore();
  v1::VerifyRequest v;
  v.mutable_photo_a()->set_data(FakePhoto(3, 0));
  v.mutable_photo_b()->set_data(FakePhoto(3, 1));
  auto same = core_->Verify(v, kNoDeadline);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(same->same_dog());
  EXPECT_GT(same->confidence(), 0.5f);
  EXPECT_FLOAT_EQ(same->threshold(), 0.6f);
  v.mutable_photo_b()->set_data(FakePhoto(4, 0));
  auto other = core_->Verify(v, kNoDeadline);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->same_dog());
  EXPECT_LT(other->confidence(), 0.5f);
  v.mutable_photo_b()->set_data("");
  auto bad = core_->Verify(v, kNoDeadline);
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_NE(bad.status().message().find("photo_b"), std::string::npos);

  for (int d = 0; d < 5; ++d) ASSERT_TRUE(Enroll(d, 1).ok());
  v1::ListDogsRequest l;
  l.set_page_size(2);
  std::vector<std::string> ids;
  do {
    auto page = core_->ListDogs(l);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total_dogs(), 5u);
    for (const auto& d : page->dogs()) ids.push_back(d.dog_id());
    l.set_page_token(page->next_page_token());
  } while (!l.page_token().empty());
  EXPECT_EQ(ids.size(), 5u);
  l.set_page_size(501);
  EXPECT_TRUE(absl::IsInvalidArgument(core_->ListDogs(l).status()));
}

TEST_F(GatewayCoreTest, SearchLimitsAndNoModelYet) {
  embedding_.set_down(true);
  core_ = std::make_unique<GatewayCore>(
      GatewayDeps{store_.get(), photos_.get(), &embedding_, &index_}, options_);
  core_->Start();
  auto early = Search(1, 0);
  EXPECT_TRUE(absl::IsFailedPrecondition(early.status())) << early.status();
  embedding_.set_down(false);
  StartCore();
  EXPECT_TRUE(absl::IsInvalidArgument(Search(1, 0, 101).status()));
  v1::SearchRequest r;
  r.mutable_photo()->set_data(FakePhoto(1, 0));
  r.set_photos_per_dog(11);
  EXPECT_TRUE(absl::IsInvalidArgument(core_->Search(r, kNoDeadline).status()));
}

// The issue's test: promote while 8 clients search (and another enrolls): zero failed
// searches, every answer right and pinned to one space, alias flipped, old version retired.
TEST_F(GatewayCoreTest, UpgradeUnderLoadKeepsAnsweringCorrectly) {
  StartCore();
  for (int d = 0; d < 40; ++d) ASSERT_TRUE(Enroll(d, 2).ok());
  embedding_.set_delay(absl::Milliseconds(1));  // Keep the re-embedding in flight for a while.
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, wrong{0}, searches{0};
  std::set<std::string> versions_seen;
  std::mutex seen_mu;
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        const int dog = (c * 7 + i) % 40;
        auto r = Search(dog, 5);
        ++searches;
        if (!r.ok()) {
          ++failures;
          ADD_FAILURE() << r.status();
          continue;
        }
        if (r->matches(0).dog_id() != absl::StrCat("dog", dog)) ++wrong;
        std::lock_guard<std::mutex> l(seen_mu);
        versions_seen.insert(r->model_version());
      }
    });
  }
  std::thread enroller([&] {
    for (int d = 100; d < 120; ++d) EXPECT_TRUE(Enroll(d, 2).ok());
  });
  absl::SleepFor(absl::Milliseconds(50));
  v1::StartModelUpgradeRequest up;
  up.set_version("v2");
  auto started = core_->StartModelUpgrade(up);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_TRUE(absl::IsAborted(core_->StartModelUpgrade(up).status()));
  const v1::UpgradeProgress done = WaitUpgrade();
  enroller.join();
  absl::SleepFor(absl::Milliseconds(100));
  stop = true;
  for (auto& t : clients) t.join();

  EXPECT_EQ(done.state(), v1::UPGRADE_STATE_SUCCEEDED) << done.state_reason();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(index_.version_mismatches(), 0);
  EXPECT_GT(searches.load(), 100);
  EXPECT_EQ(versions_seen, (std::set<std::string>{"v1", "v2"}));
  EXPECT_EQ(core_->GetModelStatus().serving_version(), "v2");
  EXPECT_EQ(index_.AliasTarget("gallery"), "gallery__v2");
  EXPECT_EQ(embedding_.default_version(), "v2");
  // Every photo, including those enrolled during the upgrade, is in the new space.
  EXPECT_EQ(index_.Count("gallery__v2"), store_->CountPhotos());
  EXPECT_EQ(store_->CountPhotos(), 120u);
  auto late = Search(110, 9);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->matches(0).dog_id(), "dog110");
  // After the grace period the old space is retired.
  (void)dogsearch::testing::Eventually([&] { return !(index_.HasCollection("gallery__v1")); },
                                       absl::Seconds(2), absl::Milliseconds(10));
  EXPECT_FALSE(index_.HasCollection("gallery__v1"));
  EXPECT_EQ(embedding_.loaded(), std::set<std::string>{"v2"});
  EXPECT_TRUE(absl::IsAlreadyExists(core_->StartModelUpgrade(up).status()));
}

TEST_F(GatewayCoreTest, FailedUpgradeLeavesTheOldModelServingAndCanBeRetried) {
  StartCore();
  for (int d = 0; d < 10; ++d) ASSERT_TRUE(Enroll(d, 2).ok());
  v1::StartModelUpgradeRequest up;
  up.set_version("v9");  // No such checkpoint.
  ASSERT_TRUE(core_->StartModelUpgrade(up).ok());
  v1::UpgradeProgress p = WaitUpgrade();
  EXPECT_EQ(p.state(), v1::UPGRADE_STATE_FAILED);
  EXPECT_NE(p.state_reason().find("v9"), std::string::npos);
  // Fails part-way through re-embedding: the half-built collection goes away.
  index_.FailUpserts("gallery__v2", 1);
  up.set_version("v2");
  ASSERT_TRUE(core_->StartModelUpgrade(up).ok());
  p = WaitUpgrade();
  EXPECT_EQ(p.state(), v1::UPGRADE_STATE_FAILED);
  EXPECT_FALSE(index_.HasCollection("gallery__v2"));
  EXPECT_EQ(core_->GetModelStatus().serving_version(), "v1");
  auto r = Search(3, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->model_version(), "v1");
  EXPECT_EQ(r->matches(0).dog_id(), "dog3");
  // Retry succeeds.
  ASSERT_TRUE(core_->StartModelUpgrade(up).ok());
  p = WaitUpgrade();
  EXPECT_EQ(p.state(), v1::UPGRADE_STATE_SUCCEEDED) << p.state_reason();
  EXPECT_EQ(p.photos_done(), 20u);
  EXPECT_EQ(core_->GetModelStatus().serving_version(), "v2");
}

TEST_F(GatewayCoreTest, RestartMidUpgradeResumesFromTheCursor) {
  StartCore();
  for (int d = 0; d < 30; ++d) ASSERT_TRUE(Enroll(d, 2).ok());
  options_.reembed_batch = 2;
  StartCore();
  embedding_.set_delay(absl::Milliseconds(20));
  v1::StartModelUpgradeRequest up;
  up.set_version("v2");
  ASSERT_TRUE(core_->StartModelUpgrade(up).ok());
  // Stop the gateway part-way through re-embedding.
  uint64_t done = 0;
  (void)dogsearch::testing::Eventually(
      [&] { return (done = core_->GetModelStatus().upgrade().photos_done()) >= 10; },
      absl::Milliseconds(2500), absl::Milliseconds(5));
  core_->Stop();
  const v1::UpgradeProgress interrupted = core_->GetModelStatus().upgrade();
  EXPECT_EQ(interrupted.state(), v1::UPGRADE_STATE_REEMBEDDING);
  EXPECT_GE(interrupted.photos_done(), 10u);
  EXPECT_LT(interrupted.photos_done(), 60u);
  embedding_.set_delay(absl::ZeroDuration());
  StartCore();  // Restores v1, then resumes the upgrade.
  const v1::UpgradeProgress p = WaitUpgrade();
  EXPECT_EQ(p.state(), v1::UPGRADE_STATE_SUCCEEDED) << p.state_reason();
  EXPECT_EQ(p.photos_done(), 60u);
  EXPECT_EQ(index_.Count("gallery__v2"), 60u);
  EXPECT_EQ(core_->GetModelStatus().serving_version(), "v2");
  auto r = Search(17, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->matches(0).dog_id(), "dog17");
}

// Re-embedding keeps reembed_streams embedding calls in flight (waves of batches embedded in
// parallel, written in order): every photo ends in the new space with the new model's vector.
TEST_F(GatewayCoreTest, AnUpgradeEmbedsSeveralBatchesAtOnce) {
  StartCore();
  for (int d = 0; d < 30; ++d) ASSERT_TRUE(Enroll(d, 2).ok());
  options_.reembed_batch = 3;
  options_.reembed_streams = 4;
  StartCore();
  embedding_.set_delay(absl::Milliseconds(20));
  v1::StartModelUpgradeRequest up;
  up.set_version("v2");
  ASSERT_TRUE(core_->StartModelUpgrade(up).ok());
  const v1::UpgradeProgress p = WaitUpgrade();
  EXPECT_EQ(p.state(), v1::UPGRADE_STATE_SUCCEEDED) << p.state_reason();
  EXPECT_EQ(p.photos_done(), 60u);
  EXPECT_EQ(index_.Count("gallery__v2"), 60u);
  EXPECT_EQ(embedding_.max_in_flight(), 4);
  for (int d = 0; d < 30; d += 7) {
    v1::GetRequest get;
    get.set_collection("gallery__v2");
    get.set_include_vectors(true);
    const std::string photo = FakePhoto(d, 1);
    get.add_ids(Sha256::Hex(photo));
    auto got = index_.Get(get, kNoDeadline);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->records_size(), 1) << "dog" << d;
    const std::vector<float> want = FakeEmbedding::VectorFor("v2", photo);
    EXPECT_EQ(std::vector<float>(got->records(0).vector().begin(), got->records(0).vector().end()),
              want);
  }
  auto r = Search(17, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->matches(0).dog_id(), "dog17");
}

TEST_F(GatewayCoreTest, AGalleryCollectionTheIndexLostIsRebuiltFromTheStoredPhotos) {
  StartCore();
  for (int d = 0; d < 10; ++d) ASSERT_TRUE(Enroll(d, 2).ok());
  index_.Wipe();
  EXPECT_FALSE(Search(3, 5).ok());  // NOT_FOUND from the index until the rebuild starts.
  v1::UpgradeProgress p;
  (void)dogsearch::testing::Eventually(
      [&] {
        p = core_->GetModelStatus().upgrade();
        return p.state() == v1::UPGRADE_STATE_SUCCEEDED;
      },
      absl::Seconds(5));
  EXPECT_EQ(p.state(), v1::UPGRADE_STATE_SUCCEEDED) << p.state_reason();
  EXPECT_EQ(p.from_version(), "v1");
  EXPECT_EQ(p.to_version(), "v1");
  EXPECT_EQ(index_.Count("gallery__v1"), 20u);
  EXPECT_EQ(index_.AliasTarget("gallery"), "gallery__v1");
  auto r = Search(3, 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->matches(0).dog_id(), "dog3");
  // StartModelUpgrade to the serving version is still refused: rebuilds are the supervisor's.
  v1::StartModelUpgradeRequest up;
  up.set_version("v1");
  EXPECT_TRUE(absl::IsAlreadyExists(core_->StartModelUpgrade(up).status()));
}

TEST_F(GatewayCoreTest, ConfidenceUsesTheManifestsCalibrationWhenThereIsOne) {
  StartCore();
  ModelTarget fitted;
  fitted.threshold = 1.0f;
  fitted.confidence_center = 0.8f;
  fitted.confidence_scale = 0.1f;
  EXPECT_NEAR(core_->Confidence(0.8f, fitted), 0.5, 1e-6);
  EXPECT_NEAR(core_->Confidence(0.9f, fitted), 1.0 / (1.0 + std::exp(1.0)), 1e-6);
  ModelTarget plain;  // No calibration: a logistic of --confidence_scale around the threshold.
  plain.threshold = 1.0f;
  EXPECT_NEAR(core_->Confidence(1.0f, plain), 0.5, 1e-6);
  EXPECT_NEAR(core_->Confidence(1.08f, plain), 1.0 / (1.0 + std::exp(1.0)), 1e-5);
  EXPECT_GT(core_->Confidence(0.2f, plain), 0.99f);
  EXPECT_LT(core_->Confidence(1.9f, plain), 0.01f);
}

TEST_F(GatewayCoreTest, EmbeddingMapPlacesEveryPhoto) {
  StartCore();
  for (int d = 0; d < 6; ++d) ASSERT_TRUE(Enroll(d, 3).ok());
  auto points = core_->EmbeddingMap(1000, kNoDeadline);
  ASSERT_TRUE(points.ok()) << points.status();
  EXPECT_EQ(points->size(), 18u);
  auto few = core_->EmbeddingMap(5, kNoDeadline);
  ASSERT_TRUE(few.ok());
  EXPECT_EQ(few->size(), 5u);
}

// The first bytes of a PNG whose header claims w x h pixels (enough for ReadImageHeader).
std::string PngHeader(uint32_t w, uint32_t h) {
  std::string s("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (uint32_t v : {w, h}) {
    for (int shift : {24, 16, 8, 0}) s.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  s += std::string("\x08\x02\0\0\0\0\0\0\0", 9);
  return s;
}

TEST_F(GatewayCoreTest, EmbedCallsStayUnderThePixelBudget) {
  StartCore();
  // 64 MP + 64 MP exceeds 100 MP: three photos of 64 MP go in three calls; small ones share.
  std::vector<PhotoBytes> photos;
  for (int i = 0; i < 3; ++i)
    photos.push_back({absl::StrCat("p", i), "d", "", PngHeader(8000, 8000)});
  for (int i = 0; i < 4; ++i)
    photos.push_back({absl::StrCat("s", i), "d", "", PngHeader(100, 100)});
  ModelTarget target;
  target.version = "v1";
  target.collection = "gallery__v1";
  target.dimension = FakeEmbedding::kDim;
  const size_t before = embedding_.call_sizes().size();
  auto v = EmbedPhotos(&embedding_, target, photos, kNoDeadline);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->size(), 7u);
  const std::vector<int> sizes = embedding_.call_sizes();
  EXPECT_EQ(std::vector<int>(sizes.begin() + before, sizes.end()), (std::vector<int>{1, 1, 5}));
}

TEST_F(GatewayCoreTest, OneRequestsPhotoBytesAreBounded) {
  options_.limits.max_request_bytes = 100;
  StartCore();
  v1::EnrollRequest r = EnrollRequest(1, 1);
  auto one = FakePhoto(1, 0);
  ASSERT_LT(one.size(), 100u);
  while (r.photos_size() * one.size() <= 100)
    r.add_photos()->set_data(FakePhoto(1, r.photos_size()));
  auto big = core_->Enroll(r, kNoDeadline);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(big.status().message(), "the limit is 100 per request"))
      << big.status();
}

// The rollout rule (issue #17) on a real core with fake backends and a fake trainer; steps are
// taken by hand so that the timing is the test's.
class RolloutTest : public GatewayCoreTest {
 protected:
  void SetUp() override {
    embedding_.AddCheckpoint("v3");
    StartCore();
    for (int d = 0; d < 6; ++d) ASSERT_TRUE(Enroll(d, 2).ok());
    rollout::ReconcilerOptions o;
    o.follower = "gateway-test";
    o.registry = &registry_;
    o.failure_backoff = absl::Seconds(60);
    reconciler_ = std::make_unique<rollout::Reconciler>(
        GatewayRolloutHooks(core_.get(),
                            [this]() -> absl::StatusOr<std::string> {
                              std::lock_guard<std::mutex> l(mu_);
                              if (!trainer_up_) return absl::UnavailableError("trainer down");
                              return promoted_;
                            }),
        o);
  }
  void Promote(const std::string& v) {
    std::lock_guard<std::mutex> l(mu_);
    promoted_ = v;
  }
  // Steps (as the reconciler's thread would, every 10 ms here) until converged or 10 s.
  rollout::RolloutStatus StepUntilConverged() {
    rollout::RolloutStatus s;
    (void)dogsearch::testing::Eventually(
        [&] { return (s = reconciler_->Step()).state == rollout::RolloutState::kConverged; },
        absl::Seconds(10));
    return s;
  }

  metrics::MetricsRegistry registry_;
  std::mutex mu_;
  std::string promoted_;
  bool trainer_up_ = true;
  std::unique_ptr<rollout::Reconciler> reconciler_;
};

TEST_F(RolloutTest, TheIssuesSequenceEndsOnTheLastPromotion) {
  // Serving v1; promote v2 (upgrade runs and flips); during v1's retire grace promote v1, then
  // v2 again: the gallery must end on v2 and stay there after the grace.
  Promote("v2");
  EXPECT_EQ(reconciler_->Step().state, rollout::RolloutState::kRollingOut);
  ASSERT_EQ(WaitUpgrade().state(), v1::UPGRADE_STATE_SUCCEEDED);
  Promote("v1");
  const rollout::RolloutStatus during_grace = reconciler_->Step();
  EXPECT_EQ(during_grace.state, rollout::RolloutState::kRollingOut);
  EXPECT_NE(during_grace.detail.find("grace"), std::string::npos) << during_grace.detail;
  Promote("v2");
  EXPECT_EQ(reconciler_->Step().state, rollout::RolloutState::kConverged);
  absl::SleepFor(options_.retire_grace * 3);
  EXPECT_EQ(StepUntilConverged().state, rollout::RolloutState::kConverged);
  EXPECT_EQ(core_->serving_version(), "v2");
}

TEST_F(RolloutTest, APromotionDuringAnUpgradeWaitsForItThenTheNewestWins) {
  embedding_.set_delay(absl::Milliseconds(30));  // Each re-embedding batch takes a while.
  Promote("v2");
  EXPECT_EQ(reconciler_->Step().state, rollout::RolloutState::kRollingOut);
  Promote("v3");  // While the upgrade to v2 runs.
  const rollout::RolloutStatus waiting = reconciler_->Step();
  EXPECT_EQ(waiting.state, rollout::RolloutState::kRollingOut);
  EXPECT_EQ(waiting.promoted, "v3");
  embedding_.set_delay(absl::ZeroDuration());
  const rollout::RolloutStatus done = StepUntilConverged();
  EXPECT_EQ(done.state, rollout::RolloutState::kConverged);
  EXPECT_EQ(core_->serving_version(), "v3");
  // Every photo is in the served collection.
  EXPECT_EQ(index_.Count("gallery__v3"), store_->CountPhotos());
  EXPECT_EQ(core_->GetModelStatus().rollout().state(), v1::ROLLOUT_STATE_UNSPECIFIED);
  core_->SetRolloutReporter([this] { return ToProto(reconciler_->status(), absl::Now()); });
  const v1::ModelStatus st = core_->GetModelStatus();
  EXPECT_EQ(st.rollout().state(), v1::ROLLOUT_STATE_CONVERGED);
  EXPECT_EQ(st.rollout().promoted_version(), "v3");
  core_->SetRolloutReporter(nullptr);
}

TEST_F(RolloutTest, AFailedUpgradeIsRetriedAfterTheBackoffAndAnUnreachableTrainerChangesNothing) {
  Promote("v9");  // The embedding service cannot load it.
  const absl::Time t0 = absl::Now();
  rollout::RolloutStatus s = reconciler_->Step(t0);
  for (int i = 0; i < 200 && s.state != rollout::RolloutState::kFailed; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
    s = reconciler_->Step(t0 + absl::Seconds(1));
  }
  EXPECT_EQ(s.state, rollout::RolloutState::kFailed);
  EXPECT_FALSE(s.detail.empty());
  // Within the backoff nothing is started again.
  EXPECT_EQ(reconciler_->Step(t0 + absl::Seconds(30)).state, rollout::RolloutState::kFailed);
  EXPECT_EQ(core_->serving_version(), "v1");
  // The gauge says how long the gallery has been behind.
  EXPECT_NE(
      registry_.RenderText().find("dogsearch_rollout_behind_seconds{follower=\"gateway-test\"} 30"),
      std::string::npos)
      << registry_.RenderText();
  // After the backoff, a new attempt.
  EXPECT_EQ(reconciler_->Step(t0 + absl::Seconds(61)).state, rollout::RolloutState::kRollingOut);
  // The trainer comes back to v2 while unreachable first: nothing moves, then it converges.
  {
    std::lock_guard<std::mutex> l(mu_);
    trainer_up_ = false;
  }
  EXPECT_EQ(reconciler_->Step().state, rollout::RolloutState::kTrainerUnreachable);
  EXPECT_EQ(core_->serving_version(), "v1");
  {
    std::lock_guard<std::mutex> l(mu_);
    trainer_up_ = true;
  }
  Promote("v2");
  EXPECT_EQ(StepUntilConverged().state, rollout::RolloutState::kConverged);
  EXPECT_EQ(core_->serving_version(), "v2");
  EXPECT_NE(
      registry_.RenderText().find("dogsearch_rollout_behind_seconds{follower=\"gateway-test\"} 0"),
      std::string::npos);
}

}  // namespace
}  // namespace dogsearch::gateway
