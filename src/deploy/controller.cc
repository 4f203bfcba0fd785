#include "deploy/controller.h"

#include <signal.h>

#include <fmt/format.h>

#include "artifacts/registry.h"
#include "deploy/release_files.h"
#include "scm/git.h"
#include "spec/parser.h"
#include "util/process_identity.h"
#include "util/strings.h"

extern char** environ;

namespace tauon::deploy {
namespace {

constexpr int kEventsShown = 20;
constexpr int kReleasesShown = 10;

nlohmann::json OptionalTime(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(FormatTime(*t)) : nlohmann::json(nullptr);
}

nlohmann::json ReleaseJson(const store::ReleaseRecord& release) {
  return {{"id", release.id},
          {"model", release.model},
          {"version", release.version},
          {"repo", release.repo},
          {"commit", release.commit},
          {"replicas", release.replicas},
          {"phase", release.phase},
          {"reason", release.reason},
          {"created_by", release.created_by},
          {"created_at", FormatTime(release.created_at)},
          {"live_at", OptionalTime(release.live_at)},
          {"finished_at", OptionalTime(release.finished_at)}};
}

// The pipeline a release was made with: it parsed when the release was
// created, so a failure here means a corrupt row.
Result<spec::Pipeline> ReleasePipeline(const store::ReleaseRecord& release) {
  auto parsed = spec::ParsePipeline(release.pipeline);
  if (!parsed) {
    return Fail("the pipeline of commit {} is invalid: {}", release.commit.substr(0, 12),
                parsed.error().front().message);
  }
  if (!parsed->deploy) return Fail("the pipeline of commit {} has no 'deploy'", release.commit.substr(0, 12));
  return std::move(*parsed);
}

}  // namespace

Controller::Controller(std::filesystem::path data_dir, const Clock& clock, Traffic& traffic,
                       std::string listen_host, notify::Notifier* notifier)
    : data_dir_(std::move(data_dir)),
      clock_(clock),
      traffic_(traffic),
      listen_host_(std::move(listen_host)),
      notifier_(notifier) {
  runtime::Supervisor::Hooks hooks;
  hooks.on_change = [this](int64_t release_id) { OnChange(release_id); };
  hooks.on_started = [this](int64_t release_id, const std::string& replica, int pgid,
                            const std::string& leader) {
    std::lock_guard lock(mu_);
    if (store_) (void)store_->AddReplicaProcess(release_id, replica, pgid, leader);
  };
  hooks.on_exited = [this](int64_t release_id, const std::string& replica) {
    std::lock_guard lock(mu_);
    if (store_) (void)store_->RemoveReplicaProcess(release_id, replica);
  };
  supervisor_ = std::make_unique<runtime::Supervisor>(clock_, std::move(hooks));
  ticker_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!shutting_down_) {
      // Fine enough that a failed analysis interval moves traffic within
      // milliseconds of its end.
      wake_.wait_for(lock, std::chrono::milliseconds(10),
                     [this] { return shutting_down_ || provider_done_.load(); });
      provider_done_.store(false);
      if (!shutting_down_ && store_) Tick();
    }
  });
}

std::optional<std::string> Controller::WaitingForApproval(const std::string& environment) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(environment);
  if (it == pending_.end()) return std::nullopt;
  return it->second;
}

void Controller::SetPublicUrl(std::string url) {
  std::lock_guard lock(mu_);
  public_url_ = std::move(url);
}

Controller::~Controller() {
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
  }
  wake_.notify_all();
  ticker_.join();
  // Not under mu_: the supervisor's thread takes it while it stops.
  supervisor_.reset();
}

void Controller::Event(const std::string& environment, std::optional<int64_t> release_id,
                       std::string what, std::string why, std::string who) {
  store::DeployEventRecord event;
  event.environment = environment;
  event.release_id = release_id;
  event.what = std::move(what);
  event.why = std::move(why);
  event.who = std::move(who);
  event.at = clock_.Now();
  (void)store_->AddDeployEvent(event);
  if (notifier_ && release_id &&
      (event.what == "live" || event.what == "rolled-back" || event.what == "failed")) {
    notify::DeployNotice notice;
    notice.environment = environment;
    notice.release_id = *release_id;
    if (auto it = active_.find(*release_id); it != active_.end()) notice.version = it->second.version;
    notice.event = event.what;
    notice.why = event.why;
    if (!public_url_.empty()) notice.url = public_url_ + "/environments/" + environment;
    notifier_->Notify(notice);
  }
  fmt::print(stderr, "tauon: {}: {}{}{}\n", environment, event.what,
             release_id ? fmt::format(" release {}", *release_id) : "",
             event.why.empty() ? "" : ": " + event.why);
}

