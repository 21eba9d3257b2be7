#include "tests/trainer/synthetic_dogs.h"

#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <random>

#include "common/base/proto_json.h"
#include "common/model/model_spec_proto.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_images.h"

namespace dogsearch::testing {

void WriteSyntheticDogs(const std::string& root, int dogs, int photos, int size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> colour(0, 255);
  for (int d = 0; d < dogs; ++d) {
    cv::Mat grid(3, 3, CV_8UC3);
    for (int i = 0; i < 9; ++i) {
      grid.at<cv::Vec3b>(i / 3, i % 3) = cv::Vec3b(colour(rng), colour(rng), colour(rng));
    }
    const std::string dir = root + "/dog" + std::to_string(d);
    std::filesystem::create_directories(dir);
    for (int p = 0; p < photos; ++p) {
      const int side = size + static_cast<int>(rng() % (size + 1));
      cv::Mat big, photo;
      cv::resize(grid, big, cv::Size(side + side / 4, side + side / 4), 0, 0, cv::INTER_NEAREST);
      const int dx = static_cast<int>(rng() % (side / 4 + 1)),
                dy = static_cast<int>(rng() % (side / 4 + 1));
      photo = big(cv::Rect(dx, dy, side, side)).clone();
      cv::Mat noise(photo.size(), CV_16SC3);
      cv::randn(noise, 0, 12);
      cv::Mat shifted;
      photo.convertTo(shifted, CV_16SC3, 1.0, static_cast<double>(rng() % 41) - 20);
      shifted += noise;
      shifted.convertTo(photo, CV_8UC3);
      WriteAll(dir + "/" + std::to_string(p) + ".jpg", Encode(photo, ".jpg"));
    }
  }
}

model::ModelSpec TinySpec() {
  model::ModelSpec s;
  s.architecture = model::kDogFaceNetResNet;
  s.input.width = s.input.height = 32;
  s.embedding_dim = 16;
  s.stage_widths = {8, 16};
  s.blocks_per_stage = 1;
  s.dropout = 0;
  return s;
}

::dogsearch::v1::TrainingConfig TinyTrainingConfig(const std::string& dataset, uint32_t epochs) {
  ::dogsearch::v1::TrainingConfig c;
  c.set_dataset(dataset);
  model::ToProto(TinySpec(), c.mutable_model());
  c.set_identities_per_batch(4);
  c.set_photos_per_identity(3);
  c.set_epochs(epochs);
  c.set_learning_rate(0.003f);
  c.set_warmup_steps(2);
  c.set_validation_fraction(0.25f);
  return c;
}

void WriteTinyTrainingConfig(const std::string& path, const std::string& dataset, uint32_t epochs) {
  WriteAll(path, ProtoToJson(TinyTrainingConfig(dataset, epochs)).value());
}

}  // namespace dogsearch::testing
