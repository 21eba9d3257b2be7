// Photo intake: headers read before decoding, limits enforced cheaply, bad photos refused
// with a reason, good photos converted to RGB and to the model's input layout.
#include <opencv2/imgcodecs.hpp>

#include "absl/strings/match.h"
#include "common/image/image_decoder.h"
#include "common/image_header/image_header.h"
#include "gtest/gtest.h"
#include "tests/testing/test_images.h"

namespace dogsearch::image {
namespace {

using ::dogsearch::testing::Encode;
using ::dogsearch::testing::MakeJpeg;
using ::dogsearch::testing::MakePattern;
using ::dogsearch::testing::MakePng;
using ::dogsearch::testing::MakeWebp;

void PutBe16(std::string& s, size_t i, uint32_t v) {
  s[i] = static_cast<char>(v >> 8);
  s[i + 1] = static_cast<char>(v);
}
void PutBe32(std::string& s, size_t i, uint32_t v) {
  PutBe16(s, i, v >> 16);
  PutBe16(s, i + 2, v & 0xffff);
}

// Offset of the first SOF0/SOF2 segment's length field in a JPEG.
size_t SofOffset(const std::string& jpeg) {
  for (size_t i = 2; i + 1 < jpeg.size(); ++i) {
    if (static_cast<uint8_t>(jpeg[i]) == 0xFF &&
        (static_cast<uint8_t>(jpeg[i + 1]) == 0xC0 || static_cast<uint8_t>(jpeg[i + 1]) == 0xC2)) {
      return i + 2;
    }
  }
  return 0;
}

void ExpectRefused(const std::string& bytes, absl::string_view reason,
                   const ImageLimits& limits = {}) {
  auto r = DecodeImage(bytes, limits);
  ASSERT_FALSE(r.ok()) << "decoded, but should refuse: " << reason;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), reason)) << r.status();
}

TEST(ImageHeaderTest, ReadsSizeAndFormatOfEachSupportedFormat) {
  for (auto [bytes, format] : {std::pair{MakeJpeg(40, 30), ImageFormat::kJpeg},
                               std::pair{MakePng(40, 30), ImageFormat::kPng},
                               std::pair{MakeWebp(40, 30), ImageFormat::kWebp}}) {
    auto h = ReadImageHeader(bytes);
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_EQ(h->format, format);
    EXPECT_EQ(h->width, 40u);
    EXPECT_EQ(h->height, 30u);
  }
}

TEST(ImageHeaderTest, ReadsLosslessWebpSize) {
  std::vector<uint8_t> buf;
  cv::imencode(".webp", MakePattern(33, 21), buf, {cv::IMWRITE_WEBP_QUALITY, 101});
  auto h = ReadImageHeader(std::string(buf.begin(), buf.end()));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->width, 33u);
  EXPECT_EQ(h->height, 21u);
}

// --- Bad photos: each refused with INVALID_ARGUMENT and a reason a user can act on. ---

TEST(ImageDecoderTest, EmptyInputIsRefused) { ExpectRefused("", "empty image"); }

TEST(ImageDecoderTest, TooManyBytesIsRefusedBeforeParsing) {
  ImageLimits limits;
  limits.max_bytes = 100;
  ExpectRefused(MakeJpeg(64, 64), "more than the limit of 100", limits);
}

TEST(ImageDecoderTest, TinyPngClaimingHundredThousandSquarePixelsIsRefusedFromTheHeader) {
  std::string png = MakePng(16, 16);
  PutBe32(png, 16, 100000);
  PutBe32(png, 20, 100000);
  ExpectRefused(png, "100000x100000 pixels, more than the limit");
}

TEST(ImageDecoderTest, JpegClaimingHugeDimensionsIsRefusedFromTheHeader) {
  std::string jpeg = MakeJpeg(16, 16);
  size_t sof = SofOffset(jpeg);
  ASSERT_GT(sof, 0u);
  PutBe16(jpeg, sof + 3, 65000);  // Height.
  PutBe16(jpeg, sof + 5, 65000);  // Width.
  ExpectRefused(jpeg, "65000x65000 pixels");
}

TEST(ImageDecoderTest, WebpClaimingHugeCanvasIsRefusedFromTheHeader) {
  // A VP8X header for a 16384x16384 canvas and nothing else.
  std::string webp = std::string("RIFF") + std::string("\x16\x00\x00\x00", 4) + "WEBPVP8X" +
                     std::string("\x0a\x00\x00\x00", 4) + std::string(4, '\0') +
                     std::string("\xff\x3f\x00\xff\x3f\x00", 6);
  ExpectRefused(webp, "16384x16384 pixels");
}

TEST(ImageDecoderTest, TruncatedJpegIsRefused) {
  std::string jpeg = MakeJpeg(128, 128);
  ExpectRefused(jpeg.substr(0, jpeg.size() / 2), "truncated JPEG");
}

TEST(ImageDecoderTest, JpegCutInsideItsHeaderIsRefused) {
  std::string jpeg = MakeJpeg(128, 128);
  ExpectRefused(jpeg.substr(0, 40), "truncated JPEG");
}

TEST(ImageDecoderTest, TruncatedPngIsRefused) {
  std::string png = MakePng(128, 128);
  ExpectRefused(png.substr(0, png.size() / 2), "truncated PNG");
}

TEST(ImageDecoderTest, TruncatedWebpIsRefused) {
  std::string webp = MakeWebp(128, 128);
  ExpectRefused(webp.substr(0, webp.size() / 2), "truncated WebP");
}

