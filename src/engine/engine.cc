#include "engine/engine.h"

#include <algorithm>
#include <unordered_map>

#include "util/strings.h"

namespace tauon::engine {
namespace {

constexpr size_t kMaxProbeOutput = 4096;

// The scope of `if:` conditions: run facts and the status functions.
class ConditionScope final : public spec::Scope {
 public:
  ConditionScope(const RunContext& context, bool success, bool failure)
      : context_(context), success_(success), failure_(failure) {}

  std::optional<spec::Value> Lookup(std::string_view name) const override {
    if (name == "branch") return spec::Value(context_.branch);
    if (name == "event") return spec::Value(context_.event);
    if (name == "commit") return spec::Value(context_.commit);
    return std::nullopt;
  }

  std::optional<Result<spec::Value>> Call(std::string_view name,
                                          std::span<const spec::Value> args) const override {
    if (name != "success" && name != "failure" && name != "always") return std::nullopt;
    if (!args.empty()) return Fail("{}() takes no arguments", name);
    if (name == "success") return spec::Value(success_);
    if (name == "failure") return spec::Value(failure_);
    return spec::Value(true);
  }

 private:
  const RunContext& context_;
  bool success_;
  bool failure_;
};

std::string_view KeyOf(std::string_view entry) { return entry.substr(0, entry.find('=')); }

// Applies `layer` over `vars` ("KEY=VALUE" strings): later layers win.
void Overlay(std::vector<std::string>& vars, const spec::EnvList& layer) {
  for (const auto& [key, value] : layer) {
    std::string entry = key + "=" + value;
    auto it = std::find_if(vars.begin(), vars.end(),
                           [&](const std::string& var) { return KeyOf(var) == key; });
    if (it != vars.end()) {
      *it = std::move(entry);
    } else {
      vars.push_back(std::move(entry));
    }
  }
}

std::vector<std::string> ShellCommand(spec::Shell shell, const std::string& script) {
  if (shell == spec::Shell::kBash) {
    return {"bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script};
  }
  return {"/bin/sh", "-e", "-c", script};
}

}  // namespace

Engine::Engine(const Plan& plan, RunContext context, EngineOptions options,
               exec::ProcessRunner& runner, const Clock& clock, JobHost& host,
               RunObserver& observer)
    : plan_(plan),
      context_(std::move(context)),
      options_(std::move(options)),
      runner_(runner),
      clock_(clock),
      host_(host),
      observer_(observer),
      jobs_(plan.jobs.size()),
      dependants_(plan.jobs.size()),
      waiting_needs_(plan.jobs.size()),
      own_slots_(std::max(1, options_.parallelism)),
      slots_(options_.slots ? *options_.slots : own_slots_) {
  // The layers every process shares, merged once.
  for (const std::string& entry : options_.base_env) {
    if (entry.find('=') != std::string::npos && entry[0] != '=') {
      Overlay(base_env_, {{std::string(KeyOf(entry)), entry.substr(entry.find('=') + 1)}});
    }
  }
  Overlay(base_env_, {{"CI", "true"}});
  Overlay(base_env_, plan.env);
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    waiting_needs_[i] = plan.jobs[i].needs.size();
    for (size_t need : plan.jobs[i].needs) dependants_[need].push_back(i);
    if (plan.jobs[i].needs.empty()) decidable_.insert(i);
  }
  for (size_t i : options_.succeeded) {
    if (i >= jobs_.size() || IsTerminal(jobs_[i].status)) continue;
    decidable_.erase(i);
    SetTerminal(i, JobStatus::kSuccess);
  }
}

RunStatus Engine::Execute() {
  while (true) {
    ScheduleReady();
    if (terminal_jobs_ == jobs_.size()) break;
    std::optional<TimePoint> deadline = NextDeadline();
    if (owners_.empty() && !deadline && !options_.slots) {
      // Nothing can make progress: a bug, but never hang a run on it.
      for (size_t i = 0; i < jobs_.size(); ++i) {
        if (jobs_[i].status == JobStatus::kRunning) FailAttempt(i, "internal error: job stalled");
      }
      continue;
    }
    if (std::optional<TimePoint> again = observer_.Flush(/*force=*/false)) {
      if (!deadline || *again < *deadline) deadline = again;
    }
    exec::WaitResult result = runner_.Wait(deadline);
    switch (result.kind) {
      case exec::WaitResult::Kind::kExited:
        OnExit(result.id, result.status);
        break;
      case exec::WaitResult::Kind::kDeadline:
        OnTimers();
        break;
      case exec::WaitResult::Kind::kWoken:
        break;  // A job slot may be free: the next ScheduleReady tries.
      case exec::WaitResult::Kind::kInterrupted:
        OnInterrupt();
        break;
    }
  }
  observer_.Flush(/*force=*/true);
  if (cancelled_) return RunStatus::kCancelled;
  bool failed = std::any_of(jobs_.begin(), jobs_.end(),
                            [](const JobState& job) { return job.status == JobStatus::kFailed; });
  return failed ? RunStatus::kFailed : RunStatus::kSuccess;
}

void Engine::ScheduleReady() {
  if (cancelled_) {
    for (size_t i = 0; i < jobs_.size(); ++i) {
      if (jobs_[i].status != JobStatus::kPending) continue;
      SetTerminal(i, JobStatus::kCancelled);
      observer_.JobNotRun(i, JobStatus::kCancelled, "the run was cancelled");
    }
    decidable_.clear();
    return;
  }
  // Deciding a job may make later jobs decidable; std::set iteration sees them.
  for (auto it = decidable_.begin(); it != decidable_.end();) {
    size_t i = *it;
    const PlannedJob& planned = plan_.jobs[i];
    Prior prior;
    std::vector<std::string> unsuccessful;
    for (size_t need : planned.needs) {
      JobStatus status = jobs_[need].status;
      if (status == JobStatus::kFailed) prior.failed = true;
      if (status != JobStatus::kSuccess) {
        unsuccessful.push_back(fmt::format("'{}' {}", plan_.jobs[need].name, Name(status)));
      }
    }
    prior.succeeded = unsuccessful.empty();
    if (!prior.succeeded) prior.why_not = fmt::format("needs {}", Join(unsuccessful, ", "));
    Result<Decision> decision = Decide(planned.spec.condition, prior);
    if (!decision) {
      SetTerminal(i, JobStatus::kFailed);
      observer_.JobNotRun(i, JobStatus::kFailed, decision.error().message);
    } else if (!decision->run) {
      SetTerminal(i, JobStatus::kSkipped);
      observer_.JobNotRun(i, JobStatus::kSkipped, decision->why_not);
    } else if (slots_.TryAcquire()) {
      jobs_[i].status = JobStatus::kRunning;
      StartAttempt(i);
    } else {
      ++it;  // Runnable, but every slot is taken.
      continue;
    }
    it = decidable_.erase(it);
  }
}

void Engine::SetTerminal(size_t i, JobStatus status) {
  jobs_[i].status = status;
  ++terminal_jobs_;
  for (size_t dependant : dependants_[i]) {
    if (--waiting_needs_[dependant] == 0) decidable_.insert(dependant);
  }
}

Result<Engine::Decision> Engine::Decide(const std::optional<spec::Condition>& condition,
                                        const Prior& prior) const {
  if (!condition) return Decision{prior.succeeded, prior.why_not};
  ConditionScope scope(context_, prior.succeeded, prior.failed);
  std::expected<spec::Value, spec::ExprError> value = condition->expression.Evaluate(scope);
  if (!value) {
    return Fail("condition '{}': {}", condition->expression.text(), value.error().message);
  }
  if (!value->is_bool()) {
    return Fail("condition '{}' must be true or false, got {}", condition->expression.text(),
                value->ToString());
  }
  const std::string is_false = fmt::format("condition '{}' is false", condition->expression.text());
  // Without a status function, a condition applies on top of success().
  if (condition->expression.calls().empty() && !prior.succeeded) {
    return Decision{false, prior.why_not};
  }
  return Decision{value->as_bool(), value->as_bool() ? "" : is_false};
}

void Engine::StartAttempt(size_t i) {
  JobState& job = jobs_[i];
  const spec::Job& spec = plan_.jobs[i].spec;
  ++job.attempt;
  job.phase = Phase::kServices;
  job.started = clock_.Now();
  job.deadline.reset();
  if (spec.timeout) job.deadline = job.started + *spec.timeout;
  job.step = 0;
  job.step_process.reset();
  job.step_deadline.reset();
  job.step_timed_out = false;
  job.failed = false;
  job.error.clear();
  job.services.assign(spec.services.size(), ServiceState{});
  job.live = 0;
  job.workspace.clear();
  observer_.JobStarted(i, job.attempt, job.started);

  Result<std::filesystem::path> workspace = host_.PrepareWorkspace(i, job.attempt);
  if (!workspace) return FailAttempt(i, workspace.error().message);
  job.workspace = *workspace;
  StartServices(i);
}

void Engine::StartServices(size_t i) {
  JobState& job = jobs_[i];
  const spec::Job& spec = plan_.jobs[i].spec;
  TimePoint now = clock_.Now();
  for (size_t s = 0; s < spec.services.size(); ++s) {
    const spec::Service& service = spec.services[s];
    Result<exec::ProcessId> process =
        Launch(i, Role::kService, s, {"/bin/sh", "-c", service.run}, service.env);
    if (!process) return FailAttempt(i, fmt::format("service '{}': {}", service.name,
                                                    process.error().message));
    ServiceState& state = job.services[s];
    state.process = *process;
    state.ready = service.readiness.empty();
    state.next_probe = now + service.readiness_interval;
    state.ready_deadline = now + service.readiness_timeout;
    if (state.ready) observer_.JobMessage(i, job.attempt, fmt::format("service '{}' started", service.name));
  }
  bool all_ready = std::all_of(job.services.begin(), job.services.end(),
                               [](const ServiceState& s) { return s.ready; });
  if (all_ready) {
    job.phase = Phase::kSteps;
    RunNextStep(i);
  }
}

void Engine::StartProbe(size_t i, size_t s) {
  const spec::Service& service = plan_.jobs[i].spec.services[s];
  ServiceState& state = jobs_[i].services[s];
  state.last_probe_output.clear();
  Result<exec::ProcessId> probe =
      Launch(i, Role::kProbe, s, {"/bin/sh", "-c", service.readiness}, service.env);
  if (!probe) {
    return FailAttempt(i, fmt::format("service '{}': readiness command: {}", service.name,
                                      probe.error().message));
  }
  state.probe = *probe;
}

void Engine::RunNextStep(size_t i) {
  JobState& job = jobs_[i];
  const spec::Job& spec = plan_.jobs[i].spec;
  while (job.step < spec.steps.size()) {
    const spec::Step& step = spec.steps[job.step];
    TimePoint now = clock_.Now();
    Result<Decision> decision =
        Decide(step.condition, Prior{!job.failed, job.failed, "an earlier step failed"});
    if (!decision || !decision->run) {
      StepOutcome outcome;
      outcome.status = decision ? StepStatus::kSkipped : StepStatus::kFailed;
      outcome.started = outcome.finished = now;
      outcome.error = decision ? decision->why_not : decision.error().message;
      observer_.StepFinished(i, job.attempt, job.step, outcome);
      if (!decision && !step.continue_on_error && !job.failed) {
        job.failed = true;
        job.error = fmt::format("step '{}': {}", step.name, decision.error().message);
      }
      ++job.step;
      continue;
    }
    observer_.StepStarted(i, job.attempt, job.step, now);
    Result<exec::ProcessId> process =
        Launch(i, Role::kStep, job.step, ShellCommand(step.shell, step.run), step.env);
    if (!process) {
      StepOutcome outcome{StepStatus::kFailed, std::nullopt, now, clock_.Now(),
                          process.error().message};
      observer_.StepFinished(i, job.attempt, job.step, outcome);
      if (!step.continue_on_error && !job.failed) {
        job.failed = true;
        job.error = fmt::format("step '{}': {}", step.name, process.error().message);
      }
      ++job.step;
      continue;
    }
    job.step_process = *process;
    job.step_started = now;
    job.step_timed_out = false;
    job.step_deadline.reset();
    if (step.timeout) job.step_deadline = now + *step.timeout;
    return;
  }
  StopAttempt(i);
}

Result<exec::ProcessId> Engine::Launch(size_t i, Role role, size_t index,
                                       std::vector<std::string> argv, const spec::EnvList& env) {
  JobState& job = jobs_[i];
  exec::ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.env = Environment(i, env);
  spec.cwd = job.workspace;
  int attempt = job.attempt;
  auto lines = std::make_shared<logs::MaskedLineBuffer>(options_.masker);
  switch (role) {
    case Role::kStep:
      spec.on_output = [this, i, attempt, index, lines](std::string_view chunk) {
        std::string complete = lines->Feed(chunk);
        if (!complete.empty()) observer_.StepOutput(i, attempt, index, complete);
      };
      break;
    case Role::kService:
      spec.on_output = [this, i, attempt, index, lines](std::string_view chunk) {
        std::string complete = lines->Feed(chunk);
        if (!complete.empty()) observer_.ServiceOutput(i, attempt, index, complete);
      };
      break;
    case Role::kProbe:
      spec.on_output = [this, i, index, lines](std::string_view chunk) {
        std::string& out = jobs_[i].services[index].last_probe_output;
        if (out.size() < kMaxProbeOutput) out += lines->Feed(chunk);
      };
      break;
  }
  Result<exec::ProcessId> id = runner_.Start(std::move(spec));
  if (!id) return id;
  int pgid = runner_.ProcessGroupOf(*id);
  owners_[*id] = Owner{i, role, index, std::move(lines), pgid};
  observer_.ProcessStarted(i, attempt, pgid);
  ++job.live;
  return id;
}

std::vector<std::string> Engine::Environment(size_t i, const spec::EnvList& env) const {
  const PlannedJob& planned = plan_.jobs[i];
  const JobState& job = jobs_[i];
  std::vector<std::string> vars = base_env_;
  for (const spec::EnvList* layer : {&planned.spec.env, &env, &options_.overrides,
                                     &options_.secrets}) {
    Overlay(vars, *layer);
  }
  Overlay(vars, {{"TAUON_RUN_ID", context_.run_id},
                 {"TAUON_COMMIT", context_.commit},
                 {"TAUON_BRANCH", context_.branch},
                 {"TAUON_EVENT", context_.event},
                 {"TAUON_JOB", planned.name},
                 {"TAUON_ATTEMPT", std::to_string(job.attempt)},
                 {"TAUON_WORKSPACE", job.workspace.string()}});
  Overlay(vars, host_.JobEnvironment(i, job.attempt));
  return vars;
}

void Engine::OnExit(exec::ProcessId id, const exec::ExitStatus& status) {
  auto it = owners_.find(id);
  if (it == owners_.end()) return;
  Owner owner = std::move(it->second);
  owners_.erase(it);
  observer_.ProcessExited(owner.job, owner.pgid);
  JobState& job = jobs_[owner.job];
  // The last line may lack its newline.
  if (std::string rest = owner.lines->Finish(); !rest.empty()) {
    if (owner.role == Role::kStep) observer_.StepOutput(owner.job, job.attempt, owner.index, rest);
    if (owner.role == Role::kService) {
      observer_.ServiceOutput(owner.job, job.attempt, owner.index, rest);
    }
    if (owner.role == Role::kProbe) job.services[owner.index].last_probe_output += rest;
  }
  --job.live;
  const spec::Job& spec = plan_.jobs[owner.job].spec;
  switch (owner.role) {
    case Role::kStep:
      OnStepExit(owner.job, owner.index, status);
      break;
    case Role::kService: {
      ServiceState& state = job.services[owner.index];
      state.process.reset();
      const std::string& name = spec.services[owner.index].name;
      if (job.phase == Phase::kServices) {
        FailAttempt(owner.job, fmt::format("service '{}' exited ({}) before it was ready", name,
                                           status.Describe()));
      } else if (job.phase == Phase::kSteps) {
        observer_.JobMessage(owner.job, job.attempt,
                             fmt::format("service '{}' exited ({})", name, status.Describe()));
      }
      break;
    }
    case Role::kProbe: {
      ServiceState& state = job.services[owner.index];
      state.probe.reset();
      if (job.phase != Phase::kServices) break;
      const spec::Service& service = spec.services[owner.index];
      TimePoint now = clock_.Now();
      if (status.ok()) {
        state.ready = true;
        observer_.JobMessage(owner.job, job.attempt,
                             fmt::format("service '{}' is ready", service.name));
        if (std::all_of(job.services.begin(), job.services.end(),
                        [](const ServiceState& s) { return s.ready; })) {
          job.phase = Phase::kSteps;
          RunNextStep(owner.job);
        }
      } else {
        state.last_probe_result = status.Describe();
        state.next_probe = now + service.readiness_interval;
        if (now >= state.ready_deadline) FailNotReady(owner.job, owner.index);
      }
      break;
    }
  }
  if (job.phase == Phase::kStopping && job.live == 0) FinishAttempt(owner.job);
}

void Engine::OnStepExit(size_t i, size_t step_index, const exec::ExitStatus& status) {
  JobState& job = jobs_[i];
  const spec::Step& step = plan_.jobs[i].spec.steps[step_index];
  job.step_process.reset();
  StepOutcome outcome;
  outcome.started = job.step_started;
  outcome.finished = clock_.Now();
  if (status.signal == 0) outcome.exit_code = status.code;
  // A step Tauon stopped (timeout, job failure, cancel) never counts as a
  // success, whatever it exits with.
  const bool stopped = job.step_timed_out || job.phase != Phase::kSteps;
  if (status.ok() && !stopped) {
    outcome.status = StepStatus::kSuccess;
  } else if (cancelled_) {
    outcome.status = StepStatus::kCancelled;
    outcome.error = "cancelled";
  } else {
    outcome.status = StepStatus::kFailed;
    if (job.step_timed_out) {
      outcome.error = fmt::format("timed out after {}", FormatDuration(*step.timeout));
    } else if (job.phase == Phase::kStopping) {
      outcome.error = fmt::format("stopped: {}", job.error);
    } else {
      outcome.error = status.Describe();
    }
  }
  observer_.StepFinished(i, job.attempt, step_index, outcome);
  if (job.phase != Phase::kSteps) return;
  if (outcome.status != StepStatus::kSuccess && !step.continue_on_error && !job.failed) {
    job.failed = true;
    job.error = fmt::format("step '{}' failed: {}", step.name, outcome.error);
  }
  ++job.step;
  RunNextStep(i);
}

void Engine::OnTimers() {
  TimePoint now = clock_.Now();
  for (size_t i = 0; i < jobs_.size(); ++i) {
    JobState& job = jobs_[i];
    if (job.status != JobStatus::kRunning || job.phase >= Phase::kStopping) continue;
    const spec::Job& spec = plan_.jobs[i].spec;
    if (job.deadline && now >= *job.deadline) {
      FailAttempt(i, fmt::format("the job timed out after {}", FormatDuration(*spec.timeout)));
      continue;
    }
    if (job.step_process && job.step_deadline && now >= *job.step_deadline &&
        !job.step_timed_out) {
      job.step_timed_out = true;
      observer_.JobMessage(i, job.attempt,
                           fmt::format("step '{}' timed out after {}: stopping it",
                                       spec.steps[job.step].name,
                                       FormatDuration(*spec.steps[job.step].timeout)));
      runner_.Terminate(*job.step_process);
    }
    if (job.phase != Phase::kServices) continue;
    for (size_t s = 0; s < job.services.size() && job.phase == Phase::kServices; ++s) {
      ServiceState& state = job.services[s];
      if (state.ready) continue;
      if (state.probe) {
        // A probe that hangs past the deadline is stopped; its exit fails the job.
        if (now >= state.ready_deadline) runner_.Terminate(*state.probe);
        continue;
      }
      if (now >= state.ready_deadline) {
        FailNotReady(i, s);
      } else if (now >= state.next_probe) {
        StartProbe(i, s);
      }
    }
  }
}

std::optional<TimePoint> Engine::NextDeadline() const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  for (const JobState& job : jobs_) {
    if (job.status != JobStatus::kRunning || job.phase >= Phase::kStopping) continue;
    if (job.deadline) consider(*job.deadline);
    if (job.step_process && job.step_deadline && !job.step_timed_out) consider(*job.step_deadline);
    if (job.phase != Phase::kServices) continue;
    for (const ServiceState& state : job.services) {
      if (state.ready) continue;
      consider(state.probe ? state.ready_deadline
                           : std::min(state.next_probe, state.ready_deadline));
    }
  }
  return next;
}

