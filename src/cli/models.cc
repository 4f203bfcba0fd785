#include "cli/models.h"

#include <fmt/format.h>

#include "api/models.h"
#include "api/resources.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "reports/metrics.h"
#include "runs/layout.h"

namespace tauon::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Malformed references are usage errors; unknown models are failures.
int Failed(const api::Problem& problem) {
  return cli::Failed(problem.status == 400 ? kExitUsage : kExitFailed, "{}", problem.message);
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

std::string Aliases(const json& version) {
  std::string out;
  for (const json& alias : version["aliases"]) out += (out.empty() ? "@" : " @") + alias.get<std::string>();
  return out;
}

std::string Number(const json& v) {
  return v.is_number() ? reports::FormatMetric(v.get<double>()) : std::string("-");
}

}  // namespace

int ModelsCommand(const fs::path& data_dir, bool as_json) {
  Result<std::unique_ptr<store::Store>> store = OpenRegistry(data_dir);
  api::Answer<json> list = store ? api::ModelsJson(**store) : json::array();
  if (!list) return Failed(list.error());
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(*list));
    return kExitOk;
  }
  if (list->empty()) {
    fmt::print("no models registered yet\n");
    return kExitOk;
  }
  Style style = Style::For(stdout);
  fmt::print("{}\n", style.Paint(fmt::format("{:<24}{:>8}  {:<14}{:<14}{:<7}{:<26}{}", "MODEL",
                                             "VERSION", "COMMIT", "BRANCH", "RUN", "CREATED",
                                             "ALIASES"),
                                 "1"));
  for (const json& v : *list) {
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
  api::Answer<json> v = api::ModelJson(**store, ref);
  if (!v) return Failed(v.error());
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(*v));
    return kExitOk;
  }
  fmt::print("{} version {}  {}\n", (*v)["name"].get<std::string>(), (*v)["version"].get<int>(),
             Aliases(*v));
  fmt::print("  digest   {}\n", (*v)["digest"].get<std::string>());
  fmt::print("  commit   {} on {} by {}\n", (*v)["commit"].get<std::string>().substr(0, 12),
             (*v)["branch"].get<std::string>(), (*v)["author"].get<std::string>());
  fmt::print("  run      {}  ({})\n", (*v)["run_id"].get<int64_t>(), (*v)["repo"].get<std::string>());
  fmt::print("  created  {}\n", (*v)["created_at"].get<std::string>());
  fmt::print("  metrics\n");
  for (const auto& [job, values] : (*v)["metrics"].items()) {
    for (const auto& [name, value] : values.items()) {
      fmt::print("    {:<28} {:<20} {}\n", job, name, Number(value));
    }
  }
  if (!(*v)["params"].empty()) fmt::print("  params   {}\n", api::ToJsonText((*v)["params"], -1));
  fmt::print("  files\n");
  for (const json& file : (*v)["files"]) {
    fmt::print("    {:<40} {:>10}  {}\n", file["path"].get<std::string>(),
               file["size"].get<int64_t>(), file["digest"].get<std::string>().substr(0, 19));
  }
  return kExitOk;
}

int ModelAliasCommand(const fs::path& data_dir, const std::string& ref, const std::string& alias) {
  Result<std::unique_ptr<store::Store>> store = OpenRegistry(data_dir);
  if (!store) return Failed(kExitFailed, "{}", store.error().message);
  const char* user = getenv("USER");
  api::Answer<json> set =
      api::SetModelAliasJson(**store, ref, alias, user && *user ? user : "tauon", SystemClock().Now());
  if (!set) return Failed(set.error());
  const json& s = *set;
  std::string name = s["name"].get<std::string>();
  int version = s["version"].get<int>();
  if (s["previous"].is_null()) {
    fmt::print("{}@{} now points to version {}\n", name, alias, version);
  } else if (s["previous"].get<int>() == version) {
    fmt::print("{}@{} already was version {}\n", name, alias, version);
  } else {
    fmt::print("{}@{} moved from version {} to version {}\n", name, alias,
               s["previous"].get<int>(), version);
  }
  return kExitOk;
}

