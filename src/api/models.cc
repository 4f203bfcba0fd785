#include "api/models.h"

#include <set>

#include "api/resources.h"
#include "artifacts/registry.h"

namespace tauon::api {
namespace {

using nlohmann::json;

// The version a reference names, with its model's aliases.
struct Found {
  store::ModelVersionRecord version;
  std::map<std::string, int> aliases;
};

Answer<Found> Find(store::Store& store, const std::string& text) {
  Result<artifacts::ModelRef> ref = artifacts::ParseModelRef(text);
  if (!ref) return std::unexpected(Problem{400, ref.error().message});
  Result<store::ModelVersionRecord> version = artifacts::ResolveModel(store, *ref);
  if (!version) return std::unexpected(Problem{404, version.error().message});
  Result<std::map<std::string, int>> aliases = store.GetModelAliases(ref->name);
  if (!aliases) return std::unexpected(Problem{500, aliases.error().message});
  return Found{*version, *aliases};
}

// Every job's metrics merged; "JOB / NAME" where jobs share a name.
std::map<std::string, double> FlatMetrics(const json& metrics) {
  std::map<std::string, double> out;
  std::map<std::string, int> seen;
  if (!metrics.is_object()) return out;
  for (const auto& [job, values] : metrics.items()) {
    for (const auto& [name, value] : values.items()) ++seen[name];
  }
  for (const auto& [job, values] : metrics.items()) {
    for (const auto& [name, value] : values.items()) {
      if (value.is_number()) out[seen[name] > 1 ? job + " / " + name : name] = value.get<double>();
    }
  }
  return out;
}

// One side of a diff: a version, or `run:ID` (a run's candidate).
struct Side {
  std::string label;
  json metrics;
  std::string digest;
};

Answer<Side> LoadSide(store::Store& store, const std::string& text) {
  if (text.starts_with("run:")) {
    std::string id = text.substr(4);
    if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos) {
      return std::unexpected(Problem{400, "invalid run '" + text + "': expected run:ID"});
    }
    Result<json> run = RunJson(store, std::stoll(id));
    if (!run) return std::unexpected(Problem{404, run.error().message});
    json metrics = json::object();
    for (const json& job : (*run)["jobs"]) {
      if (!job["metrics"].empty()) metrics[job["name"].get<std::string>()] = job["metrics"];
    }
    return Side{"run " + id, metrics, ""};
  }
  Answer<Found> found = Find(store, text);
  if (!found) return std::unexpected(found.error());
  return Side{fmt::format("{}@{}", found->version.name, found->version.version),
              json::parse(found->version.metrics, nullptr, false), found->version.digest};
}

}  // namespace

Answer<json> ModelsJson(store::Store& store) {
  Result<std::vector<store::ModelVersionRecord>> versions = store.ListModelVersions("");
  if (!versions) return std::unexpected(Problem{500, versions.error().message});
  json list = json::array();
  std::map<std::string, std::map<std::string, int>> aliases;
  for (const store::ModelVersionRecord& version : *versions) {
    if (!aliases.contains(version.name)) {
      Result<std::map<std::string, int>> of_model = store.GetModelAliases(version.name);
      aliases[version.name] = of_model ? *of_model : std::map<std::string, int>{};
    }
    list.push_back(ModelVersionJson(version, aliases[version.name]));
  }
  return list;
}

Answer<json> ModelJson(store::Store& store, const std::string& ref) {
  Answer<Found> found = Find(store, ref);
  if (!found) return std::unexpected(found.error());
  return ModelVersionJson(found->version, found->aliases);
}

Answer<json> ModelLineageJson(store::Store& store, const std::string& ref) {
  Answer<Found> found = Find(store, ref);
  if (!found) return std::unexpected(found.error());
  Result<json> run = RunJson(store, found->version.run_id);
  if (!run) return std::unexpected(Problem{500, run.error().message});
  Result<std::vector<store::AliasRecord>> history =
      store.GetModelAliasHistory(found->version.name);
  if (!history) return std::unexpected(Problem{500, history.error().message});
  json lineage = {{"model", ModelVersionJson(found->version, found->aliases)},
                  {"run", *run},
                  {"alias_history", json::array()},
                  {"deployments", json::array()}};
  Result<std::vector<store::ReleaseRecord>> releases =
      store.ListReleasesOfModel(found->version.name, found->version.version);
  if (!releases) return std::unexpected(Problem{500, releases.error().message});
  for (const store::ReleaseRecord& release : *releases) {
    auto time = [](const std::optional<TimePoint>& t) { return t ? json(FormatTime(*t)) : json(); };
    lineage["deployments"].push_back({{"environment", release.environment},
                                      {"release", release.id},
                                      {"phase", release.phase},
                                      {"reason", release.reason},
                                      {"created_by", release.created_by},
                                      {"created_at", FormatTime(release.created_at)},
                                      {"live_at", time(release.live_at)},
                                      {"finished_at", time(release.finished_at)}});
  }
  for (const store::AliasRecord& move : *history) {
    if (move.version != found->version.version) continue;
    lineage["alias_history"].push_back(
        {{"alias", move.alias}, {"set_at", FormatTime(move.set_at)}, {"set_by", move.set_by}});
  }
  return lineage;
}

Answer<json> ModelDiffJson(store::Store& store, const std::string& a, const std::string& b) {
  Answer<Side> left = LoadSide(store, a);
  if (!left) return std::unexpected(left.error());
  Answer<Side> right = LoadSide(store, b);
  if (!right) return std::unexpected(right.error());
  std::map<std::string, double> x = FlatMetrics(left->metrics);
  std::map<std::string, double> y = FlatMetrics(right->metrics);
  std::set<std::string> names;
  for (const auto& [name, value] : x) names.insert(name);
  for (const auto& [name, value] : y) names.insert(name);
  json rows = json::array();
  for (const std::string& name : names) {
    json row = {{"metric", name}, {"a", nullptr}, {"b", nullptr}, {"delta", nullptr}};
    if (x.contains(name)) row["a"] = x[name];
    if (y.contains(name)) row["b"] = y[name];
    if (x.contains(name) && y.contains(name)) row["delta"] = y[name] - x[name];
    rows.push_back(std::move(row));
  }
  return json{{"a", left->label},
              {"b", right->label},
              {"metrics", rows},
              {"same_files", !left->digest.empty() && left->digest == right->digest}};
}

Answer<json> SetModelAliasJson(store::Store& store, const std::string& ref,
                               const std::string& alias, const std::string& by, TimePoint at) {
  Result<artifacts::ModelRef> parsed = artifacts::ParseModelRef(ref);
  if (!parsed || !parsed->version) {
    return std::unexpected(Problem{400, "expected NAME@VERSION, got '" + ref + "'"});
  }
  Result<artifacts::ModelRef> name = artifacts::ParseModelRef("x@" + alias);
  if (!name || !name->alias) {
    return std::unexpected(Problem{400, "invalid alias '" + alias +
                                            "': use letters, digits, '_', '-' and '.', not "
                                            "starting with a digit"});
  }
  Answer<Found> found = Find(store, ref);
  if (!found) return std::unexpected(found.error());
  json previous;
  if (auto it = found->aliases.find(alias); it != found->aliases.end()) previous = it->second;
  Status set = store.SetModelAlias(parsed->name, alias, *parsed->version, at, by);
  if (!set) return std::unexpected(Problem{500, set.error().message});
  return json{{"name", parsed->name},
              {"alias", alias},
              {"version", *parsed->version},
              {"previous", previous}};
}

}  // namespace tauon::api
