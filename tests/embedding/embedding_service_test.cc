// The Embedding service over loopback with real LibTorch checkpoints: vectors match in-process
// inference, bad photos get their documented outcome, model administration, health, and hot
// reloads under load with bad checkpoints offered in between.
#include "services/embedding/embedding_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/file_util.h"
#include "common/base/heap_retention.h"
#include "common/base/process_stats.h"
#include "common/image/image_decoder.h"
#include "common/model/score_norm.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_server.h"
#include "common/torch_model/checkpoint.h"
#include "common/torch_model/test_time_views.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/embedding/core/torch_model.h"
#include "tests/testing/eventually.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_images.h"

namespace dogsearch::embedding {
namespace {

using ::dogsearch::testing::Encode;
using ::dogsearch::testing::Eventually;
using ::dogsearch::testing::MakeJpeg;
using ::dogsearch::testing::MakePattern;
using ::dogsearch::testing::MakePng;

model::ModelSpec Spec() {
  model::ModelSpec s;
  s.architecture = model::kDogFaceNetResNet;
  s.input.width = 64;
  s.input.height = 64;
  s.embedding_dim = 16;
  return s;  // Default stage widths: about 3 M parameters, 12 MiB of weights.
}

double RssMiB() { return ResidentMemoryBytes().value_or(0) / (1024.0 * 1024.0); }

class EmbeddingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RepositoryOptions ro;
    ro.max_loaded = 3;
    ro.on_change = [this] {
      rpc::GrpcServer* s = server_ptr_.load();
      if (s != nullptr) s->SetServing(repo_->HasReadyDefault());
    };
    const std::string dir = dir_.path();
    repo_ = std::make_unique<ModelRepository>(
        [dir](const std::string& v) {
          return LoadTorchModel(dir + "/" + v, {"cpu", false, 2, 1, std::nullopt});
        },
        ro);
    BatcherOptions bo;
    bo.max_batch = 4;
    batcher_ = std::make_unique<DynamicBatcher>(bo, Clock::Real());
    decode_ = std::make_unique<ThreadPool>(2, 256);
    admin_ = std::make_unique<ThreadPool>(2, 16);
    EmbedLimits limits;
    limits.max_photos = 8;
    limits.max_request_pixels = 8 * 64 * 64;  // Eight of the tests' usual 64x64 photos.
    service_ = std::make_unique<EmbeddingService>(
        ServiceDeps{repo_.get(), batcher_.get(), decode_.get(), admin_.get(), dir, &registry_},
        limits, rpc::TokenAuthenticator("", false));
    rpc::GrpcServerOptions so;
    so.health_service_names = {v1::Embedding::service_full_name()};
    server_ = *rpc::GrpcServer::Start(so, {service_.get()});
    server_ptr_ = server_.get();
    server_->SetServing(repo_->HasReadyDefault());
    channel_ = *rpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), {});
    stub_ = v1::Embedding::NewStub(channel_);
  }

  void TearDown() override {
    server_ptr_ = nullptr;
    server_->Shutdown(absl::Seconds(5));
    batcher_->Stop();
  }

  // Publishes a checkpoint with weights drawn from `seed`.
  void Publish(const std::string& version, int seed, bool flip_average = false,
               model::ServingPrecision precision = model::ServingPrecision::kFloat32,
               float test_time_zoom = 0.f, bool four_views = false) {
    torch::manual_seed(seed);
    model::ModelSpec spec = Spec();
    spec.flip_average = flip_average;
    spec.serving_precision = precision;
    spec.test_time_zoom = test_time_zoom;
    spec.test_time_four_views = four_views;
    auto net = *model::BuildEmbeddingNet(spec);
    net->eval();
    model::CheckpointManifest m;
    m.version = version;
    m.model = spec;
    ASSERT_TRUE(model::PublishCheckpoint(dir_.path(), m, *net).ok());
  }

  // In-process inference of a checkpoint on one photo: the reference.
  std::vector<float> Reference(const std::string& version, const std::string& photo) {
    auto ckpt = *model::LoadCheckpoint(dir_.File(version));
    auto rgb = *image::DecodeImage(photo, {});
    std::vector<float> in = image::ToInputCHW(rgb, ckpt.manifest.model.input);
    torch::NoGradGuard g;
    torch::Tensor y = ckpt.net->forward(torch::from_blob(in.data(), {1, 3, 64, 64}).clone());
    return {y.data_ptr<float>(), y.data_ptr<float>() + y.numel()};
  }

  grpc::Status Embed(const std::vector<std::string>& photos, v1::EmbedResponse* resp,
                     const std::string& version = "") {
    v1::EmbedRequest req;
    for (size_t i = 0; i < photos.size(); ++i) {
      v1::Photo* p = req.add_photos();
      p->set_data(photos[i]);
      p->set_name(absl::StrCat("photo", i, ".img"));
    }
    req.set_model_version(version);
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, {}, absl::Seconds(30));
    return stub_->Embed(&ctx, req, resp);
  }

  grpc::Status Load(const std::string& version, bool make_default, v1::ModelInfo* info) {
    v1::LoadModelRequest req;
    req.set_version(version);
    req.set_make_default(make_default);
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, {}, absl::Seconds(60));
    return stub_->LoadModel(&ctx, req, info);
  }

  grpc::health::v1::HealthCheckResponse::ServingStatus Health() {
    auto h = grpc::health::v1::Health::NewStub(channel_);
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service("dogsearch.v1.Embedding");
    grpc::health::v1::HealthCheckResponse resp;
    EXPECT_TRUE(h->Check(&ctx, req, &resp).ok());
    return resp.status();
  }

  testing::TempDir dir_;
  metrics::MetricsRegistry registry_;
  std::unique_ptr<ModelRepository> repo_;
  std::unique_ptr<DynamicBatcher> batcher_;
  std::unique_ptr<ThreadPool> decode_, admin_;
  std::unique_ptr<EmbeddingService> service_;
  std::unique_ptr<rpc::GrpcServer> server_;
  std::atomic<rpc::GrpcServer*> server_ptr_{nullptr};
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Embedding::Stub> stub_;
};

