// Changing the number of index shards a gallery is spread over (dogsearch-reshard;
// docs/OPERATIONS.md, "Changing the shard count"). The gateway places each record on shard
// ShardOfId(id, N); with another N most records belong elsewhere. Reshard moves every record
// that is not on the server the new layout gives it: vectors and payloads are read back from
// the index (Get), written to the new server (Upsert, durable when acknowledged) and only then
// deleted from the old one, so a run stopped at any point loses nothing and a second run
// finishes the move (a record caught on both servers is found and counted as a duplicate).
// Nothing is re-embedded.
//
// Servers are named by address; a server in both lists keeps the records that stay on it. Every
// collection (and alias) found on the old servers is created on the new ones with the same
// options. Writes must be stopped while it runs (stop the gateway): a record written through
// the old layout meanwhile may be missed. Searches through the old layout may see a moved
// record twice or not at all until the gateway restarts with the new --index_shards.
//
// Not thread-safe; the backends must be (they are used from one thread at a time here).
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_RESHARD_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_RESHARD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/gateway/core/backends.h"

namespace dogsearch::gateway {

struct IndexServer {
  std::string address;    // Identity: the same server must be spelled the same in both lists.
  IndexBackend* backend;  // Not owned.
};

struct ReshardOptions {
  size_t batch = 500;    // Ids listed, read, written and deleted per round (1..1000).
  bool dry_run = false;  // Count what would move; change nothing.
  absl::Duration call_timeout = absl::Minutes(2);
  std::function<void(const std::string&)> log;  // Progress lines (may be empty).
};

struct CollectionMove {
  std::string name;
  uint64_t records_before = 0;  // Summed over every server, old and new.
  uint64_t records_after = 0;   // Summed over the new servers.
  uint64_t moved = 0;           // Records written to their new server and deleted from the old.
  uint64_t duplicates = 0;      // Moved records that were already on their new server.
};

struct ReshardReport {
  std::vector<CollectionMove> collections;
  size_t aliases = 0;  // Aliases set on the new servers.
  double seconds = 0;
};

// INVALID_ARGUMENT for empty or repeated addresses or a batch out of range; FAILED_PRECONDITION
// when a collection differs between servers (dimension, model version, encoding) or two
// addresses turn out to reach the same server; DATA_LOSS if the counts after the move do not
// add up; a backend's error (naming the server) otherwise. Safe to run again after any failure.
absl::StatusOr<ReshardReport> Reshard(const std::vector<IndexServer>& from,
                                      const std::vector<IndexServer>& to,
                                      const ReshardOptions& options);

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_RESHARD_H_
