// GalleryStore (SQLite) and the intake checks: what a user would check about enrolled dogs
// surviving a reopen, conflicts named, paging, and refusals of bad ids, names and photos.
#include "services/gateway/core/gallery_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "common/base/sha256.h"
#include "services/gateway/core/intake.h"
#include "services/gateway/core/photo_store.h"
#include "tests/gateway/fakes.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::gateway {
namespace {

PhotoRow Photo(const std::string& id, int64_t added = 1) {
  return PhotoRow{id, "", "p.jpg", 64, 64, 100, added};
}

std::string Hex(char c) { return std::string(64, c); }

TEST(GalleryStoreTest, DogsAndPhotosSurviveReopen) {
  dogsearch::testing::TempDir dir;
  {
    auto store = GalleryStore::Open(dir.File("g.sqlite"));
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(
        (*store)
            ->InsertDog({"rex", "Rex", "good boy", 5, {Photo(Hex('a')), Photo(Hex('b'), 2)}})
            .ok());
    ASSERT_TRUE((*store)->SetMeta({{"serving_version", "v1"}}).ok());
  }
  auto store = GalleryStore::Open(dir.File("g.sqlite"));
  ASSERT_TRUE(store.ok());
  auto dog = (*store)->GetDog("rex");
  ASSERT_TRUE(dog.ok()) << dog.status();
  EXPECT_EQ(dog->name, "Rex");
  EXPECT_EQ(dog->notes, "good boy");
  ASSERT_EQ(dog->photos.size(), 2u);
  EXPECT_EQ(dog->photos[0].photo_id, Hex('a'));
  EXPECT_EQ(dog->photos[0].dog_id, "rex");
  EXPECT_EQ((*store)->GetMeta("serving_version").value_or(""), "v1");
  EXPECT_FALSE((*store)->GetMeta("nothing").has_value());
  EXPECT_EQ((*store)->CountDogs(), 1u);
  EXPECT_EQ((*store)->CountPhotos(), 2u);
}

TEST(GalleryStoreTest, ConflictsAreNamedAndChangeNothing) {
  dogsearch::testing::TempDir dir;
  auto store = *GalleryStore::Open(dir.File("g.sqlite"));
  ASSERT_TRUE(store->InsertDog({"rex", "Rex", "", 1, {Photo(Hex('a'))}}).ok());
  absl::Status again = store->InsertDog({"rex", "Other", "", 1, {Photo(Hex('c'))}});
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;
  EXPECT_NE(again.message().find("rex"), std::string::npos);
  // A photo of rex enrolled for another dog: refused, and the other dog is not created.
  absl::Status taken = store->InsertDog({"max", "Max", "", 1, {Photo(Hex('d')), Photo(Hex('a'))}});
  EXPECT_TRUE(absl::IsAlreadyExists(taken)) << taken;
  EXPECT_NE(taken.message().find("rex"), std::string::npos);
  EXPECT_TRUE(absl::IsNotFound(store->GetDog("max").status()));
  EXPECT_FALSE(store->FindPhoto(Hex('d')).has_value());
  // AddPhotos: the dog's own photo is a duplicate, a new one is added.
  std::vector<std::string> added, dups;
  ASSERT_TRUE(store->AddPhotos("rex", {Photo(Hex('a')), Photo(Hex('e'))}, &added, &dups).ok());
  EXPECT_EQ(added, std::vector<std::string>{Hex('e')});
  EXPECT_EQ(dups, std::vector<std::string>{Hex('a')});
  EXPECT_TRUE(absl::IsNotFound(store->AddPhotos("nobody", {Photo(Hex('f'))}, &added, &dups)));
}

TEST(GalleryStoreTest, RemoveAndDelete) {
  dogsearch::testing::TempDir dir;
  auto store = *GalleryStore::Open(dir.File("g.sqlite"));
  ASSERT_TRUE(store->InsertDog({"rex", "Rex", "", 1, {Photo(Hex('a')), Photo(Hex('b'))}}).ok());
  EXPECT_TRUE(absl::IsNotFound(store->RemovePhoto("rex", Hex('c'))));
  EXPECT_TRUE(absl::IsNotFound(store->RemovePhoto("nobody", Hex('a'))));
  ASSERT_TRUE(store->RemovePhoto("rex", Hex('a')).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store->RemovePhoto("rex", Hex('b'))));
  auto ids = store->DeleteDog("rex");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<std::string>{Hex('b')});
  EXPECT_EQ(store->CountPhotos(), 0u);
  EXPECT_TRUE(absl::IsNotFound(store->DeleteDog("rex").status()));
}

