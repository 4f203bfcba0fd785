#include "cli/tests_cmd.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/resources.h"
#include "cli/commands.h"
#include "cli/remote.h"
#include "history/changed_files.h"
#include "history/history_file.h"
#include "history/replay.h"
#include "history/test_history.h"
#include "history/test_ranking.h"
#include "http/http.h"
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
    nlohmann::json candidates = nlohmann::json::object();
    for (size_t c = 0; c < history::EnsembleRanker::kCandidateCount; ++c) {
      candidates[std::string(history::EnsembleRanker::kCandidateNames[c])] =
          result.tauon_candidates[c];
    }
    out["tauon_candidates"] = candidates;
    out["tauon_leader"] = history::EnsembleRanker::kCandidateNames[result.tauon_leader];
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

using nlohmann::json;

// A repository named on the command line: a directory stands for its name.
std::string RepoName(const std::string& arg) {
  std::error_code ec;
  if (!std::filesystem::is_directory(arg, ec)) return arg;
  std::filesystem::path dir = std::filesystem::weakly_canonical(std::filesystem::absolute(arg));
  return dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
}

// The store of a local data directory, for reading.
Result<std::unique_ptr<store::Store>> OpenStore(const std::filesystem::path& data_dir) {
  runs::DataLayout layout(data_dir);
  if (!std::filesystem::exists(layout.database())) {
    return Fail("no runs recorded in {}", data_dir.string());
  }
  return store::Store::Open(layout.database());
}

// The files the HEAD commit of `dir` changed, if it is a git repository.
std::vector<std::string> ChangedAtHead(const std::string& dir_arg) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir_arg, ec)) return {};
  std::filesystem::path dir = std::filesystem::weakly_canonical(std::filesystem::absolute(dir_arg));
  Result<std::unique_ptr<scm::GitRepository>> git = scm::GitRepository::Open(dir);
  if (!git) return {};
  auto head = (*git)->Resolve("");
  if (!head || head->sha.empty()) return {};
  Result<std::vector<std::string>> changed = history::ChangedFiles(**git, head->sha);
  return changed ? std::move(*changed) : std::vector<std::string>{};
}

// The ranking document (api::TestRankingJson), from the server or the store.
Result<json> RankingDocument(const TestsSource& source, const std::string& repo_arg,
                             const std::string& job) {
  std::string repo = RepoName(repo_arg);
  if (source.remote) {
    std::string path = "/api/v1/repos/" + http::PercentEncode(repo) + "/test-ranking";
    if (!job.empty()) path += "?job=" + http::PercentEncode(job);
    return CallApi(*source.remote, "GET", path);
  }
  Result<std::unique_ptr<store::Store>> store = OpenStore(source.data_dir);
  if (!store) return std::unexpected(store.error());
  // For a directory: the files its HEAD commit changed make their tests suspect.
  Result<history::RepoTestRanking> ranking =
      history::RankRepoTests((*store)->database(), repo, job, ChangedAtHead(repo_arg));
  if (!ranking) return std::unexpected(ranking.error());
  if (!ranking->problem.empty()) return std::unexpected(Error{ranking->problem});
  return api::TestRankingJson(repo, ranking->jobs);
}

// The flaky-tests document (api::FlakyTestsJson), from the server or the store.
Result<json> FlakyDocument(const TestsSource& source, const std::string& repo_arg) {
  std::string repo = RepoName(repo_arg);
  if (source.remote) {
    return CallApi(*source.remote, "GET",
                   "/api/v1/repos/" + http::PercentEncode(repo) + "/flaky-tests");
  }
  Result<std::unique_ptr<store::Store>> store = OpenStore(source.data_dir);
  if (!store) return std::unexpected(store.error());
  Result<std::vector<std::string>> jobs = history::JobsWithTests((*store)->database(), repo);
  if (!jobs) return std::unexpected(jobs.error());
  Result<std::vector<history::FlakyTest>> flaky =
      history::FlakyTestsOfRepo((*store)->database(), repo);
  if (!flaky) return std::unexpected(flaky.error());
  return api::FlakyTestsJson(repo, *jobs, *flaky);
}

