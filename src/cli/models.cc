#include "cli/models.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "api/resources.h"
#include "artifacts/registry.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "reports/metrics.h"
#include "runs/layout.h"
#include "util/process_identity.h"

namespace tauon::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

template <typename... Args>
int Failed(int code, fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(stderr, "tauon: error: {}\n", fmt::format(format, std::forward<Args>(args)...));
  return code;
}

Result<std::unique_ptr<store::Store>> OpenRegistry(const fs::path& data_dir) {
  runs::DataLayout layout(data_dir);
  if (!fs::exists(layout.database())) {
    return Fail("no models registered in {} (a successful run of a pipeline with 'model:' "
                "registers one)",
                data_dir.string());
  }
  return store::Store::Open(layout.database());
}

// The version a NAME[@VERSION|@ALIAS] argument names, with its aliases; the
// exit code on failure (2: malformed, 1: unknown).
struct Found {
  std::optional<store::ModelVersionRecord> version;
  std::map<std::string, int> aliases;
  int exit_code = kExitOk;
};

Found Find(store::Store& store, const std::string& text) {
  Result<artifacts::ModelRef> ref = artifacts::ParseModelRef(text);
  if (!ref) return {std::nullopt, {}, Failed(kExitUsage, "{}", ref.error().message)};
  Result<store::ModelVersionRecord> version = artifacts::ResolveModel(store, *ref);
  if (!version) return {std::nullopt, {}, Failed(kExitFailed, "{}", version.error().message)};
  Result<std::map<std::string, int>> aliases = store.GetModelAliases(ref->name);
  if (!aliases) return {std::nullopt, {}, Failed(kExitFailed, "{}", aliases.error().message)};
  return {*version, *aliases, kExitOk};
}

// Every job's metrics merged, "JOB / NAME" when jobs disagree on a name.
std::map<std::string, double> FlatMetrics(const json& metrics) {
  std::map<std::string, double> out;
  std::map<std::string, int> seen;
  if (!metrics.is_object()) return out;
  for (const auto& [job, values] : metrics.items()) {
    for (const auto& [name, value] : values.items()) ++seen[name];
  }
  for (const auto& [job, values] : metrics.items()) {
    for (const auto& [name, value] : values.items()) {
      if (!value.is_number()) continue;
      out[seen[name] > 1 ? job + " / " + name : name] = value.get<double>();
    }
  }
  return out;
}

std::string Aliases(const json& version) {
  std::vector<std::string> names = version["aliases"].get<std::vector<std::string>>();
  return names.empty() ? "" : "@" + fmt::format("{}", fmt::join(names, " @"));
}

}  // namespace

int ModelsCommand(const fs::path& data_dir, bool as_json) {
  Result<std::unique_ptr<store::Store>> store = OpenRegistry(data_dir);
  if (!store) {
    if (as_json) {
      fmt::print("[]\n");
      return kExitOk;
    }
    fmt::print("no models registered yet\n");
    return kExitOk;
  }
  Result<std::vector<store::ModelVersionRecord>> versions = (*store)->ListModelVersions("");
  if (!versions) return Failed(kExitFailed, "{}", versions.error().message);
  json list = json::array();
  std::map<std::string, std::map<std::string, int>> aliases;
  for (const store::ModelVersionRecord& version : *versions) {
    if (!aliases.contains(version.name)) {
      Result<std::map<std::string, int>> of_model = (*store)->GetModelAliases(version.name);
      aliases[version.name] = of_model ? *of_model : std::map<std::string, int>{};
    }
    list.push_back(api::ModelVersionJson(version, aliases[version.name]));
  }
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(list));
    return kExitOk;
  }
  if (list.empty()) {
    fmt::print("no models registered yet\n");
    return kExitOk;
  }
  Style style = Style::For(stdout);
  fmt::print("{}\n", style.Paint(fmt::format("{:<24}{:>8}  {:<14}{:<14}{:<7}{:<26}{}", "MODEL",
                                             "VERSION", "COMMIT", "BRANCH", "RUN", "CREATED",
                                             "ALIASES"),
                                 "1"));
  for (const json& v : list) {
    fmt::print("{:<24}{:>8}  {:<14}{:<14}{:<7}{:<26}{}\n", v["name"].get<std::string>(),
               v["version"].get<int>(), v["commit"].get<std::string>().substr(0, 12),
               v["branch"].get<std::string>(), v["run_id"].get<int64_t>(),
               v["created_at"].get<std::string>(), Aliases(v));
  }
  return kExitOk;
}

