#include "services/gateway/gateway_flags.h"

#include <algorithm>
#include <cstdint>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/gateway/core/sharded_index.h"

ABSL_FLAG(std::string, http_address, "127.0.0.1", "Host for the web page and /api/");
ABSL_FLAG(int, http_port, 8080, "Port for the web page and /api/ (0 = pick one, -1 = off)");
ABSL_FLAG(std::string, http_tls_cert, "",
          "PEM certificate: serve the web page and /api/ over HTTPS");
ABSL_FLAG(std::string, http_tls_key, "", "PEM key of --http_tls_cert");
ABSL_FLAG(std::string, http_allowed_hosts, "",
          "Comma-separated host names the web page may be reached by, besides IP addresses and "
          "localhost (requests naming another Host are refused: DNS-rebinding protection); "
          "\"*\" accepts any");
ABSL_FLAG(std::string, data_dir, "./data/gateway",
          "SQLite gallery (and photos unless --photos_dir)");
ABSL_FLAG(std::string, photos_dir, "", "Photos by hash (default: <data_dir>/photos)");
ABSL_FLAG(std::string, embedding_address, "127.0.0.1:50051", "Embedding service target");
ABSL_FLAG(std::string, index_address, "127.0.0.1:50052", "Index service target");
ABSL_FLAG(std::string, index_shards, "",
          "Comma-separated index targets, one per shard (overrides --index_address); records "
          "are placed by a hash of their id, searches fan out to all");
ABSL_FLAG(std::string, trainer_address, "",
          "Trainer to follow: the gallery converges to its promoted checkpoint (empty = off)");
ABSL_FLAG(int, rollout_alarm_seconds, 600,
          "Log rollout_behind when the gallery has not been on the trainer's promoted version "
          "for this long");
ABSL_FLAG(std::string, backend_token, "", "Bearer token sent to the backends");
ABSL_FLAG(std::string, backend_tls_ca, "", "PEM CA verifying the backends (enables TLS)");
ABSL_FLAG(std::string, backend_tls_cert, "", "PEM client certificate for mutual TLS");
ABSL_FLAG(std::string, backend_tls_key, "", "PEM key of --backend_tls_cert");
ABSL_FLAG(std::string, backend_tls_server_name, "", "Name checked on backend certificates");
ABSL_FLAG(int, backend_timeout_ms, 10000, "Longest single backend call");
ABSL_FLAG(int, retire_grace_seconds, 30, "Old model kept after an upgrade flips");
ABSL_FLAG(double, default_threshold, 1.0, "Same-dog distance when a manifest has none");
ABSL_FLAG(double, confidence_scale, 0.08, "Logistic scale of confidence around the threshold");
ABSL_FLAG(double, dog_centroid_weight, 0.5,
          "Search ranks dogs by (1 - w) x their best photo's distance + w x the distance to the "
          "mean direction of their photos among the candidates (DogMatch.score); 0 = best photo "
          "only. 0.5: +1.9 points of rank-1 with 3 photos per dog, +3.2 on loose crops "
          "(docs/TRAINING.md)");
ABSL_FLAG(double, target_fpir, 0.05,
          "Search: share of searches for a dog that is not enrolled that may still be answered "
          "with a confident match (the 1:N threshold follows the gallery's size), (0, 0.5]");
ABSL_FLAG(double, possible_match_fpir, 0.5,
          "Search: the same share for a 'possible match' answer, [target_fpir, 1)");
ABSL_FLAG(int, reembed_batch, 32, "Photos per embedding call while re-embedding for an upgrade");
ABSL_FLAG(int, reembed_streams, 2,
          "Embedding calls in flight while re-embedding for an upgrade (1..16; more for "
          "several embedding replicas or a GPU)");
ABSL_FLAG(int, hnsw_m, 16, "HNSW degree of gallery collections");
ABSL_FLAG(int, hnsw_ef_construction, 200, "HNSW build candidate list");
ABSL_FLAG(int, hnsw_ef_search, 128, "HNSW search candidate list");
ABSL_FLAG(
    std::string, index_vector_encoding, "float32",
    "How new gallery collections store vectors in the index: float32, float16 or int8 "
    "(float16: 0.70x, int8: 0.56x the index memory per photo at 1M photos, docs/BENCHMARKS.md)");
