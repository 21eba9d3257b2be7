#include "services/index/core/catalog.h"

#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "services/index/core/limits.h"
#include "services/index/core/record_codec.h"
#include "services/index/core/storage_files.h"

namespace dogsearch::index {
namespace {

constexpr char kAliasesMagic[] = "DSIXALS1";

}  // namespace

std::string Catalog::CollectionDir(const std::string& name) const {
  return absl::StrCat(data_dir_, "/collections/", name);
}

absl::StatusOr<std::unique_ptr<Catalog>> Catalog::Open(const std::string& data_dir,
                                                       const RecoveryOptions& recovery) {
  std::unique_ptr<Catalog> c(new Catalog(data_dir));
  DS_RETURN_IF_ERROR(MakeDirs(absl::StrCat(data_dir, "/collections")));
  std::lock_guard<std::mutex> lock(c->mu_);
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(data_dir + "/collections", ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory()) continue;
    if (name[0] == '.' || !std::filesystem::exists(e.path() / kOptionsFile)) {
      // An unfinished create or drop from before a crash: nothing in it was acknowledged.
      DS_LOG(kWarning, "collection_dir_removed").Kv("dir", e.path().string());
      std::filesystem::remove_all(e.path(), ec);
      continue;
    }
    DS_ASSIGN_OR_RETURN(auto coll, DurableCollection::Open(e.path().string(), recovery));
    c->collections_[name] = std::move(coll);
  }
  if (ec) return ErrnoToStatus(ec.value(), absl::StrCat("list ", data_dir, "/collections"));
  DS_RETURN_IF_ERROR(c->LoadAliases());
  return c;
}

absl::Status Catalog::LoadAliases() {
  const std::string path = data_dir_ + "/ALIASES";
  if (!std::filesystem::exists(path)) return absl::OkStatus();
  DS_ASSIGN_OR_RETURN(std::string data, ReadFile(path, 16 << 20));
  DS_ASSIGN_OR_RETURN(std::string body, UnsealFile(path, data, kAliasesMagic));
  Decoder d(body);
  DS_ASSIGN_OR_RETURN(uint32_t n, d.U32());
  for (uint32_t i = 0; i < n; ++i) {
    DS_ASSIGN_OR_RETURN(std::string alias, d.Str());
    DS_ASSIGN_OR_RETURN(std::string target, d.Str());
    aliases_[alias] = target;
  }
  return absl::OkStatus();
}

absl::Status Catalog::SaveAliases(const std::map<std::string, std::string>& aliases) const {
  std::string body;
  Encoder e(&body);
  e.U32(static_cast<uint32_t>(aliases.size()));
  for (const auto& [a, t] : aliases) {
    e.Str(a);
    e.Str(t);
  }
  return WriteFileAtomic(data_dir_ + "/ALIASES", SealFile(kAliasesMagic, body));
}

absl::StatusOr<std::shared_ptr<DurableCollection>> Catalog::CreateCollection(
    const CollectionOptions& options) {
  DS_RETURN_IF_ERROR(ValidateCollectionOptions(options));
  // Creating a collection does disk I/O; the lock keeps two creates of one name apart.
  std::lock_guard<std::mutex> lock(mu_);
  if (collections_.count(options.name) || aliases_.count(options.name)) {
    return absl::AlreadyExistsError(
        absl::StrCat("'", options.name, "' is already a collection or an alias"));
  }
  DS_ASSIGN_OR_RETURN(std::unique_ptr<DurableCollection> created,
                      DurableCollection::Create(CollectionDir(options.name), options));
  std::shared_ptr<DurableCollection> coll = std::move(created);
  collections_[options.name] = coll;
  DS_LOG(kInfo, "collection_created")
      .Kv("collection", options.name)
      .Kv("dimension", options.dimension)
      .Kv("model_version", options.model_version);
  return coll;
}

absl::Status Catalog::DropCollection(const std::string& name) {
  std::shared_ptr<DurableCollection> coll;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = collections_.find(name);
    if (it == collections_.end()) {
      return absl::NotFoundError(absl::StrCat("no collection '", name, "'"));
    }
    for (const auto& [alias, target] : aliases_) {
      if (target == name) {
        return absl::FailedPreconditionError(absl::StrCat(
            "collection '", name, "' is the target of alias '", alias, "'; move the alias first"));
      }
    }
    coll = it->second;
    collections_.erase(it);
    // Rename first: a crash mid-delete leaves a '.'-prefixed directory that start-up removes.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const std::string doomed = absl::StrCat(data_dir_, "/collections/.dropped-", name, "-", rng());
    DS_RETURN_IF_ERROR(RenameDurably(CollectionDir(name), doomed));
    std::error_code ec;
    std::filesystem::remove_all(doomed, ec);
  }
  DS_LOG(kInfo, "collection_dropped").Kv("collection", name);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<DurableCollection>> Catalog::Resolve(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string target = name;
  if (auto a = aliases_.find(name); a != aliases_.end()) target = a->second;
  auto it = collections_.find(target);
  if (it == collections_.end()) {
    return absl::NotFoundError(absl::StrCat("no collection or alias named '", name, "'"));
  }
  return it->second;
}

std::vector<std::shared_ptr<DurableCollection>> Catalog::Collections() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<DurableCollection>> out;
  for (const auto& [n, c] : collections_) out.push_back(c);
  return out;
}

std::vector<std::string> Catalog::AliasesOf(const std::string& collection) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [a, t] : aliases_) {
    if (t == collection) out.push_back(a);
  }
  return out;
}

absl::Status Catalog::SetAlias(const std::string& alias, const std::string& collection,
                               const std::string& expected) {
  DS_RETURN_IF_ERROR(ValidateName("alias", alias));
  std::lock_guard<std::mutex> lock(mu_);
  if (collections_.count(alias)) {
    return absl::AlreadyExistsError(absl::StrCat("'", alias, "' is a collection name"));
  }
  if (!collections_.count(collection)) {
    return absl::NotFoundError(absl::StrCat("no collection '", collection, "'"));
  }
  auto cur = aliases_.find(alias);
  if (expected == "-" && cur != aliases_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("alias '", alias, "' already exists"));
  }
  if (!expected.empty() && expected != "-" && (cur == aliases_.end() || cur->second != expected)) {
    return absl::FailedPreconditionError(absl::StrCat("alias '", alias, "' points at '",
                                                      cur == aliases_.end() ? "" : cur->second,
                                                      "', not at the expected '", expected, "'"));
  }
  std::map<std::string, std::string> next = aliases_;
  next[alias] = collection;
  DS_RETURN_IF_ERROR(SaveAliases(next));
  aliases_ = std::move(next);
  DS_LOG(kInfo, "alias_set").Kv("alias", alias).Kv("collection", collection);
  return absl::OkStatus();
}

absl::Status Catalog::DeleteAlias(const std::string& alias) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!aliases_.count(alias)) return absl::NotFoundError(absl::StrCat("no alias '", alias, "'"));
  std::map<std::string, std::string> next = aliases_;
  next.erase(alias);
  DS_RETURN_IF_ERROR(SaveAliases(next));
  aliases_ = std::move(next);
  return absl::OkStatus();
}

std::map<std::string, std::string> Catalog::Aliases() const {
  std::lock_guard<std::mutex> lock(mu_);
  return aliases_;
}

}  // namespace dogsearch::index
