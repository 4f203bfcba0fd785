// Ranks a job's known tests, most likely to fail first, from the job's
// history in the store (test_history.h), and flags flaky tests. The same
// method as the replay harness measures: each (run, attempt) of the job is a
// cycle, replayed in order to train the ranker (ensemble.h), whose scores then
// order the tests for the next cycle.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "history/flaky.h"
#include "history/test_history.h"
#include "history/test_record.h"
#include "store/sqlite.h"
#include "util/error.h"

namespace tauon::history {

struct RankedTest {
  std::string id;  // TestExecution::id().
  double score = 0;
  TestRecord record;
  double mean_duration_ms = 0;
  std::vector<std::string> reasons;  // Human-readable, most telling first.
  std::optional<FlakyEvidence> flaky;
};

struct TestRanking {
  int cycles = 0;                 // (run, attempt) pairs of the job with results.
  std::vector<RankedTest> tests;  // Most likely to fail first; ties by id.
};

// What the commits changed, when known (history/changed_files.h).
struct Changes {
  std::map<int64_t, std::vector<std::string>> by_run;  // Each run's changed files.
  std::vector<std::string> now;                        // The coming run's.
};

// Skipped results are left out. `history` in time order, one job.
TestRanking RankTests(const std::vector<TestExecution>& history, const Changes& changes = {});

struct JobRanking {
  std::string job;
  TestRanking ranking;
};

struct RepoTestRanking {
  std::vector<JobRanking> jobs;  // Those asked for; none if the repository has no test results.
  // Set when `job` has no test results while others do, for the user: "no
  // test results for job 'tset' of 'x' (did you mean 'test'?) (jobs with
  // tests: test)".
  std::string problem;
};

// Ranks the tests of each of `repo`'s jobs with test results, or of `job`
// alone when not empty. `changed_now`: the files the coming run's commit
// changes (none when unknown). Fails only when the store cannot be read.
Result<RepoTestRanking> RankRepoTests(store::Database& db, const std::string& repo,
                                      const std::string& job,
                                      const std::vector<std::string>& changed_now);

}  // namespace tauon::history
