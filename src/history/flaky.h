// Flaky tests: telling a test that fails now and then from one that is
// broken, from its history (test_history.h), with the evidence; and the
// marks on failures of tests already known to be flaky when a job attempt
// ran (test_results.known_flaky in the store), which keep that evidence.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "history/test_history.h"
#include "store/sqlite.h"
#include "util/error.h"

namespace tauon::history {

// Why a test is considered flaky, with what shows it.
struct FlakyEvidence {
  // "passed and failed on the same commit" or "flips often: ..." or "passed
  // only after failing within the test runner".
  std::string reason;
  std::vector<int64_t> runs;         // The runs that show it (at most 10, newest last).
  std::vector<std::string> commits;  // Their commits (12 hex digits), for the same-commit kind.

  bool operator==(const FlakyEvidence&) const = default;
};

// A test is flaky when it passed and failed on the same commit (a retry or a
// rerun), when a report said it passed only after failing, or when at least
// kFlakyFlips of its last 10 verdicts differ from the one before.
inline constexpr int kFlakyFlips = 4;

// Follows each test's verdicts, fed in time order (test_history.h order);
// skipped results are ignored.
class FlakyDetector {
 public:
  void Observe(const TestExecution& execution);
  // Evidence if the test (TestExecution::id()) is flaky so far, else nullopt.
  std::optional<FlakyEvidence> Judge(const std::string& id) const;

 private:
  struct Tracker {
    std::map<std::string, int> seen_on_commit;  // Bit 0 passed, bit 1 failed.
    std::vector<int64_t> same_commit_runs;
    std::vector<std::string> same_commit_commits;
    std::vector<int64_t> marker_runs;
    std::vector<int64_t> flip_runs;  // Runs whose verdict differed from the one before.
    std::vector<bool> verdicts;      // All verdicts (failed?), oldest first.
  };
  std::map<std::string, Tracker> tests_;
};

// One flaky test of a repository, for `GET /api/v1/repos/{name}/flaky-tests`.
struct FlakyTest {
  std::string job;
  std::string id;  // TestId(classname, name).
  std::string classname;
  std::string name;
  FlakyEvidence evidence;
  int executions = 0;  // Verdicts in the history read (attempts counted apart; skips not).
  int failures = 0;
  int64_t last_run = 0;     // The newest run that reported it.
  std::string last_status;  // Its verdict there (the last attempt's).
};

// The flaky tests of one job's history (time order), by id.
std::vector<FlakyTest> FindFlakyTests(const std::vector<TestExecution>& history);

// The flaky tests of every job of `repo` (each job's latest 500 runs, as for
// the test order), by job then id; jobs a rerun reused count once.
Result<std::vector<FlakyTest>> FlakyTestsOfRepo(store::Database& db, const std::string& repo);

// Records, for the failing results of job attempt `job_id`, that their test
// was known to be flaky and why: `known` maps TestId -> evidence. Other
// results are unchanged.
Status MarkKnownFlaky(store::Database& db, int64_t job_id,
                      const std::map<std::string, FlakyEvidence>& known);

// The known-flaky failures of a run: job attempt id -> TestId -> evidence.
Result<std::map<int64_t, std::map<std::string, FlakyEvidence>>> KnownFlakyFailures(
    store::Database& db, int64_t run_id);

// "passed and failed on the same commit: run 3 (1a2b3c4d5e6f)", "flips
// often: ...: runs 2, 3, 4": the reason with its evidence, on one line.
std::string DescribeFlaky(const FlakyEvidence& evidence);

}  // namespace tauon::history