int ModelShowCommand(const fs::path& data_dir, const std::string& ref, bool as_json) {
  Result<std::unique_ptr<store::Store>> store = OpenRegistry(data_dir);
  if (!store) return Failed(kExitFailed, "{}", store.error().message);
  Found found = Find(**store, ref);
  if (!found.version) return found.exit_code;
  json v = api::ModelVersionJson(*found.version, found.aliases);
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(v));
    return kExitOk;
  }
  fmt::print("{} version {}  {}\n", v["name"].get<std::string>(), v["version"].get<int>(),
             Aliases(v));
  fmt::print("  digest   {}\n", v["digest"].get<std::string>());
  fmt::print("  commit   {} on {} by {}\n", v["commit"].get<std::string>().substr(0, 12),
             v["branch"].get<std::string>(), v["author"].get<std::string>());
  fmt::print("  run      {}  ({})\n", v["run_id"].get<int64_t>(), v["repo"].get<std::string>());
  fmt::print("  created  {}\n", v["created_at"].get<std::string>());
  fmt::print("  metrics\n");
  for (const auto& [name, value] : FlatMetrics(v["metrics"])) {
    fmt::print("    {:<40} {}\n", name, reports::FormatMetric(value));
  }
  if (!v["params"].empty()) fmt::print("  params   {}\n", api::ToJsonText(v["params"], -1));
  fmt::print("  files\n");
  for (const json& file : v["files"]) {
    fmt::print("    {:<40} {:>10}  {}\n", file["path"].get<std::string>(),
               file["size"].get<int64_t>(), file["digest"].get<std::string>().substr(0, 19));
  }
  return kExitOk;
}

int ModelAliasCommand(const fs::path& data_dir, const std::string& ref, const std::string& alias) {
  Result<artifacts::ModelRef> parsed = artifacts::ParseModelRef(ref);
  if (!parsed || !parsed->version) {
    return Failed(kExitUsage, "expected NAME@VERSION, got '{}'", ref);
  }
  Result<artifacts::ModelRef> alias_name = artifacts::ParseModelRef("x@" + alias);
  if (!alias_name || !alias_name->alias) {
    return Failed(kExitUsage, "invalid alias '{}': use letters, digits, '_', '-' and '.', not "
                              "starting with a digit",
                  alias);
  }
  Result<std::unique_ptr<store::Store>> store = OpenRegistry(data_dir);
  if (!store) return Failed(kExitFailed, "{}", store.error().message);
  Found found = Find(**store, ref);
  if (!found.version) return found.exit_code;
  std::optional<int> before;
  if (auto it = found.aliases.find(alias); it != found.aliases.end()) before = it->second;
  std::string by = getenv("USER") ? getenv("USER") : "tauon";
  Status set = (*store)->SetModelAlias(parsed->name, alias, *parsed->version, SystemClock().Now(),
                                       by);
  if (!set) return Failed(kExitFailed, "{}", set.error().message);
  if (before && *before == *parsed->version) {
    fmt::print("{}@{} already was {}@{}\n", parsed->name, alias, parsed->name, *before);
  } else if (before) {
    fmt::print("{}@{} moved from version {} to version {}\n", parsed->name, alias, *before,
               *parsed->version);
  } else {
    fmt::print("{}@{} now points to version {}\n", parsed->name, alias, *parsed->version);
  }
  return kExitOk;
}

int ModelLineageCommand(const fs::path& data_dir, const std::string& ref, bool as_json) {
  Result<std::unique_ptr<store::Store>> store = OpenRegistry(data_dir);
  if (!store) return Failed(kExitFailed, "{}", store.error().message);
  Found found = Find(**store, ref);
  if (!found.version) return found.exit_code;
  const store::ModelVersionRecord& version = *found.version;
  Result<json> run = api::RunJson(**store, version.run_id);
  if (!run) return Failed(kExitFailed, "{}", run.error().message);
  Result<std::vector<store::AliasRecord>> history =
      (*store)->GetModelAliasHistory(version.name);
  if (!history) return Failed(kExitFailed, "{}", history.error().message);
  json lineage = {{"model", api::ModelVersionJson(version, found.aliases)},
                  {"run", *run},
                  {"alias_history", json::array()},
                  {"deployments", json::array()}};
  for (const store::AliasRecord& move : *history) {
    if (move.version != version.version) continue;
    lineage["alias_history"].push_back({{"alias", move.alias},
                                        {"set_at", FormatTime(move.set_at)},
                                        {"set_by", move.set_by}});
  }
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(lineage));
    return kExitOk;
  }
  Style style = Style::For(stdout);
  const json& r = *run;
  fmt::print("{}\n", style.Paint(fmt::format("{} version {}", version.name, version.version), "1"));
  fmt::print("commit   {} on {} by {}: {}\n", version.commit.substr(0, 12), version.branch,
             version.author, r["message"].get<std::string>());
  fmt::print("└─ run {} ({}, {}, {})\n", version.run_id, r["repo"].get<std::string>(),
             r["status"].get<std::string>(), r["created_at"].get<std::string>());
  for (const json& job : r["jobs"]) {
    std::string tests;
    if (job["tests"].is_object()) {
      tests = fmt::format(", tests {} passed {} failed", job["tests"]["passed"].get<int>(),
                          job["tests"]["failed"].get<int>());
    }
    fmt::print("   ├─ {} {}{}\n", job["name"].get<std::string>(), style.Status(job["status"].get<std::string>()), tests);
    for (const json& gate : job["gates"]) {
      fmt::print("   │    gate {}: {}\n", gate["expression"].get<std::string>(),
                 gate["verdict"].get<std::string>());
    }
  }
  fmt::print("   └─ model {} ({} file{})\n", version.digest.substr(0, 19),
             lineage["model"]["files"].size(), lineage["model"]["files"].size() == 1 ? "" : "s");
  for (const json& file : lineage["model"]["files"]) {
    fmt::print("        {} {}\n", file["path"].get<std::string>(),
               file["digest"].get<std::string>().substr(0, 19));
  }
  if (lineage["alias_history"].empty()) {
    fmt::print("aliases  none\n");
  }
  for (const json& move : lineage["alias_history"]) {
    fmt::print("alias    @{} set {} by {}\n", move["alias"].get<std::string>(),
               move["set_at"].get<std::string>(), move["set_by"].get<std::string>());
  }
  fmt::print("deployed nowhere yet\n");
  return kExitOk;
}

