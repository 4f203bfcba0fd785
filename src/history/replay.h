// The replay harness: takes a test history cycle by cycle, asks each method
// for an order of the cycle's tests knowing only the earlier cycles, and
// scores the orders with APFD (apfd.h).
#pragma once

#include <string>
#include <vector>

#include "history/history_file.h"
#include "history/ensemble.h"
#include "history/ranker.h"

namespace tauon::history {

struct MethodResult {
  std::string name;  // "random", "failure-rate", "recently-failed", "tauon", "optimal".
  double apfd_failing = 0;     // Mean over cycles with at least one failure.
  double apfd_nontrivial = 0;  // Mean over those with more than one test and not all failing.
};

struct ReplayResult {
  int cycles = 0;
  int failing_cycles = 0;
  int nontrivial_cycles = 0;
  int executions = 0;
  int tests = 0;  // Distinct names.
  std::vector<MethodResult> methods;  // In the order of MethodResult::name above.
  Features tauon_weights{};  // The learned ranker's weights at the end of the history.
  // Tauon's candidate leading at the end, and each candidate's mean APFD over
  // the non-trivial cycles (ensemble.h).
  EnsembleRanker::Candidate tauon_leader = EnsembleRanker::kLearned;
  std::array<double, EnsembleRanker::kCandidateCount> tauon_candidates{};
};

struct ReplayOptions {
  uint64_t random_seed = 1;  // For the random orders.
  int random_orders = 20;    // "random" is the mean over this many shuffles of each cycle.
  RankerOptions ranker;
};

// Replays `cycles` (sorted by id, as ReadHistoryFile returns them). Ties in a
// method's scores count at their expected position (ExpectedApfd). A cycle's
// rows update the test records in file order, so a test run twice in a cycle
// counts twice.
ReplayResult Replay(const std::vector<Cycle>& cycles, const ReplayOptions& options = {});

}  // namespace tauon::history
