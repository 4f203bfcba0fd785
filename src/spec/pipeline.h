// The parsed `.tauon.yml`: what a repository asks Tauon to run and deliver.
// docs/pipeline.md is the user-facing grammar; this is its data model.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/diagnostic.h"
#include "spec/expr.h"
#include "util/clock.h"

namespace tauon::spec {

// Environment variables in the order they were written.
using EnvList = std::vector<std::pair<std::string, std::string>>;

// A parsed `if:` or gate expression with where it was written.
struct Condition {
  Expression expression;
  Location location;
};

enum class Shell { kSh, kBash };

struct Step {
  std::string name;  // As written, or derived from the first line of `run`.
  bool named = false;  // `name` was written (not derived).
  std::string run;
  Shell shell = Shell::kSh;
  EnvList env;
  std::optional<Duration> timeout;
  bool continue_on_error = false;
  std::optional<Condition> condition;
  Location location;
};

// A background process started before a job's steps and stopped after them.
struct Service {
  std::string name;
  std::string run;
  std::string readiness;  // A command that exits 0 once the service is ready; "" = ready at once.
  Duration readiness_timeout{30'000};
  Duration readiness_interval{200};
  EnvList env;
  Location location;
};

struct Job {
  std::string name;
  Location location;
  std::vector<std::string> needs;
  std::vector<Location> needs_locations;  // Parallel to `needs`.
  std::vector<Step> steps;
  EnvList env;
  std::optional<Duration> timeout;
  int retry = 0;  // Extra attempts after a failure.
  // Matrix axes in the order written; each expansion takes one value per axis.
  std::vector<std::pair<std::string, std::vector<std::string>>> matrix;
  std::vector<Service> services;
  std::vector<std::string> artifacts;  // Workspace-relative files or directories.
  std::optional<std::string> junit;    // reports.junit
  // reports.quarantine: failures of tests known to be flaky do not fail the job.
  bool quarantine = false;
  std::optional<Condition> condition;  // if:
  // Model delivery (metrics and gates): a flat-or-nested JSON object of numbers.
  std::optional<std::string> metrics;
  std::vector<Condition> gates;
};

struct ModelSpec {
  std::string name;
  std::string path;
  std::optional<std::string> params;  // JSON file with training parameters.
  Location location;
};

struct Pipeline {
  std::string name;
  // on.push.branches; empty means every branch.
  std::vector<std::string> push_branches;
  EnvList env;
  bool cancel_in_progress = false;  // concurrency.cancel_in_progress
  std::vector<Job> jobs;            // In the order written.
  std::optional<ModelSpec> model;
  // `deploy:` as written; interpreted by the deploy controller.
  nlohmann::json deploy;
  Location deploy_location;

  const Job* FindJob(std::string_view name) const;
  // True when `branch` passes on.push.branches (or there is no filter).
  bool MatchesBranch(std::string_view branch) const;
};

}  // namespace tauon::spec
