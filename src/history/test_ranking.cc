#include "history/test_ranking.h"

#include <algorithm>
#include <bit>
#include <map>
#include <set>

#include <fmt/format.h>

#include "history/changed_files.h"
#include "history/ensemble.h"
#include "util/strings.h"

namespace tauon::history {
namespace {

// `now` is the coming run: the last run is now - 1.
std::vector<std::string> Reasons(const TestRecord& r, int64_t now) {
  if (r.runs == 0) return {"never run"};
  std::vector<std::string> out;
  if (r.recent & 1) {
    out.push_back("failed last run");
  } else if (r.failures > 0) {
    int64_t ago = now - r.last_failed_cycle;
    out.push_back(fmt::format("last failed {} runs ago", ago));
  }
  if (r.runs > 10 && r.RecentFailures(10) > 0) {
    out.push_back(fmt::format("{} of its last 10 runs failed", r.RecentFailures(10)));
  }
  if (r.failures > 0) {
    out.push_back(fmt::format("failure rate {}/{}", r.failures, r.runs));
  } else {
    out.push_back(fmt::format("never failed in {} run{}", r.runs, r.runs == 1 ? "" : "s"));
  }
  return out;
}

}  // namespace

TestRanking RankTests(const std::vector<TestExecution>& history, const Changes& changes) {
  static const std::vector<std::string> kNone;
  TestRanking out;
  TestRecords records;
  FlakyDetector flaky;
  std::map<std::string, std::pair<double, int>> durations;  // Sum, count.
  std::map<std::string, std::string> classnames;
  EnsembleRanker ranker;
  int64_t cycle = 0;
  std::vector<Features> features;
  std::vector<bool> failed;
  for (size_t begin = 0; begin < history.size();) {
    size_t end = begin;
    while (end < history.size() && history[end].run_id == history[begin].run_id &&
           history[end].attempt == history[begin].attempt) {
      ++end;
    }
    ++cycle;
    features.clear();
    failed.clear();
    auto changed_in_run = changes.by_run.find(history[begin].run_id);
    const std::vector<std::string>& changed =
        changed_in_run == changes.by_run.end() ? kNone : changed_in_run->second;
    for (size_t i = begin; i < end; ++i) {
      const TestExecution& e = history[i];
      if (e.skipped()) continue;
      auto it = records.find(e.id());
      features.push_back(FeaturesOf(it == records.end() ? nullptr : &it->second, cycle,
                                    TestFileChanged(e.classname, changed)));
      failed.push_back(e.failed());
    }
    if (!features.empty()) {
      ranker.Learn(features, failed);
      ++out.cycles;
    }
    for (size_t i = begin; i < end; ++i) {
      const TestExecution& e = history[i];
      if (e.skipped()) continue;
      std::string id = e.id();
      classnames[id] = e.classname;
      TestRecord& record = records[id];
      record.Observe(cycle, e.failed(), static_cast<double>(e.duration_ms) / 1000);
      auto& [sum, count] = durations[id];
      sum += static_cast<double>(e.duration_ms);
      ++count;
      flaky.Observe(e);
    }
    begin = end;
  }
  int64_t now = cycle + 1;
  for (const auto& [id, record] : records) {
    RankedTest test;
    test.id = id;
    test.record = record;
    bool changed = TestFileChanged(classnames[id], changes.now);
    test.score = ranker.Score(FeaturesOf(&record, now, changed));
    auto [sum, count] = durations[id];
    test.mean_duration_ms = count ? sum / count : 0;
    test.reasons = Reasons(record, now);
    if (changed) test.reasons.insert(test.reasons.begin(), "its file changed in this commit");
    test.flaky = flaky.Judge(id);
    if (test.flaky) test.reasons.push_back("flaky: " + test.flaky->reason);
    out.tests.push_back(std::move(test));
  }
  std::stable_sort(out.tests.begin(), out.tests.end(),
                   [](const RankedTest& a, const RankedTest& b) { return a.score > b.score; });
  return out;
}

Result<RepoTestRanking> RankRepoTests(store::Database& db, const std::string& repo,
                                      const std::string& job,
                                      const std::vector<std::string>& changed_now) {
  RepoTestRanking out;
  Result<std::vector<std::string>> jobs = JobsWithTests(db, repo);
  if (!jobs) return std::unexpected(jobs.error());
  if (jobs->empty()) return out;
  std::vector<std::string> wanted = std::move(*jobs);
  if (!job.empty()) {
    if (std::find(wanted.begin(), wanted.end(), job) == wanted.end()) {
      std::optional<std::string> close = SuggestClosest(job, wanted);
      out.problem = fmt::format("no test results for job '{}' of '{}'{} (jobs with tests: {})", job,
                                repo, close ? fmt::format(" (did you mean '{}'?)", *close) : "",
                                Join(wanted, ", "));
      return out;
    }
    wanted = {job};
  }
  Changes changes;
  Result<std::map<int64_t, std::vector<std::string>>> by_run = ChangedFilesOfRuns(db, repo);
  if (!by_run) return std::unexpected(by_run.error());
  changes.by_run = std::move(*by_run);
  changes.now = changed_now;
  for (const std::string& name : wanted) {
    Result<std::vector<TestExecution>> past = LoadTestHistory(db, {repo, name, std::nullopt});
    if (!past) return std::unexpected(past.error());
    out.jobs.push_back({name, RankTests(*past, changes)});
  }
  return out;
}

}  // namespace tauon::history
