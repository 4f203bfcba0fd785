#include "artifacts/registry.h"

#include <nlohmann/json.hpp>

#include "artifacts/artifact_store.h"
#include "util/files.h"
#include "util/strings.h"

namespace tauon::artifacts {
namespace {

using nlohmann::json;

bool IsName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

}  // namespace

Result<ModelRef> ParseModelRef(std::string_view text) {
  ModelRef ref;
  size_t at = text.find('@');
  ref.name = std::string(text.substr(0, at));
  if (!IsName(ref.name)) {
    return Fail("invalid model '{}': expected NAME, NAME@VERSION or NAME@ALIAS", text);
  }
  if (at == std::string_view::npos) return ref;
  std::string_view rest = text.substr(at + 1);
  if (!rest.empty() && std::all_of(rest.begin(), rest.end(), [](char c) { return isdigit(c); })) {
    if (rest.size() > 9 || std::stoi(std::string(rest)) < 1) {
      return Fail("invalid model version '{}'", rest);
    }
    ref.version = std::stoi(std::string(rest));
  } else if (IsName(rest) && isalpha(static_cast<unsigned char>(rest[0]))) {
    ref.alias = std::string(rest);
  } else {
    return Fail("invalid model '{}': expected NAME, NAME@VERSION or NAME@ALIAS", text);
  }
  return ref;
}

Result<store::ModelVersionRecord> ResolveModel(store::Store& store, const ModelRef& ref) {
  std::optional<int> version = ref.version;
  if (ref.alias) {
    Result<std::map<std::string, int>> aliases = store.GetModelAliases(ref.name);
    if (!aliases) return std::unexpected(aliases.error());
    auto it = aliases->find(*ref.alias);
    if (it == aliases->end()) {
      return Fail("model '{}' has no alias '{}'", ref.name, *ref.alias);
    }
    version = it->second;
  }
  if (!version) {
    Result<std::vector<store::ModelVersionRecord>> all = store.ListModelVersions(ref.name);
    if (!all) return std::unexpected(all.error());
    if (all->empty()) return Fail("no model named '{}'", ref.name);
    return all->back();
  }
  Result<std::optional<store::ModelVersionRecord>> found = store.GetModelVersion(ref.name, *version);
  if (!found) return std::unexpected(found.error());
  if (!*found) return Fail("model '{}' has no version {}", ref.name, *version);
  return **found;
}

Result<std::optional<store::ModelVersionRecord>> SelectBaseline(store::Store& store,
                                                                const std::string& name,
                                                                const std::string& default_branch) {
  using Found = std::optional<store::ModelVersionRecord>;
  Result<std::map<std::string, int>> aliases = store.GetModelAliases(name);
  if (!aliases) return std::unexpected(aliases.error());
  for (const char* alias : {"production", "staging"}) {
    if (auto it = aliases->find(alias); it != aliases->end()) {
      Result<std::optional<store::ModelVersionRecord>> version =
          store.GetModelVersion(name, it->second);
      if (!version) return std::unexpected(version.error());
      if (*version) return *version;
    }
  }
  Result<std::vector<store::ModelVersionRecord>> all = store.ListModelVersions(name);
  if (!all) return std::unexpected(all.error());
  for (auto it = all->rbegin(); it != all->rend(); ++it) {
    if (!default_branch.empty() && it->branch == default_branch) return Found(*it);
  }
  return Found();
}

reports::Metrics BaselineMetricsFor(const store::ModelVersionRecord& version,
                                    const std::string& job) {
  json metrics = json::parse(version.metrics, nullptr, false);
  reports::Metrics out;
  if (!metrics.is_object()) return out;
  auto take = [&](const json& of_job) {
    for (const auto& [name, value] : of_job.items()) {
      if (value.is_number()) out[name] = value.get<double>();
    }
  };
  if (metrics.contains(job) && metrics[job].is_object()) {
    take(metrics[job]);
    return out;
  }
  for (const auto& [name, of_job] : metrics.items()) {
    if (of_job.is_object()) take(of_job);
  }
  return out;
}

Result<store::ModelVersionRecord> RegisterRunModel(store::Store& store,
                                                   const std::filesystem::path& artifact_root,
                                                   const std::filesystem::path& checkout,
                                                   const spec::ModelSpec& model,
                                                   const RunModel& run) {
  Result<std::vector<store::JobRecord>> jobs = store.GetJobs(run.run_id);
  Result<std::vector<store::ArtifactRecord>> artifacts = store.GetRunArtifacts(run.run_id);
  Result<std::map<int64_t, std::map<std::string, double>>> metrics =
      store.GetRunMetrics(run.run_id);
  if (!jobs) return std::unexpected(jobs.error());
  if (!artifacts) return std::unexpected(artifacts.error());
  if (!metrics) return std::unexpected(metrics.error());
  // The latest attempt of each job speaks for it.
  std::map<std::string, const store::JobRecord*> latest;
  for (const store::JobRecord& job : *jobs) latest[job.name] = &job;
  std::map<int64_t, std::string> names;
  for (const auto& [name, job] : latest) names[job->id] = name;

  std::string prefix = model.path;
  while (prefix.ends_with('/')) prefix.pop_back();
  prefix += '/';
  json files = json::array();
  std::string manifest;
  std::map<std::string, const store::ArtifactRecord*> by_path;  // Sorted; a later job wins.
  for (const store::ArtifactRecord& artifact : *artifacts) {
    if (names.contains(artifact.job_id)) by_path[artifact.path] = &artifact;
  }
  for (const auto& [path, artifact] : by_path) {
    if (!path.starts_with(prefix)) continue;
    std::string relative = path.substr(prefix.size());
    files.push_back({{"path", relative}, {"size", artifact->size}, {"digest", artifact->digest}});
    manifest += relative + '\0' + artifact->digest + '\n';
  }
  if (files.empty()) {
    return Fail("model '{}': no job stored files under '{}' as artifacts (add '{}' to the "
                "artifacts of the job that writes it)",
                model.name, model.path, model.path);
  }
  json run_metrics = json::object();
  for (const auto& [job_id, values] : *metrics) {
    auto name = names.find(job_id);
    if (name != names.end()) run_metrics[name->second] = values;
  }
  json params = json::object();
  if (model.params) {
    // An artifact first (params a job wrote), else the file in the commit.
    Result<std::string> text = std::unexpected(Error{});
    if (auto it = by_path.find(*model.params); it != by_path.end()) {
      Result<std::filesystem::path> blob = ArtifactStore(artifact_root).PathOf(it->second->digest);
      if (blob) text = ReadFileToString(*blob);
    } else {
      text = ReadFileToString(checkout / *model.params);
    }
    if (!text) {
      return Fail("model '{}': cannot read its params file '{}'", model.name, *model.params);
    }
    params = json::parse(*text, nullptr, false);
    if (!params.is_object()) {
      return Fail("model '{}': params file '{}' is not a JSON object", model.name, *model.params);
    }
  }
  store::ModelVersionRecord version;
  version.name = model.name;
  version.digest = "sha256:" + Sha256Hex(manifest);
  version.repo = run.repo;
  version.commit = run.commit;
  version.branch = run.branch;
  version.author = run.author;
  version.run_id = run.run_id;
  version.metrics = run_metrics.dump(-1, ' ', false, json::error_handler_t::replace);
  version.params = params.dump(-1, ' ', false, json::error_handler_t::replace);
  version.files = files.dump();
  version.created_at = run.at;
  Result<int> number = store.RegisterModelVersion(version);
  if (!number) return std::unexpected(number.error());
  version.version = *number;
  return version;
}

}  // namespace tauon::artifacts
