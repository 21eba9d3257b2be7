#include "services/gateway/core/gallery_store.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/status_macros.h"

namespace dogsearch::gateway {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS dogs (
  dog_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  notes TEXT NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS photos (
  photo_id TEXT PRIMARY KEY,
  dog_id TEXT NOT NULL REFERENCES dogs(dog_id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  added INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS photos_by_dog ON photos(dog_id, added, photo_id);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
)sql";

// Row counts kept by triggers in the same transactions as the rows (also for photos deleted by
// the cascade of a dog's delete), so that counting a 10-million-photo gallery is one lookup
// rather than a scan (issue #22). Created, and filled by one count, the first time a gallery
// opens without them (see Open).
constexpr char kCountsSchema[] = R"sql(
CREATE TABLE counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO counts VALUES ('dogs', (SELECT COUNT(*) FROM dogs));
INSERT INTO counts VALUES ('photos', (SELECT COUNT(*) FROM photos));
CREATE TRIGGER dogs_added AFTER INSERT ON dogs
  BEGIN UPDATE counts SET n = n + 1 WHERE name = 'dogs'; END;
CREATE TRIGGER dogs_removed AFTER DELETE ON dogs
  BEGIN UPDATE counts SET n = n - 1 WHERE name = 'dogs'; END;
CREATE TRIGGER photos_added AFTER INSERT ON photos
  BEGIN UPDATE counts SET n = n + 1 WHERE name = 'photos'; END;
CREATE TRIGGER photos_removed AFTER DELETE ON photos
  BEGIN UPDATE counts SET n = n - 1 WHERE name = 'photos'; END;
)sql";

// One prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  absl::Status status() const {
    if (rc_ == SQLITE_OK) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("sqlite prepare: ", sqlite3_errmsg(db_)));
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // True while rows come; false when done. Errors end up in Done().
  bool Row() {
    rc_ = sqlite3_step(stmt_);
    return rc_ == SQLITE_ROW;
  }
  // For statements without rows: OK, ALREADY_EXISTS on a constraint violation, else INTERNAL.
  absl::Status Run() {
    rc_ = sqlite3_step(stmt_);
    return Done();
  }
  absl::Status Done() const {
    if (rc_ == SQLITE_DONE || rc_ == SQLITE_ROW) return absl::OkStatus();
    if ((rc_ & 0xff) == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError(absl::StrCat("sqlite: ", sqlite3_errmsg(db_)));
    }
    return absl::InternalError(absl::StrCat("sqlite: ", sqlite3_errmsg(db_)));
  }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_blob(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : "";
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  // Ready to bind and step again (bindings cleared).
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

constexpr char kPhotoColumns[] = "photo_id, dog_id, name, width, height, bytes, added";

PhotoRow ReadPhoto(const Stmt& s) {
  PhotoRow p;
  p.photo_id = s.Text(0);
  p.dog_id = s.Text(1);
  p.name = s.Text(2);
  p.width = static_cast<uint32_t>(s.Int(3));
  p.height = static_cast<uint32_t>(s.Int(4));
  p.bytes = static_cast<uint64_t>(s.Int(5));
  p.added_unix_seconds = s.Int(6);
  return p;
}

// BEGIN IMMEDIATE ... COMMIT, rolled back unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    ok_ = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  ~Transaction() {
    if (ok_ && !committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  absl::Status status() const {
    return ok_ ? absl::OkStatus()
               : absl::InternalError(absl::StrCat("sqlite begin: ", sqlite3_errmsg(db_)));
  }
  absl::Status Commit() {
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return absl::InternalError(absl::StrCat("sqlite commit: ", sqlite3_errmsg(db_)));
    }
    committed_ = true;
    return absl::OkStatus();
  }

 private:
  sqlite3* db_;
  bool ok_ = false;
  bool committed_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<GalleryStore>> GalleryStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("cannot open gallery database ", path, ": ", msg));
  }
  std::unique_ptr<GalleryStore> store(new GalleryStore(db));
  sqlite3_busy_timeout(db, 5000);
  DS_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  DS_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
  DS_RETURN_IF_ERROR(store->Exec("PRAGMA foreign_keys=ON"));
  DS_RETURN_IF_ERROR(store->Exec(kSchema));
  DS_RETURN_IF_ERROR(store->Exec("BEGIN IMMEDIATE"));
  absl::Status counts = absl::OkStatus();
  {
    Stmt exists(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'counts'");
    if (!exists.Row()) counts = store->Exec(kCountsSchema);
  }
  if (!counts.ok()) {
    (void)store->Exec("ROLLBACK");
    return counts;
  }
  DS_RETURN_IF_ERROR(store->Exec("COMMIT"));
  return store;
}

