// Per-test history from the store: every JUnit result the engine recorded,
// with its run, commit, branch, job and attempt. Nothing is stored twice:
// the test_results rows already hold the verdict and duration, and their job
// and run rows the rest; jobs copied from an earlier run by `rerun --failed`
// (reused_from) are left out so that a result counts once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite.h"
#include "util/error.h"

namespace tauon::history {

struct TestExecution {
  int64_t run_id = 0;
  int attempt = 1;
  std::string commit;
  std::string branch;
  std::string job;
  std::string classname;
  std::string name;
  std::string status;        // passed, failed, error, skipped
  bool flaky_marker = false;  // The report itself said it passed after failing (Surefire).
  int64_t duration_ms = 0;

  bool failed() const { return status == "failed" || status == "error"; }
  bool skipped() const { return status == "skipped"; }
  // How the test is named in $TAUON_TEST_ORDER and `tauon tests rank`:
  // "CLASSNAME::NAME", or NAME alone when the report gave no classname.
  std::string id() const;
};

struct HistoryQuery {
  std::string repo;                // The repository's name as runs record it.
  std::optional<std::string> job;  // Only this job (its full name, matrix values included).
  std::optional<int64_t> before_run;  // Only runs with a smaller id.
  // Only the latest runs (of the job, when one is given): bounds the work of
  // ranking a long-lived repository's tests before every job.
  int max_runs = 500;
};

// The executions in time order: by run, then attempt, then report order.
Result<std::vector<TestExecution>> LoadTestHistory(store::Database& db, const HistoryQuery& query);

// "CLASSNAME::NAME", or NAME without a classname: how tests are named in
// $TAUON_TEST_ORDER, `tauon tests rank` and flaky evidence.
std::string TestId(std::string_view classname, std::string_view name);

// The jobs of `repo` that have test results, by name.
Result<std::vector<std::string>> JobsWithTests(store::Database& db, std::string_view repo);

}  // namespace tauon::history
