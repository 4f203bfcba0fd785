// What Tauon knows about one test from its past executions, and the features
// the ranking methods read from it. Time is counted in cycles: a replayed
// history's cycle ids, or a repository's runs in order.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace tauon::history {

struct TestRecord {
  int runs = 0;
  int failures = 0;
  int flips = 0;          // Verdict changes between consecutive executions.
  // Transitions between consecutive executions, for the per-test Markov
  // estimates: after a pass, how often the next run failed; after a failure.
  int passes_then_failed = 0;
  int passes_then_passed = 0;
  int failures_then_failed = 0;
  int failures_then_passed = 0;
  uint64_t recent = 0;    // Bit i = the verdict (1 = failed) i executions ago.
  double decay_80 = 0;    // score = 0.8 score + verdict: the "recently failed" baseline.
  double decay_50 = 0;
  double decay_95 = 0;
  int64_t first_cycle = 0;
  int64_t last_cycle = 0;
  int64_t last_failed_cycle = -1;  // -1: never failed.
  double last_duration = 0;

  // Records one execution, in time order.
  void Observe(int64_t cycle, bool failed, double duration);
  // Failures among the last `window` executions (window <= 64).
  int RecentFailures(int window) const;
  // The "failure rate" baseline: failures / runs, 0 for an unknown test.
  double FailureRate() const { return runs ? static_cast<double>(failures) / runs : 0; }
  // The chance that the next run fails given the last verdict, estimated from
  // this test's own transitions, with one pseudo-transition of prior (1/5
  // after a pass, 1/2 after a failure) so that a young test is not at 0 or 1.
  // NextFailure() is 0 for a test never run.
  double FailureAfterPass() const;
  double FailureAfterFailure() const;
  double NextFailure() const {
    return runs == 0 ? 0 : (recent & 1) ? FailureAfterFailure() : FailureAfterPass();
  }
};

// The learned method's inputs. Keep kFeatureNames in step.
enum Feature : size_t {
  kDecay80,
  kDecay50,
  kDecay95,
  kSmoothedFailureRate,
  kNeverRun,
  kLastFailed,
  kSecondLastFailed,
  kFailedOf3,
  kFailedOf5,
  kFailedOf10,
  kFlipRate,
  kSinceLastRun,
  kSinceLastFailure,
  kAge,
  kRunCount,
  kLastDuration,
  kFailureAfterPass,     // TestRecord::FailureAfterPass().
  kFailureAfterFailure,  // TestRecord::FailureAfterFailure().
  kNextFailure,          // TestRecord::NextFailure(): the one of the two for the last verdict.
  kFileChanged,  // The test's own file changed in the commit (when known).
  kFeatureCount
};
using Features = std::array<double, kFeatureCount>;
extern const std::array<std::string_view, kFeatureCount> kFeatureNames;

// The features of `record` (nullptr: a test never seen) at cycle `now`,
// each scaled to roughly [0, 2]. `file_changed`: whether the test's file
// changed in the commit of cycle `now` (false when unknown).
Features FeaturesOf(const TestRecord* record, int64_t now, bool file_changed = false);

// The records of every test seen so far, by name.
using TestRecords = std::map<std::string, TestRecord, std::less<>>;

}  // namespace tauon::history
