// The deploy controller: environments, the releases deployed to them and
// where their traffic goes. A release is a model version together with the
// code of the commit that made it and that commit's `deploy` settings; its
// replicas run under the Supervisor, and once all of them are ready the
// environment's traffic switches to it and the release it replaces is
// drained and stopped. State lives in the store, so a restarted server
// brings every environment back to its recorded release (Recover()).
//
// Thread-safe: the server's API calls it, and the supervisor's thread tells
// it about replicas.
#pragma once

#include <filesystem>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "deploy/analysis.h"
#include "deploy/analysis_export.h"
#include "deploy/traffic.h"
#include "notify/notifier.h"
#include "router/stats.h"
#include "spec/pipeline.h"
#include "runtime/supervisor.h"
#include "store/store.h"
#include "util/clock.h"

namespace tauon::deploy {

struct DeployRequest {
  std::string environment;
  std::string model;  // NAME, NAME@VERSION or NAME@ALIAS
  std::string repo;   // Optional: the repository the model must come from.
  std::string who;    // Recorded with the events.
};

class Controller {
 public:
  // `listen_host`: where environments' routers listen ("127.0.0.1", "0.0.0.0").
  // `notifier` (optional) hears of releases that go live, fail or are rolled back.
  Controller(std::filesystem::path data_dir, const Clock& clock, Traffic& traffic,
             std::string listen_host, notify::Notifier* notifier = nullptr);

  // The server's base URL, for links in notifications (its dashboard's
  // /environments/NAME page).
  void SetPublicUrl(std::string url);
  ~Controller();  // Stops every replica.

  // At server start: kills replica processes a previous server left behind,
  // opens every environment's router and starts its recorded release again.
  Status Recover();

  // Starts a release of `request.model` in `request.environment`. Fails,
  // changing nothing, when the model, its code or the environment cannot be
  // found; the release then starts in the background. Returns its id.
  Result<int64_t> Deploy(const DeployRequest& request);

  // The environment resource (docs/api.md#environments); nullopt if unknown.
  Result<std::optional<nlohmann::json>> Environment(const std::string& name);
  Result<nlohmann::json> Environments();
  // The log file of replica `replica` ("r1") of the environment's current
  // release (or of `release_id`).
  Result<std::filesystem::path> ReplicaLog(const std::string& environment,
                                           const std::string& replica,
                                           std::optional<int64_t> release_id = std::nullopt);

  // A run of a repository's default branch registered `version`: it is
  // deployed to the environments of its pipeline that come after none.
  void Registered(const store::ModelVersionRecord& version);

  // A canary in progress moves to its next step now (the last step: it
  // becomes the stable release); without a canary, a version waiting for
  // approval (`approval: manual` after an earlier environment) is deployed.
  // Fails when there is neither.
  Result<std::string> Promote(const std::string& environment, const std::string& who);
  // Deploys again the version an earlier release of the environment served:
  // `to` is a version of the current model ("3" or "NAME@3"), or empty for
  // the release before the current one. Through Deploy(): the environment's
  // strategy applies. Returns the new release's id.
  Result<int64_t> Rollback(const std::string& environment, const std::string& to,
                           const std::string& who);
  // A release in progress (starting or canary) is rolled back: all traffic
  // on the stable release at once, its replicas stopped, marked failed.
  Result<std::string> Abort(const std::string& environment, const std::string& who);

  // The analysis' intervals as Prometheus metrics (the server's /metrics).
  const AnalysisExport& analysis_export() const { return analysis_export_; }