GalleryStore::~GalleryStore() { sqlite3_close(db_); }

absl::Status GalleryStore::Exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return absl::InternalError(absl::StrCat("sqlite: ", msg));
  }
  return absl::OkStatus();
}

absl::Status GalleryStore::InsertPhotosLocked(const std::string& dog_id,
                                              const std::vector<PhotoRow>& photos,
                                              std::vector<std::string>* added,
                                              std::vector<std::string>* duplicates) {
  for (const PhotoRow& p : photos) {
    Stmt owner(db_, "SELECT dog_id FROM photos WHERE photo_id = ?");
    DS_RETURN_IF_ERROR(owner.status());
    owner.Bind(1, p.photo_id);
    if (owner.Row()) {
      const std::string other = owner.Text(0);
      if (other != dog_id) {
        return absl::AlreadyExistsError(absl::StrCat(
            "photo '", p.name, "' (", p.photo_id, ") is already enrolled for dog '", other, "'"));
      }
      if (duplicates) duplicates->push_back(p.photo_id);
      continue;
    }
    DS_RETURN_IF_ERROR(owner.Done());
    Stmt ins(db_,
             "INSERT INTO photos (photo_id, dog_id, name, width, height, bytes, added) "
             "VALUES (?, ?, ?, ?, ?, ?, ?)");
    DS_RETURN_IF_ERROR(ins.status());
    ins.Bind(1, p.photo_id).Bind(2, dog_id).Bind(3, p.name).Bind(4, int64_t{p.width});
    ins.Bind(5, int64_t{p.height}).Bind(6, static_cast<int64_t>(p.bytes));
    ins.Bind(7, p.added_unix_seconds);
    DS_RETURN_IF_ERROR(ins.Run());
    if (added) added->push_back(p.photo_id);
  }
  return absl::OkStatus();
}

absl::Status GalleryStore::InsertDog(const DogRow& dog) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  DS_RETURN_IF_ERROR(tx.status());
  Stmt ins(db_, "INSERT INTO dogs (dog_id, name, notes, created) VALUES (?, ?, ?, ?)");
  DS_RETURN_IF_ERROR(ins.status());
  ins.Bind(1, dog.dog_id).Bind(2, dog.name).Bind(3, dog.notes).Bind(4, dog.created_unix_seconds);
  if (absl::Status s = ins.Run(); !s.ok()) {
    if (absl::IsAlreadyExists(s)) {
      return absl::AlreadyExistsError(absl::StrCat("dog '", dog.dog_id, "' is already enrolled"));
    }
    return s;
  }
  DS_RETURN_IF_ERROR(InsertPhotosLocked(dog.dog_id, dog.photos, nullptr, nullptr));
  return tx.Commit();
}

absl::Status GalleryStore::AddPhotos(const std::string& dog_id, const std::vector<PhotoRow>& photos,
                                     std::vector<std::string>* added,
                                     std::vector<std::string>* duplicates) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  DS_RETURN_IF_ERROR(tx.status());
  Stmt find(db_, "SELECT 1 FROM dogs WHERE dog_id = ?");
  DS_RETURN_IF_ERROR(find.status());
  find.Bind(1, dog_id);
  if (!find.Row()) {
    DS_RETURN_IF_ERROR(find.Done());
    return absl::NotFoundError(absl::StrCat("dog '", dog_id, "' is not enrolled"));
  }
  DS_RETURN_IF_ERROR(InsertPhotosLocked(dog_id, photos, added, duplicates));
  return tx.Commit();
}