Status Controller::OpenEnvironment(const store::EnvironmentRecord& environment) {
  Result<int> port =
      traffic_.Open(environment.name, fmt::format("{}:{}", listen_host_, environment.port));
  if (!port) {
    return Fail("environment '{}': cannot listen on port {}: {}", environment.name,
                environment.port, port.error().message);
  }
  return Ok();
}

Status Controller::Recover() {
  std::lock_guard lock(mu_);
  if (!store_) {
    Result<std::unique_ptr<store::Store>> store = store::Store::Open(data_dir_ / "tauon.db");
    if (!store) return std::unexpected(store.error());
    store_ = std::move(*store);
  }
  // Replicas of a server that died: nobody routes to them any more.
  Result<std::vector<store::Store::ReplicaProcess>> leftovers = store_->ListReplicaProcesses();
  if (!leftovers) return std::unexpected(leftovers.error());
  for (const store::Store::ReplicaProcess& process : *leftovers) {
    std::optional<ProcessIdentity> leader = ProcessIdentity::Parse(process.leader);
    if (leader && leader->IsAlive() && process.pgid > 1) {
      kill(-process.pgid, SIGKILL);
      fmt::print(stderr, "tauon: killed replica {} of release {} left by a previous server (pid {})\n",
                 process.replica, process.release_id, process.pgid);
    }
    (void)store_->RemoveReplicaProcess(process.release_id, process.replica);
  }
  Result<std::map<std::string, std::string>> pending = store_->PendingPromotions();
  if (!pending) return std::unexpected(pending.error());
  pending_ = std::move(*pending);
  Result<std::vector<store::EnvironmentRecord>> environments = store_->ListEnvironments();
  if (!environments) return std::unexpected(environments.error());
  std::map<std::string, std::optional<int64_t>> desired;
  for (const store::EnvironmentRecord& environment : *environments) {
    desired[environment.name] = environment.desired_release;
    if (Status ok = OpenEnvironment(environment); !ok) {
      Event(environment.name, std::nullopt, "router-failed", ok.error().message);
    }
  }
  Result<std::vector<store::ReleaseRecord>> releases = store_->ActiveReleases();
  if (!releases) return std::unexpected(releases.error());
  // Per environment: the live release serves again; the desired release, if
  // it was still starting, starts again; a canary, rolling update or
  // blue-green preview in progress is rolled back (its analysis and moves
  // so far were lost with the server's memory), the live release at full size.
  for (const store::ReleaseRecord& release : *releases) {
    const bool desired_here = desired[release.environment] == release.id;
    std::string why;
    const bool rolling_out = release.phase != "starting" && InProgressPhase(release.phase);
    if (rolling_out) {
      why = fmt::format("rolled back: the server restarted during the {}",
                        release.phase == "canary"    ? "canary"
                        : release.phase == "preview" ? "blue-green preview"
                                                     : "rolling update");
    } else if (release.phase == "starting" && !desired_here) {
      why = "replaced while the server was down";
    }
    if (!why.empty()) {
      (void)store_->SetReleasePhase(release.id, rolling_out ? "failed" : "superseded", why,
                                    clock_.Now());
      Event(release.environment, release.id, rolling_out ? "rolled-back" : "superseded", why);
      continue;
    }
    if (release.phase == "live") serving_[release.environment] = release.id;
    if (Status ok = StartRelease(release, true); !ok) {
      (void)store_->SetReleasePhase(release.id, "failed", ok.error().message, clock_.Now());
      Event(release.environment, release.id, "failed", ok.error().message);
      continue;
    }
    Event(release.environment, release.id, "restarted", "the server started again");
  }
  for (const auto& [environment, release] : desired) {
    // A rolled back canary leaves the stable release desired.
    auto s = serving_.find(environment);
    if (s != serving_.end() && release && !active_.contains(*release)) {
      (void)store_->SetDesiredRelease(environment, s->second);
    }
  }
  return Ok();
}

