// `tauon tests replay|rank|flaky`: test history, ordering and flakiness.
#pragma once

#include <filesystem>
#include <string>

namespace tauon::cli {

// Replays a test history file (history/history_file.h) and prints each
// method's mean APFD: one line per method, "NAME APFD-FAILING APFD-NONTRIVIAL".
int TestsReplayCommand(const std::filesystem::path& file, bool json);

// Ranks the known tests of a repository's jobs (or of one job), most likely
// to fail first, with the reasons, from the test results in `data_dir`.
// `repo` is a repository name as runs record it, or a directory (its name;
// then the files its HEAD commit changed count, as in a run of HEAD).
int TestsRankCommand(const std::filesystem::path& data_dir, const std::string& repo,
                     const std::string& job, bool json);

// Lists the tests that the history of a repository's jobs shows flaky, with
// the evidence (history/flaky.h); `repo` as for TestsRankCommand. The JSON
// is the document of GET /api/v1/repos/{name}/flaky-tests.
int TestsFlakyCommand(const std::filesystem::path& data_dir, const std::string& repo, bool json);

}  // namespace tauon::cli
