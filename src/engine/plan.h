// The concrete jobs of one run: the pipeline's jobs with their matrices
// expanded, `${{ matrix.KEY }}` substituted, and needs resolved to indices.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "spec/pipeline.h"
#include "util/error.h"

namespace tauon::engine {

struct PlannedJob {
  std::string name;  // "evaluate (split=holdout)"; the spec name when there is no matrix.
  // The job as written, with matrix values substituted into its strings.
  spec::Job spec;
  std::vector<std::pair<std::string, std::string>> matrix;  // This expansion's values.
  std::vector<size_t> needs;     // Direct needs, as indices into Plan::jobs.
  std::vector<size_t> upstream;  // Every job it needs, directly or not, in plan order.
};

struct Plan {
  // Built by passes over the file, each placing (in file order) every job
  // whose needs are already placed: a job comes after everything it needs,
  // and keeps its place in the file when its needs allow. Ready jobs start
  // in this order.
  std::vector<PlannedJob> jobs;
  spec::EnvList env;  // The pipeline's top-level env, for every job.
  const PlannedJob* Find(std::string_view name) const;
};

// Expands `pipeline` into a plan. `only` restricts the plan to the named jobs
// and what they need; a name is a job as written (all its matrix expansions)
// or one expansion ("evaluate (split=holdout)"). Fails on an unknown name, and
// on a path (artifacts, reports, metrics) that a matrix value made escape the
// workspace.
// REQUIRES: `pipeline` was returned by ParsePipeline (no cycles, needs exist).
Result<Plan> BuildPlan(const spec::Pipeline& pipeline, const std::vector<std::string>& only = {});

// "evaluate (split=holdout, seed=1)".
std::string ExpandedName(const std::string& job,
                         const std::vector<std::pair<std::string, std::string>>& matrix);

}  // namespace tauon::engine