Status Controller::StartRelease(const store::ReleaseRecord& release, bool recovering) {
  Result<std::optional<store::ModelVersionRecord>> version =
      store_->GetModelVersion(release.model, release.version);
  if (!version) return std::unexpected(version.error());
  if (!*version) return Fail("model {}@{} is not registered", release.model, release.version);
  Result<spec::Pipeline> pipeline = ReleasePipeline(release);
  if (!pipeline) return std::unexpected(pipeline.error());
  Result<ReleaseDirs> dirs = PrepareRelease(data_dir_, release, **version);
  if (!dirs) return std::unexpected(dirs.error());

  const spec::ServeSpec& serve = pipeline->deploy->serve;
  runtime::ReplicaTemplate tmpl;
  tmpl.command = serve.command;
  tmpl.cwd = dirs->code;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("PORT=") || entry.starts_with("TAUON_")) continue;
    tmpl.env.emplace_back(entry);
  }
  // getenv() finds the first entry of a name: a later setting replaces it.
  auto set = [&](const std::string& key, const std::string& value) {
    std::erase_if(tmpl.env, [&](const std::string& entry) { return entry.starts_with(key + "="); });
    tmpl.env.push_back(key + "=" + value);
  };
  const std::string label = fmt::format("{}@{}", release.model, release.version);
  set("TAUON_MODEL_DIR", dirs->model.string());
  set("TAUON_MODEL", label);
  set("TAUON_ENVIRONMENT", release.environment);
  set("TAUON_RELEASE", std::to_string(release.id));
  // The pipeline's env (e.g. PYTHON, PYTHONPATH) as for its steps, then serve.env.
  for (const auto& [key, value] : pipeline->env) set(key, value);
  for (const auto& [key, value] : serve.env) set(key, value);
  tmpl.readiness = serve.readiness;
  tmpl.liveness = serve.liveness;
  tmpl.stop_timeout = serve.stop_timeout;
  tmpl.log_dir = dirs->logs;
  const spec::EnvironmentSpec* settings = pipeline->deploy->FindEnvironment(release.environment);
  if (!settings) {
    return Fail("the pipeline of commit {} has no environment '{}'", release.commit.substr(0, 12),
                release.environment);
  }
  Active& active = active_[release.id];
  active.release = release;
  active.version = label;
  active.settings = *settings;
  active.started = clock_.Now();
  active.next.clear();
  for (const spec::EnvironmentSpec& environment : pipeline->deploy->environments) {
    if (environment.after == release.environment) active.next.push_back(environment);
  }
  // A rolling update starts with no replicas: Roll() adds them as the
  // stable release's leave.
  const bool rolling = settings->rolling && !recovering && serving_.contains(release.environment);
  if (rolling) {
    active.release.phase = "rolling";
    (void)store_->SetReleasePhase(release.id, "rolling", "", clock_.Now());
  }
  supervisor_->Run(release.id, std::move(tmpl), rolling ? 0 : release.replicas);
  if (rolling) {
    const spec::RollingStrategy& r = *settings->rolling;
    Event(release.environment, release.id, "rolling",
          fmt::format("{}: replacing the replicas one by one (max_surge {}, max_unavailable {})",
                      label, r.max_surge.Of(release.replicas, true),
                      r.max_unavailable.Of(release.replicas, false)));
  }
  return Ok();
}

Result<Controller::Loaded> Controller::LoadPipeline(const store::ModelVersionRecord& version) {
  const std::string label = fmt::format("{}@{}", version.name, version.version);
  Result<std::optional<store::RunRecord>> run = store_->GetRun(version.run_id);
  if (!run) return std::unexpected(run.error());
  if (!*run || (*run)->source.empty()) {
    return Fail("cannot find the code of {}: run {} did not record its repository", label,
                version.run_id);
  }
  const std::string commit = version.commit.substr(0, 12);
  Result<std::unique_ptr<scm::GitRepository>> repo = scm::GitRepository::Open((*run)->source);
  if (!repo) {
    return Fail("cannot find the code of {}: {}", label, repo.error().message);
  }
  Result<std::optional<std::string>> text = (*repo)->ReadFile(version.commit, ".tauon.yml");
  if (!text) return Fail("cannot read the pipeline of commit {}: {}", commit, text.error().message);
  if (!*text) return Fail("commit {} has no .tauon.yml", commit);
  auto pipeline = spec::ParsePipeline(**text);
  if (!pipeline) {
    const spec::Diagnostic& first = pipeline.error().front();
    return Fail("the pipeline of commit {} is invalid: .tauon.yml:{}:{}: {}", commit,
                first.location.line, first.location.column, first.message);
  }
  if (!pipeline->deploy) {
    return Fail("the pipeline of commit {} has no 'deploy': it says nothing of how to serve {}",
                commit, label);
  }
  return Loaded{(*run)->source, std::move(**text), std::move(*pipeline)};
}

