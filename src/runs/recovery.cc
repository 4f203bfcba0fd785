#include "runs/recovery.h"

#include <signal.h>

#include "util/process_identity.h"

namespace tauon::runs {

void KillRecordedGroup(int pgid, const std::string& leader) {
  std::optional<ProcessIdentity> recorded = ProcessIdentity::Parse(leader);
  if (!recorded || pgid <= 0 || recorded->pid != pgid) return;
  std::optional<ProcessIdentity> now = ProcessIdentity::Of(pgid);
  if (recorded->boot_id != ProcessIdentity::Self().boot_id) return;  // Rebooted: all gone.
  // A live process with that pid that is not the leader means the pid was
  // reused, which the kernel only does once the old group is empty.
  if (now && now->start_ticks != recorded->start_ticks) return;
  kill(-pgid, SIGKILL);
}

Result<std::vector<int64_t>> RecoverAbandonedRuns(store::Store& store, const Clock& clock,
                                                  bool local_only) {
  store::RunFilter filter;
  filter.status = engine::RunStatus::kRunning;
  filter.limit = 1'000'000;
  Result<std::vector<store::RunRecord>> running = store.ListRuns(filter);
  if (!running) return std::unexpected(running.error());
  std::vector<int64_t> recovered;
  for (const store::RunRecord& run : *running) {
    if (local_only && run.trigger != "local") continue;
    std::optional<ProcessIdentity> owner = ProcessIdentity::Parse(run.owner);
    if (owner && owner->IsAlive()) continue;
    Result<std::vector<std::pair<int, std::string>>> processes = store.GetProcesses(run.id);
    if (!processes) return std::unexpected(processes.error());
    for (const auto& [pgid, leader] : *processes) KillRecordedGroup(pgid, leader);
    std::string why = "interrupted: the tauon process executing the run stopped unexpectedly";
    if (Status ok = store.InterruptRun(run.id, clock.Now(), why); !ok) {
      return std::unexpected(ok.error());
    }
    recovered.push_back(run.id);
  }
  return recovered;
}

}  // namespace tauon::runs
