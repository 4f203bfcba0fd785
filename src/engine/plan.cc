#include "engine/plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "spec/parser.h"
#include "util/strings.h"

namespace tauon::engine {
namespace {

using MatrixValues = std::vector<std::pair<std::string, std::string>>;

// Replaces every ${{ matrix.KEY }} in `text`. The parser has checked the keys.
std::string Substitute(const std::string& text, const MatrixValues& values) {
  if (text.find("${{") == std::string::npos) return text;
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = text.find("${{", pos);
    size_t end = start == std::string::npos ? start : text.find("}}", start + 3);
    if (end == std::string::npos) {
      out += text.substr(pos);
      return out;
    }
    out += text.substr(pos, start - pos);
    std::string_view inner = Trim(std::string_view(text).substr(start + 3, end - start - 3));
    auto value = std::find_if(values.begin(), values.end(), [&](const auto& kv) {
      return inner.size() > 7 && inner.substr(7) == kv.first;
    });
    out += value != values.end() ? value->second : text.substr(start, end + 2 - start);
    pos = end + 2;
  }
}

void SubstituteEnv(spec::EnvList* env, const MatrixValues& values) {
  for (auto& [key, value] : *env) value = Substitute(value, values);
}

spec::Job SubstituteJob(const spec::Job& job, const MatrixValues& values) {
  spec::Job out = job;
  if (values.empty()) return out;
  SubstituteEnv(&out.env, values);
  for (spec::Step& step : out.steps) {
    step.run = Substitute(step.run, values);
    step.name = step.named ? Substitute(step.name, values) : spec::DefaultStepName(step.run);
    SubstituteEnv(&step.env, values);
  }
  for (spec::Service& service : out.services) {
    service.run = Substitute(service.run, values);
    service.readiness = Substitute(service.readiness, values);
    SubstituteEnv(&service.env, values);
  }
  for (std::string& path : out.artifacts) path = Substitute(path, values);
  if (out.junit) out.junit = Substitute(*out.junit, values);
  if (out.metrics) out.metrics = Substitute(*out.metrics, values);
  return out;
}

// The parser checks paths as written; a matrix value can still make one
// absolute or climb out with '..'.
Status CheckPaths(const PlannedJob& job) {
  std::vector<std::pair<const char*, std::string>> paths;
  for (const std::string& path : job.spec.artifacts) paths.emplace_back("artifact path", path);
  if (job.spec.junit) paths.emplace_back("reports.junit", *job.spec.junit);
  if (job.spec.metrics) paths.emplace_back("metrics", *job.spec.metrics);
  for (const auto& [what, path] : paths) {
    std::vector<std::string> parts = Split(path, '/');
    if (path.starts_with("/") || std::find(parts.begin(), parts.end(), "..") != parts.end()) {
      return Fail("job '{}': {} '{}' must stay inside the workspace", job.name, what, path);
    }
  }
  return Ok();
}

// Every combination of the matrix axes, the last axis varying fastest.
std::vector<MatrixValues> Expansions(const spec::Job& job) {
  std::vector<MatrixValues> out = {{}};
  for (const auto& [axis, axis_values] : job.matrix) {
    std::vector<MatrixValues> next;
    for (const MatrixValues& prefix : out) {
      for (const std::string& value : axis_values) {
        MatrixValues combination = prefix;
        combination.emplace_back(axis, value);
        next.push_back(std::move(combination));
      }
    }
    out = std::move(next);
  }
  return out;
}

}  // namespace

std::string ExpandedName(const std::string& job, const MatrixValues& matrix) {
  if (matrix.empty()) return job;
  std::vector<std::string> parts;
  for (const auto& [key, value] : matrix) parts.push_back(key + "=" + value);
  return fmt::format("{} ({})", job, Join(parts, ", "));
}

const PlannedJob* Plan::Find(std::string_view name) const {
  for (const PlannedJob& job : jobs) {
    if (job.name == name) return &job;
  }
  return nullptr;
}

Result<Plan> BuildPlan(const spec::Pipeline& pipeline, const std::vector<std::string>& only) {
  // Topological order of the spec jobs, stable with respect to the file order.
  std::vector<const spec::Job*> order;
  std::set<std::string> placed;
  while (order.size() < pipeline.jobs.size()) {
    size_t before = order.size();
    for (const spec::Job& job : pipeline.jobs) {
      if (placed.contains(job.name)) continue;
      if (std::all_of(job.needs.begin(), job.needs.end(),
                      [&](const std::string& need) { return placed.contains(need); })) {
        order.push_back(&job);
        placed.insert(job.name);
      }
    }
    if (order.size() == before) return Fail("the pipeline's needs form a cycle");
  }

  Plan plan;
  plan.env = pipeline.env;
  std::map<std::string, std::vector<size_t>> by_spec_name;
  for (const spec::Job* job : order) {
    for (MatrixValues& values : Expansions(*job)) {
      PlannedJob planned;
      planned.name = ExpandedName(job->name, values);
      planned.spec = SubstituteJob(*job, values);
      if (!values.empty()) {
        if (Status paths = CheckPaths(planned); !paths) return std::unexpected(paths.error());
      }
      planned.matrix = std::move(values);
      for (const std::string& need : job->needs) {
        const std::vector<size_t>& targets = by_spec_name[need];
        planned.needs.insert(planned.needs.end(), targets.begin(), targets.end());
      }
      // A bitmap over earlier jobs keeps this linear per job, even for wide DAGs.
      std::vector<bool> upstream(plan.jobs.size(), false);
      for (size_t need : planned.needs) {
        upstream[need] = true;
        for (size_t up : plan.jobs[need].upstream) upstream[up] = true;
      }
      for (size_t up = 0; up < upstream.size(); ++up) {
        if (upstream[up]) planned.upstream.push_back(up);
      }
      by_spec_name[job->name].push_back(plan.jobs.size());
      plan.jobs.push_back(std::move(planned));
    }
  }
  if (only.empty()) return plan;

  // Keep the selected jobs and their upstream, then renumber.
  std::vector<bool> keep(plan.jobs.size(), false);
  for (const std::string& name : only) {
    std::vector<size_t> selected;
    if (auto it = by_spec_name.find(name); it != by_spec_name.end()) selected = it->second;
    for (size_t i = 0; i < plan.jobs.size(); ++i) {
      if (plan.jobs[i].name == name) selected.push_back(i);
    }
    if (selected.empty()) {
      std::vector<std::string> names;
      for (const spec::Job& job : pipeline.jobs) names.push_back(job.name);
      auto suggestion = SuggestClosest(name, names);
      return Fail("no job named '{}' in the pipeline{}", name,
                  suggestion ? fmt::format(" (did you mean '{}'?)", *suggestion)
                             : fmt::format(" (jobs: {})", Join(names, ", ")));
    }
    for (size_t i : selected) {
      keep[i] = true;
      for (size_t up : plan.jobs[i].upstream) keep[up] = true;
    }
  }
  std::vector<size_t> new_index(plan.jobs.size(), 0);
  Plan filtered;
  filtered.env = std::move(plan.env);
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    if (!keep[i]) continue;
    new_index[i] = filtered.jobs.size();
    filtered.jobs.push_back(std::move(plan.jobs[i]));
  }
  for (PlannedJob& job : filtered.jobs) {
    for (size_t& need : job.needs) need = new_index[need];
    for (size_t& up : job.upstream) up = new_index[up];
  }
  return filtered;
}

}  // namespace tauon::engine