ABSL_FLAG(int64_t, index_max_records, 0,
          "Cap on photos per gallery collection on each index shard (0 = the index's default, "
          "10,000,000; at most 100,000,000)");
ABSL_FLAG(int, max_photos_per_request, 32, "Photos per Enroll/AddPhotos");
ABSL_FLAG(int64_t, max_photo_bytes, 10 << 20, "Encoded bytes per photo");
ABSL_FLAG(int64_t, max_pixels, 40000000, "Pixels per photo (from the header)");
ABSL_FLAG(int64_t, max_request_bytes, 64 << 20,
          "Encoded bytes of all photos in one request (also bounds the gRPC and HTTP bodies)");
ABSL_FLAG(int64_t, max_request_pixels, 400000000,
          "Pixels (from the headers) of all photos in one request");

namespace dogsearch::gateway {
namespace {

absl::StatusOr<GatewayOptions> CoreOptions() {
  GatewayOptions o;
  o.answer.target_fpir = absl::GetFlag(FLAGS_target_fpir);
  o.answer.possible_fpir = absl::GetFlag(FLAGS_possible_match_fpir);
  if (!(o.answer.target_fpir > 0 && o.answer.target_fpir <= 0.5)) {
    return absl::InvalidArgumentError("--target_fpir must be in (0, 0.5]");
  }
  if (!(o.answer.possible_fpir >= o.answer.target_fpir && o.answer.possible_fpir < 1)) {
    return absl::InvalidArgumentError("--possible_match_fpir must be in [--target_fpir, 1)");
  }
  o.limits.max_photos_per_request =
      static_cast<uint32_t>(absl::GetFlag(FLAGS_max_photos_per_request));
  o.limits.max_photo_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_photo_bytes));
  o.limits.max_pixels = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_pixels));
  o.limits.max_request_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_request_bytes));
  o.limits.max_request_pixels = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_request_pixels));
  if (o.limits.max_request_bytes < o.limits.max_photo_bytes ||
      o.limits.max_request_bytes > (1u << 30)) {
    return absl::InvalidArgumentError(
        "--max_request_bytes must be at least --max_photo_bytes and at most 1 GiB");
  }
  if (o.limits.max_request_pixels < o.limits.max_pixels) {
    return absl::InvalidArgumentError("--max_request_pixels must be at least --max_pixels");
  }
  const std::string encoding = absl::GetFlag(FLAGS_index_vector_encoding);
  if (!v1::VectorEncoding_Parse(absl::StrCat("VECTOR_ENCODING_", absl::AsciiStrToUpper(encoding)),
                                &o.setup.vector_encoding) ||
      o.setup.vector_encoding == v1::VECTOR_ENCODING_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("--index_vector_encoding '", encoding, "' is not float32, float16 or int8"));
  }
  o.backend_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_backend_timeout_ms));
  o.retire_grace = absl::Seconds(absl::GetFlag(FLAGS_retire_grace_seconds));
  o.confidence_scale = static_cast<float>(absl::GetFlag(FLAGS_confidence_scale));
  const double centroid_weight = absl::GetFlag(FLAGS_dog_centroid_weight);
  if (!(centroid_weight >= 0 && centroid_weight <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dog_centroid_weight is ", centroid_weight, "; 0..1"));
  }
  o.dog_centroid_weight = static_cast<float>(centroid_weight);
  o.reembed_batch = std::clamp(absl::GetFlag(FLAGS_reembed_batch), 1, 64);
  o.reembed_streams = std::clamp(absl::GetFlag(FLAGS_reembed_streams), 1, 16);
  o.setup.default_threshold = static_cast<float>(absl::GetFlag(FLAGS_default_threshold));
  const int64_t max_records = absl::GetFlag(FLAGS_index_max_records);
  if (max_records < 0 || max_records > 100'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--index_max_records is ", max_records, "; 0..100000000"));
  }
  o.setup.max_records = static_cast<uint64_t>(max_records);
  o.setup.hnsw.set_m(static_cast<uint32_t>(absl::GetFlag(FLAGS_hnsw_m)));
  o.setup.hnsw.set_ef_construction(
      static_cast<uint32_t>(absl::GetFlag(FLAGS_hnsw_ef_construction)));
  o.setup.hnsw.set_ef_search(static_cast<uint32_t>(absl::GetFlag(FLAGS_hnsw_ef_search)));
  return o;
}

