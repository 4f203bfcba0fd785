// The pipeline parser's class, shared by the files that parse parts of
// `.tauon.yml` (parser.cc: the pipeline and its jobs; deploy_parser.cc:
// `deploy`). Internal to spec/: other modules call ParsePipeline().
#pragma once

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/pipeline.h"

namespace tauon::spec::detail {

using Keys = std::span<const std::string_view>;

// Job, model and environment names become directory names and command-line arguments.
bool IsSafeName(std::string_view s);
// "a list", "an empty mapping", "'text'": how an error names what it found.
std::string KindName(const YAML::Node& node);

class PipelineParser {
 public:
  PipelineParser(std::string_view source, std::vector<Diagnostic>* errors)
      : source_(source), errors_(errors) {}

  Pipeline Parse(const YAML::Node& root);

 private:
  using Visit = std::function<void(const std::string& key, const YAML::Node& key_node,
                                   const YAML::Node& value)>;

  // An empty value (`timeout:`) has the mark of the token after it, often on
  // a later line: report it at its key instead.
  Location At(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.line < 0 || (node.IsNull() && !IsExplicitNull(mark))) return fallback_;
    return {mark.line + 1, mark.column + 1};
  }

  // True if the source at `mark` spells a null (`~`, `null`) rather than nothing.
  bool IsExplicitNull(const YAML::Mark& mark) const {
    if (mark.pos < 0 || static_cast<size_t>(mark.pos) >= source_.size()) return false;
    std::string_view rest = source_.substr(static_cast<size_t>(mark.pos));
    if (rest.starts_with("~")) return true;
    std::string_view word =
        rest.substr(0, std::min(rest.size(), rest.find_first_of(" \t\r\n,]}#")));
    return word == "null" || word == "Null" || word == "NULL";
  }

  template <typename... Args>
  void Error(Location at, fmt::format_string<Args...> format, Args&&... args) {
    errors_->push_back({at, fmt::format(format, std::forward<Args>(args)...)});
  }
  template <typename... Args>
  void Error(const YAML::Node& at, fmt::format_string<Args...> format, Args&&... args) {
    Error(At(at), format, std::forward<Args>(args)...);
  }

  // Visits the entries of mapping `node` whose keys are in `keys`; reports
  // unknown keys (with a suggestion), duplicate keys and non-string keys.
  // Returns false (and reports) if `node` is not a mapping.
  bool ForEachEntry(const YAML::Node& node, std::string_view what, Keys keys, const Visit& visit);
  // Like ForEachEntry, for mappings whose keys are names chosen by the user.
  bool ForEachNamed(const YAML::Node& node, std::string_view what, const Visit& visit);

  std::optional<std::string> String(const YAML::Node& node, std::string_view what);
  std::optional<std::string> NonEmptyString(const YAML::Node& node, std::string_view what);
  std::optional<bool> Bool(const YAML::Node& node, std::string_view what);
  std::optional<int> Int(const YAML::Node& node, std::string_view what, int min, int max);
  std::optional<Duration> DurationValue(const YAML::Node& node, std::string_view what);
  // A single string or a list of strings.
  std::vector<std::string> StringList(const YAML::Node& node, std::string_view what,
                                      std::vector<Location>* locations = nullptr);
  EnvList Env(const YAML::Node& node);
  std::optional<Condition> ParseExpression(const YAML::Node& node, bool is_condition);
  // Where byte `offset` of scalar `node`'s value is in the file.
  Location LocationInScalar(const YAML::Node& node, size_t offset) const;
  // Checks ${{ ... }} substitutions in a scalar against the job's matrix axes.
  void CheckSubstitutions(const YAML::Node& node, const std::string& text, const Job& job);
  // Defers the substitution checks of an env mapping's values until the job's matrix is known.
  void CheckEnvSubstitutions(const YAML::Node& env) {
    if (!env.IsMap()) return;
    for (auto it = env.begin(); it != env.end(); ++it) {
      if (it->second.IsScalar()) pending_substitutions_.emplace_back(it->second, it->second.Scalar());
    }
  }
  std::optional<std::string> RelativePath(const YAML::Node& node, std::string_view what);

  void ParseOn(const YAML::Node& node, Pipeline* pipeline);
  Job ParseJob(const std::string& name, const YAML::Node& key, const YAML::Node& node);
  void ParseMatrix(const YAML::Node& node, Job* job);
  Step ParseStep(const YAML::Node& node, const Job& job);
  Service ParseService(const std::string& name, const YAML::Node& key, const YAML::Node& node,
                       const Job& job);
  ModelSpec ParseModel(const YAML::Node& node);
  // deploy_parser.cc
  std::optional<DeploySpec> ParseDeploy(const YAML::Node& node);
  ServeSpec ParseServe(const YAML::Node& node);
  HttpProbe ParseProbe(const YAML::Node& node, std::string_view what);
  EnvironmentSpec ParseEnvironment(const std::string& name, const YAML::Node& key,
                                   const YAML::Node& node);
  CanaryStrategy ParseCanary(const YAML::Node& node);
  RollingStrategy ParseRolling(const YAML::Node& node);
  BlueGreenStrategy ParseBlueGreen(const YAML::Node& node);
  std::optional<ReplicaCount> ParseReplicaCount(const YAML::Node& node, std::string_view what);
  // `analysis` holds the defaults of the settings the node leaves out.
  AnalysisSpec ParseAnalysis(const YAML::Node& node, AnalysisSpec analysis = {});
  // One item of analysis.providers; `check_node` gets its `check`, to locate errors later.
  std::optional<AnalysisProvider> ParseProvider(const YAML::Node& node, YAML::Node* check_node);
  void CheckNeeds(const Pipeline& pipeline);

  std::string_view source_;
  std::vector<Diagnostic>* errors_;
  Location fallback_;  // Location of the enclosing key, for nodes without a mark.
  // Strings of the job being parsed that may hold ${{ matrix.KEY }}: checked
  // once the whole job, and so its matrix, is parsed.
  std::vector<std::pair<YAML::Node, std::string>> pending_substitutions_;
};

}  // namespace tauon::spec::detail
