// `tauon tests replay|rank`: test history, ordering and flakiness.
#pragma once

#include <filesystem>

namespace tauon::cli {

// Replays a test history file (history/history_file.h) and prints each
// method's mean APFD: one line per method, "NAME APFD-FAILING APFD-NONTRIVIAL".
int TestsReplayCommand(const std::filesystem::path& file, bool json);

}  // namespace tauon::cli
