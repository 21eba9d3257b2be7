// dogsearch-reshard: moves a gallery's index records from one shard layout to another (the
// gateway's --index_shards before and after). Stop the gateway first; start it again with the
// new list when this has finished. The logic is services/gateway/core/reshard.h.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "common/base/env_flags.h"
#include "common/rpc/channel.h"
#include "services/gateway/core/reshard.h"
#include "services/gateway/grpc_backends.h"

ABSL_FLAG(std::string, from, "", "Old layout: the index servers, in --index_shards order");
ABSL_FLAG(std::string, to, "", "New layout: the index servers, in --index_shards order");
ABSL_FLAG(int, batch, 500, "Records per round (1..1000)");
ABSL_FLAG(bool, dry_run, false, "Count the records that would move; change nothing");
ABSL_FLAG(int, call_timeout_seconds, 120, "Deadline of each index call");
ABSL_FLAG(std::string, backend_token, "", "Bearer token of the index servers");
ABSL_FLAG(std::string, backend_tls_ca, "", "PEM CA verifying the index servers (enables TLS)");
ABSL_FLAG(std::string, backend_tls_cert, "", "PEM client certificate for mutual TLS");
ABSL_FLAG(std::string, backend_tls_key, "", "PEM key of --backend_tls_cert");
ABSL_FLAG(std::string, backend_tls_server_name, "", "Name checked on the servers' certificates");

namespace dogsearch::gateway {
namespace {

constexpr char kUsage[] =
    "dogsearch-reshard --from=OLD1,OLD2 --to=NEW1,NEW2,NEW3 [--dry_run]\n"
    "Moves every index record to the server the new --index_shards list gives it (vectors are\n"
    "copied, not re-embedded). Stop the gateway first; restart it with --index_shards=<--to>.\n"
    "Safe to run again after a failure. Every flag can also be given as DOGSEARCH_<FLAG>\n"
    "(DOGSEARCH_BACKEND_TOKEN). Exit 0 done, 1 failed, 2 usage.";

struct Servers {
  std::vector<std::unique_ptr<GrpcIndexBackend>> owned;
  std::vector<IndexServer> from, to;
};

absl::StatusOr<Servers> Connect() {
  rpc::ChannelOptions base;
  base.tls = {absl::GetFlag(FLAGS_backend_tls_cert), absl::GetFlag(FLAGS_backend_tls_key),
              absl::GetFlag(FLAGS_backend_tls_ca)};
  base.tls_server_name = absl::GetFlag(FLAGS_backend_tls_server_name);
  base.bearer_token = absl::GetFlag(FLAGS_backend_token);
  const rpc::ChannelOptions options = IndexChannelOptions(base);
  Servers s;
  for (auto [flag, list] :
       {std::pair{absl::GetFlag(FLAGS_from), &s.from}, std::pair{absl::GetFlag(FLAGS_to), &s.to}}) {
    for (absl::string_view address : absl::StrSplit(flag, ',', absl::SkipWhitespace())) {
      absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
          rpc::CreateChannel(std::string(address), options);
      if (!ch.ok()) return ch.status();
      s.owned.push_back(std::make_unique<GrpcIndexBackend>(*ch, options));
      list->push_back({std::string(address), s.owned.back().get()});
    }
  }
  return s;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  ParseFlagsWithEnv(argc, argv);  // DOGSEARCH_BACKEND_TOKEN etc. from the environment too.
  if (absl::GetFlag(FLAGS_from).empty() || absl::GetFlag(FLAGS_to).empty()) {
    std::fprintf(stderr, "dogsearch-reshard: --from and --to are required\n%s\n", kUsage);
    return 2;
  }
  absl::StatusOr<Servers> servers = Connect();
  if (!servers.ok()) {
    std::fprintf(stderr, "dogsearch-reshard: %s\n", servers.status().ToString().c_str());
    return 1;
  }
  ReshardOptions options;
  options.batch = static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_batch)));
  options.dry_run = absl::GetFlag(FLAGS_dry_run);
  options.call_timeout = absl::Seconds(std::max(1, absl::GetFlag(FLAGS_call_timeout_seconds)));
  options.log = [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  };
  absl::StatusOr<ReshardReport> report = Reshard(servers->from, servers->to, options);
  if (!report.ok()) return ToolExitCode("dogsearch-reshard", report.status());
  uint64_t moved = 0;
  for (const CollectionMove& c : report->collections) {
    std::printf("%s: %llu records before, %llu after, %llu %s, %llu duplicates removed\n",
                c.name.c_str(), static_cast<unsigned long long>(c.records_before),
                static_cast<unsigned long long>(c.records_after),
                static_cast<unsigned long long>(c.moved), options.dry_run ? "to move" : "moved",
                static_cast<unsigned long long>(c.duplicates));
    moved += c.moved;
  }
  std::printf("%zu collections, %zu aliases, %llu records %s in %.1f s (%.0f records/s)%s\n",
              report->collections.size(), report->aliases, static_cast<unsigned long long>(moved),
              options.dry_run ? "would move" : "moved", report->seconds,
              report->seconds > 0 ? moved / report->seconds : 0.0,
              options.dry_run ? "" : "; now start the gateway with --index_shards=<--to>");
  return 0;
}

}  // namespace
}  // namespace dogsearch::gateway

int main(int argc, char** argv) { return dogsearch::gateway::Main(argc, argv); }
