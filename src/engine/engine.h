// Runs a plan: schedules jobs as their needs finish, runs each job's services
// and steps through a ProcessRunner, enforces timeouts and retries, and
// cancels on interrupt. Single-threaded: everything happens in Execute(), and
// the engine touches the world only through its interfaces (ProcessRunner,
// Clock, JobHost, RunObserver), so tests drive it with fakes and simulated time.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/job_slots.h"
#include "engine/plan.h"
#include "engine/status.h"
#include "exec/process_runner.h"
#include "logs/masker.h"
#include "util/clock.h"

namespace tauon::engine {

// The filesystem side of a job attempt.
class JobHost {
 public:
  virtual ~JobHost() = default;
  // Creates a fresh workspace for an attempt: the run's checkout plus the
  // artifacts of every job in the job's upstream. An error fails the attempt.
  virtual Result<std::filesystem::path> PrepareWorkspace(size_t job, int attempt) = 0;
  // Called once every process of the attempt has exited (not after a
  // cancellation): reads the job's reports and, if `succeeded`, stores its
  // artifacts. An error fails the attempt.
  virtual Status CollectOutputs(size_t job, int attempt, const std::filesystem::path& workspace,
                                bool succeeded) = 0;
  virtual void RemoveWorkspace(const std::filesystem::path& workspace) = 0;
  // Variables the host adds to every step and service of an attempt, after
  // PrepareWorkspace (e.g. TAUON_TEST_ORDER). They win over the job's env.
  virtual spec::EnvList JobEnvironment(size_t job, int attempt) {
    (void)job;
    (void)attempt;
    return {};
  }
  // After CollectOutputs of a failed attempt: true when the host excuses the
  // failure (every failing test is a known-flaky one and the job quarantines
  // them), and the attempt then succeeds.
  virtual bool ExcuseFailure(size_t job, int attempt) {
    (void)job;
    (void)attempt;
    return false;
  }
};

struct StepOutcome {
  StepStatus status = StepStatus::kSuccess;
  std::optional<int> exit_code;  // Absent when the step did not run or was killed by a signal.
  TimePoint started;
  TimePoint finished;
  std::string error;  // Why it failed or was skipped; "" on success.
};

struct JobOutcome {
  JobStatus status = JobStatus::kSuccess;
  TimePoint started;
  TimePoint finished;
  std::string error;  // Why it failed; "" on success.
  bool will_retry = false;
};

// What the engine reports as it goes; the store and the console implement it.
// `job` indexes Plan::jobs, `step` the job's steps, `service` its services.
// Every call happens on the thread running Execute().
//
// The engine calls Flush() before it waits for processes (and, with `force`,
// at the end): an observer may batch state changes until then, e.g. commit
// them together, but must not report them to people earlier. An observer may
// also hold them back a little longer: it then returns the time by which it
// wants Flush() called again, and the engine wakes up for it.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void JobStarted(size_t job, int attempt, TimePoint at) = 0;
  virtual void StepStarted(size_t job, int attempt, size_t step, TimePoint at) = 0;
  // `lines`: one or more complete lines, each ending in '\n', secrets masked.
  virtual void StepOutput(size_t job, int attempt, size_t step, std::string_view lines) = 0;
  virtual void StepFinished(size_t job, int attempt, size_t step, const StepOutcome& outcome) = 0;
  virtual void ServiceOutput(size_t job, int attempt, size_t service, std::string_view lines) = 0;
  // A note from the engine about the job ("service 'db' is ready", "timed out").
  virtual void JobMessage(size_t job, int attempt, std::string_view message) = 0;
  virtual void JobFinished(size_t job, int attempt, const JobOutcome& outcome) = 0;
  // A job that never started: skipped (by its condition or a failed need) or cancelled.
  virtual void JobNotRun(size_t job, JobStatus status, std::string_view reason) = 0;
  // A process (step, service or readiness probe) of the job started as the
  // leader of process group `pgid`, or exited; so that a crash of the
  // watcher can be cleaned up after. pgid 0 means unknown.
  virtual void ProcessStarted(size_t job, int attempt, int pgid) = 0;
  virtual void ProcessExited(size_t job, int pgid) = 0;
  virtual std::optional<TimePoint> Flush(bool force) = 0;
};

struct RunContext {
  std::string run_id;
  std::string commit;
  std::string branch;
  std::string event;
};

struct EngineOptions {
  int parallelism = 1;  // Jobs running at once (services do not count), unless `slots` is set.
  // Shared slots (the server's --max-jobs); when set, `parallelism` is ignored.
  JobSlots* slots = nullptr;
  std::vector<std::string> base_env;      // Inherited environment, "KEY=VALUE".
  spec::EnvList overrides;                // --env; wins over the pipeline file's env.
  spec::EnvList secrets;                  // Exported to every step and service.
  // Jobs that already succeeded (reused from an earlier run): they count as
  // succeeded from the start and are never run or reported.
  std::vector<size_t> succeeded;
  // Masks secrets in all output before the observer sees it; may be null.
  const logs::SecretMasker* masker = nullptr;
};