namespace {

// A side of a diff: a registered version, or `run:ID`, the metrics of a run
// whose model was not registered (e.g. stopped by a gate).
struct Side {
  std::string label;
  json metrics;  // {"JOB": {...}}
  std::string digest;
  int exit_code = kExitOk;
};

Side Load(store::Store& store, const std::string& text) {
  if (text.starts_with("run:")) {
    std::string id = text.substr(4);
    if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos) {
      return {"", {}, "", Failed(kExitUsage, "invalid run '{}': expected run:ID", text)};
    }
    Result<json> run = api::RunJson(store, std::stoll(id));
    if (!run) return {"", {}, "", Failed(kExitFailed, "{}", run.error().message)};
    json metrics = json::object();
    for (const json& job : (*run)["jobs"]) {
      if (!job["metrics"].empty()) metrics[job["name"].get<std::string>()] = job["metrics"];
    }
    return {"run " + id, metrics, "", kExitOk};
  }
  Found found = Find(store, text);
  if (!found.version) return {"", {}, "", found.exit_code};
  return {fmt::format("{}@{}", found.version->name, found.version->version),
          json::parse(found.version->metrics, nullptr, false), found.version->digest, kExitOk};
}

}  // namespace

int ModelDiffCommand(const fs::path& data_dir, const std::string& a, const std::string& b,
                     bool as_json) {
  Result<std::unique_ptr<store::Store>> store = OpenRegistry(data_dir);
  if (!store) return Failed(kExitFailed, "{}", store.error().message);
  Side left = Load(**store, a);
  if (left.exit_code != kExitOk) return left.exit_code;
  Side right = Load(**store, b);
  if (right.exit_code != kExitOk) return right.exit_code;
  std::map<std::string, double> x = FlatMetrics(left.metrics);
  std::map<std::string, double> y = FlatMetrics(right.metrics);
  std::set<std::string> names;
  for (const auto& [name, value] : x) names.insert(name);
  for (const auto& [name, value] : y) names.insert(name);
  const std::string& label_a = left.label;
  const std::string& label_b = right.label;
  json rows = json::array();
  for (const std::string& name : names) {
    json row = {{"metric", name}, {"a", nullptr}, {"b", nullptr}, {"delta", nullptr}};
    if (x.contains(name)) row["a"] = x[name];
    if (y.contains(name)) row["b"] = y[name];
    if (x.contains(name) && y.contains(name)) row["delta"] = y[name] - x[name];
    rows.push_back(row);
  }
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText({{"a", label_a}, {"b", label_b}, {"metrics", rows}}));
    return kExitOk;
  }
  Style style = Style::For(stdout);
  size_t width = 6;
  for (const std::string& name : names) width = std::max(width, name.size());
  fmt::print("{}\n", style.Paint(fmt::format("{:<{}}  {:>14}  {:>14}  {:>12}", "METRIC", width,
                                             label_a, label_b, "DELTA"),
                                 "1"));
  auto cell = [](const json& v) { return v.is_number() ? reports::FormatMetric(v.get<double>()) : std::string("-"); };
  for (const json& row : rows) {
    std::string delta = "-";
    if (row["delta"].is_number()) {
      double d = row["delta"].get<double>();
      delta = d == 0 ? "0" : fmt::format("{}{}", d > 0 ? "+" : "", reports::FormatMetric(d));
    }
    fmt::print("{:<{}}  {:>14}  {:>14}  {:>12}\n", row["metric"].get<std::string>(), width,
               cell(row["a"]), cell(row["b"]), delta);
  }
  if (!left.digest.empty() && left.digest == right.digest) {
    fmt::print("(the two versions have the same files)\n");
  }
  return kExitOk;
}

}  // namespace tauon::cli
