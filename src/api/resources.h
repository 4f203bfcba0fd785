// The resource model shared by the CLI's --json, the HTTP API and the
// dashboard (DESIGN.md, "One resource model"): the same field names
// everywhere. Times are RFC 3339 UTC strings, durations milliseconds.
#pragma once

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace tauon::api {

// A run without its jobs: id, repo, commit, branch, event, status, ...
nlohmann::json RunSummaryJson(const store::RunRecord& run);

// A run with `jobs[]` (the latest attempt of each job, with `steps[]`,
// `tests`, `failed_tests[]`, `artifacts[]` and earlier `attempts[]`).
// Fails if the run does not exist.
Result<nlohmann::json> RunJson(store::Store& store, int64_t run_id);

// Every artifact of the run's jobs: job, path, size, digest.
Result<nlohmann::json> RunArtifactsJson(store::Store& store, int64_t run_id);

}  // namespace tauon::api
