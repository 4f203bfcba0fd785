// The model registry: versions of models made by runs, with their lineage
// (commit, run, metrics, files), aliases such as `production`, and the
// baseline that gates compare new models with.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "reports/metrics.h"
#include "spec/pipeline.h"
#include "store/store.h"

namespace tauon::artifacts {

// "digits", "digits@3", "digits@production".
struct ModelRef {
  std::string name;
  std::optional<int> version;
  std::optional<std::string> alias;
};
Result<ModelRef> ParseModelRef(std::string_view text);

// The version `ref` names: its version, its alias's version, or the latest.
Result<store::ModelVersionRecord> ResolveModel(store::Store& store, const ModelRef& ref);

// What new versions of `name` are compared with: the version carrying the
// `production` alias, else `staging`, else the latest registered from
// `default_branch`; nullopt if none.
Result<std::optional<store::ModelVersionRecord>> SelectBaseline(store::Store& store,
                                                                const std::string& name,
                                                                const std::string& default_branch);

// The baseline metrics a job's gates see: that job's metrics in the
// baseline version if it has them (same job, same matrix values), else all
// its jobs' metrics merged.
reports::Metrics BaselineMetricsFor(const store::ModelVersionRecord& version,
                                    const std::string& job);

struct RunModel {
  int64_t run_id = 0;
  std::string repo;
  std::string commit;
  std::string branch;
  std::string author;
  TimePoint at;
};

// Registers the model of a successful run as the next version of
// `model.name`: the files the run stored as artifacts under `model.path`,
// the metrics of its jobs, and the params file (`model.params`: an artifact
// or a file of the checkout). Fails if the run stored no files there.
Result<store::ModelVersionRecord> RegisterRunModel(store::Store& store,
                                                   const std::filesystem::path& artifact_root,
                                                   const std::filesystem::path& checkout,
                                                   const spec::ModelSpec& model,
                                                   const RunModel& run);

}  // namespace tauon::artifacts
