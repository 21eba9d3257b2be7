// All collections and aliases of one index server, under one data directory:
//
//   <data_dir>/collections/<name>/   one DurableCollection each
//   <data_dir>/ALIASES               alias -> collection map (magic, version, CRC32C)
//
// Aliases name collections and flip atomically (the file is replaced with write-temp-fsync-
// rename before memory changes). A collection directory without its options file is an
// unfinished creation from a crash and is removed at start-up.
//
// Thread safety: all methods may be called concurrently. mu_ guards the two maps; collections
// are handed out as shared_ptr, so a request keeps a collection alive even if it is dropped
// meanwhile. Lock order: mu_ is never held while calling into a collection.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_CATALOG_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_CATALOG_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "services/index/core/durable_collection.h"

namespace dogsearch::index {

class Catalog {
 public:
  static absl::StatusOr<std::unique_ptr<Catalog>> Open(const std::string& data_dir,
                                                       const RecoveryOptions& recovery);

  // ALREADY_EXISTS if the name is a collection or an alias.
  absl::StatusOr<std::shared_ptr<DurableCollection>> CreateCollection(
      const CollectionOptions& options);
  // FAILED_PRECONDITION while an alias points at it.
  absl::Status DropCollection(const std::string& name);
  // A collection by its name or an alias. NOT_FOUND otherwise.
  absl::StatusOr<std::shared_ptr<DurableCollection>> Resolve(const std::string& name) const;
  std::vector<std::shared_ptr<DurableCollection>> Collections() const;
  // Aliases pointing at `collection`.
  std::vector<std::string> AliasesOf(const std::string& collection) const;

  // Creates or moves an alias. expected: "" = unconditional, "-" = must not exist yet,
  // otherwise the collection it must currently point at (FAILED_PRECONDITION if not).
  absl::Status SetAlias(const std::string& alias, const std::string& collection,
                        const std::string& expected);
  absl::Status DeleteAlias(const std::string& alias);
  std::map<std::string, std::string> Aliases() const;

 private:
  explicit Catalog(std::string data_dir) : data_dir_(std::move(data_dir)) {}
  absl::Status SaveAliases(const std::map<std::string, std::string>& aliases) const;
  absl::Status LoadAliases();
  std::string CollectionDir(const std::string& name) const;

  const std::string data_dir_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<DurableCollection>> collections_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> aliases_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_CATALOG_H_