std::string DescribeFlaky(const json& evidence) {
  return history::DescribeFlaky({evidence.at("reason").get<std::string>(),
                                 evidence.at("runs").get<std::vector<int64_t>>(),
                                 evidence.at("commits").get<std::vector<std::string>>()});
}

// The repository's jobs with test results, from a ranking or flaky-tests
// document; an error when there are none. A server of another version may
// send another shape: that is an error too, never a crash.
Result<size_t> JobsWithResults(const json& doc, const std::string& repo) {
  if (!doc.is_object() || !doc.contains("jobs") || !doc["jobs"].is_array()) {
    return Fail("the server's answer has no 'jobs' list (is it older than this tauon?)");
  }
  if (doc["jobs"].empty()) {
    return Fail("no test results recorded for repository '{}' (a job with 'reports: junit:' "
                "records them)",
                repo);
  }
  return doc["jobs"].size();
}

void PrintRanking(const json& doc) {
  for (const json& ranked : doc.at("jobs")) {
    int runs = ranked.at("runs").get<int>();
    const json& tests = ranked.at("tests");
    fmt::print("{}: {} test{}, from {} run{} (attempts counted apart)\n",
               ranked.at("job").get<std::string>(), tests.size(), tests.size() == 1 ? "" : "s",
               runs, runs == 1 ? "" : "s");
    for (const json& test : tests) {
      fmt::print("{:>4}  {:<48} {:>7.3f}  {}\n", test.at("rank").get<int>(),
                 test.at("id").get<std::string>(), test.at("score").get<double>(),
                 Join(test.at("reasons").get<std::vector<std::string>>(), "; "));
    }
  }
}

void PrintFlaky(const json& doc, const std::string& repo, size_t jobs) {
  const json& tests = doc.at("tests");
  if (tests.empty()) {
    fmt::print("{}: no flaky test in the history of {} job{} with tests\n", repo, jobs,
               jobs == 1 ? "" : "s");
    return;
  }
  fmt::print("{}: {} flaky test{}\n", repo, tests.size(), tests.size() == 1 ? "" : "s");
  for (const json& test : tests) {
    fmt::print("  {}  {}  failed {} of {}; last {} in run {}\n    {}\n",
               test.at("job").get<std::string>(), test.at("id").get<std::string>(),
               test.at("failures").get<int>(), test.at("executions").get<int>(),
               test.at("last_status").get<std::string>(), test.at("last_run").get<int64_t>(),
               DescribeFlaky(test.at("flaky")));
  }
}

// Prints `doc` as JSON or with `print`, after checking that it has jobs.
template <typename Print>
int PrintDocument(const Result<json>& doc, const std::string& repo_arg, bool as_json,
                  Print&& print) {
  if (!doc) return Failed(kExitFailed, "{}", doc.error().message);
  std::string repo = RepoName(repo_arg);
  Result<size_t> jobs = JobsWithResults(*doc, repo);
  if (!jobs) return Failed(kExitFailed, "{}", jobs.error().message);
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(*doc));
    return kExitOk;
  }
  try {
    print(*doc, repo, *jobs);
  } catch (const json::exception& e) {
    return Failed(kExitFailed, "the server's answer is not what this tauon expects: {}", e.what());
  }
  return kExitOk;
}

}  // namespace

int TestsRankCommand(const TestsSource& source, const std::string& repo, const std::string& job,
                     bool as_json) {
  return PrintDocument(RankingDocument(source, repo, job), repo, as_json,
                       [](const json& doc, const std::string&, size_t) { PrintRanking(doc); });
}

int TestsFlakyCommand(const TestsSource& source, const std::string& repo, bool as_json) {
  return PrintDocument(FlakyDocument(source, repo), repo, as_json, PrintFlaky);
}

}  // namespace tauon::cli