void Engine::OnInterrupt() {
  if (cancelled_) {
    if (killed_) return;
    killed_ = true;
    for (const auto& [id, owner] : owners_) runner_.Kill(id);
    return;
  }
  cancelled_ = true;
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (jobs_[i].status == JobStatus::kRunning) {
      observer_.JobMessage(i, jobs_[i].attempt, "cancelling");
      StopAttempt(i);
    }
  }
}

void Engine::FailNotReady(size_t i, size_t s) {
  const spec::Service& service = plan_.jobs[i].spec.services[s];
  const ServiceState& state = jobs_[i].services[s];
  std::string error = fmt::format("service '{}' was not ready after {}", service.name,
                                  FormatDuration(service.readiness_timeout));
  if (!state.last_probe_result.empty()) {
    error += ": readiness command " + state.last_probe_result;
    std::string output(Trim(state.last_probe_output));
    if (!output.empty()) error += ": " + output;
  }
  FailAttempt(i, std::move(error));
}

void Engine::FailAttempt(size_t i, std::string error) {
  JobState& job = jobs_[i];
  if (job.phase == Phase::kStopping || job.phase == Phase::kDone) return;
  if (!job.failed) {
    job.failed = true;
    job.error = std::move(error);
  }
  StopAttempt(i);
}

