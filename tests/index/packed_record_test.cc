// PackedRecord: every field of a record survives packing, in each layout (photo id equal to the
// record id or not, with and without attributes), and the gateway's records pack small.
#include "services/index/core/packed_record.h"

#include <string>

#include "gtest/gtest.h"

namespace dogsearch::index {
namespace {

TEST(PackedRecordTest, EmptyRecordHasNoFields) {
  const PackedRecord r;
  EXPECT_EQ(r.id(), "");
  EXPECT_EQ(r.dog_id(), "");
  EXPECT_EQ(r.payload(), Payload{});
  EXPECT_EQ(r.packed_bytes(), 0u);
}

TEST(PackedRecordTest, FieldsRoundTripInEveryLayout) {
  const std::string id(64, 'a');
  const std::vector<Payload> payloads = {
      {"dog-1", id, {}},         // Photo id = record id.
      {"dog-2", "photo-2", {}},  // A different photo id.
      {"", "", {}},              // Nothing but the id.
      {"dog-3", id, {{"colour", "brown"}, {"", "empty key"}, {"k", ""}}},
      {std::string(70000, 'd'), std::string(300, 'p'), {{"x", std::string(1000, 'v')}}},
  };
  for (const Payload& p : payloads) {
    const PackedRecord r(id, p);
    EXPECT_EQ(r.id(), id);
    EXPECT_EQ(r.dog_id(), p.dog_id);
    EXPECT_EQ(r.payload(), p) << "dog " << p.dog_id.substr(0, 10) << ", photo " << p.photo_id;
    PackedRecord moved = std::move(const_cast<PackedRecord&>(r));
    EXPECT_EQ(moved.payload(), p);
  }
}

// The gateway's record: a 64-hex-digit id that is also the photo id, a short dog id. Packed,
// the photo id is not stored twice.
TEST(PackedRecordTest, AGatewayRecordStoresItsIdOnce) {
  const std::string id(64, 'f');
  const PackedRecord r(id, {"dog123456", id, {}});
  EXPECT_EQ(r.packed_bytes(), 16u + 64 + 9);
  EXPECT_EQ(r.payload().photo_id, id);
}

}  // namespace
}  // namespace dogsearch::index
