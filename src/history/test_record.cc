#include "history/test_record.h"

#include <bit>
#include <cmath>

namespace tauon::history {

const std::array<std::string_view, kFeatureCount> kFeatureNames = {
    "recently failed (decay 0.8)",
    "recently failed (decay 0.5)",
    "recently failed (decay 0.95)",
    "failure rate (smoothed)",
    "never run",
    "failed last run",
    "failed the run before",
    "failures in last 3 runs",
    "failures in last 5 runs",
    "failures in last 10 runs",
    "flip rate",
    "cycles since last run",
    "cycles since last failure",
    "age",
    "number of runs",
    "last duration",
    "failure rate after a pass",
    "failure rate after a failure",
    "failure rate after its last verdict",
    "its file changed in the commit",
};

void TestRecord::Observe(int64_t cycle, bool failed, double duration) {
  if (runs == 0) first_cycle = cycle;
  if (runs > 0) {
    bool last_failed = (recent & 1) != 0;
    if (last_failed != failed) ++flips;
    int& transition = last_failed ? (failed ? failures_then_failed : failures_then_passed)
                                  : (failed ? passes_then_failed : passes_then_passed);
    ++transition;
  }
  ++runs;
  failures += failed ? 1 : 0;
  recent = (recent << 1) | (failed ? 1 : 0);
  double v = failed ? 1 : 0;
  decay_80 = 0.8 * decay_80 + v;
  decay_50 = 0.5 * decay_50 + v;
  decay_95 = 0.95 * decay_95 + v;
  last_cycle = cycle;
  if (failed) last_failed_cycle = cycle;
  last_duration = duration;
}

// Priors of the Markov estimates, as pseudo-counts: a test with no transition
// yet is assumed to fail after a pass 1 time in 5 and after a failure 1 time
// in 2 (one pseudo-run each), so that one observation moves it a lot.
double TestRecord::FailureAfterPass() const {
  return (passes_then_failed + 0.2) / (passes_then_failed + passes_then_passed + 1.0);
}

double TestRecord::FailureAfterFailure() const {
  return (failures_then_failed + 0.5) / (failures_then_failed + failures_then_passed + 1.0);
}

int TestRecord::RecentFailures(int window) const {
  uint64_t mask = window >= 64 ? ~uint64_t{0} : (uint64_t{1} << window) - 1;
  return std::popcount(recent & mask);
}

Features FeaturesOf(const TestRecord* r, int64_t now, bool file_changed) {
  Features f{};
  f[kFileChanged] = file_changed ? 1 : 0;
  if (!r || r->runs == 0) {
    f[kNeverRun] = 1;
    f[kSmoothedFailureRate] = 0.5;
    f[kSinceLastFailure] = 1.5;
    return f;
  }
  double runs = r->runs;
  f[kDecay80] = r->decay_80;
  f[kDecay50] = r->decay_50;
  f[kDecay95] = r->decay_95 / 5;
  f[kSmoothedFailureRate] = (r->failures + 0.5) / (runs + 1);
  f[kLastFailed] = r->recent & 1;
  f[kSecondLastFailed] = r->runs > 1 ? (r->recent >> 1) & 1 : 0;
  f[kFailedOf3] = r->RecentFailures(3) / 3.0;
  f[kFailedOf5] = r->RecentFailures(5) / 5.0;
  f[kFailedOf10] = r->RecentFailures(10) / 10.0;
  f[kFlipRate] = r->flips / (runs + 1);
  f[kSinceLastRun] = std::log1p(static_cast<double>(now - r->last_cycle)) / 5;
  f[kSinceLastFailure] = r->last_failed_cycle < 0
                             ? 1.5
                             : std::log1p(static_cast<double>(now - r->last_failed_cycle)) / 5;
  f[kAge] = std::log1p(static_cast<double>(now - r->first_cycle)) / 5;
  f[kRunCount] = std::log1p(runs) / 5;
  f[kLastDuration] = std::log1p(r->last_duration) / 10;
  f[kFailureAfterPass] = r->FailureAfterPass();
  f[kFailureAfterFailure] = r->FailureAfterFailure();
  f[kNextFailure] = r->NextFailure();
  return f;
}

}  // namespace tauon::history