Result<int64_t> Controller::Deploy(const DeployRequest& request) {
  std::lock_guard lock(mu_);
  return DeployLocked(request);
}

Result<int64_t> Controller::DeployLocked(const DeployRequest& request) {
  if (!store_) return Fail("the deploy controller has not started");
  Result<artifacts::ModelRef> ref = artifacts::ParseModelRef(request.model);
  if (!ref) return std::unexpected(ref.error());
  Result<store::ModelVersionRecord> version = artifacts::ResolveModel(*store_, *ref);
  if (!version) return std::unexpected(version.error());
  const std::string label = fmt::format("{}@{}", version->name, version->version);
  if (!request.repo.empty() && version->repo != request.repo) {
    return Fail("{} comes from repository '{}', not '{}'", label, version->repo, request.repo);
  }
  const std::string commit = version->commit.substr(0, 12);
  Result<Loaded> loaded = LoadPipeline(*version);
  if (!loaded) return std::unexpected(loaded.error());
  const spec::Pipeline* pipeline = &loaded->pipeline;
  const spec::EnvironmentSpec* spec = pipeline->deploy->FindEnvironment(request.environment);
  if (!spec) {
    std::vector<std::string> names;
    for (const spec::EnvironmentSpec& e : pipeline->deploy->environments) names.push_back(e.name);
    auto suggestion = SuggestClosest(request.environment, names);
    return Fail("the pipeline of commit {} has no environment '{}'{} (environments: {})", commit,
                request.environment,
                suggestion ? fmt::format(" (did you mean '{}'?)", *suggestion) : "",
                Join(names, ", "));
  }

  Result<std::optional<store::EnvironmentRecord>> existing =
      store_->GetEnvironment(request.environment);
  if (!existing) return std::unexpected(existing.error());
  if (*existing) {
    if ((*existing)->repo != version->repo) {
      return Fail("environment '{}' serves repository '{}', not '{}'", request.environment,
                  (*existing)->repo, version->repo);
    }
    if (spec->port != 0 && spec->port != (*existing)->port) {
      return Fail("environment '{}' listens on port {}, and the pipeline of commit {} asks for {}: "
                  "moving an environment to another port is not supported",
                  request.environment, (*existing)->port, commit, spec->port);
    }
  } else {
    store::EnvironmentRecord environment;
    environment.name = request.environment;
    environment.repo = version->repo;
    environment.created_at = clock_.Now();
    if (spec->port != 0) {
      Result<std::vector<store::EnvironmentRecord>> all = store_->ListEnvironments();
      if (!all) return std::unexpected(all.error());
      for (const store::EnvironmentRecord& other : *all) {
        if (other.port == spec->port) {
          return Fail("environment '{}': port {} is the port of environment '{}'",
                      environment.name, spec->port, other.name);
        }
      }
    }
    Result<int> port =
        traffic_.Open(environment.name, fmt::format("{}:{}", listen_host_, spec->port));
    if (!port) {
      return Fail("environment '{}': cannot listen on port {}: {}", environment.name, spec->port,
                  port.error().message);
    }
    environment.port = *port;
    if (Status ok = store_->CreateEnvironment(environment); !ok) {
      traffic_.Close(environment.name);
      return std::unexpected(ok.error());
    }
  }

  store::ReleaseRecord release;
  release.environment = request.environment;
  release.model = version->name;
  release.version = version->version;
  release.repo = version->repo;
  release.commit = version->commit;
  release.source = loaded->source;
  release.pipeline = loaded->text;
  release.replicas = spec->replicas > 0 ? spec->replicas : pipeline->deploy->serve.replicas;
  release.created_by = request.who;
  release.created_at = clock_.Now();
  Result<int64_t> id = store_->CreateRelease(release);
  if (!id) return std::unexpected(id.error());
  release.id = *id;
  if (request.rollback_from != 0) {
    Event(request.environment, request.rollback_from, "rollback",
          fmt::format("to {} (asked by {})", label, request.who), request.who);
  }
  Event(request.environment, release.id, "deploy",
        fmt::format("{} (commit {}), {} replica{}", label, commit, release.replicas,
                    release.replicas == 1 ? "" : "s"),
        request.who);
  if (Status ok = StartRelease(release, false); !ok) {
    (void)store_->SetReleasePhase(release.id, "failed", ok.error().message, clock_.Now());
    Event(request.environment, release.id, "failed", ok.error().message);
    return std::unexpected(ok.error());
  }
  if (request.rollback) active_[release.id].next.clear();  // A rollback stays where it is.
  // A release still on its way in this environment will never serve now:
  // traffic goes back to the stable release.
  for (auto& [other_id, other] : active_) {
    if (other_id == release.id || other.release.environment != request.environment ||
        !InProgressPhase(other.release.phase)) {
      continue;
    }
    other.release.phase = "superseded";
    Withdraw(other);
    const std::string why = fmt::format("release {} was deployed before it was done", release.id);
    (void)store_->SetReleasePhase(other_id, "superseded", why, clock_.Now());
    Event(request.environment, other_id, "superseded", why);
  }
  (void)store_->SetDesiredRelease(request.environment, release.id);
  return release.id;
}