TEST_F(EmbeddingServiceTest, HealthIsServingOnlyOnceADefaultModelIsReady) {
  EXPECT_EQ(Health(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  v1::EmbedResponse resp;
  EXPECT_EQ(Embed({MakeJpeg(64, 64)}, &resp).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  Publish("v1", 1);
  v1::ModelInfo info;
  ASSERT_TRUE(Load("v1", true, &info).ok());
  EXPECT_EQ(info.state(), v1::MODEL_STATE_READY);
  EXPECT_EQ(Health(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(EmbeddingServiceTest, VectorsAreUnitLengthAndMatchInProcessInference) {
  Publish("v1", 1);
  v1::ModelInfo info;
  ASSERT_TRUE(Load("v1", true, &info).ok());
  const std::vector<std::string> photos = {MakeJpeg(80, 70, 1), MakePng(64, 64, 2),
                                           dogsearch::testing::MakeWebp(100, 90, 3)};
  v1::EmbedResponse resp;
  const absl::Time t0 = absl::Now();
  grpc::Status es = Embed(photos, &resp);
  ASSERT_TRUE(es.ok()) << es.error_code() << " " << es.error_message() << " after "
                       << absl::ToDoubleSeconds(absl::Now() - t0) << " s";
  EXPECT_EQ(resp.model_version(), "v1");
  EXPECT_EQ(resp.dimension(), 16u);
  ASSERT_EQ(resp.embeddings_size(), 3);
  for (int i = 0; i < 3; ++i) {
    std::vector<float> want = Reference("v1", photos[i]);
    double norm = 0;
    for (int d = 0; d < 16; ++d) {
      EXPECT_NEAR(resp.embeddings(i).values(d), want[d], 1e-4) << "photo " << i;
      norm += resp.embeddings(i).values(d) * resp.embeddings(i).values(d);
    }
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
}

// On CPU a lone photo may run alone or as a pair (chosen by measurement at load; LibTorch's
// oneDNN convolutions start at batch 2): either way its vector is the one it gets in a batch,
// one row of the model's dimension.
TEST_F(EmbeddingServiceTest, ALonePhotoGetsTheSameVectorAsInABatch) {
  Publish("v1", 1);
  for (bool pair : {false, true}) {
    auto m = LoadTorchModel(dir_.path() + "/v1", {"cpu", false, 2, 1, pair});
    ASSERT_TRUE(m.ok()) << m.status();
    const size_t floats = (*m)->input_floats();
    const std::vector<float> batch = ProbeBatch((*m)->input_spec(), 4);
    auto together = (*m)->Embed(batch.data(), 4);
    ASSERT_TRUE(together.ok()) << together.status();
    for (int i = 0; i < 4; ++i) {
      auto alone = (*m)->Embed(batch.data() + i * floats, 1);
      ASSERT_TRUE(alone.ok()) << alone.status();
      ASSERT_EQ(alone->size(), 16u) << i << (pair ? " as a pair" : " alone");
      for (int d = 0; d < 16; ++d) {
        EXPECT_NEAR((*alone)[d], (*together)[i * 16 + d], 1e-5) << i << (pair ? " pair" : "");
      }
    }
  }
}

// On CPU a loaded model keeps the memory its batches free (TorchOptions::keep_freed_memory) for
// as long as it is loaded, and embeds exactly as without; with the option off malloc keeps its
// defaults.
TEST_F(EmbeddingServiceTest, ACpuModelKeepsFreedMemoryWhileLoadedUnlessTurnedOff) {
  Publish("v1", 1);
  ASSERT_FALSE(ScopedHeapRetention::Active()) << "nothing is loaded yet";
  TorchOptions off{"cpu", false, 2, 1, false}, on = off;
  off.keep_freed_memory = false;
  std::vector<float> want;
  {
    auto m = LoadTorchModel(dir_.path() + "/v1", off);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_FALSE(ScopedHeapRetention::Active());
    const std::vector<float> batch = ProbeBatch((*m)->input_spec(), 8);
    want = *(*m)->Embed(batch.data(), 8);
  }
  auto m = LoadTorchModel(dir_.path() + "/v1", on);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(ScopedHeapRetention::Active());
  const std::vector<float> batch = ProbeBatch((*m)->input_spec(), 8);
  auto got = (*m)->Embed(batch.data(), 8);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR((*got)[i], want[i], 1e-6) << "value " << i;
  m->reset();
  EXPECT_FALSE(ScopedHeapRetention::Active()) << "released with the model";
}

// On CPU a batch larger than TorchOptions::cpu_chunk_images runs in chunks: the vectors are the
// ones the whole batch gets at once, in order, with and without the flip (whose mirrors double
// the images).
TEST_F(EmbeddingServiceTest, ABatchRunInChunksGetsTheVectorsOfOneForwardPass) {
  Publish("plain", 1);
  Publish("flip", 1, /*flip_average=*/true);
  for (const char* version : {"plain", "flip"}) {
    TorchOptions whole{"cpu", false, 2, 1, false}, chunked = whole;
    whole.cpu_chunk_images = 0;
    chunked.cpu_chunk_images = 3;
    auto a = LoadTorchModel(dir_.path() + "/" + version, whole);
    auto b = LoadTorchModel(dir_.path() + "/" + version, chunked);
    ASSERT_TRUE(a.ok() && b.ok()) << version;
    const std::vector<float> batch = ProbeBatch((*a)->input_spec(), 7);
    auto want = (*a)->Embed(batch.data(), 7);
    auto got = (*b)->Embed(batch.data(), 7);
    ASSERT_TRUE(want.ok() && got.ok()) << version;
    ASSERT_EQ(got->size(), 7u * 16);
    for (size_t i = 0; i < got->size(); ++i) {
      ASSERT_NEAR((*got)[i], (*want)[i], 1e-5) << version << " value " << i;
    }
  }
}

// Expects `served` to embed each of the 3 photos of `batch`, in the batch and alone, as the
// normalised sum of its 16-d rows in `views` (the plain model's vectors of each view), and to
// differ from `other` (another model's vectors of the batch) by more than rounding.
void ExpectTheNormalisedSumOfViews(const EmbeddingModel& served, const std::vector<float>& batch,
                                   const std::vector<std::vector<float>>& views,
                                   const std::vector<float>& other) {
  auto together = served.Embed(batch.data(), 3);
  ASSERT_TRUE(together.ok()) << together.status();
  const size_t floats = batch.size() / 3;
  for (int i = 0; i < 3; ++i) {
    std::vector<double> want(16);
    double norm = 0;
    for (int d = 0; d < 16; ++d) {
      for (const std::vector<float>& v : views) want[d] += v[i * 16 + d];
      norm += want[d] * want[d];
    }
    auto alone = served.Embed(batch.data() + i * floats, 1);
    ASSERT_TRUE(alone.ok()) << alone.status();
    double diff_from_other = 0;
    for (int d = 0; d < 16; ++d) {
      EXPECT_NEAR((*together)[i * 16 + d], want[d] / std::sqrt(norm), 1e-5) << i;
      EXPECT_NEAR((*alone)[d], want[d] / std::sqrt(norm), 1e-5) << i;
      diff_from_other += std::abs((*together)[i * 16 + d] - other[i * 16 + d]);
    }
    EXPECT_GT(diff_from_other, 1e-3) << "the second view changed nothing for photo " << i;
  }
}

// A model whose manifest asks for the test-time flip serves normalise(f(x) + f(mirror x)),
// alone or in a batch; the same weights without the flag serve f(x).
TEST_F(EmbeddingServiceTest, AFlipAveragingModelServesTheMeanOfThePhotoAndItsMirror) {
  Publish("plain", 1);
  Publish("flip", 1, /*flip_average=*/true);
  auto plain = LoadTorchModel(dir_.path() + "/plain", {"cpu", false, 2, 1, false});
  auto flip = LoadTorchModel(dir_.path() + "/flip", {"cpu", false, 2, 1, true});
  ASSERT_TRUE(plain.ok() && flip.ok());
  const model::InputSpec in = (*plain)->input_spec();
  const std::vector<float> batch = ProbeBatch(in, 3);
  // The mirror images of the batch: each row of each plane reversed.
  std::vector<float> mirrored(batch.size());
  for (size_t i = 0; i < 3 * 3 * in.height; ++i) {
    std::reverse_copy(batch.begin() + i * in.width, batch.begin() + (i + 1) * in.width,
                      mirrored.begin() + i * in.width);
  }
  auto a = (*plain)->Embed(batch.data(), 3);
  auto b = (*plain)->Embed(mirrored.data(), 3);
  ASSERT_TRUE(a.ok() && b.ok());
  ExpectTheNormalisedSumOfViews(**flip, batch, {*a, *b}, /*other=*/*a);
}

// A model whose manifest asks for the test-time zoom serves normalise(f(x) + f(mirror of x's
// centre crop, zoomed)), alone or in a batch: the second view is no longer the plain mirror.
TEST_F(EmbeddingServiceTest, AZoomingModelServesThePhotoWithItsMirroredCentreCrop) {
  Publish("plain", 1);
  Publish("zoom", 1, /*flip_average=*/true, model::ServingPrecision::kFloat32, 0.7f);
  Publish("flip", 1, /*flip_average=*/true);
  auto plain = LoadTorchModel(dir_.path() + "/plain", {"cpu", false, 2, 1, false});
  auto zoom = LoadTorchModel(dir_.path() + "/zoom", {"cpu", false, 2, 1, true});
  auto flip = LoadTorchModel(dir_.path() + "/flip", {"cpu", false, 2, 1, true});
  ASSERT_TRUE(plain.ok() && zoom.ok() && flip.ok());
  const model::InputSpec in = (*plain)->input_spec();
  const std::vector<float> batch = ProbeBatch(in, 3);
  const torch::Tensor x =
      torch::from_blob(const_cast<float*>(batch.data()), {3, 3, in.height, in.width});
  const torch::Tensor second = model::CentreZoom(x, 0.7).flip({3}).contiguous();
  auto a = (*plain)->Embed(batch.data(), 3);
  auto b = (*plain)->Embed(second.data_ptr<float>(), 3);
  auto flipped = (*flip)->Embed(batch.data(), 3);
  ASSERT_TRUE(a.ok() && b.ok() && flipped.ok());
  ExpectTheNormalisedSumOfViews(**zoom, batch, {*a, *b}, /*other=*/*flipped);
}

// A model whose manifest asks for four views serves normalise(f(x) + f(mirror x) + f(zoom x) +
// f(mirror of zoom x)), alone (one photo, four views in one pass) or in a batch: not the
// two-view zoom's vectors.
TEST_F(EmbeddingServiceTest, AFourViewModelServesThePhotoTheZoomAndBothMirrors) {
  Publish("plain", 1);
  Publish("zoom", 1, /*flip_average=*/true, model::ServingPrecision::kFloat32, 0.7f);
  Publish("four", 1, /*flip_average=*/true, model::ServingPrecision::kFloat32, 0.7f,
          /*four_views=*/true);
  auto plain = LoadTorchModel(dir_.path() + "/plain", {"cpu", false, 2, 1, false});
  auto zoom = LoadTorchModel(dir_.path() + "/zoom", {"cpu", false, 2, 1, true});
  auto four = LoadTorchModel(dir_.path() + "/four", {"cpu", false, 2, 1, true});
  ASSERT_TRUE(plain.ok() && zoom.ok() && four.ok());
  const model::InputSpec in = (*plain)->input_spec();
  const std::vector<float> batch = ProbeBatch(in, 3);
  const torch::Tensor x =
      torch::from_blob(const_cast<float*>(batch.data()), {3, 3, in.height, in.width});
  const torch::Tensor z = model::CentreZoom(x, 0.7);
  std::vector<std::vector<float>> views;
  for (const torch::Tensor& v : {x, x.flip({3}), z, z.flip({3})}) {
    const torch::Tensor c = v.contiguous();
    auto e = (*plain)->Embed(c.data_ptr<float>(), 3);
    ASSERT_TRUE(e.ok()) << e.status();
    views.push_back(*e);
  }
  auto two = (*zoom)->Embed(batch.data(), 3);
  ASSERT_TRUE(two.ok()) << two.status();
  ExpectTheNormalisedSumOfViews(**four, batch, views, /*other=*/*two);
}

// A version served in bfloat16 (its manifest's spec.serving_precision) embeds close to the
// same weights served in float32, but not identically; ModelInfo says how this replica computes
// it (natively or emulated, by CPU); and it cannot be served unprepared.
TEST_F(EmbeddingServiceTest, ABFloat16VersionServesCloseToItsFloat32TwinAndSaysHow) {
  Publish("f32", 3);
  Publish("bf16", 3, false, model::ServingPrecision::kBFloat16);
  v1::ModelInfo f32_info, bf16_info;
  ASSERT_TRUE(Load("f32", false, &f32_info).ok());
  ASSERT_TRUE(Load("bf16", false, &bf16_info).ok());
  EXPECT_EQ(f32_info.numerics(), "float32");
  EXPECT_EQ(bf16_info.numerics(),
            model::CpuHasNativeBFloat16() ? "bfloat16" : "bfloat16 (emulated)");
  EXPECT_EQ(bf16_info.spec().serving_precision(), v1::SERVING_PRECISION_BFLOAT16);
  const std::string photo = MakeJpeg(64, 64, 9);
  v1::EmbedResponse a, b;
  ASSERT_TRUE(Embed({photo}, &a, "f32").ok());
  ASSERT_TRUE(Embed({photo}, &b, "bf16").ok());
  ASSERT_EQ(a.embeddings(0).values_size(), b.embeddings(0).values_size());
  double dot = 0, max_diff = 0;
  for (int d = 0; d < a.embeddings(0).values_size(); ++d) {
    dot += a.embeddings(0).values(d) * b.embeddings(0).values(d);
    max_diff =
        std::max<double>(max_diff, std::abs(a.embeddings(0).values(d) - b.embeddings(0).values(d)));
  }
  EXPECT_GT(dot, 0.999);
  EXPECT_GT(max_diff, 1e-6) << "bfloat16 computed float32's vector";
  TorchOptions unprepared{"cpu", false, 2, 1, false};
  unprepared.prepare_for_serving = false;
  auto refused = LoadTorchModel(dir_.path() + "/bf16", unprepared);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("bfloat16"), std::string::npos) << refused.status();
  EXPECT_TRUE(LoadTorchModel(dir_.path() + "/f32", unprepared).ok());
  // --emulate_bfloat16: the emulation even where the CPU has bfloat16 arithmetic.
  TorchOptions emulate{"cpu", false, 2, 1, false};
  emulate.emulate_bfloat16 = true;
  auto emulated = LoadTorchModel(dir_.path() + "/bf16", emulate);
  ASSERT_TRUE(emulated.ok()) << emulated.status();
  EXPECT_EQ((*emulated)->numerics(), "bfloat16 (emulated)");
  auto plain = LoadTorchModel(dir_.path() + "/f32", emulate);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->numerics(), "float32");
}

// A checkpoint with score normalisation: every vector comes with its offset under the
// checkpoint's cohort (hubness minus the cohort's mean), ModelInfo says the cohort's size, and
// a cohort file that is not the one the manifest hashed refuses the checkpoint.
TEST_F(EmbeddingServiceTest, AScoreNormalisingModelReturnsEachVectorsOffset) {
  Publish("plain", 1);
  v1::ModelInfo info;
  ASSERT_TRUE(Load("plain", true, &info).ok());
  EXPECT_EQ(info.cohort_size(), 0u);
  const std::vector<std::string> photos = {MakeJpeg(80, 70, 1), MakePng(64, 64, 2)};
  v1::EmbedResponse plain;
  ASSERT_TRUE(Embed(photos, &plain, "plain").ok());
  // A cohort of 40 random unit vectors plus the first photo's own vector: that photo is a hub
  // (similarity 1 to a cohort member), so its offset is positive.
  torch::manual_seed(5);
  torch::Tensor r = torch::randn({40, 16});
  r = r / r.norm(2, 1, true);
  std::vector<float> rows(r.data_ptr<float>(), r.data_ptr<float>() + r.numel());
  rows.insert(rows.end(), plain.embeddings(0).values().begin(), plain.embeddings(0).values().end());
  absl::StatusOr<model::Cohort> cohort = model::Cohort::Build(rows, 16, 3);
  ASSERT_TRUE(cohort.ok()) << cohort.status();
  std::filesystem::copy(dir_.File("plain"), dir_.File("normed"));
  model::CheckpointManifest m = *model::ReadManifest(dir_.File("normed"));
  m.version = "normed";
  ASSERT_TRUE(model::AttachScoreCohort(dir_.File("normed"), *cohort, &m).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_.File("normed/manifest.json"), model::ManifestToJson(m)).ok());

  ASSERT_TRUE(Load("normed", false, &info).ok());
  EXPECT_EQ(info.cohort_size(), 41u);
  v1::EmbedResponse normed;
  ASSERT_TRUE(Embed(photos, &normed, "normed").ok());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(plain.embeddings(i).score_offset(), 0.0f);
    const auto& v = normed.embeddings(i).values();
    EXPECT_EQ(std::vector<float>(v.begin(), v.end()),
              std::vector<float>(plain.embeddings(i).values().begin(),
                                 plain.embeddings(i).values().end()));
    // One-sided: max(0, hubness - the cohort's mean), weight 1.
    const float want = std::max(0.0f, cohort->Hubness(v.data()) - cohort->mean_hubness());
    EXPECT_FLOAT_EQ(normed.embeddings(i).score_offset(), want) << "photo " << i;
  }
  EXPECT_GT(normed.embeddings(0).score_offset(), 0.1f);

  std::filesystem::copy(dir_.File("normed"), dir_.File("tampered"));
  m.version = "tampered";
  ASSERT_TRUE(WriteFileAtomic(dir_.File("tampered/manifest.json"), model::ManifestToJson(m)).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_.File("tampered/cohort.bin"), cohort->Serialize() + "x").ok());
  const grpc::Status refused = Load("tampered", false, &info);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "score-normalisation cohort"))
      << refused.error_message();
}

