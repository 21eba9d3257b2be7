// Crash test: a real index_server process ingesting vectors from this client is killed with
// SIGKILL at random moments, 10 times. After each restart, every acknowledged upsert and delete
// must be present and correct, and the one request in flight at the kill must be applied
// entirely or not at all. Background snapshots run during ingestion, so kills also land
// inside snapshots and WAL rotations.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/rpc/channel.h"
#include "dogsearch/v1/index.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::index {
namespace {

constexpr int kDim = 16;
constexpr int kRounds = 10;
constexpr int kTotalVectors = 50000;

std::vector<float> Vec(uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::normal_distribution<float> g;
  std::vector<float> v(kDim);
  for (float& x : v) x = g(rng);
  return v;
}

// One request: an upsert of (id, version) pairs or a delete of ids.
struct Op {
  bool is_delete = false;
  std::vector<std::pair<std::string, std::string>> upserts;
  std::vector<std::string> deletes;
};

class IndexCrashTest : public ::testing::Test {
 protected:
  void StartServer() {
    auto p = testing::Subprocess::Start(
        {INDEX_SERVER_PATH, "--address=127.0.0.1:0", "--data_dir=" + dir_.File("data"),
         "--snapshot_check_seconds=1", "--snapshot_wal_bytes=300000", "--log_level=warning"});
    ASSERT_TRUE(p.ok()) << p.status();
    server_ = *std::move(p);
    auto line = server_->WaitForLine("index listening on port", absl::Seconds(60));
    ASSERT_TRUE(line.ok()) << line.status();
    const int port = *testing::PortFromLine(*line);
    stub_ = v1::Index::NewStub(*rpc::CreateChannel(absl::StrCat("127.0.0.1:", port), {}));
  }

  grpc::Status Send(const Op& op) {
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, {}, absl::Seconds(20));
    if (op.is_delete) {
      v1::DeleteRequest req;
      req.set_collection("crash");
      for (const auto& id : op.deletes) req.add_ids(id);
      v1::DeleteResponse resp;
      return stub_->Delete(&ctx, req, &resp);
    }
    v1::UpsertRequest req;
    req.set_collection("crash");
    for (const auto& [id, version] : op.upserts) {
      v1::Record* r = req.add_records();
      r->set_id(id);
      for (float x : Vec(std::hash<std::string>()(id + version))) r->add_vector(x);
      r->mutable_payload()->set_photo_id(version);
    }
    v1::UpsertResponse resp;
    return stub_->Upsert(&ctx, req, &resp);
  }

