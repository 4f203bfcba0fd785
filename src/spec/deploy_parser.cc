// `deploy:` in `.tauon.yml`: how a release's replicas run (`serve`) and the
// environments they run in. docs/pipeline.md#deploy is the grammar.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "spec/pipeline_parser.h"
#include "util/strings.h"

namespace tauon::spec {
namespace detail {
namespace {

constexpr std::string_view kDeployKeys[] = {"serve", "environments"};
constexpr std::string_view kServeKeys[] = {"command",      "readiness", "liveness", "env",
                                           "stop_timeout", "replicas"};
constexpr std::string_view kProbeKeys[] = {"http", "period", "timeout", "failure_threshold"};
constexpr std::string_view kEnvironmentKeys[] = {"port", "replicas", "after", "approval",
                                                 "strategy"};
constexpr std::string_view kStrategies[] = {"rolling", "blue_green", "canary"};
constexpr std::string_view kRollingKeys[] = {"max_surge", "max_unavailable", "progress_deadline"};
constexpr std::string_view kBlueGreenKeys[] = {"preview", "preview_port", "auto_promote",
                                               "scale_down_delay", "pre_promotion",
                                               "progress_deadline"};
constexpr std::string_view kCanaryKeys[] = {"steps", "analysis", "progress_deadline"};
constexpr std::string_view kCanaryStepKeys[] = {"weight", "pause"};
constexpr std::string_view kAnalysisKeys[] = {"interval", "failure_limit", "min_requests",
                                              "checks", "providers"};
constexpr std::string_view kProviderKinds[] = {"prometheus", "command"};
constexpr std::string_view kPrometheusKeys[] = {"name",    "url",   "query",
                                                "timeout", "check", "on_error"};
constexpr std::string_view kCommandKeys[] = {"name", "run", "timeout", "check", "on_error"};

// A provider's name is a name of the expression language without dots:
// checks read it (prometheus) or `NAME.KEY` (command).
bool IsMetricName(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

constexpr int kMaxReplicas = 64;

}  // namespace

std::optional<DeploySpec> PipelineParser::ParseDeploy(const YAML::Node& node) {
  DeploySpec deploy;
  deploy.location = At(node);
  bool has_serve = false, has_environments = false;
  bool is_map = ForEachEntry(node, "'deploy'", kDeployKeys, [&](const std::string& key,
                                                                const YAML::Node&,
                                                                const YAML::Node& value) {
    if (key == "serve") {
      has_serve = true;
      deploy.serve = ParseServe(value);
    } else if (key == "environments") {
      has_environments = true;
      ForEachNamed(value, "'environments'", [&](const std::string& name, const YAML::Node& key_node,
                                                const YAML::Node& environment) {
        deploy.environments.push_back(ParseEnvironment(name, key_node, environment));
      });
      if (value.IsMap() && value.size() == 0) {
        Error(value, "'environments' must define at least one environment");
      }
    }
  });
  if (!is_map) return std::nullopt;
  if (!has_serve) Error(node, "'deploy' needs 'serve' (the command that runs a replica)");
  if (!has_environments) Error(node, "'deploy' needs 'environments'");

  std::vector<std::string> names;
  for (const EnvironmentSpec& environment : deploy.environments) names.push_back(environment.name);
  for (const EnvironmentSpec& environment : deploy.environments) {
    if (environment.after.empty()) continue;
    if (environment.after == environment.name) {
      Error(environment.location, "environment '{}' cannot come after itself", environment.name);
    } else if (!deploy.FindEnvironment(environment.after)) {
      auto suggestion = SuggestClosest(environment.after, names);
      Error(environment.location, "environment '{}' comes after '{}', which is not defined{}",
            environment.name, environment.after,
            suggestion ? fmt::format(" (did you mean '{}'?)", *suggestion) : "");
    }
  }
  // A promotion chain goes one way: staging -> production, never back.
  for (const EnvironmentSpec& environment : deploy.environments) {
    std::vector<std::string> chain = {environment.name};
    const EnvironmentSpec* at = &environment;
    while (at && !at->after.empty() && at->after != at->name) {
      if (std::find(chain.begin(), chain.end(), at->after) != chain.end()) {
        chain.push_back(at->after);
        if (chain.front() == chain.back()) {  // Reported once, from the cycle's first member.
          Error(environment.location, "environments form a cycle through 'after': {}",
                Join(chain, " -> "));
        }
        break;
      }
      chain.push_back(at->after);
      at = deploy.FindEnvironment(at->after);
    }
  }
  // Every router port (an environment's, a blue-green preview's) once.
  std::map<int, std::string> ports;
  auto claim = [&](const EnvironmentSpec& environment, int port, std::string what) {
    if (port == 0) return;
    auto [other, inserted] = ports.emplace(port, what);
    if (!inserted) {
      Error(environment.location, "{} and {} both use port {}", other->second, what, port);
    }
  };
  for (const EnvironmentSpec& environment : deploy.environments) {
    claim(environment, environment.port, fmt::format("environment '{}'", environment.name));
    if (environment.blue_green) {
      claim(environment, environment.blue_green->preview_port,
            fmt::format("the preview of environment '{}'", environment.name));
    }
  }
  return deploy;
}

ServeSpec PipelineParser::ParseServe(const YAML::Node& node) {
  ServeSpec serve;
  serve.location = At(node);
  bool has_command = false;
  ForEachEntry(node, "'serve'", kServeKeys, [&](const std::string& key, const YAML::Node&,
                                                const YAML::Node& value) {
    if (key == "command") {
      has_command = true;
      if (auto s = NonEmptyString(value, "command")) serve.command = *s;
    } else if (key == "readiness") {
      serve.readiness = ParseProbe(value, "readiness");
    } else if (key == "liveness") {
      serve.liveness = ParseProbe(value, "liveness");
    } else if (key == "env") {
      serve.env = Env(value);
    } else if (key == "stop_timeout") {
      if (auto d = DurationValue(value, "stop_timeout")) serve.stop_timeout = *d;
    } else if (key == "replicas") {
      if (auto n = Int(value, "replicas", 1, kMaxReplicas)) serve.replicas = *n;
    }
  });
  if (node.IsMap() && !has_command) {
    Error(node, "'serve' needs a 'command' (it gets the replica's port in $PORT and the model's "
                "files in $TAUON_MODEL_DIR)");
  }
  return serve;
}

HttpProbe PipelineParser::ParseProbe(const YAML::Node& node, std::string_view what) {
  HttpProbe probe;
  probe.location = At(node);
  bool has_http = false;
  ForEachEntry(node, fmt::format("'{}'", what), kProbeKeys, [&](const std::string& key,
                                                                const YAML::Node&,
                                                                const YAML::Node& value) {
    if (key == "http") {
      has_http = true;
      if (auto s = NonEmptyString(value, "http")) {
        if (!s->starts_with("/") || s->find_first_of(" \t\r\n") != std::string::npos) {
          Error(value, "'http' must be a path starting with '/', got '{}'", *s);
        }
        probe.path = *s;
      }
    } else if (key == "period") {
      if (auto d = DurationValue(value, "period")) probe.period = *d;
    } else if (key == "timeout") {
      if (auto d = DurationValue(value, "timeout")) probe.timeout = *d;
    } else if (key == "failure_threshold") {
      if (auto n = Int(value, "failure_threshold", 1, 100)) probe.failure_threshold = *n;
    }
  });
  if (node.IsMap() && !has_http) Error(node, "'{}' needs 'http' (the path to check)", what);
  return probe;
}

EnvironmentSpec PipelineParser::ParseEnvironment(const std::string& name, const YAML::Node& key,
                                                 const YAML::Node& node) {
  EnvironmentSpec environment;
  environment.name = name;
  environment.location = At(key);
  if (!IsSafeName(name)) {
    Error(key, "invalid environment name '{}': use letters, digits, '_', '-' and '.'", name);
  }
  if (node.IsNull()) return environment;  // `staging:` alone: every setting by default.
  ForEachEntry(node, fmt::format("environment '{}'", name), kEnvironmentKeys,
               [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
                 if (key == "port") {
                   if (auto n = Int(value, "port", 1, 65535)) environment.port = *n;
                 } else if (key == "replicas") {
                   if (auto n = Int(value, "replicas", 1, kMaxReplicas)) environment.replicas = *n;
                 } else if (key == "after") {
                   if (auto s = NonEmptyString(value, "after")) environment.after = *s;
                 } else if (key == "approval") {
                   if (auto s = NonEmptyString(value, "approval")) {
                     if (*s == "auto") {
                       environment.approval = Approval::kAuto;
                     } else if (*s == "manual") {
                       environment.approval = Approval::kManual;
                     } else {
                       Error(value, "approval must be 'auto' or 'manual', got '{}'", *s);
                     }
                   }
                 } else if (key == "strategy") {
                   ForEachEntry(value, "'strategy'", kStrategies,
                                [&](const std::string& kind, const YAML::Node&,
                                    const YAML::Node& settings) {
                                  if (kind == "canary") {
                                    environment.canary = ParseCanary(settings);
                                  } else if (kind == "rolling") {
                                    environment.rolling = ParseRolling(settings);
                                  } else {
                                    environment.blue_green = ParseBlueGreen(settings);
                                  }
                                });
                   if (value.IsMap() && value.size() != 1) {
                     Error(value, "'strategy' takes one of rolling, blue_green or canary");
                   }
                 }
               });
  return environment;
}

CanaryStrategy PipelineParser::ParseCanary(const YAML::Node& node) {
  CanaryStrategy canary;
  bool has_steps = false;
  ForEachEntry(node, "'canary'", kCanaryKeys, [&](const std::string& key, const YAML::Node&,
                                                  const YAML::Node& value) {
    if (key == "steps") {
      has_steps = true;
      if (!value.IsSequence() || value.size() == 0) {
        Error(value, "'steps' must be a non-empty list of {{ weight, pause }}, got {}",
              KindName(value));
        return;
      }
      int previous = 0;
      for (const YAML::Node& item : value) {
        CanaryStep step;
        bool has_weight = false;
        ForEachEntry(item, "a canary step", kCanaryStepKeys,
                     [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                       if (k == "weight") {
                         has_weight = true;
                         if (auto n = Int(v, "weight", 1, 100)) {
                           if (*n <= previous) {
                             Error(v, "weights must grow from step to step: {} after {}", *n,
                                   previous);
                           }
                           step.weight = previous = *n;
                         }
                       } else if (k == "pause") {
                         step.pause = DurationValue(v, "pause");
                       }
                     });
        if (item.IsMap() && !has_weight) Error(item, "a canary step needs a 'weight' (percent)");
        canary.steps.push_back(step);
      }
    } else if (key == "analysis") {
      canary.analysis = ParseAnalysis(value);
    } else if (key == "progress_deadline") {
      if (auto d = DurationValue(value, "progress_deadline")) canary.progress_deadline = *d;
    }
  });
  if (node.IsMap() && !has_steps) Error(node, "'canary' needs 'steps'");
  return canary;
}

std::optional<ReplicaCount> PipelineParser::ParseReplicaCount(const YAML::Node& node,
                                                              std::string_view what) {
  if (node.IsScalar() && node.Scalar().ends_with('%')) {
    const std::string digits = node.Scalar().substr(0, node.Scalar().size() - 1);
    if (!digits.empty() && digits.size() <= 3 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return isdigit(c) != 0; }) &&
        std::stoi(digits) <= 100) {
      return ReplicaCount{std::stoi(digits), true};
    }
    Error(node, "{} must be a count or a percentage from 0% to 100%, got '{}'", what,
          node.Scalar());
    return std::nullopt;
  }
  if (auto n = Int(node, what, 0, kMaxReplicas)) return ReplicaCount{*n, false};
  return std::nullopt;
}

RollingStrategy PipelineParser::ParseRolling(const YAML::Node& node) {
  RollingStrategy rolling;
  // `rolling:` with nothing after it takes every default.
  if (node.IsNull()) return rolling;
  ForEachEntry(node, "'rolling'", kRollingKeys, [&](const std::string& key, const YAML::Node&,
                                                    const YAML::Node& value) {
    if (key == "max_surge") {
      if (auto n = ParseReplicaCount(value, "max_surge")) rolling.max_surge = *n;
    } else if (key == "max_unavailable") {
      if (auto n = ParseReplicaCount(value, "max_unavailable")) rolling.max_unavailable = *n;
    } else if (key == "progress_deadline") {
      if (auto d = DurationValue(value, "progress_deadline")) rolling.progress_deadline = *d;
    }
  });
  if (rolling.max_surge.value == 0 && rolling.max_unavailable.value == 0) {
    Error(node, "'rolling' needs max_surge or max_unavailable above 0: with both at 0 no "
                "replica can be replaced");
  }
  return rolling;
}

BlueGreenStrategy PipelineParser::ParseBlueGreen(const YAML::Node& node) {
  BlueGreenStrategy blue_green;
  if (node.IsNull()) return blue_green;
  ForEachEntry(node, "'blue_green'", kBlueGreenKeys, [&](const std::string& key, const YAML::Node&,
                                                         const YAML::Node& value) {
    if (key == "preview") {
      if (auto b = Bool(value, "preview")) blue_green.preview = *b;
    } else if (key == "preview_port") {
      if (auto n = Int(value, "preview_port", 1, 65535)) blue_green.preview_port = *n;
    } else if (key == "auto_promote") {
      if (auto b = Bool(value, "auto_promote")) blue_green.auto_promote = *b;
    } else if (key == "scale_down_delay") {
      // 0 is allowed here: no rollback window, the old release stops at once.
      if (value.IsScalar() && value.Scalar() == "0") {
        blue_green.scale_down_delay = Duration(0);
      } else if (auto d = DurationValue(value, "scale_down_delay")) {
        blue_green.scale_down_delay = *d;
      }
    } else if (key == "pre_promotion") {
      // The preview has no users' traffic: by default an interval needs none.
      AnalysisSpec defaults;
      defaults.min_requests = 0;
      blue_green.pre_promotion = ParseAnalysis(value, defaults);
    } else if (key == "progress_deadline") {
      if (auto d = DurationValue(value, "progress_deadline")) blue_green.progress_deadline = *d;
    }
  });
  if (!blue_green.preview && blue_green.preview_port != 0) {
    Error(node, "'preview_port' needs 'preview: true' (the default)");
  }
  return blue_green;
}

AnalysisSpec PipelineParser::ParseAnalysis(const YAML::Node& node, AnalysisSpec analysis) {
  // Checks are checked once the providers, which may come after them, are known.
  std::vector<std::pair<YAML::Node, Condition>> checks;
  std::vector<YAML::Node> provider_checks;  // Parallel to analysis.providers.
  ForEachEntry(node, "'analysis'", kAnalysisKeys, [&](const std::string& key, const YAML::Node&,
                                                      const YAML::Node& value) {
    if (key == "interval") {
      if (auto d = DurationValue(value, "interval")) analysis.interval = *d;
    } else if (key == "failure_limit") {
      if (auto n = Int(value, "failure_limit", 1, 100)) analysis.failure_limit = *n;
    } else if (key == "min_requests") {
      if (auto n = Int(value, "min_requests", 0, 1'000'000)) analysis.min_requests = *n;
    } else if (key == "checks") {
      if (!value.IsSequence()) {
        Error(value, "'checks' must be a list of expressions, got {}", KindName(value));
        return;
      }
      for (const YAML::Node& item : value) {
        std::optional<Condition> check = ParseExpression(item, /*is_condition=*/false);
        if (check) checks.emplace_back(item, std::move(*check));
      }
    } else if (key == "providers") {
      if (!value.IsSequence()) {
        Error(value,
              "'providers' must be a list of {{ prometheus: {{...}} }} or {{ command: {{...}} }}, "
              "got {}",
              KindName(value));
        return;
      }
      for (const YAML::Node& item : value) {
        YAML::Node check_node;
        std::optional<AnalysisProvider> provider = ParseProvider(item, &check_node);
        if (!provider) continue;
        if (!provider->name.empty()) {
          for (const AnalysisProvider& other : analysis.providers) {
            if (other.name == provider->name) {
              Error(provider->location, "two providers are named '{}' (the other at line {})",
                    provider->name, other.location.line);
            }
          }
        }
        analysis.providers.push_back(std::move(*provider));
        provider_checks.push_back(check_node);
      }
    }
  });

  // The names checks may read: the router's, each prometheus provider's, and
  // NAME.KEY of a named command provider. An unnamed command's keys are
  // known only when it runs: with one, any name is accepted here.
  std::vector<std::string> names;
  for (std::string_view metric : kAnalysisMetrics) {
    names.emplace_back(metric);
    names.push_back(fmt::format("canary.{}", metric));
    names.push_back(fmt::format("stable.{}", metric));
  }
  std::vector<std::string> provided, prefixes;
  bool any_name = false;
  for (const AnalysisProvider& provider : analysis.providers) {
    const bool is_prometheus = provider.kind == AnalysisProvider::Kind::kPrometheus;
    if (provider.name.empty()) {
      // A prometheus provider without a name was reported as such.
      any_name = any_name || !is_prometheus;
      continue;
    }
    const std::string shown = is_prometheus ? provider.name : provider.name + ".KEY";
    if (std::find(provided.begin(), provided.end(), shown) != provided.end()) continue;
    provided.push_back(shown);
    if (is_prometheus) {
      names.push_back(provider.name);
    } else {
      prefixes.push_back(provider.name + ".");
    }
  }
  auto known = [&](const YAML::Node& item, const Condition& check, std::string_view what) {
    bool ok = true;
    for (const Expression::Reference& ref : check.expression.names()) {
      if (any_name || std::find(names.begin(), names.end(), ref.name) != names.end()) continue;
      if (std::any_of(prefixes.begin(), prefixes.end(),
                      [&](const std::string& p) { return ref.name.starts_with(p); })) {
        continue;
      }
      // `qualty.accuracy` may be a named command's key with its name misspelt.
      std::vector<std::string> candidates = names;
      if (size_t dot = ref.name.find('.'); dot != std::string::npos) {
        for (const std::string& prefix : prefixes) {
          candidates.push_back(prefix + ref.name.substr(dot + 1));
        }
      }
      auto suggestion = SuggestClosest(ref.name, candidates);
      std::string expected = fmt::format(
          "expected one of: {}, with 'canary.' or 'stable.' before them",
          Join(std::vector<std::string>(std::begin(kAnalysisMetrics), std::end(kAnalysisMetrics)),
               ", "));
      if (!provided.empty()) {
        expected += fmt::format(", or a provider's: {}", Join(provided, ", "));
      }
      Error(LocationInScalar(item, ref.offset), "unknown name '{}' in {} ({})", ref.name, what,
            suggestion ? fmt::format("did you mean '{}'?", *suggestion) : expected);
      ok = false;
    }
    return ok;
  };
  for (auto& [item, check] : checks) {
    if (known(item, check, "check")) analysis.checks.push_back(std::move(check));
  }
  for (size_t i = 0; i < analysis.providers.size(); ++i) {
    AnalysisProvider& provider = analysis.providers[i];
    if (provider.check && !known(provider_checks[i], *provider.check, "check")) {
      provider.check.reset();
    }
  }
  return analysis;
}

std::optional<AnalysisProvider> PipelineParser::ParseProvider(const YAML::Node& node,
                                                              YAML::Node* check_node) {
  AnalysisProvider provider;
  provider.location = At(node);
  std::optional<AnalysisProvider> out;
  ForEachEntry(node, "a provider", kProviderKinds, [&](const std::string& kind,
                                                       const YAML::Node&,
                                                       const YAML::Node& settings) {
    const bool is_prometheus = kind == "prometheus";
    provider.kind = is_prometheus ? AnalysisProvider::Kind::kPrometheus
                                  : AnalysisProvider::Kind::kCommand;
    bool has_name = false, has_url = false, has_query = false, has_run = false;
    bool bad_name = false;  // Reported; checks must not take it for an unnamed command.
    const bool is_map = ForEachEntry(
        settings, fmt::format("'{}'", kind),
        is_prometheus ? Keys(kPrometheusKeys) : Keys(kCommandKeys),
        [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
          if (key == "name") {
            has_name = true;
            if (auto s = NonEmptyString(value, "name")) {
              bad_name = !IsMetricName(*s);
              if (bad_name) {
                Error(value, "invalid provider name '{}': use letters, digits and '_', not "
                             "starting with a digit", *s);
              } else if (*s == "canary" || *s == "stable" ||
                         std::find(std::begin(kAnalysisMetrics), std::end(kAnalysisMetrics),
                                   *s) != std::end(kAnalysisMetrics)) {
                bad_name = true;
                Error(value, "provider name '{}' is taken by the router's metrics", *s);
              } else {
                provider.name = *s;
              }
            }
          } else if (key == "url") {
            has_url = true;
            if (auto s = NonEmptyString(value, "url")) {
              if (!s->starts_with("http://") && !s->starts_with("https://")) {
                // Only the scheme is quoted: the rest may hold a password.
                const size_t scheme = s->find("://");
                Error(value, "'url' must start with http:// or https://, got {}",
                      scheme == std::string::npos ? "no scheme"
                                                  : fmt::format("'{}'", s->substr(0, scheme + 3)));
              } else if (s->find_first_of(" \t\r\n?#") != std::string::npos) {
                Error(value, "'url' is the Prometheus server's base URL, without spaces, query "
                             "or fragment (e.g. http://127.0.0.1:9090)");
              } else if (s->size() == s->find("://") + 3) {
                Error(value, "'url' needs a host (e.g. http://127.0.0.1:9090)");
              } else {
                provider.url = *s;
              }
            }
          } else if (key == "query") {
            has_query = true;
            if (auto s = NonEmptyString(value, "query")) provider.query = *s;
          } else if (key == "run") {
            has_run = true;
            if (auto s = NonEmptyString(value, "run")) provider.run = *s;
          } else if (key == "timeout") {
            provider.timeout = DurationValue(value, "timeout");
          } else if (key == "check") {
            provider.check = ParseExpression(value, /*is_condition=*/false);
            *check_node = value;
          } else if (key == "on_error") {
            if (auto s = NonEmptyString(value, "on_error")) {
              if (*s == "fail") {
                provider.fail_on_error = true;
              } else if (*s != "inconclusive") {
                Error(value, "on_error must be 'inconclusive' or 'fail', got '{}'", *s);
              }
            }
          }
        });
    if (!is_map) return;
    if (is_prometheus) {
      std::vector<std::string> missing;
      if (!has_name) missing.push_back("'name' (the metric checks read)");
      if (!has_url) missing.push_back("'url' (the Prometheus server)");
      if (!has_query) missing.push_back("'query' (PromQL)");
      if (!missing.empty()) Error(settings, "'prometheus' needs {}", Join(missing, ", "));
    } else if (!has_run) {
      Error(settings, "'command' needs 'run' (a command printing a JSON object of numbers)");
    }
    if (!bad_name) out = provider;
  });
  if (node.IsMap() && node.size() != 1) {
    Error(node, "a provider is one of prometheus or command, got {} keys", node.size());
    return std::nullopt;
  }
  return out;
}

}  // namespace detail

std::string AnalysisProvider::Describe() const {
  const char* kind = this->kind == Kind::kPrometheus ? "prometheus" : "command";
  return name.empty() ? kind : fmt::format("{} '{}'", kind, name);
}

const EnvironmentSpec* DeploySpec::FindEnvironment(std::string_view name) const {
  for (const EnvironmentSpec& environment : environments) {
    if (environment.name == name) return &environment;
  }
  return nullptr;
}

}  // namespace tauon::spec