void Controller::OnChange(int64_t release_id) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  auto it = active_.find(release_id);
  if (it == active_.end()) return;
  Active& active = it->second;
  store::ReleaseRecord& release = active.release;
  const std::vector<runtime::ReplicaStatus> replicas = supervisor_->Replicas(release_id);
  if (release.phase == "starting") {
    size_t ready = std::count_if(replicas.begin(), replicas.end(), [](const auto& r) {
      return r.state == runtime::ReplicaState::kReady;
    });
    if (ready < static_cast<size_t>(release.replicas)) return;
    const bool has_stable = serving_.contains(release.environment);
    if (active.settings.canary && has_stable) {
      StartCanary(active);
    } else if (active.settings.blue_green && has_stable) {
      StartPreview(active);
    } else {
      GoLive(active,
             fmt::format("{}: {} ready, 100% of traffic{}", active.version, AllReplicas(ready),
                         active.settings.canary ? " (no stable release to compare a canary with)"
                                                : ""),
             "tauon");
    }
  } else if (release.phase == "rolling") {
    Roll(active);
  } else if (release.phase == "live" || release.phase == "canary" || release.phase == "preview") {
    RouteEnvironment(release.environment);
    RoutePreview(release.environment);
  } else if (supervisor_->Stopped(release_id)) {
    active_.erase(it);
  }
}

std::vector<TrafficTarget> Controller::Targets(const std::string& environment) {
  auto target = [&](const Active& active, const char* label) {
    TrafficTarget out;
    out.release = label;
    out.version = active.version;
    for (const runtime::ReplicaStatus& replica : supervisor_->Replicas(active.release.id)) {
      if (replica.state == runtime::ReplicaState::kReady &&
          !active.retired.contains(replica.name)) {
        out.upstreams.push_back({replica.name, "127.0.0.1", replica.port});
      }
    }
    return out;
  };
  std::vector<TrafficTarget> targets;
  const Active* stable = Stable(environment);
  if (stable) targets.push_back(target(*stable, "stable"));
  const Active* next = InProgress(environment);
  if (next && next->release.phase == "canary") {
    const uint32_t weight = static_cast<uint32_t>(next->settings.canary->steps[next->step].weight);
    if (stable) targets[0].weight = 100 - weight;
    targets.push_back(target(*next, "canary"));
    targets.back().weight = weight;
  } else if (next && next->release.phase == "rolling") {
    // Every ready replica of either release takes an equal share.
    targets.push_back(target(*next, "canary"));
    for (TrafficTarget& t : targets) t.weight = static_cast<uint32_t>(t.upstreams.size());
    std::erase_if(targets, [](const TrafficTarget& t) { return t.weight == 0; });
    if (targets.empty() && stable) targets.push_back(target(*stable, "stable"));
  }
  if (stable && targets.size() == 1 && targets[0].weight == 0) targets[0].weight = 100;
  return targets;
}

