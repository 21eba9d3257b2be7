// Dynamic batching: the batching decision, coalescing, routing of results, deadlines,
// cancellation, the bounded queue and shutdown.
#include "services/embedding/core/batcher.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "tests/embedding/fake_model.h"
#include "tests/testing/notification.h"

namespace dogsearch::embedding {
namespace {

class FakeClock : public Clock {
 public:
  absl::Time Now() const override { return absl::FromUnixMicros(micros_.load()); }
  void Advance(absl::Duration d) { micros_ += absl::ToInt64Microseconds(d); }

 private:
  std::atomic<int64_t> micros_{1'000'000'000};
};

BatchItem Item(std::shared_ptr<const EmbeddingModel> m, float tag, absl::Time enqueued) {
  BatchItem it;
  it.model = std::move(m);
  it.input.assign(it.model->input_floats(), 0.f);
  it.input[0] = tag;
  it.enqueued = enqueued;
  it.done = [](absl::StatusOr<std::vector<float>>) {};
  return it;
}

TEST(FormBatchTest, WaitsForCompanyUntilMaxDelayThenTakesWhatIsThere) {
  auto m = std::make_shared<FakeModel>("v1");
  BatcherOptions o;
  o.max_batch = 4;
  o.max_delay = absl::Milliseconds(5);
  const absl::Time t0 = absl::FromUnixSeconds(100);
  std::deque<BatchItem> q;
  q.push_back(Item(m, 1, t0));
  q.push_back(Item(m, 2, t0));
  std::vector<size_t> pos;
  absl::Duration wait;
  EXPECT_EQ(FormBatch(q, t0 + absl::Milliseconds(1), o, &pos, &wait), 0);
  EXPECT_EQ(wait, absl::Milliseconds(4));
  EXPECT_EQ(FormBatch(q, t0 + absl::Milliseconds(5), o, &pos, &wait), 2);
  EXPECT_EQ(pos, (std::vector<size_t>{0, 1}));
}

TEST(FormBatchTest, FullBatchGoesAtOnceAndModelsNeverMix) {
  auto a = std::make_shared<FakeModel>("a");
  auto b = std::make_shared<FakeModel>("b");
  BatcherOptions o;
  o.max_batch = 2;
  const absl::Time t0 = absl::FromUnixSeconds(100);
  std::deque<BatchItem> q;
  q.push_back(Item(a, 1, t0));
  q.push_back(Item(b, 2, t0));
  q.push_back(Item(a, 3, t0));
  q.push_back(Item(a, 4, t0));
  std::vector<size_t> pos;
  absl::Duration wait;
  EXPECT_EQ(FormBatch(q, t0, o, &pos, &wait), 2);
  EXPECT_EQ(pos, (std::vector<size_t>{0, 2}));
  std::deque<BatchItem> empty;
  EXPECT_EQ(FormBatch(empty, t0, o, &pos, &wait), 0);
  EXPECT_EQ(wait, absl::InfiniteDuration());
}

class BatcherTest : public ::testing::Test {
 protected:
  // Enqueues one photo tagged `tag`; the result lands in results_[slot].
  absl::Status Send(DynamicBatcher& b, std::shared_ptr<FakeModel> m, float tag, int slot,
                    absl::Time deadline = absl::InfiniteFuture()) {
    BatchItem it = Item(m, tag, absl::InfinitePast());
    it.deadline = deadline;
    it.done = [this, slot](absl::StatusOr<std::vector<float>> v) {
      std::lock_guard<std::mutex> lock(mu_);
      results_[slot] = std::move(v);
      if (++done_ == expected_) all_done_.Notify();
    };
    std::vector<BatchItem> items;
    items.push_back(std::move(it));
    return b.Enqueue(std::move(items));
  }

