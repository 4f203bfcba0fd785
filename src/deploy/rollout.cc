// The parts of the deploy controller that time moves along: a release going
// live, canary steps and their analysis, rollbacks, progress deadlines and
// crash loops, and the promote and abort commands.
#include <fmt/format.h>

#include "deploy/analysis.h"
#include "deploy/controller.h"
#include "deploy/release_files.h"

namespace tauon::deploy {
namespace {

// A release whose replica restarted this often before it served is
// crash-looping: it is rolled back.
constexpr int kCrashLoopRestarts = 3;
// How long a release with the plain replacement strategy may take to become ready.
constexpr Duration kReplaceDeadline{300'000};

// The checks, then the providers (marked "provider": true), each with its values.
nlohmann::json ChecksJson(const IntervalVerdict& verdict) {
  nlohmann::json out = nlohmann::json::array();
  for (const reports::GateResult& check : verdict.checks) {
    out.push_back({{"check", check.expression},
                   {"verdict", check.verdict},
                   {"values", check.values},
                   {"message", check.message}});
  }
  for (const reports::GateResult& provider : verdict.providers) {
    out.push_back({{"check", provider.expression},
                   {"provider", true},
                   {"verdict", provider.verdict},
                   {"values", provider.values},
                   {"message", provider.message}});
  }
  return out;
}

ReleaseInterval IntervalOf(const router::Snapshot& before, const router::Snapshot& after,
                           const std::string& label, double seconds) {
  ReleaseInterval out;
  const router::ReleaseSnapshot* b = before.Find(label);
  const router::ReleaseSnapshot* a = after.Find(label);
  if (!a) return out;
  router::ReleaseSnapshot empty;
  out.stats = router::Interval(b ? *b : empty, *a, seconds);
  const uint64_t agreed = a->mirror_agreed - (b ? b->mirror_agreed : 0);
  const uint64_t disagreed = a->mirror_disagreed - (b ? b->mirror_disagreed : 0);
  if (agreed + disagreed > 0) {
    out.mirror_agreement = static_cast<double>(agreed) / static_cast<double>(agreed + disagreed);
  }
  return out;
}

Duration ProgressDeadline(const spec::EnvironmentSpec& settings) {
  if (settings.canary) return settings.canary->progress_deadline;
  if (settings.rolling) return settings.rolling->progress_deadline;
  if (settings.blue_green) return settings.blue_green->progress_deadline;
  return kReplaceDeadline;
}

}  // namespace

Controller::Active* Controller::InProgress(const std::string& environment) {
  for (auto& [id, active] : active_) {
    if (active.release.environment == environment && InProgressPhase(active.release.phase))
      return &active;
  }
  return nullptr;
}

Controller::Active* Controller::Stable(const std::string& environment) {
  auto serving = serving_.find(environment);
  if (serving == serving_.end()) return nullptr;
  auto it = active_.find(serving->second);
  return it == active_.end() ? nullptr : &it->second;
}

void Controller::GoLive(Active& active, const std::string& why, const std::string& who) {
  store::ReleaseRecord& release = active.release;
  active.measuring.reset();  // Promoted by hand: the interval in progress is not judged.
  std::optional<int64_t> previous;
  if (auto s = serving_.find(release.environment); s != serving_.end() && s->second != release.id) {
    previous = s->second;
  }
  release.phase = "live";
  serving_[release.environment] = release.id;
  (void)store_->SetReleasePhase(release.id, "live", "", clock_.Now());
  (void)store_->SetDesiredRelease(release.environment, release.id);
  Event(release.environment, release.id, "live", why, who);
  RouteEnvironment(release.environment);
  // The aliases that choose the gates' baseline follow completed rollouts.
  if (release.environment == "staging" || release.environment == "production") {
    Result<std::map<std::string, int>> aliases = store_->GetModelAliases(release.model);
    if (aliases && (!aliases->contains(release.environment) ||
                    aliases->at(release.environment) != release.version)) {
      (void)store_->SetModelAlias(release.model, release.environment, release.version,
                                  clock_.Now(), "tauon");
      Event(release.environment, release.id, "alias",
            fmt::format("{}@{} now points to version {}", release.model, release.environment,
                        release.version));
    }
  }
  // The promotion chain: the environments after this one get the version
  // now (approval: auto) or on `tauon promote` (manual).
  const std::string label = active.version;
  const std::vector<spec::EnvironmentSpec> next = active.next;  // DeployLocked changes active_.
  const std::string from = release.environment;
  // What the replaced release offered downstream and this one does not (a
  // rollback offers nothing): an approval still waiting for it is withdrawn,
  // or `tauon promote` there would ship the version just left behind here.
  if (auto p = previous ? active_.find(*previous) : active_.end(); p != active_.end()) {
    for (const spec::EnvironmentSpec& downstream : p->second.next) {
      auto waiting = pending_.find(downstream.name);
      bool offered_again = std::any_of(next.begin(), next.end(), [&](const auto& e) {
        return e.name == downstream.name;
      });
      if (offered_again || waiting == pending_.end() || waiting->second != p->second.version) {
        continue;
      }
      Event(downstream.name, std::nullopt, "withdrawn",
            fmt::format("{} no longer serves {} ({} does): nothing waits for tauon promote {}",
                        from, p->second.version, label, downstream.name));
      pending_.erase(waiting);
      (void)store_->ClearPendingPromotion(downstream.name);
    }
  }
  for (const spec::EnvironmentSpec& environment : next) {
    if (environment.approval == spec::Approval::kManual) {
      pending_[environment.name] = label;
      (void)store_->SetPendingPromotion(environment.name, label);
      Event(environment.name, std::nullopt, "waiting",
            fmt::format("{} is live in {}: tauon promote {} deploys it here", label, from,
                        environment.name));
      continue;
    }
    pending_.erase(environment.name);
    (void)store_->ClearPendingPromotion(environment.name);
    DeployRequest request{environment.name, label, "", "tauon"};
    if (Result<int64_t> id = DeployLocked(request); !id) {
      Event(environment.name, std::nullopt, "failed",
            fmt::format("promoting {} from {}: {}", label, from, id.error().message));
    }
  }
  if (previous) {
    if (auto p = active_.find(*previous); p != active_.end()) p->second.release.phase = "superseded";
    const std::string reason = fmt::format("replaced by release {}", release.id);
    (void)store_->SetReleasePhase(*previous, "superseded", reason, clock_.Now());
    // Blue-green keeps the old release running a while: a rollback is a switch back.
    const Duration delay =
        active.settings.blue_green ? active.settings.blue_green->scale_down_delay : Duration(0);
    Event(release.environment, *previous, "superseded",
          delay > Duration(0) ? fmt::format("{}; its replicas stop in {}s unless rolled back to",
                                            reason, delay.count() / 1000)
                              : reason);
    Drain(*previous, "", delay);
  }
  RoutePreview(release.environment);
}

void Controller::StartCanary(Active& canary) {
  canary.release.phase = "canary";
  canary.step = 0;
  canary.step_started = clock_.Now();
  canary.last_sample = traffic_.Sample(canary.release.environment);
  canary.last_sample_at = clock_.Now();
  (void)store_->SetReleasePhase(canary.release.id, "canary", "", clock_.Now());
  const spec::CanaryStep& step = canary.settings.canary->steps[0];
  Event(canary.release.environment, canary.release.id, "canary",
        fmt::format("{}: step 1 of {}, {}% of traffic", canary.version,
                    canary.settings.canary->steps.size(), step.weight));
  RouteEnvironment(canary.release.environment);
}

void Controller::NextStep(Active& canary, const std::string& who) {
  const auto& steps = canary.settings.canary->steps;
  if (canary.step + 1 >= steps.size()) {
    GoLive(canary,
           fmt::format("{}: promoted after {} step{} and {} analysis interval{}", canary.version,
                       steps.size(), steps.size() == 1 ? "" : "s", canary.intervals,
                       canary.intervals == 1 ? "" : "s"),
           who);
    return;
  }
  canary.step++;
  canary.step_started = clock_.Now();
  Event(canary.release.environment, canary.release.id, "canary",
        fmt::format("{}: step {} of {}, {}% of traffic", canary.version, canary.step + 1,
                    steps.size(), steps[canary.step].weight),
        who);
  RouteEnvironment(canary.release.environment);
}

void Controller::Withdraw(Active& active) {
  const std::string& environment = active.release.environment;
  Active* stable = Stable(environment);
  if (stable && &active != stable) {
    // Replicas a rolling update took out but that still run serve again,
    // and the stable release grows back to its size.
    for (auto it = stable->retired.begin(); it != stable->retired.end();) {
      if (draining_.erase({stable->release.id, *it}) > 0) {
        it = stable->retired.erase(it);
      } else {
        ++it;
      }
    }
    supervisor_->Scale(stable->release.id, stable->release.replicas);
  }
  RouteEnvironment(environment);
  RoutePreview(environment);
  Drain(active.release.id);
}

void Controller::RollBack(Active& active, const std::string& reason, const std::string& who) {
  store::ReleaseRecord& release = active.release;
  const bool served = release.phase != "starting";
  active.measuring.reset();  // Its commands are stopped: the analysis is over.
  release.phase = "failed";
  // Traffic first: every request from now on goes to the stable release.
  Withdraw(active);
  (void)store_->SetReleasePhase(release.id, "failed", reason, clock_.Now());
  if (auto s = serving_.find(release.environment); s != serving_.end()) {
    (void)store_->SetDesiredRelease(release.environment, s->second);
  }
  Event(release.environment, release.id, served ? "rolled-back" : "failed", reason, who);
}

std::optional<router::Snapshot> Controller::Sample(const Active& release) {
  std::optional<router::Snapshot> sample = traffic_.Sample(release.release.environment);
  if (sample && release.release.phase == "preview") {
    // A blue-green preview's traffic comes through its own router.
    std::optional<router::Snapshot> preview =
        traffic_.Sample(PreviewRouter(release.release.environment));
    // (None with `preview: false`: the preview's metrics read 0 requests.)
    const router::ReleaseSnapshot* r = preview ? preview->Find("preview") : nullptr;
    if (r) sample->releases.push_back(*r);
  }
  return sample;
}

void Controller::AnalyzeInterval(Active& canary, TimePoint now) {
  // A canary is analysed throughout; a blue-green release before its switch.
  const bool preview = canary.release.phase == "preview";
  const spec::AnalysisSpec& spec =
      preview ? *canary.settings.blue_green->pre_promotion : canary.settings.canary->analysis;
  auto judge = [&](IntervalVerdict verdict, TimePoint at) {
    canary.intervals++;
    store::AnalysisRecord record;
    record.release_id = canary.release.id;
    record.interval = canary.intervals;
    record.at = at;
    record.verdict = verdict.verdict;
    record.reason = verdict.reason;
    record.canary_requests = static_cast<int64_t>(verdict.canary_requests);
    record.checks = ChecksJson(verdict).dump();
    (void)store_->AddAnalysis(record);
    analysis_export_.Record(canary.release.environment, canary.release.id, verdict);
    if (verdict.verdict == "pass") {
      canary.failed_in_a_row = 0;
      if (preview) {
        PreviewPassed(canary,
                      fmt::format("pre-promotion analysis passed interval {}", canary.intervals));
      }
    } else if (verdict.verdict == "fail") {
      canary.failed_in_a_row++;
      Event(canary.release.environment, canary.release.id, "analysis-failed",
            fmt::format("interval {}: {} ({} of {} in a row)", canary.intervals, verdict.reason,
                        canary.failed_in_a_row, spec.failure_limit));
      if (canary.failed_in_a_row >= spec.failure_limit) {
        RollBack(canary,
                 fmt::format("{}analysis failed {} interval{} in a row: {}",
                             preview ? "pre-promotion " : "", canary.failed_in_a_row,
                             canary.failed_in_a_row == 1 ? "" : "s", verdict.reason),
                 "tauon");
      }
    }
  };
  // An interval whose providers were started: judged once they all returned.
  // The next interval starts when this one ended but ends only after.
  if (canary.measuring) {
    if (!canary.measuring->providers->done()) return;
    std::shared_ptr<PendingInterval> pending = std::move(canary.measuring);
    judge(Analyze(spec, pending->stable, pending->canary, pending->providers->results()),
          pending->at);
    return;
  }
  std::optional<router::Snapshot> sample = Sample(canary);
  if (!sample || !canary.last_sample) {
    canary.last_sample = sample;
    canary.last_sample_at = now;
    return;
  }
  const double seconds =
      std::max(0.001, std::chrono::duration<double>(now - canary.last_sample_at).count());
  ReleaseInterval stable = IntervalOf(*canary.last_sample, *sample, "stable", seconds);
  ReleaseInterval canary_interval =
      IntervalOf(*canary.last_sample, *sample, preview ? "preview" : "canary", seconds);
  canary.last_sample = std::move(sample);
  canary.last_sample_at = now;
  // Without providers, the verdict is known now; with them too when the
  // router's metrics already fail a check: a rollback never waits for them.
  IntervalVerdict verdict = Analyze(spec, stable, canary_interval);
  if (spec.providers.empty() || verdict.verdict == "fail") {
    judge(std::move(verdict), now);
    return;
  }
  auto pending = std::make_shared<PendingInterval>();
  pending->stable = std::move(stable);
  pending->canary = std::move(canary_interval);
  pending->at = now;
  pending->providers = std::make_unique<ProviderRun>(
      spec.providers,
      ProviderContextOf(canary, preview ? "TAUON_PREVIEW_URL" : "TAUON_CANARY_URL", spec.interval));
  canary.measuring = std::move(pending);
}

ProviderContext Controller::ProviderContextOf(const Active& release,
                                              const std::string& url_variable, Duration timeout) {
  ProviderContext context;
  const ReleaseDirs dirs = ReleaseDirsOf(data_dir_, release.release.id);
  context.cwd = dirs.code;
  context.log_dir = dirs.logs;
  context.default_timeout = timeout;
  // Not under mu_ (a provider's thread calls it): a flag and a notification.
  context.on_done = [this] {
    provider_done_.store(true);
    wake_.notify_all();
  };
  auto ready_url = [&](int64_t id) -> std::optional<std::string> {
    for (const runtime::ReplicaStatus& replica : supervisor_->Replicas(id)) {
      if (replica.state == runtime::ReplicaState::kReady) {
        return fmt::format("http://127.0.0.1:{}", replica.port);
      }
    }
    return std::nullopt;
  };
  std::string host = listen_host_ == "0.0.0.0" || listen_host_.empty() ? "127.0.0.1" : listen_host_;
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  const std::string& environment = release.release.environment;
  if (auto preview = previews_.find(environment);
      url_variable == "TAUON_PREVIEW_URL" && preview != previews_.end()) {
    // A blue-green release is evaluated as its users will reach it: through the preview router.
    context.env.emplace_back(url_variable, fmt::format("http://{}:{}", host, preview->second));
  } else if (auto url = ready_url(release.release.id)) {
    context.env.emplace_back(url_variable, *url);
  }
  if (auto s = serving_.find(environment); s != serving_.end() && s->second != release.release.id) {
    if (auto url = ready_url(s->second)) context.env.emplace_back("TAUON_STABLE_URL", *url);
  }
  if (Result<std::optional<store::EnvironmentRecord>> record = store_->GetEnvironment(environment);
      record && *record) {
    context.env.emplace_back("TAUON_ENVIRONMENT_URL",
                             fmt::format("http://{}:{}", host, (*record)->port));
  }
  context.env.emplace_back("TAUON_ENVIRONMENT", environment);
  context.env.emplace_back("TAUON_RELEASE", std::to_string(release.release.id));
  context.env.emplace_back("TAUON_MODEL", release.version);
  context.env.emplace_back("TAUON_MODEL_DIR", dirs.model.string());
  return context;
}

void Controller::Drain(int64_t release_id, const std::string& replica, Duration delay) {
  draining_.emplace(std::pair{release_id, replica}, clock_.Now() + delay);
}

void Controller::StopDrained(TimePoint now) {
  for (auto it = draining_.begin(); it != draining_.end();) {
    const auto& [key, since] = *it;
    const auto& [id, name] = key;
    if (now < since) {
      ++it;
      continue;
    }
    bool idle = now - since >= kMaxDrain;
    if (!idle && now - since >= kMinDrain) {
      idle = true;
      auto active = active_.find(id);
      for (const runtime::ReplicaStatus& replica : supervisor_->Replicas(id)) {
        if (active != active_.end() && (name.empty() || replica.name == name) &&
            traffic_.InFlight(active->second.release.environment, "127.0.0.1", replica.port) > 0) {
          idle = false;
        }
      }
    }
    if (!idle) {
      ++it;
      continue;
    }
    if (name.empty()) {
      supervisor_->Stop(id);
    } else {
      supervisor_->StopReplica(id, name);
    }
    it = draining_.erase(it);
  }
}

void Controller::Tick() {
  const TimePoint now = clock_.Now();
  StopDrained(now);
  // Collected first: going live or rolling back changes active_'s entries.
  std::vector<int64_t> in_progress;
  for (const auto& [id, active] : active_) {
    if (InProgressPhase(active.release.phase)) in_progress.push_back(id);
  }
  for (int64_t id : in_progress) {
    auto it = active_.find(id);
    if (it == active_.end()) continue;
    Active& active = it->second;
    for (const runtime::ReplicaStatus& replica : supervisor_->Replicas(id)) {
      if (replica.restarts >= kCrashLoopRestarts) {
        RollBack(active,
                 fmt::format("replica {} is crash-looping ({} restarts, last: {})", replica.name,
                             replica.restarts, replica.last_exit),
                 "tauon");
        break;
      }
    }
    const std::string& phase = active.release.phase;
    if (phase == "starting" || phase == "rolling" ||
        (phase == "preview" && !active.preview_passed)) {
      const Duration deadline = ProgressDeadline(active.settings);
      if (now - active.started >= deadline) {
        RollBack(active,
                 fmt::format("{} within the progress deadline ({}s)",
                             phase == "rolling"   ? "not rolled out"
                             : phase == "preview" ? "pre-promotion analysis not passed"
                                                  : "not ready",
                             deadline.count() / 1000),
                 "tauon");
        continue;
      }
    }
    if (phase == "rolling") {
      Roll(active);
      continue;
    }
    if (phase == "preview") {
      const auto& pre = active.settings.blue_green->pre_promotion;
      if (pre && !active.preview_passed &&
          (active.measuring || now - active.last_sample_at >= pre->interval)) {
        AnalyzeInterval(active, now);
      }
      continue;
    }
    if (phase != "canary") continue;
    const Duration interval = active.settings.canary->analysis.interval;
    if (active.measuring || now - active.last_sample_at >= interval) {
      AnalyzeInterval(active, now);
      if (active.release.phase != "canary") continue;
    }
    const spec::CanaryStep& step = active.settings.canary->steps[active.step];
    // A step ends once the analysis of its last interval is in.
    if (step.pause && !active.measuring && now - active.step_started >= *step.pause) {
      NextStep(active, "tauon");
    }
  }
}

Result<std::string> Controller::Promote(const std::string& environment, const std::string& who) {
  std::lock_guard lock(mu_);
  Active* canary = InProgress(environment);
  if (canary && canary->release.phase == "preview") {
    const int64_t id = canary->release.id;
    GoLive(*canary,
           fmt::format("{}: switched from the preview by {}{}", canary->version, who,
                       canary->preview_passed ? "" : " before its pre-promotion analysis passed"),
           who);
    return fmt::format("release {} promoted: it serves 100% of traffic", id);
  }
  if (!canary) {
    if (auto waiting = pending_.find(environment); waiting != pending_.end()) {
      DeployRequest request{environment, waiting->second, "", who};
      Result<int64_t> id = DeployLocked(request);
      if (!id) return std::unexpected(id.error());
      pending_.erase(environment);
      (void)store_->ClearPendingPromotion(environment);
      return fmt::format("release {} of {} started in {}", *id, request.model, environment);
    }
  }
  if (!canary || canary->release.phase != "canary") {
    return Fail(
        "environment '{}' has nothing to promote: no canary, blue-green preview or "
        "version waiting for approval{}",
        environment,
        canary ? fmt::format(" (release {} is still {})", canary->release.id, canary->release.phase)
               : "");
  }
  const int64_t id = canary->release.id;
  NextStep(*canary, who);
  auto it = active_.find(id);
  if (it != active_.end() && it->second.release.phase == "canary") {
    return fmt::format("release {} moved to step {}: {}% of traffic", id, it->second.step + 1,
                       it->second.settings.canary->steps[it->second.step].weight);
  }
  return fmt::format("release {} promoted: it serves 100% of traffic", id);
}

void Controller::Registered(const store::ModelVersionRecord& version) {
  std::lock_guard lock(mu_);
  if (!store_ || shutting_down_) return;
  const std::string label = fmt::format("{}@{}", version.name, version.version);
  Result<Loaded> loaded = LoadPipeline(version);
  if (!loaded) {
    // A pipeline without `deploy` has nothing to roll out; anything else is worth a line.
    if (loaded.error().message.find("has no 'deploy'") == std::string::npos) {
      fmt::print(stderr, "tauon: {} is not rolled out: {}\n", label, loaded.error().message);
    }
    return;
  }
  for (const spec::EnvironmentSpec& environment : loaded->pipeline.deploy->environments) {
    if (!environment.after.empty()) continue;
    DeployRequest request{environment.name, label, "", "tauon"};
    if (Result<int64_t> id = DeployLocked(request); !id) {
      Event(environment.name, std::nullopt, "failed",
            fmt::format("deploying {}, registered by run {}: {}", label, version.run_id,
                        id.error().message));
    }
  }
}

Result<int64_t> Controller::Rollback(const std::string& environment, const std::string& to,
                                     const std::string& who) {
  std::lock_guard lock(mu_);
  if (!store_) return Fail("the deploy controller has not started");
  DeployRequest request;
  request.environment = environment;
  request.who = who;
  request.rollback = true;
  if (const Active* active = InProgress(environment)) {
    return Fail("release {} is in progress in '{}': roll it back with tauon abort {}",
                active->release.id, environment, environment);
  }
  auto serving = serving_.find(environment);
  if (serving == serving_.end()) return Fail("environment '{}' has no live release", environment);
  Result<std::vector<store::ReleaseRecord>> releases = store_->ListReleases(environment, 1000);
  if (!releases) return std::unexpected(releases.error());
  const store::ReleaseRecord* current = nullptr;
  for (const store::ReleaseRecord& release : *releases) {
    if (release.id == serving->second) current = &release;
  }
  if (!current) return Fail("environment '{}' has no live release", environment);
  const store::ReleaseRecord* target = nullptr;
  if (!to.empty()) {
    request.model = to.find('@') == std::string::npos ? current->model + "@" + to : to;
    if (request.model == fmt::format("{}@{}", current->model, current->version)) {
      return Fail("'{}' already serves {} (release {}): nothing to roll back to", environment,
                  request.model, current->id);
    }
  } else {
    // The newest release before the current one that served, of another version.
    for (const store::ReleaseRecord& release : *releases) {
      if (release.id < current->id && release.live_at &&
          (release.model != current->model || release.version != current->version)) {
        request.model = fmt::format("{}@{}", release.model, release.version);
        break;
      }
    }
    if (request.model.empty()) {
      return Fail("environment '{}' has served no other version to roll back to", environment);
    }
  }
  request.rollback_from = current->id;  // Its event comes once the request is accepted.
  // Within a blue-green scale_down_delay the release before still runs: the
  // rollback is a switch back to it.
  for (const store::ReleaseRecord& release : *releases) {
    if (release.id != current->id && release.live_at &&
        fmt::format("{}@{}", release.model, release.version) == request.model) {
      target = &release;
      break;
    }
  }
  const Active* live = Stable(environment);
  if (target && live && live->settings.blue_green) {
    auto it = active_.find(target->id);
    std::vector<runtime::ReplicaStatus> replicas = supervisor_->Replicas(target->id);
    const bool ready =
        !replicas.empty() && std::all_of(replicas.begin(), replicas.end(), [](const auto& r) {
          return r.state == runtime::ReplicaState::kReady;
        });
    if (it != active_.end() && it->second.release.phase == "superseded" && ready &&
        draining_.erase({target->id, ""}) > 0) {
      Event(environment, current->id, "rollback",
            fmt::format("to {} (asked by {})", request.model, who), who);
      it->second.next.clear();  // A rollback stays where it is.
      GoLive(it->second,
             fmt::format("{}: switched back at once (its replicas were still running)",
                         it->second.version),
             who);
      return target->id;
    }
  }
  return DeployLocked(request);
}

Result<std::string> Controller::Abort(const std::string& environment, const std::string& who) {
  std::lock_guard lock(mu_);
  Active* active = InProgress(environment);
  if (!active) return Fail("environment '{}' has no release in progress to abort", environment);
  const int64_t id = active->release.id;
  RollBack(*active, fmt::format("aborted by {}", who), who);
  return fmt::format("release {} rolled back: traffic is on the stable release", id);
}

}  // namespace tauon::deploy
