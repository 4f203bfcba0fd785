#include "cli/tests_cmd.h"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "api/resources.h"
#include "cli/commands.h"
#include "history/changed_files.h"
#include "history/history_file.h"
#include "history/replay.h"
#include "history/test_history.h"
#include "history/test_ranking.h"
#include "runs/layout.h"
#include "scm/git.h"
#include "store/store.h"
#include "util/strings.h"

namespace tauon::cli {

int TestsReplayCommand(const std::filesystem::path& file, bool as_json) {
  Result<std::vector<history::Cycle>> cycles = history::ReadHistoryFile(file);
  if (!cycles) {
    fmt::print(stderr, "tauon: error: {}\n", cycles.error().message);
    return kExitFailed;
  }
  history::ReplayResult result = history::Replay(*cycles);
  if (as_json) {
    nlohmann::json out = {{"file", file.string()},
                          {"cycles", result.cycles},
                          {"failing_cycles", result.failing_cycles},
                          {"nontrivial_cycles", result.nontrivial_cycles},
                          {"executions", result.executions},
                          {"tests", result.tests},
                          {"methods", nlohmann::json::array()}};
    for (const history::MethodResult& m : result.methods) {
      out["methods"].push_back({{"name", m.name},
                                {"apfd_failing", m.apfd_failing},
                                {"apfd_nontrivial", m.apfd_nontrivial}});
    }
    nlohmann::json weights = nlohmann::json::object();
    for (size_t i = 0; i < history::kFeatureCount; ++i) {
      weights[std::string(history::kFeatureNames[i])] = result.tauon_weights[i];
    }
    out["tauon_weights"] = weights;
    fmt::print("{}\n", api::ToJsonText(out));
    return kExitOk;
  }
  fmt::print("# {}: {} cycles, {} executions, {} tests; mean APFD over {} failing cycles, "
             "then over {} non-trivial ones (more than one test, not all failing)\n",
             file.string(), result.cycles, result.executions, result.tests, result.failing_cycles,
             result.nontrivial_cycles);
  for (const history::MethodResult& m : result.methods) {
    fmt::print("{:<16} {:.4f} {:.4f}\n", m.name, m.apfd_failing, m.apfd_nontrivial);
  }
  return kExitOk;
}

namespace {

nlohmann::json RankedJson(const history::RankedTest& test, size_t rank) {
  nlohmann::json flaky = test.flaky ? api::FlakyEvidenceJson(*test.flaky) : nlohmann::json();
  return {{"rank", rank},
          {"id", test.id},
          {"score", test.score},
          {"runs", test.record.runs},
          {"failures", test.record.failures},
          {"last_failed", (test.record.recent & 1) != 0},
          {"mean_duration_ms", static_cast<int64_t>(test.mean_duration_ms)},
          {"reasons", test.reasons},
          {"flaky", flaky}};
}

// A repository named on the command line: a directory stands for its name.
std::string RepoName(const std::string& arg) {
  std::error_code ec;
  if (!std::filesystem::is_directory(arg, ec)) return arg;
  std::filesystem::path dir = std::filesystem::weakly_canonical(std::filesystem::absolute(arg));
  return dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
}

}  // namespace

int TestsRankCommand(const std::filesystem::path& data_dir, const std::string& repo_arg,
                     const std::string& job, bool as_json) {
  std::string repo = RepoName(repo_arg);
  std::error_code ec;
  // For a directory: the tests that its HEAD commit changed count as suspect.
  std::vector<std::string> changed_now;
  if (std::filesystem::is_directory(repo_arg, ec)) {
    std::filesystem::path dir =
        std::filesystem::weakly_canonical(std::filesystem::absolute(repo_arg));
    if (auto git = scm::GitRepository::Open(dir); git) {
      if (auto head = (*git)->Resolve(""); head && !head->sha.empty()) {
        if (auto changed = history::ChangedFiles(**git, head->sha)) changed_now = std::move(*changed);
      }
    }
  }
  runs::DataLayout layout(data_dir);
  if (!std::filesystem::exists(layout.database())) {
    fmt::print(stderr, "tauon: error: no runs recorded in {}\n", data_dir.string());
    return kExitFailed;
  }
  Result<std::unique_ptr<store::Store>> store = store::Store::Open(layout.database());
  if (!store) {
    fmt::print(stderr, "tauon: error: {}\n", store.error().message);
    return kExitFailed;
  }
  Result<std::vector<std::string>> jobs = history::JobsWithTests((*store)->database(), repo);
  if (!jobs) {
    fmt::print(stderr, "tauon: error: {}\n", jobs.error().message);
    return kExitFailed;
  }
  if (jobs->empty()) {
    fmt::print(stderr, "tauon: error: no test results recorded for repository '{}' (a job with "
                       "'reports: junit:' records them)\n", repo);
    return kExitFailed;
  }
  if (!job.empty()) {
    if (std::find(jobs->begin(), jobs->end(), job) == jobs->end()) {
      std::optional<std::string> close = SuggestClosest(job, *jobs);
      fmt::print(stderr, "tauon: error: no test results for job '{}' of '{}'{} (jobs with tests: {})\n",
                 job, repo, close ? fmt::format(" (did you mean '{}'?)", *close) : "",
                 Join(*jobs, ", "));
      return kExitFailed;
    }
    *jobs = {job};
  }
  nlohmann::json out = {{"repo", repo}, {"jobs", nlohmann::json::array()}};
  for (const std::string& name : *jobs) {
    Result<std::vector<history::TestExecution>> past =
        history::LoadTestHistory((*store)->database(), {repo, name, std::nullopt});
    if (!past) {
      fmt::print(stderr, "tauon: error: {}\n", past.error().message);
      return kExitFailed;
    }
    history::Changes changes;
    if (auto by_run = history::ChangedFilesOfRuns((*store)->database(), repo)) {
      changes.by_run = std::move(*by_run);
    }
    changes.now = changed_now;
    history::TestRanking ranking = history::RankTests(*past, changes);
    if (as_json) {
      nlohmann::json tests = nlohmann::json::array();
      for (size_t i = 0; i < ranking.tests.size(); ++i) {
        tests.push_back(RankedJson(ranking.tests[i], i + 1));
      }
      out["jobs"].push_back({{"job", name}, {"runs", ranking.cycles}, {"tests", tests}});
      continue;
    }
    fmt::print("{}: {} tests, from {} run{} (attempts counted apart)\n", name,
               ranking.tests.size(), ranking.cycles, ranking.cycles == 1 ? "" : "s");
    for (size_t i = 0; i < ranking.tests.size(); ++i) {
      const history::RankedTest& test = ranking.tests[i];
      fmt::print("{:>4}  {:<48} {:>7.3f}  {}\n", i + 1, test.id, test.score,
                 Join(test.reasons, "; "));
    }
  }
  if (as_json) fmt::print("{}\n", api::ToJsonText(out));
  return kExitOk;
}

int TestsFlakyCommand(const std::filesystem::path& data_dir, const std::string& repo_arg,
                      bool as_json) {
  std::string repo = RepoName(repo_arg);
  runs::DataLayout layout(data_dir);
  if (!std::filesystem::exists(layout.database())) {
    fmt::print(stderr, "tauon: error: no runs recorded in {}\n", data_dir.string());
    return kExitFailed;
  }
  Result<std::unique_ptr<store::Store>> store = store::Store::Open(layout.database());
  Result<std::vector<std::string>> jobs =
      store ? history::JobsWithTests((*store)->database(), repo) : std::unexpected(store.error());
  if (!jobs) {
    fmt::print(stderr, "tauon: error: {}\n", jobs.error().message);
    return kExitFailed;
  }
  if (jobs->empty()) {
    fmt::print(stderr,
               "tauon: error: no test results recorded for repository '{}' (a job with "
               "'reports: junit:' records them)\n",
               repo);
    return kExitFailed;
  }
  Result<std::vector<history::FlakyTest>> flaky =
      history::FlakyTestsOfRepo((*store)->database(), repo);
  if (!flaky) {
    fmt::print(stderr, "tauon: error: {}\n", flaky.error().message);
    return kExitFailed;
  }
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(api::FlakyTestsJson(repo, *flaky)));
    return kExitOk;
  }
  if (flaky->empty()) {
    fmt::print("{}: no flaky test in the history of {} job{} with tests\n", repo, jobs->size(),
               jobs->size() == 1 ? "" : "s");
    return kExitOk;
  }
  fmt::print("{}: {} flaky test{}\n", repo, flaky->size(), flaky->size() == 1 ? "" : "s");
  for (const history::FlakyTest& test : *flaky) {
    fmt::print("  {}  {}  failed {} of {}; last {} in run {}\n    {}\n", test.job, test.id,
               test.failures, test.executions, test.last_status, test.last_run,
               history::DescribeFlaky(test.evidence));
  }
  return kExitOk;
}

}  // namespace tauon::cli
