// Vector encodings: round trips within each encoding's error bound, distances equal to the
// decoded vectors' and close to float32's, half-precision special values, names.
#include "services/index/core/vector_codec.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace dogsearch::index {
namespace {

std::vector<float> Unit(size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> v(dim);
  double n = 0;
  for (float& x : v) {
    x = g(rng);
    n += x * x;
  }
  for (float& x : v) x /= static_cast<float>(std::sqrt(n));
  return v;
}

std::vector<float> RoundTrip(VectorEncoding e, const std::vector<float>& v) {
  std::vector<char> buf(EncodedBytes(e, v.size()));
  EncodeVector(e, v.data(), v.size(), buf.data());
  std::vector<float> out(v.size());
  DecodeVector(e, buf.data(), v.size(), out.data());
  return out;
}

TEST(VectorCodecTest, SizesAreCompactAndAligned) {
  EXPECT_EQ(EncodedBytes(VectorEncoding::kFloat32, 128), 512u);
  EXPECT_EQ(EncodedBytes(VectorEncoding::kFloat16, 128), 256u);
  EXPECT_EQ(EncodedBytes(VectorEncoding::kInt8, 128), 132u);
  EXPECT_EQ(EncodedBytes(VectorEncoding::kFloat16, 3), 8u);
  EXPECT_EQ(EncodedBytes(VectorEncoding::kInt8, 3), 8u);
}

TEST(VectorCodecTest, RoundTripsStayWithinTheEncodingsError) {
  for (size_t dim : {3u, 128u, 131u}) {
    const std::vector<float> v = Unit(dim, static_cast<uint32_t>(dim));
    float largest = 0;
    for (float x : v) largest = std::max(largest, std::fabs(x));
    const auto f32 = RoundTrip(VectorEncoding::kFloat32, v);
    const auto f16 = RoundTrip(VectorEncoding::kFloat16, v);
    const auto i8 = RoundTrip(VectorEncoding::kInt8, v);
    for (size_t i = 0; i < dim; ++i) {
      EXPECT_EQ(f32[i], v[i]);
      EXPECT_LE(std::fabs(f16[i] - v[i]), std::fabs(v[i]) * std::ldexp(1.0, -11) + 1e-7) << i;
      EXPECT_LE(std::fabs(i8[i] - v[i]), largest / 127 / 2 * 1.0001) << i;
    }
  }
}

TEST(VectorCodecTest, HalfPrecisionSpecialValues) {
  const std::vector<float> v = {
      0.f, -0.f, 1.f, -2.5f, 65504.f, 1e6f, 6.1e-5f, 3e-7f, std::numeric_limits<float>::infinity()};
  const auto h = RoundTrip(VectorEncoding::kFloat16, v);
  EXPECT_EQ(h[0], 0.f);
  EXPECT_TRUE(std::signbit(h[1]));
  EXPECT_EQ(h[2], 1.f);
  EXPECT_EQ(h[3], -2.5f);
  EXPECT_EQ(h[4], 65504.f);                    // Largest half.
  EXPECT_TRUE(std::isinf(h[5]));               // Overflow.
  EXPECT_NEAR(h[6], 6.1e-5f, 6.1e-5f * 1e-3);  // Near the smallest normal.
  EXPECT_NEAR(h[7], 3e-7f, 6e-8f);             // Subnormal.
  EXPECT_TRUE(std::isinf(h[8]));
}

TEST(VectorCodecTest, DistancesMatchTheDecodedVectorsAndFloat32) {
  const size_t dim = 128;
  for (VectorEncoding e : {VectorEncoding::kFloat16, VectorEncoding::kInt8}) {
    for (int pair = 0; pair < 20; ++pair) {
      const auto a = Unit(dim, 100 + pair), b = Unit(dim, 200 + pair);
      std::vector<char> ea(EncodedBytes(e, dim)), eb(EncodedBytes(e, dim));
      EncodeVector(e, a.data(), dim, ea.data());
      EncodeVector(e, b.data(), dim, eb.data());
      const auto da = RoundTrip(e, a), db = RoundTrip(e, b);
      double dot = 0, dot_decoded = 0, l2 = 0, l2_decoded = 0;
      for (size_t i = 0; i < dim; ++i) {
        dot += a[i] * b[i];
        dot_decoded += da[i] * db[i];
        l2 += (a[i] - b[i]) * (a[i] - b[i]);
        l2_decoded += (da[i] - db[i]) * (da[i] - db[i]);
      }
      const size_t param = dim;
      const float ip = EncodedDistanceFunction(e, false)(ea.data(), eb.data(), &param);
      const float sq = EncodedDistanceFunction(e, true)(ea.data(), eb.data(), &param);
      EXPECT_NEAR(ip, 1 - dot_decoded, 1e-5);
      EXPECT_NEAR(sq, l2_decoded, 1e-5);
      const double bound = e == VectorEncoding::kInt8 ? 5e-3 : 5e-4;
      EXPECT_NEAR(ip, 1 - dot, bound);
      EXPECT_NEAR(sq, l2, 2 * bound);
    }
  }
}

TEST(VectorCodecTest, NamesParseAndUnknownOnesAreRefused) {
  for (VectorEncoding e :
       {VectorEncoding::kFloat32, VectorEncoding::kFloat16, VectorEncoding::kInt8}) {
    auto parsed = ParseEncoding(EncodingName(e));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, e);
  }
  auto bad = ParseEncoding("int4");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("float32, float16 or int8"), std::string::npos);
}

TEST(VectorCodecTest, AZeroVectorEncodesToZeros) {
  const std::vector<float> zero(16, 0.f);
  for (float x : RoundTrip(VectorEncoding::kInt8, zero)) EXPECT_EQ(x, 0.f);
}

}  // namespace
}  // namespace dogsearch::index
