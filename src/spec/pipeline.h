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

// An HTTP health check of a replica: GET `path` on its port every `period`;
// a check fails on a connection error, a timeout or a status other than 2xx.
struct HttpProbe {
  std::string path = "/healthz";
  Duration period{1000};
  Duration timeout{1000};
  int failure_threshold = 3;  // Failed checks in a row that count.
  Location location;
};

// deploy.serve: how to run one replica of a release.
struct ServeSpec {
  std::string command;  // Run by sh -c, with $PORT and $TAUON_MODEL_DIR set.
  // Traffic reaches a replica once a readiness check passes (at once without one).
  std::optional<HttpProbe> readiness;
  // A replica whose liveness check fails failure_threshold times is restarted.
  std::optional<HttpProbe> liveness;
  EnvList env;
  Duration stop_timeout{10'000};  // SIGTERM to SIGKILL.
  int replicas = 1;               // Default for environments without their own.
  Location location;
};

enum class Approval { kAuto, kManual };

// The names an analysis check reads: a release's router metrics over one
// interval, for the canary (bare or `canary.`) or the stable release (`stable.`).
inline constexpr std::string_view kAnalysisMetrics[] = {
    "error_rate", "request_rate", "requests", "latency_p50_ms", "latency_p95_ms",
    "latency_p99_ms", "mirror_agreement"};

// analysis.providers: a measurement from outside the router, taken at the
// end of every interval (deploy/providers.h runs them).
struct AnalysisProvider {
  enum class Kind {
    kPrometheus,  // An instant query; its one value is the metric `name`.
    kCommand,     // `sh -c run` prints a JSON object of numbers: `name.KEY` (or `KEY`).
  };
  Kind kind = Kind::kCommand;
  std::string name;   // Prometheus: required; command: the keys' prefix, "" for none.
  std::string url;    // Prometheus: the server's base URL (http or https).
  std::string query;  // Prometheus: PromQL.
  std::string run;    // Command.
  std::optional<Duration> timeout;    // Unset: the analysis interval.
  std::optional<Condition> check;     // Evaluated with the analysis' checks.
  bool fail_on_error = false;         // on_error: fail (default: inconclusive).
  Location location;

  // "prometheus 'canary_5xx'", "command 'quality'", "command" (unnamed).
  std::string Describe() const;
};

struct AnalysisSpec {
  Duration interval{5000};
  int failure_limit = 1;  // Failed intervals in a row that roll back.
  int min_requests = 10;  // Fewer canary requests in an interval: inconclusive.
  std::vector<Condition> checks;
  std::vector<AnalysisProvider> providers;
};

// strategy.canary: the new release gets `weight`% of the traffic, step by
// step; each step lasts `pause` (none: until `tauon promote`).
struct CanaryStep {
  int weight = 0;  // 1-100
  std::optional<Duration> pause;
};
struct CanaryStrategy {
  std::vector<CanaryStep> steps;
  AnalysisSpec analysis;
  // A canary that is not ready (all replicas) this long after its deploy is rolled back.
  Duration progress_deadline{300'000};
};

// A number of replicas, written as a count (`1`) or a percentage of the
// environment's replicas (`25%`).
struct ReplicaCount {
  int value = 0;
  bool percent = false;
  // The count for an environment of `replicas`; a percentage rounds up or down.
  int Of(int replicas, bool round_up) const {
    if (!percent) return value;
    return round_up ? (replicas * value + 99) / 100 : replicas * value / 100;
  }
};

// strategy.rolling: the new release's replicas replace the old one's a few
// at a time, each old replica leaving once a new one is ready.
struct RollingStrategy {
  // Replicas above the environment's count while the rollout runs (rounded up).
  ReplicaCount max_surge{25, true};
  // Replicas below it, counting only ready ones (rounded down).
  ReplicaCount max_unavailable{25, true};
  // The whole rollout must be done this soon after the deploy.
  Duration progress_deadline{300'000};
};

// strategy.blue_green: the new release starts at full size behind a preview
// port; the environment's traffic switches to it in one step.
struct BlueGreenStrategy {
  // The preview router; without it the release is unreachable until the switch.
  bool preview = true;
  int preview_port = 0;               // 0 = assigned by the server.
  bool auto_promote = true;           // Switch once ready (and pre_promotion passed).
  Duration scale_down_delay{30'000};  // The old release waits this long for a rollback.
  // Run against the preview before the switch: the first passing interval
  // lets it switch; failure_limit failed ones roll it back.
  std::optional<AnalysisSpec> pre_promotion;
  Duration progress_deadline{300'000};  // Ready, and pre_promotion passed, by then.
};

// deploy.environments.NAME
struct EnvironmentSpec {
  std::string name;
  int port = 0;  // The router's port; 0 = assigned by the server.
  int replicas = 0;  // 0 = serve.replicas.
  std::string after;  // The environment a release must reach first ("" = none).
  Approval approval = Approval::kAuto;
  // At most one strategy is set; none is a plain replacement.
  std::optional<RollingStrategy> rolling;
  std::optional<BlueGreenStrategy> blue_green;
  std::optional<CanaryStrategy> canary;
  std::string_view StrategyName() const {
    return rolling ? "rolling" : blue_green ? "blue_green" : canary ? "canary" : "replace";
  }
  Location location;
};

struct DeploySpec {
  ServeSpec serve;
  std::vector<EnvironmentSpec> environments;  // In the order written.
  Location location;

  const EnvironmentSpec* FindEnvironment(std::string_view name) const;
};

struct Pipeline {
  std::string name;
  // on.push.branches; empty means every branch.
  std::vector<std::string> push_branches;
  EnvList env;
  bool cancel_in_progress = false;  // concurrency.cancel_in_progress
  std::vector<Job> jobs;            // In the order written.
  std::optional<ModelSpec> model;
  std::optional<DeploySpec> deploy;

  const Job* FindJob(std::string_view name) const;
  // True when `branch` passes on.push.branches (or there is no filter).
  bool MatchesBranch(std::string_view branch) const;
};

}  // namespace tauon::spec