  // Current server state of the given ids: id -> version ("" when absent).
  std::map<std::string, std::string> Fetch(const std::vector<std::string>& ids) {
    std::map<std::string, std::string> out;
    for (size_t i = 0; i < ids.size(); i += 1000) {
      v1::GetRequest req;
      req.set_collection("crash");
      for (size_t j = i; j < std::min(ids.size(), i + 1000); ++j) req.add_ids(ids[j]);
      v1::GetResponse resp;
      grpc::ClientContext ctx;
      rpc::PrepareContext(&ctx, {}, absl::Seconds(20));
      grpc::Status s = stub_->Get(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      for (const auto& r : resp.records()) out[r.id()] = r.payload().photo_id();
      for (const auto& id : resp.missing_ids()) out[id] = "";
    }
    return out;
  }

  // Checks acknowledged state exactly, and the in-flight op as all-or-nothing; then folds the
  // observed outcome of the in-flight op into `expected_`.
  void Verify(const std::optional<Op>& inflight) {
    std::vector<std::string> ids(all_ids_.begin(), all_ids_.end());
    auto got = Fetch(ids);
    std::set<std::string> inflight_ids;
    if (inflight) {
      for (const auto& [id, v] : inflight->upserts) inflight_ids.insert(id);
      for (const auto& id : inflight->deletes) inflight_ids.insert(id);
    }
    int mismatches = 0;
    for (const auto& id : ids) {
      if (inflight_ids.count(id)) continue;
      const std::string want = expected_.count(id) ? expected_[id] : "";
      if (got[id] != want && ++mismatches <= 5) {
        ADD_FAILURE() << "id " << id << ": server has '" << got[id] << "', acknowledged '" << want
                      << "'";
      }
    }
    EXPECT_EQ(mismatches, 0);
    if (!inflight) return;
    int applied = 0, total = 0;
    if (inflight->is_delete) {
      for (const auto& id : inflight->deletes) applied += got[id].empty(), ++total;
    } else {
      for (const auto& [id, v] : inflight->upserts) applied += got[id] == v, ++total;
    }
    EXPECT_TRUE(applied == 0 || applied == total)
        << "in-flight request half-applied: " << applied << " of " << total;
    if (applied == total) Apply(*inflight);
  }

  void Apply(const Op& op) {
    for (const auto& [id, v] : op.upserts) expected_[id] = v;
    for (const auto& id : op.deletes) expected_.erase(id);
  }

  Op NextOp() {
    Op op;
    std::vector<std::string> live;
    if (rng_() % 100 < 15 && expected_.size() > 100) {
      op.is_delete = true;
      auto it = expected_.begin();
      std::advance(it, rng_() % (expected_.size() - 10));
      for (int i = 0; i < 10; ++i, ++it) op.deletes.push_back(it->first);
      return op;
    }
    const std::string version = absl::StrCat("v", ++version_);
    // Every fourth upsert is large enough to be linked by several threads, also when it is
    // replayed from the WAL after a kill; re-upserted ids may repeat within one request.
    const int size = version_ % 4 == 0 ? 200 : 100;
    for (int i = 0; i < size; ++i) {
      std::string id;
      if (i < size * 9 / 10 && next_id_ < kTotalVectors) {
        id = absl::StrCat("id", next_id_++);
      } else if (!all_ids_.empty()) {
        id = absl::StrCat("id", rng_() % next_id_);  // Re-upsert (possibly of a deleted id).
      } else {
        continue;
      }
      op.upserts.emplace_back(id, version);
      all_ids_.insert(id);
    }
    return op;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::Subprocess> server_;
  std::unique_ptr<v1::Index::Stub> stub_;
  std::map<std::string, std::string> expected_;
  std::set<std::string> all_ids_;
  std::mt19937 rng_{20261128};
  int next_id_ = 0;
  int version_ = 0;
};

TEST_F(IndexCrashTest, AcknowledgedWritesSurviveSigkillAtRandomMoments) {
  std::optional<Op> inflight;
  for (int round = 0; round < kRounds; ++round) {
    const absl::Time t0 = absl::Now();
    StartServer();
    const absl::Time t1 = absl::Now();
    if (round == 0) {
      v1::CreateCollectionRequest req;
      req.set_name("crash");
      req.set_dimension(kDim);
      req.set_model_version("v1");
      req.set_initial_capacity(64);  // Force growth while ingesting.
      v1::CollectionInfo info;
      grpc::ClientContext ctx;
      rpc::PrepareContext(&ctx, {}, absl::Seconds(20));
      ASSERT_TRUE(stub_->CreateCollection(&ctx, req, &info).ok());
    }
    Verify(inflight);
    inflight.reset();
    std::printf("round %d: restart %.2fs, verify %.2fs\n", round, absl::ToDoubleSeconds(t1 - t0),
                absl::ToDoubleSeconds(absl::Now() - t1));
    // Kill at a random moment: once a random number of requests (56..89, so that 10 rounds
    // always send 50,000 vectors however fast the machine is) has been acknowledged, after a
    // further random 0..30 ms, i.e. anywhere inside a later request, WAL write, fsync or
    // background snapshot.
    const int kill_after_requests = 56 + static_cast<int>(rng_() % 34);
    const int kill_delay_us = static_cast<int>(rng_() % 30000);
    std::mutex mu;
    std::condition_variable cv;
    int acked = 0;
    std::thread killer([&] {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return acked >= kill_after_requests; });
      }
      std::this_thread::sleep_for(std::chrono::microseconds(kill_delay_us));
      server_->Kill(SIGKILL);
    });
    while (true) {
      Op op = NextOp();
      if (Send(op).ok()) {
        Apply(op);
        std::lock_guard<std::mutex> lock(mu);
        ++acked;
        cv.notify_all();
      } else {
        inflight = op;
        break;
      }
    }
    killer.join();
    server_->Wait();
    std::printf("round %d: killed %d us after request %d, %d acknowledged, %d ids so far\n", round,
                kill_delay_us, kill_after_requests, acked, next_id_);
  }
  StartServer();
  Verify(inflight);
  EXPECT_EQ(next_id_, kTotalVectors) << "the rounds ended before 50,000 vectors were sent";
}

}  // namespace
}  // namespace dogsearch::index