  std::mutex mu_;
  std::map<int, absl::StatusOr<std::vector<float>>> results_;
  int done_ = 0;
  int expected_ = 0;
  testing::Notification all_done_;
};

TEST_F(BatcherTest, CoalescesQueuedPhotosAndRoutesEachResultToItsCaller) {
  auto m = std::make_shared<FakeModel>("v1");
  BatcherOptions o;
  o.max_batch = 4;
  o.max_delay = absl::Milliseconds(1);
  DynamicBatcher b(o, Clock::Real());
  expected_ = 9;
  m->Block();  // The first batch blocks, so the rest pile up behind it.
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(Send(b, m, 0.1f * i, i).ok());
  m->Release();
  all_done_.WaitForNotification();
  int total = 0;
  for (int n : m->batch_sizes()) {
    EXPECT_LE(n, 4);
    total += n;
  }
  EXPECT_EQ(total, 9);
  EXPECT_LT(m->batch_sizes().size(), 9u);  // Some batching happened.
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(results_[i].ok());
    EXPECT_FLOAT_EQ((*results_[i])[0], std::tanh(0.1f * i));
  }
}

// --batch_workers: with two workers two batches are computed at the same time (both are
// inside the blocked model at once), and every result still reaches its own caller.
TEST_F(BatcherTest, TwoWorkersComputeTwoBatchesAtOnce) {
  auto m = std::make_shared<FakeModel>("v1");
  BatcherOptions o;
  o.max_batch = 4;
  o.max_delay = absl::ZeroDuration();
  o.workers = 2;
  DynamicBatcher b(o, Clock::Real());
  expected_ = 8;
  m->Block();
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(Send(b, m, 0.1f * i, i).ok());
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (m->batch_sizes().size() < 2 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(m->batch_sizes().size(), 2u) << "the second worker did not start a batch";
  m->Release();
  all_done_.WaitForNotification();
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(results_[i].ok());
    EXPECT_FLOAT_EQ((*results_[i])[0], std::tanh(0.1f * i));
  }
}

TEST_F(BatcherTest, ExpiredPhotosAreAnsweredWithoutComputation) {
  auto m = std::make_shared<FakeModel>("v1");
  DynamicBatcher b({}, Clock::Real());
  expected_ = 1;
  ASSERT_TRUE(Send(b, m, 1.f, 0, absl::Now() - absl::Seconds(1)).ok());
  all_done_.WaitForNotification();
  EXPECT_EQ(results_[0].status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(m->batch_sizes().empty());
}

TEST_F(BatcherTest, DeadlineShorterThanQueueingIsNotComputed) {
  auto m = std::make_shared<FakeModel>("v1");
  BatcherOptions o;
  o.max_batch = 1;
  FakeClock clock;
  DynamicBatcher b(o, &clock);
  expected_ = 2;
  m->Block();
  ASSERT_TRUE(Send(b, m, 1.f, 0).ok());  // Occupies the worker.
  while (m->batch_sizes().empty()) std::this_thread::yield();
  ASSERT_TRUE(Send(b, m, 2.f, 1, clock.Now() + absl::Milliseconds(20)).ok());
  clock.Advance(absl::Milliseconds(40));  // The second photo's deadline passes while it queues.
  m->Release();
  all_done_.WaitForNotification();
  EXPECT_TRUE(results_[0].ok());
  EXPECT_EQ(results_[1].status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(m->batch_sizes(), std::vector<int>{1});
}

TEST_F(BatcherTest, CancelledPhotosAreNotComputed) {
  auto m = std::make_shared<FakeModel>("v1");
  DynamicBatcher b({}, Clock::Real());
  std::atomic<bool> done{false};
  BatchItem it = Item(m, 1.f, absl::Now());
  it.cancelled = [] { return true; };
  testing::Notification answered;
  absl::StatusCode code = absl::StatusCode::kOk;
  it.done = [&](absl::StatusOr<std::vector<float>> v) {
    code = v.status().code();
    answered.Notify();
  };
  std::vector<BatchItem> items;
  items.push_back(std::move(it));
  ASSERT_TRUE(b.Enqueue(std::move(items)).ok());
  answered.WaitForNotification();
  EXPECT_EQ(code, absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(m->batch_sizes().empty());
}

TEST_F(BatcherTest, FullQueueRefusesWholeRequestsAndStopAnswersTheQueued) {
  auto m = std::make_shared<FakeModel>("v1");
  BatcherOptions o;
  o.max_batch = 1;
  o.max_queued_photos = 2;
  DynamicBatcher b(o, Clock::Real());
  expected_ = 3;
  m->Block();
  ASSERT_TRUE(Send(b, m, 1.f, 0).ok());
  while (m->batch_sizes().empty()) std::this_thread::yield();  // Worker holds photo 0.
  ASSERT_TRUE(Send(b, m, 2.f, 1).ok());
  ASSERT_TRUE(Send(b, m, 3.f, 2).ok());
  std::vector<BatchItem> two;
  two.push_back(Item(m, 4.f, absl::Now()));
  two.push_back(Item(m, 5.f, absl::Now()));
  EXPECT_EQ(b.Enqueue(std::move(two)).code(), absl::StatusCode::kResourceExhausted);
  std::thread stopper([&] { b.Stop(); });
  // Queued photos are answered UNAVAILABLE by Stop; the running one finishes once released.
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (done_ == 2) break;
    }
    std::this_thread::yield();
  }
  m->Release();
  stopper.join();
  EXPECT_TRUE(results_[0].ok());
  EXPECT_EQ(results_[1].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(results_[2].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(b.Enqueue({}).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace dogsearch::embedding