void Controller::Apply(const std::string& router, std::vector<TrafficTarget> targets) {
  std::string key;
  for (const TrafficTarget& target : targets) {
    key += fmt::format("{}={}:{};", target.release, target.version, target.weight);
    for (const auto& upstream : target.upstreams) key += fmt::format("{},", upstream.port);
  }
  if (routed_[router] == key) return;
  routed_[router] = key;
  traffic_.Route(router, std::move(targets));
}

void Controller::RouteEnvironment(const std::string& environment) {
  Apply(environment, Targets(environment));
}

nlohmann::json Controller::EnvironmentJson(const store::EnvironmentRecord& environment) {
  std::string host = listen_host_ == "0.0.0.0" || listen_host_.empty() ? "127.0.0.1" : listen_host_;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  nlohmann::json out = {{"environment", environment.name},
                        {"repo", environment.repo},
                        {"port", environment.port},
                        {"url", fmt::format("http://{}:{}", host, environment.port)},
                        {"strategy", "replace"},
                        {"analysis", nlohmann::json::array()}};
  Result<std::vector<store::ReleaseRecord>> releases =
      store_->ListReleases(environment.name, kReleasesShown);
  std::optional<store::ReleaseRecord> current;
  out["releases"] = nlohmann::json::array();
  if (releases) {
    for (const store::ReleaseRecord& release : *releases) {
      out["releases"].push_back(ReleaseJson(release));
      if (environment.desired_release == release.id) current = release;
    }
  }
  out["release"] = current ? nlohmann::json(current->id) : nlohmann::json(nullptr);
  out["model"] = current ? nlohmann::json(current->model) : nlohmann::json(nullptr);
  out["version"] = current ? nlohmann::json(current->version) : nlohmann::json(nullptr);
  out["phase"] = current ? nlohmann::json(current->phase) : nlohmann::json("empty");
  // In memory, the phases are the newest (the store's are too, but read above).
  if (current) {
    if (auto it = active_.find(current->id); it != active_.end()) out["phase"] = it->second.release.phase;
  }
  if (current) {
    if (auto it = active_.find(current->id); it != active_.end()) {
      const Active& release = it->second;
      out["strategy"] = release.settings.StrategyName();
      if (release.release.phase == "canary") {
        out["step"] = {{"index", release.step + 1},
                       {"of", release.settings.canary->steps.size()},
                       {"weight", release.settings.canary->steps[release.step].weight},
                       {"since", FormatTime(release.step_started)},
                       // A step without `pause` goes on only on `tauon promote`.
                       {"waits_for_promote",
                        !release.settings.canary->steps[release.step].pause.has_value()}};
      }
    }
  }
  if (auto preview = previews_.find(environment.name); preview != previews_.end()) {
    out["preview_url"] = fmt::format("http://{}:{}", host, preview->second);
  }
  // The analysis of the newest release that has one: the canary in
  // progress, or the last one promoted or rolled back (after a rollback the
  // current release is the stable one again, and the failed intervals say
  // why).
  for (size_t i = 0; releases && i < releases->size(); ++i) {
    const store::ReleaseRecord& release = (*releases)[i];
    Result<std::vector<store::AnalysisRecord>> analysis =
        store_->ListAnalysis(release.id, kEventsShown);
    if (!analysis || analysis->empty()) continue;
    for (const store::AnalysisRecord& interval : *analysis) {
      out["analysis"].push_back(
          {{"release", release.id},
           {"interval", interval.interval},
           {"at", FormatTime(interval.at)},
           {"verdict", interval.verdict},
           {"reason", interval.reason},
           {"canary_requests", interval.canary_requests},
           {"checks", nlohmann::json::parse(interval.checks, nullptr, false)}});
    }
    break;
  }
  // Weights and serving replicas as routed (in percent of the traffic).
  out["weights"] = nlohmann::json::object();
  out["replicas"] = nlohmann::json::array();
  std::set<int> serving_ports;
  uint32_t total = 0;
  const std::vector<TrafficTarget> targets = Targets(environment.name);
  // By version: two releases of one version (a redeploy as a canary) share it.
  std::map<std::string, uint32_t> by_version;
  for (const TrafficTarget& target : targets) {
    total += target.weight;
    if (target.weight > 0) by_version[target.version] += target.weight;
  }
  for (const auto& [version, weight] : by_version) {
    out["weights"][version] = weight * 100 / total;
  }
  for (const TrafficTarget& target : targets) {
    for (const TrafficTarget::Upstream& upstream : target.upstreams) {
      if (target.weight > 0) serving_ports.insert(upstream.port);
    }
  }
  for (const auto& [release_id, active] : active_) {
    if (active.release.environment != environment.name) continue;
    for (const runtime::ReplicaStatus& replica : supervisor_->Replicas(release_id)) {
      out["replicas"].push_back({{"name", replica.name},
                                 {"release", release_id},
                                 {"version", active.version},
                                 {"state", runtime::Name(replica.state)},
                                 {"pid", replica.pid},
                                 {"port", replica.port},
                                 {"restarts", replica.restarts},
                                 {"last_exit", replica.last_exit},
                                 {"since", FormatTime(replica.since)},
                                 {"restart_at", OptionalTime(replica.restart_at)},
                                 {"serving", serving_ports.contains(replica.port) &&
                                                 replica.state == runtime::ReplicaState::kReady}});
    }
  }
  out["traffic"] = traffic_.Describe(environment.name);
  out["events"] = nlohmann::json::array();
  if (Result<std::vector<store::DeployEventRecord>> events =
          store_->ListDeployEvents(environment.name, kEventsShown)) {
    for (const store::DeployEventRecord& event : *events) {
      out["events"].push_back({{"what", event.what},
                               {"why", event.why},
                               {"who", event.who},
                               {"at", FormatTime(event.at)},
                               {"release", event.release_id ? nlohmann::json(*event.release_id)
                                                            : nlohmann::json(nullptr)}});
    }
  }
  return out;
}