// Counts come from a table the triggers keep (issue #22: no scan of a 10-million-photo
// gallery): exact after inserts, refused inserts (rolled back), removals and a dog's delete
// (its photos go by the cascade), and across a reopen.
TEST(GalleryStoreTest, CountsStayExactThroughEveryChange) {
  dogsearch::testing::TempDir dir;
  {
    auto store = *GalleryStore::Open(dir.File("g.sqlite"));
    for (char c : {'a', 'b', 'c'}) {
      ASSERT_TRUE(store->InsertDog({std::string(1, c), "Dog", "", 1, {Photo(Hex(c))}}).ok());
    }
    EXPECT_FALSE(store->InsertDog({"d", "Dog", "", 1, {Photo(Hex('e')), Photo(Hex('a'))}}).ok());
    std::vector<std::string> added, dups;
    ASSERT_TRUE(store->AddPhotos("a", {Photo(Hex('f')), Photo(Hex('g'))}, &added, &dups).ok());
    ASSERT_TRUE(store->RemovePhoto("a", Hex('g')).ok());
    ASSERT_TRUE(store->DeleteDog("b").ok());
    EXPECT_EQ(store->CountDogs(), 2u);
    EXPECT_EQ(store->CountPhotos(), 3u);  // a: a, f; c: c.
  }
  auto store = *GalleryStore::Open(dir.File("g.sqlite"));
  EXPECT_EQ(store->CountDogs(), 2u);
  EXPECT_EQ(store->CountPhotos(), 3u);
}

// A gallery written before the counts existed gets them, counted once, when it is opened.
TEST(GalleryStoreTest, AnOlderGalleryIsCountedOnceWhenOpened) {
  dogsearch::testing::TempDir dir;
  {
    auto store = *GalleryStore::Open(dir.File("g.sqlite"));
    ASSERT_TRUE(store->InsertDog({"rex", "Rex", "", 1, {Photo(Hex('a')), Photo(Hex('b'))}}).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("g.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TRIGGER dogs_added; DROP TRIGGER dogs_removed; "
                         "DROP TRIGGER photos_added; DROP TRIGGER photos_removed; "
                         "DROP TABLE counts; INSERT INTO dogs VALUES ('max', 'Max', '', 1);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto store = *GalleryStore::Open(dir.File("g.sqlite"));
  EXPECT_EQ(store->CountDogs(), 2u);
  EXPECT_EQ(store->CountPhotos(), 2u);
  ASSERT_TRUE(store->InsertDog({"fido", "Fido", "", 1, {Photo(Hex('c'))}}).ok());
  EXPECT_EQ(store->CountDogs(), 3u);
  EXPECT_EQ(store->CountPhotos(), 3u);
}

// The embedding map's sample of a large gallery: n distinct photos in id order, spread over the
// whole id range, read by seeks (the gallery is larger than the read-everything limit).
TEST(GalleryStoreTest, SamplesALargeGalleryEvenly) {
  dogsearch::testing::TempDir dir;
  auto store = *GalleryStore::Open(dir.File("g.sqlite"));
  constexpr int kDogs = 1000, kPerDog = 3;
  static_assert(kDogs * kPerDog > GalleryStore::kSampleByReading);
  for (int d = 0; d < kDogs; ++d) {
    DogRow dog{absl::StrCat("dog", d), "Dog", "", 1, {}};
    for (int p = 0; p < kPerDog; ++p) {
      dog.photos.push_back(Photo(Sha256::Hex(absl::StrCat("photo ", d, " ", p))));
    }
    ASSERT_TRUE(store->InsertDog(dog).ok());
  }
  const std::vector<PhotoRow> sample = store->SamplePhotos(100);
  ASSERT_GE(sample.size(), 99u);
  for (size_t i = 1; i < sample.size(); ++i) {
    EXPECT_LT(sample[i - 1].photo_id, sample[i].photo_id);
  }
  // Spread: the first from the lowest 1/20 of the range, the last from the highest.
  EXPECT_LT(sample.front().photo_id, "0d");
  EXPECT_GT(sample.back().photo_id, "f2");
  EXPECT_EQ(store->SamplePhotos(0).size(), 0u);
  EXPECT_EQ(store->SamplePhotos(5000).size(), size_t{kDogs * kPerDog});  // All of a small one.
}

TEST(GalleryStoreTest, ListsInIdOrderByPages) {
  dogsearch::testing::TempDir dir;
  auto store = *GalleryStore::Open(dir.File("g.sqlite"));
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(store
                    ->InsertDog({absl::StrCat("dog", i),
                                 "D",
                                 "",
                                 1,
                                 {Photo(std::string(63, 'a') + static_cast<char>('0' + i))}})
                    .ok());
  }
  std::vector<std::string> seen;
  std::string after;
  while (true) {
    auto page = store->ListDogs(after, 3);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const DogRow& d : *page) seen.push_back(d.dog_id);
    after = page->back().dog_id;
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"dog0", "dog1", "dog2", "dog3", "dog4", "dog5", "dog6"}));
  EXPECT_EQ(store->PhotosAfter("", 100).size(), 7u);
  EXPECT_EQ(store->LookupPhotos({std::string(63, 'a') + '3', Hex('z')}).size(), 1u);
}

