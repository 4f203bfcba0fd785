// `tauon tests replay|rank|flaky`: test history, ordering and flakiness.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "cli/remote.h"

namespace tauon::cli {

// Replays a test history file (history/history_file.h) and prints each
// method's mean APFD: one line per method, "NAME APFD-FAILING APFD-NONTRIVIAL".
int TestsReplayCommand(const std::filesystem::path& file, bool json);

// Where test history is read: a server's API when `remote` is set, else the
// store of `data_dir`.
struct TestsSource {
  std::filesystem::path data_dir;
  std::optional<Remote> remote;
};

// Ranks the known tests of a repository's jobs (or of one job), most likely
// to fail first, with the reasons. `repo` is a repository name as runs record
// it, or a directory (its name; read locally, the files its HEAD commit
// changed then count, as in a run of HEAD). The JSON is the document of GET
// /api/v1/repos/{name}/test-ranking.
int TestsRankCommand(const TestsSource& source, const std::string& repo, const std::string& job,
                     bool json);

// Lists the tests that the history of a repository's jobs shows flaky, with
// the evidence (history/flaky.h); `repo` as for TestsRankCommand. The JSON
// is the document of GET /api/v1/repos/{name}/flaky-tests.
int TestsFlakyCommand(const TestsSource& source, const std::string& repo, bool json);

}  // namespace tauon::cli