int ModelLineageCommand(const fs::path& data_dir, const std::string& ref, bool as_json) {
  Result<std::unique_ptr<store::Store>> store = OpenRegistry(data_dir);
  if (!store) return Failed(kExitFailed, "{}", store.error().message);
  api::Answer<json> lineage = api::ModelLineageJson(**store, ref);
  if (!lineage) return Failed(lineage.error());
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(*lineage));
    return kExitOk;
  }
  Style style = Style::For(stdout);
  const json& model = (*lineage)["model"];
  const json& run = (*lineage)["run"];
  fmt::print("{}\n", style.Paint(fmt::format("{} version {}", model["name"].get<std::string>(),
                                             model["version"].get<int>()),
                                 "1"));
  fmt::print("commit   {} on {} by {}: {}\n", model["commit"].get<std::string>().substr(0, 12),
             model["branch"].get<std::string>(), model["author"].get<std::string>(),
             run["message"].get<std::string>());
  fmt::print("└─ run {} ({}, {}, {})\n", run["id"].get<int64_t>(), run["repo"].get<std::string>(),
             run["status"].get<std::string>(), run["created_at"].get<std::string>());
  for (const json& job : run["jobs"]) {
    std::string tests;
    if (job["tests"].is_object()) {
      tests = fmt::format(", tests {} passed {} failed", job["tests"]["passed"].get<int>(),
                          job["tests"]["failed"].get<int>());
    }
    fmt::print("   ├─ {} {}{}\n", job["name"].get<std::string>(),
               style.Status(job["status"].get<std::string>()), tests);
    for (const json& gate : job["gates"]) {
      fmt::print("   │    gate {}: {}\n", gate["expression"].get<std::string>(),
                 gate["verdict"].get<std::string>());
    }
  }
  fmt::print("   └─ model {} ({} file{})\n", model["digest"].get<std::string>().substr(0, 19),
             model["files"].size(), model["files"].size() == 1 ? "" : "s");
  for (const json& file : model["files"]) {
    fmt::print("        {} {}\n", file["path"].get<std::string>(),
               file["digest"].get<std::string>().substr(0, 19));
  }
  if ((*lineage)["alias_history"].empty()) fmt::print("aliases  none\n");
  for (const json& move : (*lineage)["alias_history"]) {
    fmt::print("alias    @{} set {} by {}\n", move["alias"].get<std::string>(),
               move["set_at"].get<std::string>(), move["set_by"].get<std::string>());
  }
  if ((*lineage)["deployments"].empty()) fmt::print("deployed nowhere yet\n");
  for (const json& release : (*lineage)["deployments"]) {
    std::string line = fmt::format("deployed {} release {}, {} (by {}, {})",
                                   release["environment"].get<std::string>(),
                                   release["release"].dump(), release["phase"].get<std::string>(),
                                   release["created_by"].get<std::string>(),
                                   release["created_at"].get<std::string>());
    if (!release["reason"].get<std::string>().empty()) {
      line += ": " + release["reason"].get<std::string>();
    }
    fmt::print("{}\n", line);
  }
  return kExitOk;
}

int ModelDiffCommand(const fs::path& data_dir, const std::string& a, const std::string& b,
                     bool as_json) {
  Result<std::unique_ptr<store::Store>> store = OpenRegistry(data_dir);
  if (!store) return Failed(kExitFailed, "{}", store.error().message);
  api::Answer<json> diff = api::ModelDiffJson(**store, a, b);
  if (!diff) return Failed(diff.error());
  if (as_json) {
    fmt::print("{}\n", api::ToJsonText(*diff));
    return kExitOk;
  }
  Style style = Style::For(stdout);
  size_t width = 6;
  for (const json& row : (*diff)["metrics"]) {
    width = std::max(width, row["metric"].get<std::string>().size());
  }
  fmt::print("{}\n", style.Paint(fmt::format("{:<{}}  {:>14}  {:>14}  {:>12}", "METRIC", width,
                                             (*diff)["a"].get<std::string>(),
                                             (*diff)["b"].get<std::string>(), "DELTA"),
                                 "1"));
  for (const json& row : (*diff)["metrics"]) {
    std::string delta = "-";
    if (row["delta"].is_number()) {
      double d = row["delta"].get<double>();
      delta = d == 0 ? "0" : fmt::format("{}{}", d > 0 ? "+" : "", reports::FormatMetric(d));
    }
    fmt::print("{:<{}}  {:>14}  {:>14}  {:>12}\n", row["metric"].get<std::string>(), width,
               Number(row["a"]), Number(row["b"]), delta);
  }
  if ((*diff)["same_files"].get<bool>()) fmt::print("(the two versions have the same files)\n");
  return kExitOk;
}

}  // namespace tauon::cli