void Engine::StopAttempt(size_t i) {
  JobState& job = jobs_[i];
  if (job.phase == Phase::kStopping || job.phase == Phase::kDone) return;
  job.phase = Phase::kStopping;
  for (const auto& [id, owner] : owners_) {
    if (owner.job == i) runner_.Terminate(id);
  }
  if (job.live == 0) FinishAttempt(i);
}

void Engine::FinishAttempt(size_t i) {
  JobState& job = jobs_[i];
  const PlannedJob& planned = plan_.jobs[i];
  job.phase = Phase::kDone;
  if (!cancelled_ && !job.workspace.empty()) {
    Status collected = host_.CollectOutputs(i, job.attempt, job.workspace, !job.failed);
    if (!collected && !job.failed) {
      job.failed = true;
      job.error = collected.error().message;
    } else if (collected && job.failed && host_.ExcuseFailure(i, job.attempt)) {
      job.failed = false;
      job.error.clear();
    }
  }
  if (!job.workspace.empty()) host_.RemoveWorkspace(job.workspace);
  JobOutcome outcome;
  outcome.status = cancelled_ ? JobStatus::kCancelled
                   : job.failed ? JobStatus::kFailed
                                : JobStatus::kSuccess;
  outcome.started = job.started;
  outcome.finished = clock_.Now();
  outcome.error = cancelled_ ? "cancelled" : job.error;
  outcome.will_retry = outcome.status == JobStatus::kFailed && job.attempt <= planned.spec.retry;
  observer_.JobFinished(i, job.attempt, outcome);
  if (outcome.will_retry) return StartAttempt(i);
  slots_.Release();
  SetTerminal(i, outcome.status);
}

}  // namespace tauon::engine