rpc::ChannelOptions BackendChannel() {
  rpc::ChannelOptions c;
  c.tls = {absl::GetFlag(FLAGS_backend_tls_cert), absl::GetFlag(FLAGS_backend_tls_key),
           absl::GetFlag(FLAGS_backend_tls_ca)};
  c.tls_server_name = absl::GetFlag(FLAGS_backend_tls_server_name);
  c.bearer_token = absl::GetFlag(FLAGS_backend_token);
  c.max_reconnect_backoff = absl::Seconds(1);
  return c;
}

}  // namespace

absl::StatusOr<GatewayConfig> GatewayConfigFromFlags() {
  GatewayConfig c;
  absl::StatusOr<GatewayOptions> core = CoreOptions();
  if (!core.ok()) return core.status();
  c.core = *std::move(core);
  c.data_dir = absl::GetFlag(FLAGS_data_dir);
  c.photos_dir = absl::GetFlag(FLAGS_photos_dir).empty() ? c.data_dir + "/photos"
                                                         : absl::GetFlag(FLAGS_photos_dir);
  c.backend = BackendChannel();
  c.embedding_address = absl::GetFlag(FLAGS_embedding_address);
  c.index_targets = {absl::GetFlag(FLAGS_index_address)};
  if (!absl::GetFlag(FLAGS_index_shards).empty()) {
    c.index_targets = absl::StrSplit(absl::GetFlag(FLAGS_index_shards), ',', absl::SkipEmpty());
  }
  c.trainer_address = absl::GetFlag(FLAGS_trainer_address);
  c.rollout.expected_rollout =
      absl::Seconds(std::max(1, absl::GetFlag(FLAGS_rollout_alarm_seconds)));
  if (absl::GetFlag(FLAGS_http_port) >= 0) {
    HttpApiOptions ho;
    ho.host = absl::GetFlag(FLAGS_http_address);
    ho.port = absl::GetFlag(FLAGS_http_port);
    ho.tls_cert = absl::GetFlag(FLAGS_http_tls_cert);
    ho.tls_key = absl::GetFlag(FLAGS_http_tls_key);
    ho.allowed_hosts =
        absl::StrSplit(absl::GetFlag(FLAGS_http_allowed_hosts), ',', absl::SkipWhitespace());
    ho.metrics = &metrics::MetricsRegistry::Default();
    c.http = ho;
  }
  c.max_receive_message_bytes = static_cast<int>(
      std::min<int64_t>(absl::GetFlag(FLAGS_max_request_bytes) + (1 << 20), INT32_MAX));
  return c;
}

absl::StatusOr<Backends> ConnectBackends(const GatewayConfig& config) {
  Backends b;
  const rpc::ChannelOptions emb_opts = EmbeddingChannelOptions(config.backend);
  const rpc::ChannelOptions idx_opts = IndexChannelOptions(config.backend);
  auto emb_channel = rpc::CreateChannel(config.embedding_address, emb_opts);
  if (!emb_channel.ok()) return emb_channel.status();
  b.embedding = std::make_unique<GrpcEmbeddingBackend>(*emb_channel, emb_opts);
  std::vector<IndexBackend*> shard_ptrs;
  for (const std::string& target : config.index_targets) {
    auto channel = rpc::CreateChannel(target, idx_opts);
    if (!channel.ok()) return channel.status();
    b.shards.push_back(std::make_unique<GrpcIndexBackend>(*channel, idx_opts));
    shard_ptrs.push_back(b.shards.back().get());
  }
  if (shard_ptrs.size() == 1) {
    b.index = shard_ptrs[0];
  } else {
    b.sharded = std::make_unique<ShardedIndex>(shard_ptrs);
    b.index = b.sharded.get();
  }
  return b;
}

}  // namespace dogsearch::gateway
