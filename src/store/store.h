// Tauon's state: runs, jobs, steps, test results and artifacts, in SQLite.
//
// Every method commits before it returns, so a state change reported to a
// user is already durable. A Store is used from one thread; several processes
// may share the database file (WAL, busy timeout).
#pragma once

#include <filesystem>
#include <map>
#include <memory>

#include "reports/junit.h"
#include "reports/metrics.h"
#include "store/records.h"
#include "store/sqlite.h"

namespace tauon::store {

class Store {
 public:
  // Opens or creates the database and brings its schema up to date.
  static Result<std::unique_ptr<Store>> Open(const std::filesystem::path& path);

  // Runs.
  Result<int64_t> CreateRun(const RunRecord& run);
  // `owner`: the ProcessIdentity of the process that executes the run.
  Status StartRun(int64_t run_id, TimePoint at, const std::string& owner);
  // The repository a run reads its commit from (RunRecord::source).
  Status SetRunSource(int64_t run_id, const std::string& source);
  Status FinishRun(int64_t run_id, engine::RunStatus status, TimePoint at,
                   const std::string& error = "");
  Result<std::optional<RunRecord>> GetRun(int64_t run_id);
  Result<std::optional<int64_t>> LatestRunId();
  // Newest first.
  Result<std::vector<RunRecord>> ListRuns(const RunFilter& filter);

  // Cancels a run that has not started; `cancelled` says whether it was
  // still queued (a started run is cancelled by its executor instead).
  Status CancelQueuedRun(int64_t run_id, TimePoint at, const std::string& why, bool* cancelled);

  // Marks a run whose executor died as interrupted: its running and pending
  // jobs and running steps become cancelled with `why`, and its recorded
  // processes are forgotten.
  Status InterruptRun(int64_t run_id, TimePoint at, const std::string& why);

  // Process groups a run started and that may still be running: (pgid,
  // ProcessIdentity of the group's leader).
  Status AddProcess(int64_t run_id, int pgid, const std::string& leader);
  Status RemoveProcess(int64_t run_id, int pgid);
  Result<std::vector<std::pair<int, std::string>>> GetProcesses(int64_t run_id);

  // Repositories the server watches, and the branch heads it has seen.
  Status AddRepo(const RepoRecord& repo);  // Fails if the name is taken.
  Result<bool> RemoveRepo(const std::string& name);
  Result<std::vector<RepoRecord>> ListRepos();
  Result<std::map<std::string, std::string>> GetHeads(const std::string& repo);
  Status SetHeads(const std::string& repo, const std::map<std::string, std::string>& heads);

  // Copies job `job_id` (a success of an earlier run) into run `run_id`, with
  // its steps, test results (known-flaky marks included), artifacts, metrics
  // and gate results, marked as reused. Returns the new id.
  Result<int64_t> ReuseJob(int64_t job_id, int64_t run_id);

  // For /metrics: runs per status, and a histogram of finished job attempts'
  // durations (reused jobs left out): counts[i] = attempts with duration <=
  // upper_ms[i] (cumulative), plus the total count and sum.
  Result<std::map<std::string, int64_t>> CountRunsByStatus();
  struct DurationHistogram {
    std::vector<int64_t> counts;
    int64_t count = 0;
    int64_t sum_ms = 0;
  };
  Result<DurationHistogram> JobDurationHistogram(const std::vector<int64_t>& upper_ms);

  // For the dashboard (read only).
  // The newest run of every (repo, branch), ordered by repo then branch.
  Result<std::vector<RunRecord>> LatestRunPerBranch();
  // Test counts of the runs with ids in [first_id, last_id], from the last
  // attempt of each job; runs without test results are absent.
  struct TestCounts {
    int64_t total = 0, passed = 0, failed = 0, skipped = 0;  // failed includes errors.
    int64_t flaky_failed = 0;  // Of `failed`: failures of tests known to be flaky then.
  };
  Result<std::map<int64_t, TestCounts>> CountRunTests(int64_t first_id, int64_t last_id);
  // The verdicts of every test case in the last attempts of the jobs of the
  // newest `runs` runs of `repo` with an id <= `up_to_run_id`, newest run
  // first, then in report order.
  struct TestVerdict {
    int64_t run_id = 0;
    std::string job, classname, name, status;
    bool flaky = false;        // The report said it passed after failing.
    bool known_flaky = false;  // A failure of a test known to be flaky then.
  };
  Result<std::vector<TestVerdict>> RecentTestVerdicts(const std::string& repo,
                                                      int64_t up_to_run_id, int runs);

  // Metrics and gate results of a job attempt (replacing earlier ones).
  Status SetJobMetrics(int64_t job_id, const std::map<std::string, double>& metrics);
  Status SetGateResults(int64_t job_id, const std::vector<reports::GateResult>& gates);
  // Of every job of a run: (job id, metrics) and (job id, gate results).
  Result<std::map<int64_t, std::map<std::string, double>>> GetRunMetrics(int64_t run_id);
  Result<std::map<int64_t, std::vector<reports::GateResult>>> GetRunGates(int64_t run_id);

