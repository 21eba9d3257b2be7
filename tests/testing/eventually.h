// Waiting in tests for something another thread or process does: polls a condition until it
// holds or a time limit passes, instead of a hand-written sleep loop in every test.
#ifndef DOGSEARCH_TESTS_TESTING_EVENTUALLY_H_
#define DOGSEARCH_TESTS_TESTING_EVENTUALLY_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dogsearch::testing {

// True as soon as `condition()` is; false if it still is not after `timeout` (checked every
// `interval`, and once more at the end).
template <typename Condition>
bool Eventually(Condition condition, absl::Duration timeout = absl::Seconds(10),
                absl::Duration interval = absl::Milliseconds(10)) {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    if (condition()) return true;
    absl::SleepFor(interval);
  }
  return condition();
}

}  // namespace dogsearch::testing

#endif  // DOGSEARCH_TESTS_TESTING_EVENTUALLY_H_