 private:
  // A release out of the routing table keeps its replicas until the router
  // has no request in flight to them (at least kMinDrain, for clients of
  // pooled connections; at most kMaxDrain), then they get SIGTERM.
  static constexpr Duration kMinDrain{200};
  static constexpr Duration kMaxDrain{30'000};

  // A release the supervisor runs.
  struct Active {
    store::ReleaseRecord release;
    std::string version;  // "name@3"
    spec::EnvironmentSpec settings;  // The environment as the release's pipeline defines it.
    // When its replicas were started (again, after a server restart): the
    // progress deadline counts from here.
    TimePoint started;
    // The environments that come after this one in the release's pipeline.
    std::vector<spec::EnvironmentSpec> next;
    // A canary rollout (phase "canary"): the step it is at and since when,
    // and its analysis so far.
    size_t step = 0;
    TimePoint step_started;
    int intervals = 0;
    int failed_in_a_row = 0;
    std::optional<router::Snapshot> last_sample;
    TimePoint last_sample_at;
    // The interval that ended, while its analysis.providers run (a
    // shared_ptr only so that Active stays copyable).
    std::shared_ptr<PendingInterval> measuring;
  };

  // A model version's code and pipeline, from the repository its run read.
  struct Loaded {
    std::string source;
    std::string text;
    spec::Pipeline pipeline;
  };
  Result<Loaded> LoadPipeline(const store::ModelVersionRecord& version);
  Result<int64_t> DeployLocked(const DeployRequest& request);

  void OnChange(int64_t release_id);
  // rollout.cc: what time moves along (progress deadlines, crash loops,
  // analysis intervals, canary steps); called every few milliseconds.
  void Tick();
  void GoLive(Active& release, const std::string& why, const std::string& who);
  void StartCanary(Active& canary);
  void NextStep(Active& canary, const std::string& who);
  void RollBack(Active& release, const std::string& reason, const std::string& who);
  // Stops `release_id`'s replicas once drained (see kMinDrain); Tick() checks.
  void Drain(int64_t release_id);
  void StopDrained(TimePoint now);
  // Ends the canary's interval at `now`; with analysis.providers, starts
  // them and, on a later call, judges the interval once they returned.
  void AnalyzeInterval(Active& canary, TimePoint now);
  // What analysis.providers' commands get of `release`: its ready replica's
  // URL in `url_variable` (TAUON_CANARY_URL, TAUON_PREVIEW_URL), the stable
  // release's (TAUON_STABLE_URL) and the router's (TAUON_ENVIRONMENT_URL).
  ProviderContext ProviderContextOf(const Active& release, const std::string& url_variable,
                                    Duration timeout);
  Active* InProgress(const std::string& environment);
  void RouteEnvironment(const std::string& environment);
  Status StartRelease(const store::ReleaseRecord& release, bool recovering);
  Status OpenEnvironment(const store::EnvironmentRecord& environment);
  void Event(const std::string& environment, std::optional<int64_t> release_id,
             std::string what, std::string why, std::string who = "tauon");
  nlohmann::json EnvironmentJson(const store::EnvironmentRecord& environment);

  const std::filesystem::path data_dir_;
  const Clock& clock_;
  Traffic& traffic_;
  const std::string listen_host_;
  notify::Notifier* const notifier_;

  std::mutex mu_;  // Guards everything below, and the store.
  std::string public_url_;
  std::unique_ptr<store::Store> store_;
  std::map<int64_t, Active> active_;            // By release id.
  std::map<std::string, int64_t> serving_;      // Environment -> live release.
  std::map<std::string, std::string> routed_;   // Environment -> last routing, to skip repeats.
  std::map<int64_t, TimePoint> draining_;
  // Environment -> the version waiting for `tauon promote` (approval: manual);
  // also in the store, for the next server.
  std::map<std::string, std::string> pending_;  // Release -> when it left the routing table.
  bool shutting_down_ = false;  // The supervisor is going away: changes are not acted on.
  std::unique_ptr<runtime::Supervisor> supervisor_;
  AnalysisExport analysis_export_;  // Thread-safe on its own.
  std::condition_variable wake_;  // Ends the ticker's wait when shutting down.
  std::thread ticker_;
};

}  // namespace tauon::deploy
