#include "services/index/core/vector_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

#if defined(__F16C__) && defined(__AVX__)
#include <immintrin.h>
#define DOGSEARCH_F16C 1
#endif

namespace dogsearch::index {
namespace {

// IEEE 754 half <-> single, round to nearest even (portable fallback for CPUs without F16C).
uint16_t ToHalf(float f) {
#ifdef DOGSEARCH_F16C
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
#else
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff)
    return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);  // Overflow: infinity.
  if (exp <= 0) {                                               // Subnormal or zero.
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - exp;
    uint32_t h = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1))) ++h;  // May carry into the exponent.
  return static_cast<uint16_t>(sign | h);
#endif
}

float FromHalf(uint16_t h) {
#ifdef DOGSEARCH_F16C
  return _cvtsh_ss(h);
#else
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, x;
  if (exp == 0x1f) {
    x = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    x = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    x = sign;
  } else {  // Subnormal: normalise.
    exp = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --exp;
    }
    x = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
#endif
}

size_t Dim(const void* param) { return *static_cast<const size_t*>(param); }

// Sums combine(a[i], b[i]) over the decoded values, 8 at a time where F16C is available.
template <typename Combine>
float HalfLoop(const uint16_t* a, const uint16_t* b, size_t dim, Combine combine) {
  size_t i = 0;
  float sum = 0;
#ifdef DOGSEARCH_F16C
  __m256 acc = _mm256_setzero_ps();
  for (; i + 8 <= dim; i += 8) {
    const __m256 x = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    const __m256 y = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    acc = _mm256_add_ps(acc, combine(x, y));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  for (float l : lanes) sum += l;
#endif
  for (; i < dim; ++i) {
    sum += combine(FromHalf(a[i]), FromHalf(b[i]));
  }
  return sum;
}

struct Mul {
#ifdef DOGSEARCH_F16C
  __m256 operator()(__m256 x, __m256 y) const { return _mm256_mul_ps(x, y); }
#endif
  float operator()(float x, float y) const { return x * y; }
};
struct SquaredDiff {
#ifdef DOGSEARCH_F16C
  __m256 operator()(__m256 x, __m256 y) const {
    const __m256 d = _mm256_sub_ps(x, y);
    return _mm256_mul_ps(d, d);
  }
#endif
  float operator()(float x, float y) const { return (x - y) * (x - y); }
};

float HalfIp(const void* a, const void* b, const void* p) {
  return 1.f -
         HalfLoop(static_cast<const uint16_t*>(a), static_cast<const uint16_t*>(b), Dim(p), Mul{});
}
float HalfL2(const void* a, const void* b, const void* p) {
  return HalfLoop(static_cast<const uint16_t*>(a), static_cast<const uint16_t*>(b), Dim(p),
                  SquaredDiff{});
}

float Scale(const void* v) {
  float s;
  std::memcpy(&s, v, sizeof(s));
  return s;
}
const int8_t* Codes(const void* v) { return static_cast<const int8_t*>(v) + sizeof(float); }

float Int8Ip(const void* a, const void* b, const void* p) {
  const int8_t *x = Codes(a), *y = Codes(b);
  const size_t dim = Dim(p);
  int32_t dot = 0;
  for (size_t i = 0; i < dim; ++i) dot += static_cast<int32_t>(x[i]) * y[i];
  return 1.f - Scale(a) * Scale(b) * static_cast<float>(dot);
}
float Int8L2(const void* a, const void* b, const void* p) {
  const int8_t *x = Codes(a), *y = Codes(b);
  const float sa = Scale(a), sb = Scale(b);
  const size_t dim = Dim(p);
  float sum = 0;
  for (size_t i = 0; i < dim; ++i) {
    const float d = sa * x[i] - sb * y[i];
    sum += d * d;
  }
  return sum;
}

}  // namespace

absl::string_view EncodingName(VectorEncoding e) {
  switch (e) {
    case VectorEncoding::kFloat16:
      return "float16";
    case VectorEncoding::kInt8:
      return "int8";
    case VectorEncoding::kFloat32:
      break;
  }
  return "float32";
}

absl::StatusOr<VectorEncoding> ParseEncoding(absl::string_view name) {
  for (VectorEncoding e :
       {VectorEncoding::kFloat32, VectorEncoding::kFloat16, VectorEncoding::kInt8}) {
    if (name == EncodingName(e)) return e;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown vector encoding '", name, "' (float32, float16 or int8)"));
}

size_t EncodedBytes(VectorEncoding e, size_t dim) {
  switch (e) {
    case VectorEncoding::kFloat16:
      return (dim * 2 + 3) / 4 * 4;
    case VectorEncoding::kInt8:
      return sizeof(float) + (dim + 3) / 4 * 4;
    case VectorEncoding::kFloat32:
      break;
  }
  return dim * 4;
}

void EncodeVector(VectorEncoding e, const float* in, size_t dim, void* out) {
  std::memset(out, 0, EncodedBytes(e, dim));
  switch (e) {
    case VectorEncoding::kFloat32:
      std::memcpy(out, in, dim * sizeof(float));
      return;
    case VectorEncoding::kFloat16: {
      uint16_t* h = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < dim; ++i) h[i] = ToHalf(in[i]);
      return;
    }
    case VectorEncoding::kInt8: {
      float largest = 0;
      for (size_t i = 0; i < dim; ++i) largest = std::max(largest, std::fabs(in[i]));
      const float scale = largest / 127.f;
      std::memcpy(out, &scale, sizeof(scale));
      int8_t* codes = static_cast<int8_t*>(out) + sizeof(float);
      for (size_t i = 0; i < dim && scale > 0; ++i) {
        codes[i] = static_cast<int8_t>(std::clamp(std::lround(in[i] / scale), -127L, 127L));
      }
      return;
    }
  }
}

void DecodeVector(VectorEncoding e, const void* in, size_t dim, float* out) {
  switch (e) {
    case VectorEncoding::kFloat32:
      std::memcpy(out, in, dim * sizeof(float));
      return;
    case VectorEncoding::kFloat16:
      for (size_t i = 0; i < dim; ++i) out[i] = FromHalf(static_cast<const uint16_t*>(in)[i]);
      return;
    case VectorEncoding::kInt8:
      for (size_t i = 0; i < dim; ++i) out[i] = Scale(in) * Codes(in)[i];
      return;
  }
}

EncodedDistance EncodedDistanceFunction(VectorEncoding e, bool l2) {
  if (e == VectorEncoding::kFloat16) return l2 ? &HalfL2 : &HalfIp;
  if (e == VectorEncoding::kInt8) return l2 ? &Int8L2 : &Int8Ip;
  return nullptr;
}

}  // namespace dogsearch::index
