#include "history/flaky.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace tauon::history {
namespace {

constexpr size_t kMaxEvidence = 10;

void Keep(std::vector<int64_t>& runs, int64_t run) {
  if (!runs.empty() && runs.back() == run) return;
  runs.push_back(run);
  if (runs.size() > kMaxEvidence) runs.erase(runs.begin());
}

// The evidence column holds {"runs": [...], "commits": [...]}; the reason has
// its own column (known_flaky), which is '' for a real failure.
std::string EvidenceText(const FlakyEvidence& evidence) {
  return nlohmann::json{{"runs", evidence.runs}, {"commits", evidence.commits}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

FlakyEvidence ReadEvidence(std::string reason, const std::string& text) {
  FlakyEvidence evidence{std::move(reason), {}, {}};
  // Rows marked before the evidence was kept have ''.
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return evidence;
  for (const auto& run : parsed.value("runs", nlohmann::json::array())) {
    if (run.is_number_integer()) evidence.runs.push_back(run.get<int64_t>());
  }
  for (const auto& commit : parsed.value("commits", nlohmann::json::array())) {
    if (commit.is_string()) evidence.commits.push_back(commit.get<std::string>());
  }
  return evidence;
}

}  // namespace

void FlakyDetector::Observe(const TestExecution& e) {
  if (e.skipped()) return;
  Tracker& t = tests_[e.id()];
  if (!t.verdicts.empty() && t.verdicts.back() != e.failed()) Keep(t.flip_runs, e.run_id);
  t.verdicts.push_back(e.failed());
  if (e.flaky_marker) Keep(t.marker_runs, e.run_id);
  int& seen = t.seen_on_commit[e.commit];
  int before = seen;
  seen |= e.failed() ? 2 : 1;
  if (before != 0 && before != 3 && seen == 3) {
    Keep(t.same_commit_runs, e.run_id);
    t.same_commit_commits.push_back(e.commit.substr(0, 12));
    if (t.same_commit_commits.size() > kMaxEvidence) {
      t.same_commit_commits.erase(t.same_commit_commits.begin());
    }
  }
}

std::optional<FlakyEvidence> FlakyDetector::Judge(const std::string& id) const {
  auto it = tests_.find(id);
  if (it == tests_.end()) return std::nullopt;
  const Tracker& t = it->second;
  if (!t.same_commit_runs.empty()) {
    return FlakyEvidence{"passed and failed on the same commit", t.same_commit_runs,
                         t.same_commit_commits};
  }
  if (!t.marker_runs.empty()) {
    return FlakyEvidence{"passed only after failing within the test runner", t.marker_runs, {}};
  }
  size_t n = t.verdicts.size();
  int flips = 0;
  for (size_t i = n > 10 ? n - 10 : 1; i < n; ++i) flips += t.verdicts[i] != t.verdicts[i - 1];
  if (flips >= kFlakyFlips) {
    return FlakyEvidence{fmt::format("flips often: {} changes of verdict in its last {} runs",
                                     flips, std::min<size_t>(n, 10)),
                         t.flip_runs,
                         {}};
  }
  return std::nullopt;
}

std::vector<FlakyTest> FindFlakyTests(const std::vector<TestExecution>& history) {
  FlakyDetector detector;
  std::map<std::string, FlakyTest> tests;
  for (const TestExecution& e : history) {
    if (e.skipped()) continue;
    detector.Observe(e);
    FlakyTest& test = tests[e.id()];
    test.job = e.job;
    test.id = e.id();
    test.classname = e.classname;
    test.name = e.name;
    ++test.executions;
    if (e.failed()) ++test.failures;
    test.last_run = e.run_id;
    test.last_status = e.status;
  }
  std::vector<FlakyTest> out;
  for (auto& [id, test] : tests) {
    std::optional<FlakyEvidence> evidence = detector.Judge(id);
    if (!evidence) continue;
    test.evidence = std::move(*evidence);
    out.push_back(std::move(test));
  }
  return out;
}

Result<std::vector<FlakyTest>> FlakyTestsOfRepo(store::Database& db, const std::string& repo) {
  Result<std::vector<std::string>> jobs = JobsWithTests(db, repo);
  if (!jobs) return std::unexpected(jobs.error());
  std::vector<FlakyTest> out;
  for (const std::string& job : *jobs) {
    Result<std::vector<TestExecution>> past = LoadTestHistory(db, {repo, job, std::nullopt});
    if (!past) return std::unexpected(past.error());
    std::vector<FlakyTest> flaky = FindFlakyTests(*past);
    out.insert(out.end(), std::make_move_iterator(flaky.begin()),
               std::make_move_iterator(flaky.end()));
  }
  return out;
}

Status MarkKnownFlaky(store::Database& db, int64_t job_id,
                      const std::map<std::string, FlakyEvidence>& known) {
  if (known.empty()) return Ok();
  return db.Transaction([&]() -> Status {
    Result<store::Statement> query = db.Prepare(
        "SELECT id, classname, name FROM test_results WHERE job_id = ? AND status IN "
        "('failed', 'error')");
    if (!query) return std::unexpected(query.error());
    query->Bind(1, job_id);
    std::vector<std::pair<int64_t, const FlakyEvidence*>> marks;
    while (true) {
      Result<bool> row = query->Step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      auto it = known.find(TestId(query->Text(1), query->Text(2)));
      if (it != known.end()) marks.emplace_back(query->Int(0), &it->second);
    }
    for (const auto& [id, evidence] : marks) {
      Result<store::Statement> update = db.Prepare(
          "UPDATE test_results SET known_flaky = ?, known_flaky_evidence = ? WHERE id = ?");
      if (!update) return std::unexpected(update.error());
      if (Status ok =
              update->Bind(1, evidence->reason).Bind(2, EvidenceText(*evidence)).Bind(3, id).Run();
          !ok) {
        return ok;
      }
    }
    return Ok();
  });
}

Result<std::map<int64_t, std::map<std::string, FlakyEvidence>>> KnownFlakyFailures(
    store::Database& db, int64_t run_id) {
  Result<store::Statement> query = db.Prepare(
      "SELECT t.job_id, t.classname, t.name, t.known_flaky, t.known_flaky_evidence "
      "FROM test_results t JOIN jobs j ON t.job_id = j.id WHERE j.run_id = ? AND "
      "t.known_flaky != ''");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, run_id);
  std::map<int64_t, std::map<std::string, FlakyEvidence>> out;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    out[query->Int(0)][TestId(query->Text(1), query->Text(2))] =
        ReadEvidence(query->Text(3), query->Text(4));
  }
}

std::string DescribeFlaky(const FlakyEvidence& evidence) {
  std::string text = evidence.reason;
  if (!evidence.runs.empty()) {
    text += fmt::format(": run{} {}", evidence.runs.size() == 1 ? "" : "s",
                        fmt::join(evidence.runs, ", "));
  }
  if (!evidence.commits.empty()) {
    text += fmt::format(" (commit{} {})", evidence.commits.size() == 1 ? "" : "s",
                        fmt::join(evidence.commits, ", "));
  }
  return text;
}

}  // namespace tauon::history
