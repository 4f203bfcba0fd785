#include "history/test_ranking.h"

#include <algorithm>
#include <bit>
#include <map>
#include <set>

#include <fmt/format.h>

#include "history/changed_files.h"
#include "history/ensemble.h"

namespace tauon::history {
namespace {

struct FlakyTracker {
  // Verdicts per commit: bit 0 passed, bit 1 failed.
  std::map<std::string, int> seen_on_commit;
  std::vector<int64_t> same_commit_runs;
  std::vector<std::string> same_commit_commits;
  std::vector<int64_t> marker_runs;
  std::vector<int64_t> flip_runs;  // Runs whose verdict differed from the one before.
  std::vector<bool> verdicts;      // All verdicts, oldest first.
};

void Keep(std::vector<int64_t>& runs, int64_t run) {
  if (!runs.empty() && runs.back() == run) return;
  runs.push_back(run);
  if (runs.size() > 10) runs.erase(runs.begin());
}

std::optional<FlakyEvidence> Judge(const FlakyTracker& t) {
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
  std::map<std::string, FlakyTracker> flaky;
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
      bool flipped = record.runs > 0 && ((record.recent & 1) != 0) != e.failed();
      record.Observe(cycle, e.failed(), static_cast<double>(e.duration_ms) / 1000);
      auto& [sum, count] = durations[id];
      sum += static_cast<double>(e.duration_ms);
      ++count;
      FlakyTracker& t = flaky[id];
      t.verdicts.push_back(e.failed());
      if (flipped) Keep(t.flip_runs, e.run_id);
      if (e.flaky_marker) Keep(t.marker_runs, e.run_id);
      int& seen = t.seen_on_commit[e.commit];
      int before = seen;
      seen |= e.failed() ? 2 : 1;
      if (before != 0 && before != 3 && seen == 3) {
        Keep(t.same_commit_runs, e.run_id);
        t.same_commit_commits.push_back(e.commit.substr(0, 12));
        if (t.same_commit_commits.size() > 10) {
          t.same_commit_commits.erase(t.same_commit_commits.begin());
        }
      }
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
    test.flaky = Judge(flaky[id]);
    if (test.flaky) test.reasons.push_back("flaky: " + test.flaky->reason);
    out.tests.push_back(std::move(test));
  }
  std::stable_sort(out.tests.begin(), out.tests.end(),
                   [](const RankedTest& a, const RankedTest& b) { return a.score > b.score; });
  return out;
}

}  // namespace tauon::history