absl::Status GalleryStore::RemovePhoto(const std::string& dog_id, const std::string& photo_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  DS_RETURN_IF_ERROR(tx.status());
  Stmt count(db_, "SELECT COUNT(*), SUM(photo_id = ?) FROM photos WHERE dog_id = ?");
  DS_RETURN_IF_ERROR(count.status());
  count.Bind(1, photo_id).Bind(2, dog_id);
  if (!count.Row()) return count.Done();
  const int64_t n = count.Int(0);
  const int64_t has = count.Int(1);
  if (n == 0) return absl::NotFoundError(absl::StrCat("dog '", dog_id, "' is not enrolled"));
  if (has == 0) {
    return absl::NotFoundError(absl::StrCat("dog '", dog_id, "' has no photo with id ", photo_id));
  }
  if (n == 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "photo ", photo_id, " is the last photo of dog '", dog_id, "'; delete the dog instead"));
  }
  Stmt del(db_, "DELETE FROM photos WHERE photo_id = ? AND dog_id = ?");
  DS_RETURN_IF_ERROR(del.status());
  del.Bind(1, photo_id).Bind(2, dog_id);
  DS_RETURN_IF_ERROR(del.Run());
  return tx.Commit();
}

absl::StatusOr<std::vector<std::string>> GalleryStore::DeleteDog(const std::string& dog_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  DS_RETURN_IF_ERROR(tx.status());
  std::vector<std::string> ids;
  for (const PhotoRow& p : PhotosOfLocked(dog_id)) ids.push_back(p.photo_id);
  Stmt del(db_, "DELETE FROM dogs WHERE dog_id = ?");
  DS_RETURN_IF_ERROR(del.status());
  del.Bind(1, dog_id);
  DS_RETURN_IF_ERROR(del.Run());
  if (sqlite3_changes(db_) == 0) {
    return absl::NotFoundError(absl::StrCat("dog '", dog_id, "' is not enrolled"));
  }
  DS_RETURN_IF_ERROR(tx.Commit());
  return ids;
}

std::vector<PhotoRow> GalleryStore::PhotosOfLocked(const std::string& dog_id) const {
  std::vector<PhotoRow> out;
  Stmt s(db_, absl::StrCat("SELECT ", kPhotoColumns,
                           " FROM photos WHERE dog_id = ? ORDER BY added, photo_id")
                  .c_str());
  if (!s.status().ok()) return out;
  s.Bind(1, dog_id);
  while (s.Row()) out.push_back(ReadPhoto(s));
  return out;
}

absl::StatusOr<DogRow> GalleryStore::GetDog(const std::string& dog_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "SELECT dog_id, name, notes, created FROM dogs WHERE dog_id = ?");
  DS_RETURN_IF_ERROR(s.status());
  s.Bind(1, dog_id);
  if (!s.Row()) {
    DS_RETURN_IF_ERROR(s.Done());
    return absl::NotFoundError(absl::StrCat("dog '", dog_id, "' is not enrolled"));
  }
  DogRow d{s.Text(0), s.Text(1), s.Text(2), s.Int(3), {}};
  d.photos = PhotosOfLocked(dog_id);
  return d;
}

absl::StatusOr<std::vector<DogRow>> GalleryStore::ListDogs(const std::string& after_id,
                                                           int limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         "SELECT dog_id, name, notes, created FROM dogs WHERE dog_id > ? "
         "ORDER BY dog_id LIMIT ?");
  DS_RETURN_IF_ERROR(s.status());
  s.Bind(1, after_id).Bind(2, int64_t{limit});
  std::vector<DogRow> out;
  while (s.Row()) out.push_back(DogRow{s.Text(0), s.Text(1), s.Text(2), s.Int(3), {}});
  DS_RETURN_IF_ERROR(s.Done());
  if (out.empty()) return out;
  // The page is a run of consecutive ids: one query fetches all its photos.
  Stmt p(db_, absl::StrCat("SELECT ", kPhotoColumns,
                           " FROM photos WHERE dog_id >= ? AND dog_id <= ? "
                           "ORDER BY dog_id, added, photo_id")
                  .c_str());
  DS_RETURN_IF_ERROR(p.status());
  p.Bind(1, out.front().dog_id).Bind(2, out.back().dog_id);
  size_t d = 0;
  while (p.Row()) {
    PhotoRow row = ReadPhoto(p);
    while (d < out.size() && out[d].dog_id < row.dog_id) ++d;
    if (d < out.size() && out[d].dog_id == row.dog_id) out[d].photos.push_back(std::move(row));
  }
  DS_RETURN_IF_ERROR(p.Done());
  return out;
}

uint64_t GalleryStore::CountDogs() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "SELECT n FROM counts WHERE name = 'dogs'");
  return s.Row() ? static_cast<uint64_t>(s.Int(0)) : 0;
}

