// The resource model shared by the CLI's --json, the HTTP API and the
// dashboard (DESIGN.md, "One resource model"): the same field names
// everywhere. Times are RFC 3339 UTC strings, durations milliseconds.
#pragma once

#include <nlohmann/json.hpp>

#include "history/flaky.h"
#include "history/test_ranking.h"
#include "store/store.h"

namespace tauon::api {

// Serializes a resource. Text from outside (commit messages, test names,
// report messages) need not be valid UTF-8: invalid bytes become U+FFFD
// instead of failing the whole document.
std::string ToJsonText(const nlohmann::json& value, int indent = 2);

// A run without its jobs: id, repo, commit, branch, event, status, ...
nlohmann::json RunSummaryJson(const store::RunRecord& run);

// A run with `jobs[]` (the latest attempt of each job, with `steps[]`,
// `tests`, `failed_tests[]`, `artifacts[]` and earlier `attempts[]`).
// Fails if the run does not exist.
Result<nlohmann::json> RunJson(store::Store& store, int64_t run_id);

// Why a test is flaky, the same everywhere (known-flaky failures of a run,
// `tauon tests rank --json`, a repository's flaky tests):
// {"reason", "runs": [ID, ...], "commits": [SHA12, ...]}.
nlohmann::json FlakyEvidenceJson(const history::FlakyEvidence& evidence);

// A repository's flaky tests (`GET /api/v1/repos/{name}/flaky-tests`, `tauon
// tests flaky --json`): {"repo", "jobs": [the jobs with test results], "tests":
// [{"job", "id", "classname", "name", "flaky", "executions", "failures",
// "last_run", "last_status"}]}.
nlohmann::json FlakyTestsJson(const std::string& repo, const std::vector<std::string>& jobs,
                              const std::vector<history::FlakyTest>& tests);

// A repository's tests, most likely to fail first (`GET
// /api/v1/repos/{name}/test-ranking`, `tauon tests rank --json`): {"repo",
// "jobs": [{"job", "runs", "tests": [{"rank", "id", "score", "runs",
// "failures", "last_failed", "mean_duration_ms", "reasons", "flaky"}]}]}.
nlohmann::json TestRankingJson(const std::string& repo,
                               const std::vector<history::JobRanking>& jobs);

// A model version: name, version, digest, commit, run_id, metrics{} (per
// job), params{}, files[], aliases[] (of those in `aliases` on it), ...
nlohmann::json ModelVersionJson(const store::ModelVersionRecord& version,
                                const std::map<std::string, int>& aliases);

// Every artifact of a run resource's jobs: job, path, size, digest.
nlohmann::json RunArtifactsJson(const nlohmann::json& run);

}  // namespace tauon::api
