// What the store keeps about runs, jobs, steps, tests and artifacts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/status.h"
#include "util/clock.h"

namespace tauon::store {

struct RunRecord {
  int64_t id = 0;
  std::string repo;  // Repository name, or its path for local runs.
  std::string commit;
  std::string branch;  // "" when detached.
  std::string event;   // "push", "manual", "worktree", ...
  std::string pipeline;  // The pipeline's name.
  std::string message;   // The commit's subject line.
  std::string author;
  engine::RunStatus status = engine::RunStatus::kQueued;
  std::string error;  // Why the run failed before or outside its jobs.
  TimePoint created_at;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
  std::string owner;  // ProcessIdentity of the process executing it; "" if none yet.
  std::optional<int64_t> rerun_of;  // The run this one runs again.
  // What made it: "local" (tauon run), "push", "manual" (tauon trigger),
  // "rerun", "recovery" (re-queued after its executor died).
  std::string trigger = "manual";
  // With rerun_of: the jobs that succeeded there are reused, not run again.
  bool reuse_succeeded = false;
  // The git repository the run read its commit from (absolute path: the
  // work tree of `tauon run`, the server's mirror), where a deploy of its
  // model version checks the commit out.
  std::string source;
};

struct JobRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string name;
  int position = 0;  // Index in the run's plan.
  int attempt = 1;
  engine::JobStatus status = engine::JobStatus::kPending;
  std::vector<std::string> needs;
  std::string error;
  std::vector<std::string> warnings;  // E.g. a malformed test report.
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
  std::optional<int64_t> duration_ms;
  // The job (of an earlier run) whose success this row carries over: a rerun
  // reuses succeeded jobs instead of running them again.
  std::optional<int64_t> reused_from;
};

struct StepRecord {
  int64_t id = 0;
  int64_t job_id = 0;
  int position = 0;
  std::string name;
  engine::StepStatus status = engine::StepStatus::kPending;
  std::optional<int> exit_code;
  std::string error;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
  std::optional<int64_t> duration_ms;
  std::string log_path;  // Relative to the data directory; "" if the step never ran.
};

struct TestRecord {
  int64_t job_id = 0;
  std::string suite;
  std::string classname;
  std::string name;
  std::string status;  // passed, failed, error, skipped
  bool flaky = false;
  int64_t duration_ms = 0;
  std::string message;
  std::string details;
};

struct ArtifactRecord {
  int64_t job_id = 0;
  std::string path;    // Workspace-relative file path.
  int64_t size = 0;
  std::string digest;  // "sha256:<hex>"
  int mode = 0644;     // Permission bits.
};

struct RunFilter {
  std::optional<std::string> repo;
  std::optional<std::string> branch;
  std::optional<engine::RunStatus> status;
  int limit = 50;
  std::optional<int64_t> before_id;  // Pagination: runs after this id (in the order asked).
  bool oldest_first = false;
};

// A registered model version.
struct ModelVersionRecord {
  std::string name;
  int version = 0;     // 1, 2, ... per name; assigned by RegisterModelVersion.
  std::string digest;  // "sha256:..." over the model directory's files.
  std::string repo;
  std::string commit;
  std::string branch;
  std::string author;
  int64_t run_id = 0;
  std::string metrics;  // JSON: {"JOB": {"metric": value, ...}, ...}
  std::string params;   // JSON object, "{}" without a params file.
  std::string files;    // JSON: [{"path", "size", "digest"}], relative to the model directory.
  TimePoint created_at;
};

// An alias moving to a version; the latest row of a (name, alias) is current.
struct AliasRecord {
  std::string alias;
  int version = 0;
  TimePoint set_at;
  std::string set_by;
};

// A repository the server watches.
struct RepoRecord {
  std::string name;
  std::string url;                    // What the mirror fetches: a URL or a path.
  std::vector<std::string> branches;  // Glob filters; empty = every branch.
  Duration poll{10'000};
  TimePoint created_at;
};

// Deployments: environments, the releases deployed to them, the process
// groups of their replicas (to clean up after a crash) and what happened.
struct EnvironmentRecord {
  std::string name;
  std::string repo;  // The repository whose pipeline defines it.
  int port = 0;      // Its router's port.
  std::optional<int64_t> desired_release;  // The release that should serve it.
  TimePoint created_at;
};

struct ReleaseRecord {
  int64_t id = 0;
  std::string environment;
  std::string model;  // Name; with `version` the model version deployed.
  int version = 0;
  std::string repo;
  std::string commit;
  std::string source;    // The git repository to check the commit out from.
  std::string pipeline;  // `.tauon.yml` at that commit: how to serve it.
  int replicas = 0;
  // starting: replicas starting; canary: serving part of the traffic while
  // analysed; live: serving; failed: rolled back or never served (see
  // reason); superseded: replaced by a later release; stopped: taken down.
  std::string phase = "starting";
  std::string reason;
  std::string created_by;
  TimePoint created_at;
  std::optional<TimePoint> live_at;
  std::optional<TimePoint> finished_at;
};

struct DeployEventRecord {
  int64_t id = 0;
  std::string environment;
  std::optional<int64_t> release_id;
  std::string what;  // "deploy", "live", "superseded", "replica-crashed", ...
  std::string why;
  std::string who;  // A user, or "tauon" itself.
  TimePoint at;
};

// One interval of a canary's analysis.
struct AnalysisRecord {
  int64_t release_id = 0;
  int interval = 0;  // 1, 2, ... per release.
  TimePoint at;
  std::string verdict;  // pass, fail, inconclusive
  std::string reason;
  int64_t canary_requests = 0;
  std::string checks;  // JSON: [{check, verdict, values, message}]
};

}  // namespace tauon::store
