#include "tools/bench/gallery_bulk.h"

#include <sqlite3.h>

#include <cstdio>

namespace dogsearch::bench {
namespace {

bool Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK) return true;
  std::fprintf(stderr, "sqlite: %s\n", err ? err : "?");
  sqlite3_free(err);
  return false;
}

}  // namespace

bool BulkLoadGallery(const std::string& sqlite_path, int64_t photos, int per_dog,
                     const std::function<std::string(int64_t)>& photo_id,
                     const std::function<std::string(int64_t)>& dog_id) {
  sqlite3* db = nullptr;
  if (sqlite3_open(sqlite_path.c_str(), &db) != SQLITE_OK) return false;
  bool ok = Exec(db, "PRAGMA synchronous=OFF") && Exec(db, "BEGIN");
  sqlite3_stmt *dog = nullptr, *photo = nullptr;
  ok = ok && sqlite3_prepare_v2(db, "INSERT INTO dogs VALUES (?, ?, '', 1)", -1, &dog, nullptr) ==
                 SQLITE_OK;
  ok = ok && sqlite3_prepare_v2(db, "INSERT INTO photos VALUES (?, ?, 'p.jpg', 224, 224, 20000, ?)",
                                -1, &photo, nullptr) == SQLITE_OK;
  for (int64_t i = 0; i < photos && ok; ++i) {
    const std::string d = dog_id(i / per_dog), p = photo_id(i);
    if (i % per_dog == 0) {
      sqlite3_bind_text(dog, 1, d.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(dog, 2, "A dog", -1, SQLITE_STATIC);
      ok = sqlite3_step(dog) == SQLITE_DONE;
      sqlite3_reset(dog);
    }
    sqlite3_bind_text(photo, 1, p.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(photo, 2, d.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(photo, 3, i);
    ok = ok && sqlite3_step(photo) == SQLITE_DONE;
    sqlite3_reset(photo);
  }
  sqlite3_finalize(dog);
  sqlite3_finalize(photo);
  ok = ok && Exec(db, "COMMIT");
  if (!ok)
    std::fprintf(stderr, "bulk load of %s failed: %s\n", sqlite_path.c_str(), sqlite3_errmsg(db));
  sqlite3_close(db);
  return ok;
}

}  // namespace dogsearch::bench
