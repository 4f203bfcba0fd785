// Test histories in the CSV format of the RETECS data sets (ABB's IOF/ROL,
// converted Travis CI histories): one row per test execution,
//   Id;Name;Duration;CalcPrio;LastRun;LastResults;Verdict;Cycle
// with Verdict 1 = failed, 0 = passed, and Cycle the CI cycle in time order.
// Only Name, Duration, Verdict and Cycle are read: LastResults and CalcPrio
// may describe the cycle's own outcome, which a replay must not see.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace tauon::history {

struct Execution {
  std::string name;
  double duration = 0;  // In the file's unit; >= 0.
  bool failed = false;
};

// One CI cycle: its executions in file order. A test may appear more than
// once in a cycle (reruns); each row counts as one test of the cycle.
struct Cycle {
  int64_t id = 0;
  std::vector<Execution> executions;
};

// Parses the whole text of a history. Cycles come out sorted by id; rows of
// one cycle keep their order in the file even when cycles are interleaved.
// Fails on the first malformed line with "LINE: what is wrong" (line 1 is the
// header), e.g. "3: Verdict must be 0 or 1, found '2'".
Result<std::vector<Cycle>> ParseHistory(std::string_view text);

// Reads a history file, plain or gzip-compressed (detected from its content,
// not its name). Errors are prefixed with the path: "FILE:LINE: ...".
Result<std::vector<Cycle>> ReadHistoryFile(const std::filesystem::path& path);

}  // namespace tauon::history
