// Expected durations from history: how long each job of a repository took in
// its recent runs, and from that how long a run in progress has left.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite.h"
#include "util/clock.h"
#include "util/error.h"

namespace tauon::history {

// The median duration of each job's last `window` successful attempts in
// runs of `repo` before `before_run` (jobs reused from another run left out;
// a job that never succeeded: the median of its failed attempts).
Result<std::map<std::string, Duration>> ExpectedJobDurations(store::Database& db,
                                                             const std::string& repo,
                                                             int64_t before_run, int window = 10);

struct JobProgress {
  enum class State { kPending, kRunning, kDone };
  State state = State::kPending;
  TimePoint started{};  // When the running attempt started.
};

// Time left until every job is done, if each takes its expected duration and
// a job starts when its needs are done (ignores the -j limit): the latest
// finish over the plan's needs graph. `needs[i]` are indices of earlier jobs
// (plan order is a topological order). A running job that is over its
// expected duration is taken to end now. nullopt when a job not done has no
// expectation.
std::optional<Duration> EstimateTimeLeft(const std::vector<std::vector<size_t>>& needs,
                                         const std::vector<std::optional<Duration>>& expected,
                                         const std::vector<JobProgress>& progress, TimePoint now);

}  // namespace tauon::history
