// The read-only API routes of the dashboard and `tauon tests`: the latest run
// of every branch, run durations with test counts for charts, the recent
// verdicts of a run's tests, a repository's flaky tests and its tests'
// ranking. Reference: docs/api.md, "Dashboard queries".
#include <algorithm>
#include <map>
#include <tuple>

#include "api/resources.h"
#include "history/flaky.h"
#include "history/test_history.h"
#include "history/test_ranking.h"
#include "server/api.h"

namespace tauon::server {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// `name` from the query as a number in [1, max]; `fallback` when absent or
// empty; nullopt (and `error` set) when malformed.
std::optional<int> LimitParameter(const Request& request, const char* name, int fallback, int max,
                                  Response* error) {
  auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return fallback;
  const std::string& text = it->second;
  if (text.size() <= 4 && text.find_first_not_of("0123456789") == std::string::npos) {
    int n = std::stoi(text);
    if (n >= 1 && n <= max) return n;
  }
  *error = Response::Error(400, fmt::format("invalid {} '{}': expected 1 to {}", name, text, max));
  return std::nullopt;
}

std::optional<std::string> QueryText(const Request& request, const char* name) {
  auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

}  // namespace

Response Api::Branches(const Request&) {
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::vector<store::RunRecord>> runs = (*store)->LatestRunPerBranch();
  if (!runs) return Response::Error(500, runs.error().message);
  json list = json::array();
  for (const store::RunRecord& run : *runs) {
    list.push_back({{"repo", run.repo}, {"branch", run.branch}, {"run", api::RunSummaryJson(run)}});
  }
  return Response::Json(200, {{"branches", list}});
}

Response Api::RunStats(const Request& request) {
  Response error;
  std::optional<int> limit = LimitParameter(request, "limit", 100, 500, &error);
  if (!limit) return error;
  store::RunFilter filter;
  filter.repo = QueryText(request, "repo");
  filter.branch = QueryText(request, "branch");
  filter.limit = *limit;
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::vector<store::RunRecord>> runs = (*store)->ListRuns(filter);
  if (!runs) return Response::Error(500, runs.error().message);
  std::map<int64_t, store::Store::TestCounts> counts;
  if (!runs->empty()) {
    Result<std::map<int64_t, store::Store::TestCounts>> read =
        (*store)->CountRunTests(runs->back().id, runs->front().id);
    if (!read) return Response::Error(500, read.error().message);
    counts = std::move(*read);
  }
  json list = json::array();
  for (auto run = runs->rbegin(); run != runs->rend(); ++run) {
    json item = api::RunSummaryJson(*run);
    json tests;  // null without a report
    if (auto it = counts.find(run->id); it != counts.end()) {
      tests = {{"total", it->second.total},
               {"passed", it->second.passed},
               {"failed", it->second.failed},
               {"flaky_failed", it->second.flaky_failed},
               {"skipped", it->second.skipped}};
    }
    list.push_back({{"id", run->id},
                    {"repo", run->repo},
                    {"branch", run->branch},
                    {"status", item["status"]},
                    {"created_at", item["created_at"]},
                    {"duration_ms", item["duration_ms"]},
                    {"tests", tests}});
  }
  return Response::Json(200, {{"runs", list}});
}

Response Api::TestHistory(const Request& request) {
  const std::string& id_text = request.params.at("id");
  if (id_text.empty() || id_text.size() > 18 ||
      id_text.find_first_not_of("0123456789") != std::string::npos) {
    return Response::Error(400, "invalid run id");
  }
  const int64_t id = std::stoll(id_text);
  Response error;
  std::optional<int> limit = LimitParameter(request, "limit", 20, 100, &error);
  if (!limit) return error;
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  Result<std::optional<store::RunRecord>> run = (*store)->GetRun(id);
  if (!run) return Response::Error(500, run.error().message);
  if (!*run) return Response::Error(404, fmt::format("no run {}", id));
  Result<std::vector<store::Store::TestVerdict>> verdicts =
      (*store)->RecentTestVerdicts((*run)->repo, id, *limit);
  if (!verdicts) return Response::Error(500, verdicts.error().message);

  // The run's own tests, in its report order, each with its verdicts in the
  // runs before it (newest first); a run without the test has no entry.
  using Key = std::tuple<std::string, std::string, std::string>;
  std::vector<Key> order;
  std::map<Key, json> history;
  std::vector<int64_t> run_ids;
  for (const store::Store::TestVerdict& verdict : *verdicts) {
    if (run_ids.empty() || run_ids.back() != verdict.run_id) run_ids.push_back(verdict.run_id);
    Key key{verdict.job, verdict.classname, verdict.name};
    if (verdict.run_id == id && !history.contains(key)) {
      order.push_back(key);
      history[key] = json::array();
    }
    auto it = history.find(key);
    if (it == history.end()) continue;
    // A test reported twice in one job attempt keeps its first verdict.
    if (!it->second.empty() && it->second.back()["run_id"] == verdict.run_id) continue;
    it->second.push_back({{"run_id", verdict.run_id},
                          {"status", verdict.status},
                          {"flaky", verdict.flaky},
                          {"known_flaky", verdict.known_flaky}});
  }
  json tests = json::array();
  for (const Key& key : order) {
    tests.push_back({{"job", std::get<0>(key)},
                     {"classname", std::get<1>(key)},
                     {"name", std::get<2>(key)},
                     {"history", history[key]}});
  }
  return Response::Json(200, {{"runs", run_ids}, {"tests", tests}});
}

namespace {

// A 404 unless `repo` is watched or has runs (`tauon run` records runs of
// repositories the server does not watch); nullopt when it is known.
std::optional<Response> CheckRepoKnown(store::Store& store, const std::string& repo) {
  store::RunFilter filter;
  filter.repo = repo;
  filter.limit = 1;
  Result<std::vector<store::RunRecord>> runs = store.ListRuns(filter);
  Result<std::vector<store::RepoRecord>> repos = store.ListRepos();
  if (!runs || !repos) return Response::Error(500, "cannot read the repositories");
  bool known = !runs->empty() || std::any_of(repos->begin(), repos->end(),
                                             [&](const auto& r) { return r.name == repo; });
  if (known) return std::nullopt;
  return Response::Error(404, fmt::format("no repository named '{}'", repo));
}

}  // namespace

Response Api::FlakyTests(const Request& request) {
  const std::string& repo = request.params.at("name");
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  if (std::optional<Response> unknown = CheckRepoKnown(**store, repo)) return *unknown;
  Result<std::vector<std::string>> jobs = history::JobsWithTests((*store)->database(), repo);
  if (!jobs) return Response::Error(500, jobs.error().message);
  Result<std::vector<history::FlakyTest>> flaky =
      history::FlakyTestsOfRepo((*store)->database(), repo);
  if (!flaky) return Response::Error(500, flaky.error().message);
  return Response::Json(200, api::FlakyTestsJson(repo, *jobs, *flaky));
}

Response Api::TestRanking(const Request& request) {
  const std::string& repo = request.params.at("name");
  Result<store::Store*> store = Store();
  if (!store) return Response::Error(500, store.error().message);
  if (std::optional<Response> unknown = CheckRepoKnown(**store, repo)) return *unknown;
  Result<history::RepoTestRanking> ranking = history::RankRepoTests(
      (*store)->database(), repo, QueryText(request, "job").value_or(""), {});
  if (!ranking) return Response::Error(500, ranking.error().message);
  if (!ranking->problem.empty()) return Response::Error(404, ranking->problem);
  return Response::Json(200, api::TestRankingJson(repo, ranking->jobs));
}

}  // namespace tauon::server
