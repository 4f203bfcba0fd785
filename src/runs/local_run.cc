#include "runs/local_run.h"

#include <fstream>

#include "artifacts/registry.h"
#include "history/changed_files.h"
#include "logs/masker.h"
#include "runs/recorder.h"
#include "runs/tee.h"
#include "runs/workspaces.h"
#include "spec/parser.h"
#include "util/files.h"
#include "util/process_identity.h"
#include "util/strings.h"

extern char** environ;

namespace tauon::runs {
namespace {

namespace fs = std::filesystem;


}  // namespace

Result<std::unique_ptr<PreparedRun>> PreparedRun::Prepare(RunRequest request) {
  std::unique_ptr<PreparedRun> run(new PreparedRun());
  Result<std::unique_ptr<scm::GitRepository>> repo = scm::GitRepository::Open(request.repo_dir);
  if (!repo) return std::unexpected(repo.error());
  run->repo_ = std::move(*repo);
  if (request.repo_name.empty()) {
    fs::path dir = fs::weakly_canonical(fs::absolute(request.repo_dir));
    request.repo_name = dir.filename().empty() ? dir.parent_path().filename().string()
                                               : dir.filename().string();
  }

  std::string source;
  std::string file_name(kPipelineFile);
  if (request.worktree) {
    if (!request.ref.empty()) return Fail("--worktree and --ref cannot be used together");
    fs::path workdir = run->repo_->workdir();
    if (workdir.empty()) return Fail("{} is a bare repository: it has no work tree", request.repo_dir.string());
    // The commit the work tree is based on, if there is one.
    if (Result<scm::CommitInfo> head = run->repo_->Resolve(""); head) run->commit_ = *head;
    run->commit_.subject = "(work tree) " + run->commit_.subject;
    Result<std::string> text = ReadFileToString(workdir / kPipelineFile);
    if (!text) return std::unexpected(text.error());
    source = std::move(*text);
  } else {
    Result<scm::CommitInfo> commit = run->repo_->Resolve(request.ref);
    if (!commit) return std::unexpected(commit.error());
    run->commit_ = *commit;
    Result<std::optional<std::string>> text = run->repo_->ReadFile(commit->sha, kPipelineFile);
    if (!text) return std::unexpected(text.error());
    if (!*text) {
      return Fail("commit {} has no {} (commit one, or use --worktree to try an uncommitted file)",
                  commit->sha.substr(0, 12), kPipelineFile);
    }
    source = std::move(**text);
  }

  if (request.branch) run->commit_.branch = *request.branch;
  auto pipeline = spec::ParsePipeline(source);
  if (!pipeline) return Fail("{}", spec::FormatDiagnostics(file_name, source, pipeline.error()));
  run->pipeline_ = std::move(*pipeline);
  Result<engine::Plan> plan = engine::BuildPlan(run->pipeline_, request.jobs);
  if (!plan) return std::unexpected(plan.error());
  run->plan_ = std::move(*plan);
  run->request_ = std::move(request);
  return run;
}

std::vector<std::string> PreparedRun::Notes() const {
  std::vector<std::string> notes;
  if (!pipeline_.push_branches.empty() && !commit_.branch.empty() &&
      !pipeline_.MatchesBranch(commit_.branch)) {
    notes.push_back(fmt::format(
        "branch '{}' does not match on.push.branches ({}): a push of it would not run this "
        "pipeline",
        commit_.branch, Join(pipeline_.push_branches, ", ")));
  }
  if (pipeline_.cancel_in_progress) {
    notes.push_back("'concurrency' applies to runs queued by a server, not to 'tauon run'");
  }
  return notes;
}

Result<int64_t> PreparedRun::Record(store::Store& store, const Clock& clock) {
  store::RunRecord record;
  record.repo = request_.repo_name;
  record.source = std::filesystem::absolute(request_.repo_dir).lexically_normal().string();
  record.commit = commit_.sha;
  record.branch = commit_.branch;
  record.event = request_.event;
  record.pipeline = pipeline_.name;
  record.message = commit_.subject;
  record.author = commit_.author;
  record.status = engine::RunStatus::kRunning;
  record.created_at = clock.Now();
  record.started_at = record.created_at;
  record.owner = ProcessIdentity::Self().ToString();
  record.trigger = "local";
  Result<int64_t> id = store.CreateRun(record);
  if (!id) return std::unexpected(id.error());
  run_id_ = *id;
  return *id;
}

Status PreparedRun::Attach(store::Store& store, int64_t run_id, TimePoint started_at) {
  run_id_ = run_id;
  Status recorded = store.SetRunSource(
      run_id, std::filesystem::absolute(request_.repo_dir).lexically_normal().string());
  if (!recorded) return recorded;
  return store.StartRun(run_id, started_at, ProcessIdentity::Self().ToString());
}

Result<engine::RunStatus> PreparedRun::Execute(store::Store& store, const DataLayout& layout,
                                               exec::ProcessRunner& runner, const Clock& clock,
                                               engine::RunObserver& observer) {
  auto fail_run = [&](const Error& error) -> Result<engine::RunStatus> {
    (void)store.FinishRun(run_id_, engine::RunStatus::kFailed, clock.Now(), error.message);
    return std::unexpected(error);
  };
  fs::path checkout = layout.checkout(run_id_);
  std::error_code ec;
  fs::remove_all(checkout, ec);
  Status checked_out = request_.worktree
                           ? repo_->CopyWorkTree(checkout, fs::absolute(layout.root()))
                           : repo_->Checkout(commit_.sha, checkout);
  if (!checked_out) return fail_run(checked_out.error());
  // What the commit changed, for the test ranking of this run and later ones
  // (a hint: a failure to diff is not the run's failure). A work tree is no commit.
  if (!request_.worktree && !commit_.sha.empty()) {
    if (Result<std::vector<std::string>> changed = history::ChangedFiles(*repo_, commit_.sha)) {
      (void)history::RecordChangedFiles(store.database(), run_id_, *changed);
    }
  }

  RunRecorder recorder(store, layout, run_id_, plan_, clock, request_.commit_interval);
  std::map<size_t, int64_t> reused;  // Plan index -> the earlier job reused.
  for (size_t i = 0; i < plan_.jobs.size(); ++i) {
    if (auto it = request_.reuse.find(plan_.jobs[i].name); it != request_.reuse.end()) {
      reused[i] = it->second;
    }
  }
  Result<std::map<size_t, int64_t>> reused_rows = recorder.CreateJobs(reused);
  if (!reused_rows) return fail_run(reused_rows.error());
  std::vector<std::string> secret_values;
  for (const auto& [key, value] : request_.secrets) secret_values.push_back(value);
  logs::SecretMasker masker(secret_values);
  ObserverTee tee({&recorder, &observer});
  RunWorkspaces workspaces(layout, run_id_, plan_, store, recorder, masker, tee,
                           request_.keep_workspaces);
  if (pipeline_.model) {
    Result<std::optional<store::ModelVersionRecord>> baseline =
        artifacts::SelectBaseline(store, pipeline_.model->name, repo_->DefaultBranch());
    if (!baseline) return fail_run(baseline.error());
    baseline_ = *baseline;
    workspaces.SetBaseline(baseline_);
  }
  if (!reused.empty()) {
    // Reused jobs' artifacts are restored into their dependants like any other.
    Result<std::vector<store::ArtifactRecord>> artifacts = store.GetRunArtifacts(run_id_);
    if (!artifacts) return fail_run(artifacts.error());
    for (const auto& [job, row] : *reused_rows) {
      std::vector<store::ArtifactRecord> of_job;
      for (const store::ArtifactRecord& artifact : *artifacts) {
        if (artifact.job_id == row) of_job.push_back(artifact);
      }
      workspaces.AddUpstreamArtifacts(job, std::move(of_job));
    }
  }

  engine::EngineOptions options;
  options.parallelism = std::max(1, request_.parallelism);
  options.slots = request_.slots;
  for (const auto& [job, row] : reused) options.succeeded.push_back(job);
  for (char** var = environ; *var; ++var) options.base_env.emplace_back(*var);
  options.overrides = request_.env_overrides;
  options.secrets = request_.secrets;
  options.masker = &masker;
  engine::RunContext context{std::to_string(run_id_), commit_.sha, commit_.branch,
                             request_.event};
  engine::Engine engine(plan_, context, std::move(options), runner, clock, workspaces, tee);
  engine::RunStatus status = engine.Execute();

  std::string error;
  if (recorder.error()) {
    status = engine::RunStatus::kFailed;
    error = "the run could not be fully recorded: " + recorder.error()->message;
  }
  if (pipeline_.model && status == engine::RunStatus::kSuccess) {
    if (request_.worktree) {
      not_registered_ = "a --worktree run is not a commit: its model is not registered";
    } else if (!request_.jobs.empty()) {
      not_registered_ = "a --job run is not the whole pipeline: its model is not registered";
    } else if (!pipeline_.MatchesBranch(commit_.branch)) {
      not_registered_ = fmt::format("branch '{}' does not match on.push.branches: its model is "
                                    "not registered",
                                    commit_.branch.empty() ? "(detached)" : commit_.branch);
    } else {
      Result<store::ModelVersionRecord> version = artifacts::RegisterRunModel(
          store, layout.artifacts(), checkout, *pipeline_.model,
          {run_id_, request_.repo_name, commit_.sha, commit_.branch, commit_.author, clock.Now()});
      if (version) {
        registered_ = *version;
      } else {
        status = engine::RunStatus::kFailed;
        error = version.error().message;
      }
    }
  }
  if (!request_.keep_workspaces) {
    fs::remove_all(checkout, ec);
    fs::remove_all(layout.workspaces(run_id_), ec);
  }
  if (Status finished = store.FinishRun(run_id_, status, clock.Now(), error); !finished) {
    return std::unexpected(finished.error());
  }
  return status;
}

}  // namespace tauon::runs