class Engine {
 public:
  Engine(const Plan& plan, RunContext context, EngineOptions options, exec::ProcessRunner& runner,
         const Clock& clock, JobHost& host, RunObserver& observer);

  // Runs the plan to the end: success, failed, or cancelled (after an
  // interrupt from the runner, every process stopped). Call once.
  RunStatus Execute();

  JobStatus job_status(size_t job) const { return jobs_[job].status; }
  int job_attempt(size_t job) const { return jobs_[job].attempt; }

 private:
  // An attempt starts its services, runs its steps, stops what still runs,
  // and is done once FinishAttempt has recorded it.
  enum class Phase { kServices, kSteps, kStopping, kDone };
  enum class Role { kStep, kService, kProbe };

  struct ServiceState {
    std::optional<exec::ProcessId> process;
    std::optional<exec::ProcessId> probe;
    bool ready = false;
    TimePoint next_probe;
    TimePoint ready_deadline;
    // The last failed probe, shown when the service never becomes ready.
    std::string last_probe_result;
    std::string last_probe_output;
  };

  struct JobState {
    JobStatus status = JobStatus::kPending;
    int attempt = 0;
    // The current attempt; reset by StartAttempt.
    Phase phase = Phase::kSteps;
    std::filesystem::path workspace;
    TimePoint started;
    std::optional<TimePoint> deadline;
    size_t step = 0;
    std::optional<exec::ProcessId> step_process;
    TimePoint step_started;
    std::optional<TimePoint> step_deadline;
    bool step_timed_out = false;
    bool failed = false;
    std::string error;
    std::vector<ServiceState> services;
    int live = 0;  // Processes of this attempt still running.
  };

  struct Owner {
    size_t job;
    Role role;
    size_t index;  // Step or service index.
    std::shared_ptr<logs::MaskedLineBuffer> lines;  // Shared with the output callback.
    int pgid = 0;
  };

  // Decides every job whose needs are all done: skips it, fails it (a bad
  // condition), or starts it if a slot is free.
  void ScheduleReady();
  // Records a job's final status and wakes the jobs that were waiting on it.
  void SetTerminal(size_t job, JobStatus status);
  void StartAttempt(size_t job);
  void StartServices(size_t job);
  void RunNextStep(size_t job);
  void StartProbe(size_t job, size_t service);
  void OnExit(exec::ProcessId id, const exec::ExitStatus& status);
  void OnStepExit(size_t job, size_t step, const exec::ExitStatus& status);
  void OnTimers();
  void OnInterrupt();
  // Fails the attempt because service `s` did not become ready in time.
  void FailNotReady(size_t job, size_t service);
  // Fails the attempt (if not already stopping) and stops its processes.
  void FailAttempt(size_t job, std::string error);
  // Stops every process of the attempt; finishes it once they have exited.
  void StopAttempt(size_t job);
  void FinishAttempt(size_t job);
  std::optional<TimePoint> NextDeadline() const;

  Result<exec::ProcessId> Launch(size_t job, Role role, size_t index,
                                 std::vector<std::string> argv, const spec::EnvList& env);
  std::vector<std::string> Environment(size_t job, const spec::EnvList& env) const;
  // What came before a job (its needs) or a step (the earlier steps of its job).
  struct Prior {
    bool succeeded = true;  // What success() returns: all of it succeeded.
    bool failed = false;    // What failure() returns: some of it failed.
    std::string why_not;    // Why not succeeded, for the skip reason.
  };
  struct Decision {
    bool run = true;
    std::string why_not;  // Why it does not run.
  };
  // Whether a job or step with `condition` runs after `prior`. Without a
  // status function in it, a condition applies on top of success().
  Result<Decision> Decide(const std::optional<spec::Condition>& condition,
                          const Prior& prior) const;

  const Plan& plan_;
  const RunContext context_;
  const EngineOptions options_;
  exec::ProcessRunner& runner_;
  const Clock& clock_;
  JobHost& host_;
  RunObserver& observer_;

  // Inherited environment + CI=true + the pipeline's env; constant.
  std::vector<std::string> base_env_;
  std::vector<JobState> jobs_;  // Parallel to plan_.jobs.
  std::vector<std::vector<size_t>> dependants_;  // Jobs that need job i; constant.
  std::vector<size_t> waiting_needs_;  // Needs of job i that are not done yet.
  std::set<size_t> decidable_;         // Pending jobs with every need done, in plan order.
  size_t terminal_jobs_ = 0;
  std::map<exec::ProcessId, Owner> owners_;
  FixedSlots own_slots_;  // Used when options_.slots is not set.
  JobSlots& slots_;
  bool cancelled_ = false;
  bool killed_ = false;  // A second interrupt: everything was sent SIGKILL.
};

}  // namespace tauon::engine