uint64_t GalleryStore::CountPhotosThrough(const std::string& photo_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "SELECT COUNT(*) FROM photos WHERE photo_id <= ?");
  s.Bind(1, photo_id);
  return s.Row() ? static_cast<uint64_t>(s.Int(0)) : 0;
}

uint64_t GalleryStore::CountPhotos() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "SELECT n FROM counts WHERE name = 'photos'");
  return s.Row() ? static_cast<uint64_t>(s.Int(0)) : 0;
}

std::optional<PhotoRow> GalleryStore::FindPhoto(const std::string& photo_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, absl::StrCat("SELECT ", kPhotoColumns, " FROM photos WHERE photo_id = ?").c_str());
  s.Bind(1, photo_id);
  if (!s.Row()) return std::nullopt;
  return ReadPhoto(s);
}

std::map<std::string, std::pair<PhotoRow, std::string>> GalleryStore::LookupPhotos(
    const std::vector<std::string>& photo_ids) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::pair<PhotoRow, std::string>> out;
  // One statement prepared once and re-bound per id (a search looks up ~50 hits).
  Stmt q(db_,
         "SELECT p.photo_id, p.dog_id, p.name, p.width, p.height, p.bytes, p.added, "
         "d.name FROM photos p JOIN dogs d ON d.dog_id = p.dog_id WHERE p.photo_id = ?");
  if (!q.status().ok()) return out;
  for (const std::string& id : photo_ids) {
    if (out.count(id)) continue;
    q.Bind(1, id);
    if (q.Row()) out.emplace(id, std::make_pair(ReadPhoto(q), q.Text(7)));
    q.Reset();
  }
  return out;
}

std::vector<PhotoRow> GalleryStore::PhotosAfter(const std::string& after_photo_id,
                                                int limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PhotoRow> out;
  Stmt s(db_, absl::StrCat("SELECT ", kPhotoColumns,
                           " FROM photos WHERE photo_id > ? ORDER BY photo_id LIMIT ?")
                  .c_str());
  if (!s.status().ok()) return out;
  s.Bind(1, after_photo_id).Bind(2, int64_t{limit});
  while (s.Row()) out.push_back(ReadPhoto(s));
  return out;
}

std::vector<PhotoRow> GalleryStore::SamplePhotos(size_t n) const {
  std::vector<PhotoRow> out;
  if (n == 0) return out;
  const uint64_t total = CountPhotos();
  const size_t read_all = std::max<size_t>(2 * n, kSampleByReading);
  if (total <= read_all) {  // Small: read them all and take every k-th.
    std::vector<PhotoRow> all = PhotosAfter("", static_cast<int>(read_all));
    const size_t m = std::min(all.size(), n);
    for (size_t i = 0; i < m; ++i) out.push_back(all[i * all.size() / m]);
    return out;
  }
  // Photo ids are SHA-256 hex digests, spread evenly over their range: the first photo at or
  // after each of n evenly spaced points of it (and after the one taken before) is an even
  // sample, read with n index seeks.
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, absl::StrCat("SELECT ", kPhotoColumns,
                           " FROM photos WHERE photo_id >= ? AND photo_id > ? ORDER BY photo_id "
                           "LIMIT 1")
                  .c_str());
  if (!s.status().ok()) return out;
  const uint64_t step = ~uint64_t{0} / n;
  for (size_t i = 0; i < n; ++i) {
    s.Bind(1, absl::StrFormat("%016x", i * step)).Bind(2, out.empty() ? "" : out.back().photo_id);
    if (!s.Row()) break;  // Past the last photo.
    out.push_back(ReadPhoto(s));
    s.Reset();
  }
  return out;
}

std::optional<std::string> GalleryStore::GetMeta(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "SELECT value FROM meta WHERE key = ?");
  s.Bind(1, key);
  if (!s.Row()) return std::nullopt;
  return s.Text(0);
}

absl::Status GalleryStore::SetMeta(const std::map<std::string, std::string>& values) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  DS_RETURN_IF_ERROR(tx.status());
  for (const auto& [key, value] : values) {
    Stmt s(db_,
           "INSERT INTO meta (key, value) VALUES (?, ?) "
           "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    DS_RETURN_IF_ERROR(s.status());
    s.Bind(1, key).BindBlob(2, value);
    DS_RETURN_IF_ERROR(s.Run());
  }
  return tx.Commit();
}

}  // namespace dogsearch::gateway