TEST(ImageDecoderTest, PngWithCorruptPixelDataIsRefusedByTheDecoder) {
  std::string png = MakePng(64, 64, 3);
  size_t idat = png.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  for (size_t i = idat + 8; i < idat + 40; ++i) png[i] = static_cast<char>(png[i] ^ 0x5a);
  ExpectRefused(png, "corrupt PNG");
}

TEST(ImageDecoderTest, JpegWithGarbageAfterTheStartMarkerIsRefused) {
  std::string jpeg = std::string("\xFF\xD8\xFF", 3) + std::string(200, '\x11');
  ExpectRefused(jpeg, "JPEG");
}

TEST(ImageDecoderTest, PngWithZeroWidthIsRefused) {
  std::string png = MakePng(16, 16);
  PutBe32(png, 16, 0);
  ExpectRefused(png, "invalid width or height");
}

TEST(ImageDecoderTest, GifIsRefusedAndNamed) {
  ExpectRefused(std::string("GIF89a\x10\x00\x10\x00", 10) + " and more bytes here",
                "unsupported image format GIF");
}

TEST(ImageDecoderTest, BmpIsRefusedAndNamed) {
  ExpectRefused(Encode(MakePattern(32, 32), ".bmp"), "unsupported image format BMP");
}

TEST(ImageDecoderTest, TextIsRefusedAsUnrecognised) {
  ExpectRefused("this is a text file, not a photo of a dog", "unrecognised image format");
}

TEST(ImageDecoderTest, ImageBelowTheMinimumSideIsRefused) {
  ExpectRefused(MakePng(8, 8), "smaller than 16 per side");
}

// --- Good photos. ---

TEST(ImageDecoderTest, DecodesEachFormatToRgbOfTheRightSize) {
  for (const std::string& bytes : {MakeJpeg(50, 40), MakePng(50, 40), MakeWebp(50, 40)}) {
    auto m = DecodeImage(bytes, {});
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->cols, 50);
    EXPECT_EQ(m->rows, 40);
    EXPECT_EQ(m->type(), CV_8UC3);
  }
}

TEST(ImageDecoderTest, ChannelOrderIsRgb) {
  cv::Mat red(20, 20, CV_8UC3, cv::Scalar(0, 0, 255));  // OpenCV's BGR: pure red.
  auto m = DecodeImage(Encode(red, ".png"), {});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->at<cv::Vec3b>(5, 5), cv::Vec3b(255, 0, 0));
}

TEST(ImageDecoderTest, GreyAlphaAndSixteenBitBecomeEightBitRgb) {
  cv::Mat grey(20, 20, CV_8UC1, cv::Scalar(77));
  cv::Mat bgra(20, 20, CV_8UC4, cv::Scalar(10, 20, 30, 0));
  cv::Mat deep(20, 20, CV_16UC3, cv::Scalar(0, 0, 65535));
  auto g = DecodeImage(Encode(grey, ".png"), {});
  auto a = DecodeImage(Encode(bgra, ".png"), {});
  auto d = DecodeImage(Encode(deep, ".png"), {});
  ASSERT_TRUE(g.ok() && a.ok() && d.ok());
  EXPECT_EQ(g->at<cv::Vec3b>(0, 0), cv::Vec3b(77, 77, 77));
  EXPECT_EQ(a->at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));
  EXPECT_EQ(d->type(), CV_8UC3);
  EXPECT_EQ(d->at<cv::Vec3b>(0, 0), cv::Vec3b(255, 0, 0));
}

TEST(ImagePreprocessTest, WritesPlanarNormalisedValuesOfTheSpecSize) {
  cv::Mat rgb(10, 10, CV_8UC3, cv::Scalar(255, 0, 51));  // R=255, G=0, B=51.
  model::InputSpec spec;
  spec.width = 4;
  spec.height = 3;
  std::vector<float> plain = ToInputCHW(rgb, spec);
  ASSERT_EQ(plain.size(), 3u * 4 * 3);
  EXPECT_FLOAT_EQ(plain[0], 1.0f);   // R plane.
  EXPECT_FLOAT_EQ(plain[12], 0.0f);  // G plane.
  EXPECT_FLOAT_EQ(plain[24], 0.2f);  // B plane.
  spec.mean = {0.5f, 0.5f, 0.5f};
  spec.std = {0.5f, 0.25f, 0.5f};
  std::vector<float> norm = ToInputCHW(rgb, spec);
  EXPECT_FLOAT_EQ(norm[0], 1.0f);
  EXPECT_FLOAT_EQ(norm[12], -2.0f);
  EXPECT_NEAR(norm[35], -0.6f, 1e-6);
}

TEST(ImagePreprocessTest, UpscalingAndDownscalingKeepAConstantImageConstant) {
  cv::Mat small(8, 8, CV_8UC3, cv::Scalar(100, 100, 100));
  cv::Mat big(500, 300, CV_8UC3, cv::Scalar(100, 100, 100));
  model::InputSpec spec;  // 224x224.
  for (const cv::Mat& m : {small, big}) {
    std::vector<float> v = ToInputCHW(m, spec);
    ASSERT_EQ(v.size(), 3u * 224 * 224);
    for (size_t i = 0; i < v.size(); i += 997) EXPECT_NEAR(v[i], 100.f / 255.f, 1e-6);
  }
}

}  // namespace
}  // namespace dogsearch::image
