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

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

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
  // A rollback: the release does not go on along the promotion chain.
  bool rollback = false;
  // For a rollback: the release it rolls back from, which gets the
  // "rollback" event once the request is accepted (0: none).
  int64_t rollback_from = 0;
};

// The phases of a release on its way to serve all of its environment's traffic.
inline bool InProgressPhase(std::string_view phase) {
  return phase == "starting" || phase == "canary" || phase == "rolling" || phase == "preview";
}

// "its replica" or "all 3 replicas", for events.
inline std::string AllReplicas(int count) {
  return count == 1 ? "its replica" : "all " + std::to_string(count) + " replicas";
}

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
  // The version waiting for `tauon promote ENVIRONMENT` (approval: manual), if any.
  std::optional<std::string> WaitingForApproval(const std::string& environment);
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
    // The stable release's replicas a rolling update took out of the
    // routing table (drained, then stopped).
    std::set<std::string> retired;
    // blue_green (phase "preview"): pre_promotion passed, or there is none.
    bool preview_passed = false;
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
  // rolling.cc: one move of a rolling update (phase "rolling"): old
  // replicas out while enough stay ready, new ones in while the surge allows.
  void Roll(Active& next);
  // blue_green.cc: the new release is ready behind the preview port.
  void StartPreview(Active& next);
  void PreviewPassed(Active& next, const std::string& why);
  void RoutePreview(const std::string& environment);
  // Takes a release in progress out of the rollout (rolled back or
  // replaced): traffic on the stable release at once, which a rolling
  // update gets back to full size, and the release's replicas drained.
  void Withdraw(Active& release);
  void RollBack(Active& release, const std::string& reason, const std::string& who);
  // Stops `release_id`'s replicas (or only `replica`) once drained (see
  // kMinDrain), counting from `delay` from now; Tick() checks.
  void Drain(int64_t release_id, const std::string& replica = "", Duration delay = Duration(0));
  void StopDrained(TimePoint now);
  // Ends the interval of a canary or a blue-green preview at `now`; with
  // analysis.providers, starts them and, on a later call, judges the
  // interval once they returned.
  void AnalyzeInterval(Active& release, TimePoint now);
  // What analysis.providers' commands get of `release`: its URL in
  // `url_variable` (TAUON_CANARY_URL: a ready replica; TAUON_PREVIEW_URL:
  // the preview router), the stable release's (TAUON_STABLE_URL) and the
  // router's (TAUON_ENVIRONMENT_URL).
  ProviderContext ProviderContextOf(const Active& release, const std::string& url_variable,
                                    Duration timeout);
  // The traffic statistics an analysis of `release` diffs: the
  // environment's router's, with a blue-green preview's release added.
  std::optional<router::Snapshot> Sample(const Active& release);
  // The key of an environment's preview router in traffic_.
  static std::string PreviewRouter(const std::string& environment) {
    return environment + "/preview";
  }
  // The active release serving the environment, if any.
  Active* Stable(const std::string& environment);
  Active* InProgress(const std::string& environment);
  // Where the environment's traffic goes now: the stable release's ready
  // replicas and the release in progress with its share (a canary's step
  // weight, or a rolling update's ready replicas).
  std::vector<TrafficTarget> Targets(const std::string& environment);
  void RouteEnvironment(const std::string& environment);
  // Sends `router`'s traffic to `targets`, unless it goes there already.
  void Apply(const std::string& router, std::vector<TrafficTarget> targets);
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
  // (release, replica or "" for all) -> when it left the routing table (or
  // will have: a blue-green scale_down_delay).
  std::map<std::pair<int64_t, std::string>, TimePoint> draining_;
  // Environment -> the version waiting for `tauon promote` (approval: manual);
  // also in the store, for the next server.
  std::map<std::string, std::string> pending_;
  // Environment -> the port of its blue-green preview router, once opened.
  std::map<std::string, int> previews_;
  bool shutting_down_ = false;  // The supervisor is going away: changes are not acted on.
  std::unique_ptr<runtime::Supervisor> supervisor_;
  AnalysisExport analysis_export_;  // Thread-safe on its own.
  // Ends the ticker's wait: when shutting down, or when an interval's
  // providers are done (provider_done_), so their verdict is acted on at once.
  std::condition_variable wake_;
  std::atomic<bool> provider_done_{false};
  std::thread ticker_;
};

}  // namespace tauon::deploy
