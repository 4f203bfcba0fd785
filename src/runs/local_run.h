// One run of a repository's pipeline on this machine: the composition of
// scm (which commit), spec (what to run), engine (running it), store and logs
// (recording it). `tauon run` uses it directly; the server will too.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "exec/process_runner.h"
#include "runs/layout.h"
#include "scm/git.h"
#include "spec/pipeline.h"
#include "store/store.h"

namespace tauon::runs {

inline constexpr std::string_view kPipelineFile = ".tauon.yml";

struct RunRequest {
  std::filesystem::path repo_dir = ".";
  std::string repo_name;  // Defaults to the repository directory's name.
  std::string ref;        // Commit-ish; "" = HEAD.
  bool worktree = false;  // Run the work tree as it is instead of a commit.
  std::vector<std::string> jobs;  // Only these jobs and what they need; empty = all.
  int parallelism = 1;
  std::string event = "push";
  spec::EnvList env_overrides;
  spec::EnvList secrets;
  bool keep_workspaces = false;
  // The branch the run is for, when `ref` is a commit id (the server's runs).
  std::optional<std::string> branch;
  // Shared job slots (the server's --max-jobs); `parallelism` when null.
  engine::JobSlots* slots = nullptr;
  // How often state is committed at most (see RunRecorder): runs that share
  // the database with others (the server's) commit at once.
  Duration commit_interval{0};
  // Jobs (by name) that succeeded in an earlier run of the same commit and
  // are reused instead of run again: name -> that job's store id.
  std::map<std::string, int64_t> reuse;
};

class PreparedRun {
 public:
  // Opens the repository, resolves the commit, reads and validates its
  // pipeline and plans the jobs; records nothing. Errors are ready to print:
  // pipeline errors come as "file:line:column: message" with the source line
  // and a caret, one after the other.
  static Result<std::unique_ptr<PreparedRun>> Prepare(RunRequest request);

  const spec::Pipeline& pipeline() const { return pipeline_; }
  const engine::Plan& plan() const { return plan_; }
  const scm::CommitInfo& commit() const { return commit_; }
  const RunRequest& request() const { return request_; }
  // After Execute(): the model version it registered, the baseline its gates
  // used, and why no model was registered (when the pipeline has one).
  const std::optional<store::ModelVersionRecord>& registered() const { return registered_; }
  const std::optional<store::ModelVersionRecord>& baseline() const { return baseline_; }
  const std::string& not_registered() const { return not_registered_; }

  // What the user should know before the run starts: the branch does not
  // match on.push.branches, or the pipeline uses keys this version accepts
  // but does not act on yet.
  std::vector<std::string> Notes() const;

  // Records the run as running in `store` and returns its id.
  Result<int64_t> Record(store::Store& store, const Clock& clock);
  // Takes over run `run_id`, recorded (queued) by someone else, and marks it
  // running since `started_at`, owned by this process.
  Status Attach(store::Store& store, int64_t run_id, TimePoint started_at);

  // Checks out the commit and executes the recorded run to its end, then
  // records how it ended and, for a successful run of a branch the pipeline
  // runs on, registers its model (see registered()). `observer` sees every
  // event after it is recorded. Fails only if the run could not be executed
  // or recorded at all.
  Result<engine::RunStatus> Execute(store::Store& store, const DataLayout& layout,
                                    exec::ProcessRunner& runner, const Clock& clock,
                                    engine::RunObserver& observer);

 private:
  PreparedRun() = default;

  RunRequest request_;
  std::unique_ptr<scm::GitRepository> repo_;
  scm::CommitInfo commit_;
  spec::Pipeline pipeline_;
  engine::Plan plan_;
  int64_t run_id_ = 0;
  std::optional<store::ModelVersionRecord> baseline_;
  std::optional<store::ModelVersionRecord> registered_;
  std::string not_registered_;
};

}  // namespace tauon::runs
