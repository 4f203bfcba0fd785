// Cleaning up after a Tauon process that died (kill -9, power loss, OOM)
// while it was executing runs.
#pragma once

#include <vector>

#include "store/store.h"
#include "util/clock.h"

namespace tauon::runs {

// Finds the runs recorded as running whose executing process is gone, kills
// what their recorded process groups still run, and marks them interrupted.
// Runs executed by live processes (another `tauon run` sharing the data
// directory) are left alone; with `local_only`, so are the server's runs
// (trigger other than "local"), which the server recovers and re-queues
// itself when it starts. Returns the ids of the interrupted runs.
Result<std::vector<int64_t>> RecoverAbandonedRuns(store::Store& store, const Clock& clock,
                                                  bool local_only);

// Kills process group `pgid` (SIGKILL) if it can still belong to the
// recorded `leader` (a ProcessIdentity): the leader is that very process, or
// is gone while its group may live on. Never signals a reused pid.
void KillRecordedGroup(int pgid, const std::string& leader);

}  // namespace tauon::runs