TEST_F(EmbeddingServiceTest, BadPhotosGetTheirDocumentedOutcome) {
  Publish("v1", 1);
  v1::ModelInfo info;
  ASSERT_TRUE(Load("v1", true, &info).ok());
  const std::string jpeg = MakeJpeg(64, 64);
  std::string huge = MakePng(16, 16);
  for (int i : {16, 20}) {
    huge[i] = 0;
    huge[i + 1] = 1;
    huge[i + 2] = static_cast<char>(0x86);
    huge[i + 3] = static_cast<char>(0xa0);  // 100000.
  }
  std::string zero = MakePng(16, 16);
  zero[16] = zero[17] = zero[18] = zero[19] = 0;
  struct Case {
    std::string name, photo, want;
  };
  for (const Case& c : std::vector<Case>{
           {"empty", "", "empty image"},
           {"truncated", jpeg.substr(0, jpeg.size() / 2), "truncated JPEG"},
           {"not an image", "just some text, certainly not a photo", "unrecognised image format"},
           {"huge header", huge, "100000x100000 pixels, more than the limit"},
           {"0x0", zero, "invalid width or height"}}) {
    v1::EmbedResponse resp;
    grpc::Status s = Embed({jpeg, c.photo}, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_TRUE(absl::StrContains(s.error_message(), "photo 1 ('photo1.img')"))
        << s.error_message();
    EXPECT_TRUE(absl::StrContains(s.error_message(), c.want))
        << c.name << ": " << s.error_message();
  }
  cv::Mat grey(64, 64, CV_8UC1, cv::Scalar(90));
  cv::Mat rgba(64, 64, CV_8UC4, cv::Scalar(10, 20, 30, 128));
  cv::Mat deep(64, 64, CV_16UC3, cv::Scalar(1000, 30000, 65535));
  v1::EmbedResponse ok;
  EXPECT_TRUE(Embed({Encode(grey, ".png"), Encode(rgba, ".png"), Encode(deep, ".png")}, &ok).ok());
  EXPECT_EQ(ok.embeddings_size(), 3);
  v1::EmbedResponse none;
  EXPECT_EQ(Embed({}, &none).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Embed(std::vector<std::string>(9, jpeg), &none).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // A few small files cannot buy much decoding: pixels are counted from the headers first.
  grpc::Status budget = Embed(std::vector<std::string>(3, MakePng(128, 128)), &none);
  EXPECT_EQ(budget.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(budget.error_message(), "add up to more than 32768 pixels"))
      << budget.error_message();
}

TEST_F(EmbeddingServiceTest, ModelAdministrationAndPinnedVersions) {
  Publish("v1", 1);
  Publish("v2", 2);
  v1::ModelInfo info;
  ASSERT_TRUE(Load("v1", true, &info).ok());
  ASSERT_TRUE(Load("v2", false, &info).ok());
  EXPECT_FALSE(info.is_default());
  const std::string photo = MakeJpeg(64, 64, 5);
  v1::EmbedResponse r1, r2;
  ASSERT_TRUE(Embed({photo}, &r1).ok());
  ASSERT_TRUE(Embed({photo}, &r2, "v2").ok());
  EXPECT_EQ(r1.model_version(), "v1");
  EXPECT_EQ(r2.model_version(), "v2");
  EXPECT_NEAR(r2.embeddings(0).values(0), Reference("v2", photo)[0], 1e-4);
  EXPECT_EQ(Embed({photo}, &r1, "v9").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Load("v1", false, &info).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Load("nope", false, &info).error_code(), grpc::StatusCode::NOT_FOUND);

  v1::SetDefaultModelRequest set;
  set.set_version("v2");
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->SetDefaultModel(&ctx, set, &info).ok());
  ASSERT_TRUE(Embed({photo}, &r1).ok());
  EXPECT_EQ(r1.model_version(), "v2");
  v1::UnloadModelRequest unload;
  unload.set_version("v2");
  v1::UnloadModelResponse unloaded;
  grpc::ClientContext ctx2;
  EXPECT_EQ(stub_->UnloadModel(&ctx2, unload, &unloaded).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::ListModelsResponse list;
  grpc::ClientContext ctx3;
  ASSERT_TRUE(stub_->ListModels(&ctx3, {}, &list).ok());
  EXPECT_EQ(list.default_version(), "v2");
  EXPECT_EQ(list.models_size(), 2);
}

// Bad checkpoints of three kinds, offered while serving.
void Corrupt(const std::string& dir, int how) {
  const std::string weights = dir + "/weights.pt";
  std::string w = testing::ReadAll(weights);
  if (how == 0) {
    w[w.size() / 2] = static_cast<char>(w[w.size() / 2] ^ 1);  // Flipped byte.
    testing::WriteAll(weights, w);
  } else if (how == 1) {
    testing::WriteAll(weights, w.substr(0, w.size() / 3));  // Truncated.
  } else {
    auto m = *model::ReadManifest(dir);  // Wrong architecture, hash still right.
    m.model.architecture = model::kSeedInception;
    testing::WriteAll(dir + "/manifest.json", model::ManifestToJson(m));
  }
}

// Memory: the served networks run folded convolutions through oneDNN, whose kernel caches
// fill as batches of new sizes arrive under the 16 clients (measured: RSS rises from ~310 to a
// plateau of 340-380 MiB by about the 10th reload and stays there to the 80th). So the
// baseline is the highest RSS over reloads 3-12, and the last of 36 reloads must stay within
// 10% of it: a model leaked per reload would grow without bound, the warm-up does not. The
// warm-up follows requests served, not wall time, so each reload waits until its version has
// answered kServedPerReload requests: on a loaded machine (the parallel test suite) the
// baseline window then sees the same traffic as on an idle one.
TEST_F(EmbeddingServiceTest, HotReloadsUnderLoadDropNothingAndServeTheVersionClaimed) {
  constexpr int kReloads = 36;
  constexpr int kServedPerReload = 100;
  const std::string photo = MakeJpeg(64, 64, 9);
  std::map<std::string, std::vector<float>> reference;
  for (int i = 0; i <= kReloads; ++i) {
    const std::string v = absl::StrCat("v", i);
    Publish(v, 100 + i);
    reference[v] = Reference(v, photo);
  }
  for (int k = 0; k < kReloads / 6; ++k) {  // Offered at every 6th reload; three kinds of damage.
    const std::string v = absl::StrCat("bad", k);
    Publish(v, 900 + k);
    Corrupt(dir_.File(v), k % 3);
  }
  v1::ModelInfo info;
  ASSERT_TRUE(Load("v0", true, &info).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, wrong{0};
  std::map<std::string, std::atomic<int>> served_by;  // Answers per version; keys fixed here.
  for (const auto& [v, embedding] : reference) served_by[v] = 0;
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        v1::EmbedResponse resp;
        grpc::Status s = Embed({photo}, &resp);
        if (!s.ok()) {
          ++failed;
          continue;
        }
        const auto& want = reference.at(resp.model_version());
        for (int d = 0; d < 16; ++d) {
          if (std::fabs(resp.embeddings(0).values(d) - want[d]) > 1e-4) {
            ++wrong;
            break;
          }
        }
        ++served_by.at(resp.model_version());
        ++ok;
      }
    });
  }
  double rss_baseline = 0;
  for (int i = 1; i <= kReloads; ++i) {
    ASSERT_TRUE(Load(absl::StrCat("v", i), true, &info).ok()) << i;
    v1::UnloadModelRequest unload;
    unload.set_version(absl::StrCat("v", i - 1));
    v1::UnloadModelResponse unloaded;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->UnloadModel(&ctx, unload, &unloaded).ok());
    std::atomic<int>& served = served_by.at(absl::StrCat("v", i));
    EXPECT_TRUE(Eventually([&] { return served.load() >= kServedPerReload; }, absl::Seconds(60),
                           absl::Milliseconds(2)))
        << "v" << i << " answered " << served.load() << " requests";
    if (i % 6 == 0) {  // Offer a bad checkpoint (6, 12, ..., 36): refused; the default stays.
      grpc::Status bad = Load(absl::StrCat("bad", i / 6 - 1), true, &info);
      EXPECT_EQ(bad.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << bad.error_message();
      EXPECT_EQ(repo_->default_version(), absl::StrCat("v", i));
    }
    if (i >= 3 && i <= 12) rss_baseline = std::max(rss_baseline, RssMiB());
  }
  stop = true;
  for (auto& t : clients) t.join();
  const double rss_after_last = RssMiB();
  std::printf(
      "requests ok=%d failed=%d wrong=%d; RSS reloads 3-12 at most %.0f MiB, after the last %.0f "
      "MiB\n",
      ok.load(), failed.load(), wrong.load(), rss_baseline, rss_after_last);
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(repo_->default_version(), absl::StrCat("v", kReloads));
  EXPECT_LT(rss_after_last, rss_baseline * 1.10);
}

}  // namespace
}  // namespace dogsearch::embedding