Result<std::optional<nlohmann::json>> Controller::Environment(const std::string& name) {
  std::lock_guard lock(mu_);
  if (!store_) return Fail("the deploy controller has not started");
  Result<std::optional<store::EnvironmentRecord>> environment = store_->GetEnvironment(name);
  if (!environment) return std::unexpected(environment.error());
  if (!*environment) return std::nullopt;
  return EnvironmentJson(**environment);
}

Result<nlohmann::json> Controller::Environments() {
  std::lock_guard lock(mu_);
  if (!store_) return Fail("the deploy controller has not started");
  Result<std::vector<store::EnvironmentRecord>> environments = store_->ListEnvironments();
  if (!environments) return std::unexpected(environments.error());
  nlohmann::json out = nlohmann::json::array();
  for (const store::EnvironmentRecord& environment : *environments) {
    out.push_back(EnvironmentJson(environment));
  }
  return out;
}

Result<std::filesystem::path> Controller::ReplicaLog(const std::string& environment,
                                                     const std::string& replica,
                                                     std::optional<int64_t> release_id) {
  std::lock_guard lock(mu_);
  if (!store_) return Fail("the deploy controller has not started");
  Result<std::optional<store::EnvironmentRecord>> record = store_->GetEnvironment(environment);
  if (!record) return std::unexpected(record.error());
  if (!*record) return Fail("no environment '{}'", environment);
  if (!release_id) release_id = (*record)->desired_release;
  if (!release_id) return Fail("environment '{}' has no release", environment);
  Result<std::optional<store::ReleaseRecord>> release = store_->GetRelease(*release_id);
  if (!release) return std::unexpected(release.error());
  if (!*release || (*release)->environment != environment) {
    return Fail("environment '{}' has no release {}", environment, *release_id);
  }
  const bool valid = replica.size() > 1 && replica[0] == 'r' &&
                     std::all_of(replica.begin() + 1, replica.end(), ::isdigit);
  std::filesystem::path log = ReleaseDirsOf(data_dir_, *release_id).logs / (replica + ".log");
  std::error_code ec;
  if (!valid || !std::filesystem::exists(log, ec)) {
    return Fail("release {} of environment '{}' has no replica '{}' (replicas: r1 to r{})",
                *release_id, environment, replica, (*release)->replicas);
  }
  return log;
}

}  // namespace tauon::deploy
