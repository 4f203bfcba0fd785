// Records a run as it happens: job, step and attempt state in the store,
// output lines with timestamps in log files. Output lines are written to
// their files as they arrive. State changes of one round of engine events
// are committed together at Flush(), which the engine calls before it waits
// and observers after this one report anything, so a crash loses nothing
// already reported.
#pragma once

#include <map>
#include <memory>

#include "engine/engine.h"
#include "runs/layout.h"
#include "store/store.h"

namespace tauon::runs {

class RunRecorder final : public engine::RunObserver {
 public:
  // `commit_interval`: state changes are committed at most this often
  // (0: at every Flush). Longer intervals mean fewer commits for runs of
  // many short jobs, but hold the database's write lock in between: only
  // for a run that has the database to itself.
  RunRecorder(store::Store& store, const DataLayout& layout, int64_t run_id,
              const engine::Plan& plan, const Clock& clock, Duration commit_interval = Duration(0));
  ~RunRecorder() override;

  // Creates a pending row for every job of the plan, except those in
  // `reused` (plan index -> a succeeded job of an earlier run), which are
  // copied from that run instead. Returns plan index -> the copy's id.
  // Call before Execute().
  Result<std::map<size_t, int64_t>> CreateJobs(const std::map<size_t, int64_t>& reused = {});

  // The store id of a job attempt's row; 0 if it has none yet.
  int64_t job_id(size_t job, int attempt) const;
  // The first error the store or the file system gave, if any. Recording
  // goes on after an error, but the run cannot be trusted to be complete.
  const std::optional<Error>& error() const { return error_; }

  void JobStarted(size_t job, int attempt, TimePoint at) override;
  void StepStarted(size_t job, int attempt, size_t step, TimePoint at) override;
  void StepOutput(size_t job, int attempt, size_t step, std::string_view lines) override;
  void StepFinished(size_t job, int attempt, size_t step,
                    const engine::StepOutcome& outcome) override;
  void ServiceOutput(size_t job, int attempt, size_t service, std::string_view lines) override;
  void JobMessage(size_t job, int attempt, std::string_view message) override;
  void JobFinished(size_t job, int attempt, const engine::JobOutcome& outcome) override;
  void JobNotRun(size_t job, engine::JobStatus status, std::string_view reason) override;
  void ProcessStarted(size_t job, int attempt, int pgid) override;
  void ProcessExited(size_t job, int pgid) override;
  // Commits the state changes since the last commit, unless the last commit
  // was less than the commit interval ago (and not `force`): then returns
  // when to call again.
  std::optional<TimePoint> Flush(bool force) override;

 private:
  using Key = std::pair<size_t, int>;  // (job, attempt)

  // Appends `lines` to the log file `name` of the attempt, each line prefixed
  // with the current time.
  void AppendLog(size_t job, int attempt, const std::string& name, std::string_view lines);
  void Check(const Status& status);
  // Opens the batch transaction if none is open.
  void Batch();
  std::filesystem::path LogPath(size_t job, int attempt, const std::string& name) const;

  store::Store& store_;
  const DataLayout& layout_;
  const int64_t run_id_;
  const engine::Plan& plan_;
  const Clock& clock_;
  std::map<Key, int64_t> job_ids_;
  std::map<std::pair<Key, size_t>, int64_t> step_ids_;  // ((job, attempt), step) -> id
  std::map<std::string, int> log_fds_;  // Open log files by relative path.
  std::optional<Error> error_;
  const Duration commit_interval_;
  TimePoint last_commit_;
};

}  // namespace tauon::runs