  // The model registry. RegisterModelVersion assigns the next version of
  // the name (distinct even when processes register at once) and returns it.
  Result<int> RegisterModelVersion(ModelVersionRecord version);
  // Every version of `name` (all names if empty), oldest first.
  Result<std::vector<ModelVersionRecord>> ListModelVersions(const std::string& name);
  Result<std::optional<ModelVersionRecord>> GetModelVersion(const std::string& name, int version);
  Status SetModelAlias(const std::string& name, const std::string& alias, int version,
                       TimePoint at, const std::string& by);
  // alias -> version, as they are now.
  Result<std::map<std::string, int>> GetModelAliases(const std::string& name);
  // Every move of every alias of `name`, oldest first.
  Result<std::vector<AliasRecord>> GetModelAliasHistory(const std::string& name);

  // Jobs. A job has one row per attempt.
  Result<int64_t> CreateJob(const JobRecord& job);
  Status StartJob(int64_t job_id, TimePoint at);
  Status FinishJob(int64_t job_id, engine::JobStatus status, TimePoint at, int64_t duration_ms,
                   const std::string& error);
  // For jobs that never ran: skipped or cancelled, with the reason.
  Status SetJobNotRun(int64_t job_id, engine::JobStatus status, const std::string& reason);
  Status AddJobWarning(int64_t job_id, const std::string& warning);
  // Every attempt of every job of the run, by position then attempt.
  Result<std::vector<JobRecord>> GetJobs(int64_t run_id);

  // Steps.
  Result<int64_t> CreateStep(const StepRecord& step);
  Status FinishStep(const StepRecord& step);
  // Steps of every job (attempt) of a run, by job then position.
  Result<std::vector<StepRecord>> GetRunSteps(int64_t run_id);

  // Test results of a job attempt; replaces earlier results of that attempt.
  Status SetTestResults(int64_t job_id, const std::vector<reports::TestCase>& cases);
  // Test results of every job (attempt) of a run, by job then report order.
  Result<std::vector<TestRecord>> GetRunTestResults(int64_t run_id);

  Status AddArtifacts(int64_t job_id, const std::vector<ArtifactRecord>& artifacts);
  // Artifacts of every job (attempt) of a run, by job then path.
  Result<std::vector<ArtifactRecord>> GetRunArtifacts(int64_t run_id);

  // Deployments (deploy_store.cc).
  Result<std::optional<EnvironmentRecord>> GetEnvironment(const std::string& name);
  Result<std::vector<EnvironmentRecord>> ListEnvironments();
  Status CreateEnvironment(const EnvironmentRecord& environment);  // Fails if it exists.
  Status SetDesiredRelease(const std::string& environment, std::optional<int64_t> release_id);
  Result<int64_t> CreateRelease(const ReleaseRecord& release);
  Result<std::optional<ReleaseRecord>> GetRelease(int64_t id);
  // Newest first; at most `limit`.
  Result<std::vector<ReleaseRecord>> ListReleases(const std::string& environment, int limit);
  // Every release of model version NAME@VERSION, in every environment, oldest first.
  Result<std::vector<ReleaseRecord>> ListReleasesOfModel(const std::string& name, int version);
  // Releases in phase starting, canary or live, in every environment, oldest first.
  Result<std::vector<ReleaseRecord>> ActiveReleases();
  Status SetReleasePhase(int64_t id, const std::string& phase, const std::string& reason,
                         TimePoint at);
  Status AddReplicaProcess(int64_t release_id, const std::string& replica, int pgid,
                           const std::string& leader);
  Status RemoveReplicaProcess(int64_t release_id, const std::string& replica);
  // (release id, replica, pgid, leader) of every recorded replica process group.
  struct ReplicaProcess {
    int64_t release_id = 0;
    std::string replica;
    int pgid = 0;
    std::string leader;
  };
  Result<std::vector<ReplicaProcess>> ListReplicaProcesses();
  // Versions ("NAME@VERSION") waiting for `tauon promote`, by environment.
  Status SetPendingPromotion(const std::string& environment, const std::string& model);
  Status ClearPendingPromotion(const std::string& environment);
  Result<std::map<std::string, std::string>> PendingPromotions();
  Status AddAnalysis(const AnalysisRecord& analysis);
  // Newest first; at most `limit`.
  Result<std::vector<AnalysisRecord>> ListAnalysis(int64_t release_id, int limit);
  Status AddDeployEvent(const DeployEventRecord& event);
  // Newest first; at most `limit`.
  Result<std::vector<DeployEventRecord>> ListDeployEvents(const std::string& environment,
                                                          int limit);

  Database& database() { return *db_; }

 private:
  explicit Store(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  Status Migrate();

  std::unique_ptr<Database> db_;
};

}  // namespace tauon::store