TEST(IntakeTest, DogIdsNamesAndNotes) {
  IntakeLimits lim;
  EXPECT_TRUE(CheckDogId("rex_2.b-c", lim).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CheckDogId("", lim)));
  EXPECT_TRUE(absl::IsInvalidArgument(CheckDogId("a/b", lim)));
  EXPECT_TRUE(absl::IsInvalidArgument(CheckDogId("..", lim)));
  EXPECT_TRUE(absl::IsInvalidArgument(CheckDogId(std::string(129, 'a'), lim)));
  EXPECT_TRUE(CheckName("Fido <b>&amp;</b> Ünïcode 🐕", lim).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CheckName("", lim)));
  EXPECT_TRUE(absl::IsInvalidArgument(CheckName("bad\nname", lim)));
  EXPECT_TRUE(absl::IsInvalidArgument(CheckName("\xc3\x28", lim)));      // Broken UTF-8.
  EXPECT_TRUE(absl::IsInvalidArgument(CheckName("\xed\xa0\x80", lim)));  // Surrogate.
  EXPECT_TRUE(absl::IsInvalidArgument(CheckName("\xc3", lim)));          // Truncated.
  EXPECT_TRUE(CheckNotes("line one\nline two\tend", lim).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CheckNotes(std::string(4097, 'x'), lim)));
  EXPECT_TRUE(CheckPhotoId(Hex('a')).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CheckPhotoId("../../etc/passwd")));
}

TEST(IntakeTest, PhotosAreCheckedFromTheirHeader) {
  IntakeLimits lim;
  const std::string ok = testing::FakePhoto(1, 1);
  auto c = CheckPhoto(ok, "rex.jpg", "photo 1 'rex.jpg'", lim);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->width, 64u);
  EXPECT_EQ(c->photo_id.size(), 64u);
  EXPECT_EQ(c->name, "rex.jpg");
  auto empty = CheckPhoto("", "", "photo 2", lim);
  EXPECT_TRUE(absl::IsInvalidArgument(empty.status()));
  EXPECT_NE(empty.status().message().find("photo 2"), std::string::npos);
  EXPECT_TRUE(absl::IsInvalidArgument(CheckPhoto("GIF89a.......", "", "p", lim).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(CheckPhoto(ok.substr(0, ok.size() - 2), "", "p", lim).status()));
  lim.max_photo_bytes = 10;
  EXPECT_TRUE(absl::IsInvalidArgument(CheckPhoto(ok, "", "p", lim).status()));
  lim = IntakeLimits();
  lim.max_pixels = 64 * 64 - 1;
  auto big = CheckPhoto(ok, "", "p", lim);
  EXPECT_TRUE(absl::IsInvalidArgument(big.status()));
  EXPECT_NE(big.status().message().find("64x64"), std::string::npos);
  // 0x0 in the header.
  std::string zero = ok;
  const size_t sof = zero.find("\xff\xc0");
  zero[sof + 5] = zero[sof + 6] = zero[sof + 7] = zero[sof + 8] = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(CheckPhoto(zero, "", "p", lim).status()));
}

TEST(PhotoStoreTest, StoresByHashAndDetectsDamage) {
  dogsearch::testing::TempDir dir;
  auto photos = PhotoStore::Open(dir.File("photos"));
  ASSERT_TRUE(photos.ok());
  const std::string data = testing::FakePhoto(3, 4);
  const std::string id = CheckPhoto(data, "", "p", IntakeLimits())->photo_id;
  ASSERT_TRUE(photos->Put(id, data).ok());
  ASSERT_TRUE(photos->Put(id, data).ok());  // Idempotent.
  EXPECT_EQ(*photos->Get(id), data);
  dogsearch::testing::WriteAll(photos->PathOf(id), "tampered");
  EXPECT_TRUE(absl::IsDataLoss(photos->Get(id).status()));
  ASSERT_TRUE(photos->Remove(id).ok());
  EXPECT_TRUE(absl::IsNotFound(photos->Get(id).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(photos->Get("../x").status()));
}

}  // namespace
}  // namespace dogsearch::gateway
