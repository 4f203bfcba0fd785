#include "server/dispatcher.h"

#include <fmt/format.h>

#include "api/resources.h"
#include "scm/git.h"
#include "runs/local_run.h"
#include "runs/recovery.h"
#include "store/store.h"

namespace tauon::server {
namespace {

// What a run's engine reports, as one line per job on the server's stderr.
class ServerLog final : public engine::RunObserver {
 public:
  ServerLog(int64_t run_id, const engine::Plan& plan) : run_id_(run_id), plan_(plan) {}
  void JobStarted(size_t, int, TimePoint) override {}
  void StepStarted(size_t, int, size_t, TimePoint) override {}
  void StepOutput(size_t, int, size_t, std::string_view) override {}
  void StepFinished(size_t, int, size_t, const engine::StepOutcome&) override {}
  void ServiceOutput(size_t, int, size_t, std::string_view) override {}
  void JobMessage(size_t, int, std::string_view) override {}
  void JobFinished(size_t job, int attempt, const engine::JobOutcome& outcome) override {
    fmt::print(stderr, "tauon: run {}: job '{}' attempt {} {}{}\n", run_id_, plan_.jobs[job].name,
               attempt, engine::Name(outcome.status),
               outcome.error.empty() ? "" : ": " + outcome.error);
  }
  void JobNotRun(size_t job, engine::JobStatus status, std::string_view reason) override {
    fmt::print(stderr, "tauon: run {}: job '{}' {}: {}\n", run_id_, plan_.jobs[job].name,
               engine::Name(status), reason);
  }
  void ProcessStarted(size_t, int, int) override {}
  void ProcessExited(size_t, int) override {}
  std::optional<TimePoint> Flush(bool) override { return std::nullopt; }

 private:
  const int64_t run_id_;
  const engine::Plan& plan_;
};

notify::RunNotice NoticeOf(const nlohmann::json& run, const std::string& public_url) {
  notify::RunNotice notice;
  notice.run_id = run["id"].get<int64_t>();
  notice.repo = run["repo"].get<std::string>();
  notice.branch = run["branch"].get<std::string>();
  notice.commit = run["commit"].get<std::string>();
  notice.author = run["author"].get<std::string>();
  notice.message = run["message"].get<std::string>();
  notice.status = run["status"].get<std::string>();
  notice.duration_ms = run["duration_ms"].is_number() ? run["duration_ms"].get<int64_t>() : 0;
  for (const auto& job : run["jobs"]) {
    if (job["status"] == "failed") notice.failed_jobs.push_back(job["name"].get<std::string>());
    for (const auto& test : job["failed_tests"]) {
      if (notice.failed_tests.size() >= 100) break;  // The message says how many more.
      std::string name = test["classname"].get<std::string>().empty()
                             ? test["name"].get<std::string>()
                             : test["classname"].get<std::string>() + "::" +
                                   test["name"].get<std::string>();
      std::string message = test["message"].get<std::string>();
      notice.failed_tests.push_back(message.empty() ? name : name + ": " + message);
    }
    for (const auto& test : job["flaky_failed_tests"]) {
      if (notice.flaky_failed_tests.size() >= 100) break;
      std::string name = test["classname"].get<std::string>().empty()
                             ? test["name"].get<std::string>()
                             : test["classname"].get<std::string>() + "::" +
                                   test["name"].get<std::string>();
      notice.flaky_failed_tests.push_back(
          fmt::format("{} (known flaky: {})", name, test["flaky_reason"].get<std::string>()));
    }
  }
  // The run's page in the dashboard.
  if (!public_url.empty()) notice.url = fmt::format("{}/runs/{}", public_url, notice.run_id);
  return notice;
}

}  // namespace

Dispatcher::Dispatcher(runs::DataLayout layout, DispatcherOptions options,
                       notify::Notifier* notifier)
    : layout_(std::move(layout)),
      options_(std::move(options)),
      notifier_(notifier),
      slots_(std::max(1, options_.max_jobs)) {}

Dispatcher::~Dispatcher() { Stop(); }

Result<std::vector<int64_t>> Dispatcher::Recover() {
  Result<std::unique_ptr<store::Store>> store = store::Store::Open(layout_.database());
  if (!store) return std::unexpected(store.error());
  Result<std::vector<int64_t>> interrupted =
      runs::RecoverAbandonedRuns(**store, clock_, /*local_only=*/false);
  if (!interrupted) return interrupted;
  for (int64_t id : *interrupted) {
    Result<std::optional<store::RunRecord>> run = (*store)->GetRun(id);
    if (run && *run && (*run)->trigger == "local") {
      fmt::print(stderr, "tauon: run {} (a 'tauon run' that died) was interrupted\n", id);
    } else if (options_.requeue_interrupted <= 0) {
      fmt::print(stderr, "tauon: run {} was interrupted; not re-queued (--no-requeue)\n", id);
    }
    if (notifier_) {
      if (Result<nlohmann::json> resource = api::RunJson(**store, id); resource) {
        notifier_->Notify(NoticeOf(*resource, ""));
      }
    }
  }
  Result<std::vector<int64_t>> requeued = Requeue(*interrupted);
  if (!requeued) return requeued;
  return interrupted;
}

void Dispatcher::Start(std::string public_url) {
  public_url_ = std::move(public_url);
  thread_ = std::thread([this] { Loop(); });
}

Result<std::vector<int64_t>> Dispatcher::Requeue(const std::vector<int64_t>& interrupted,
                                                 bool stopped) {
  std::vector<int64_t> queued;
  if (options_.requeue_interrupted <= 0) return queued;
  Result<std::unique_ptr<store::Store>> store = store::Store::Open(layout_.database());
  if (!store) return std::unexpected(store.error());
  for (int64_t id : interrupted) {
    Result<std::optional<store::RunRecord>> run = (*store)->GetRun(id);
    if (!run) return std::unexpected(run.error());
    // A `tauon run`, whose repository the server may not know; or, after a
    // crash, re-queued once already.
    if (!*run || (*run)->trigger == "local") continue;
    if ((*run)->trigger == "recovery" && !stopped) continue;
    store::RunRecord again = **run;
    again.status = engine::RunStatus::kQueued;
    again.error.clear();
    again.started_at.reset();
    again.finished_at.reset();
    again.owner.clear();
    again.created_at = clock_.Now();
    again.rerun_of = id;
    again.trigger = "recovery";
    again.reuse_succeeded = true;
    Result<int64_t> new_id = (*store)->CreateRun(again);
    if (!new_id) return std::unexpected(new_id.error());
    fmt::print(stderr, "tauon: run {} was interrupted; re-queued as run {}\n", id, *new_id);
    queued.push_back(*new_id);
  }
  return queued;
}

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    for (auto& [id, runner] : active_) {
      if (runner) runner->Interrupt();
    }
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::map<int64_t, std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& [id, worker] : workers) worker.join();
}

void Dispatcher::Poke() {
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  wake_.notify_all();
}

Result<bool> Dispatcher::Cancel(int64_t run_id) {
  {
    std::lock_guard lock(mutex_);
    if (active_.contains(run_id)) {
      cancel_requested_[run_id] = true;
      if (exec::LocalProcessRunner* runner = active_[run_id]) runner->Interrupt();
      return true;
    }
  }
  Result<std::unique_ptr<store::Store>> store = store::Store::Open(layout_.database());
  if (!store) return std::unexpected(store.error());
  bool cancelled = false;
  Status ok = (*store)->CancelQueuedRun(run_id, clock_.Now(), "cancelled before it started",
                                        &cancelled);
  if (!ok) return std::unexpected(ok.error());
  return cancelled;
}

void Dispatcher::Loop() {
  Result<std::unique_ptr<store::Store>> store = store::Store::Open(layout_.database());
  if (!store) {
    fmt::print(stderr, "tauon: dispatcher: {}\n", store.error().message);
    return;
  }
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    for (int64_t id : finished_) {
      workers_[id].join();
      workers_.erase(id);
    }
    finished_.clear();
    // Runs hold a thread from their start to their end; at most max_jobs at
    // once, since a run needs a slot to do anything.
    int room = options_.max_jobs - static_cast<int>(active_.size());
    if (room > 0) {
      store::RunFilter filter;
      filter.status = engine::RunStatus::kQueued;
      filter.oldest_first = true;
      filter.limit = room + static_cast<int>(active_.size());
      lock.unlock();
      Result<std::vector<store::RunRecord>> queued = (*store)->ListRuns(filter);
      lock.lock();
      if (!queued) {
        fmt::print(stderr, "tauon: dispatcher: {}\n", queued.error().message);
      } else {
        for (const store::RunRecord& run : *queued) {
          if (room <= 0 || stopping_) break;
          if (active_.contains(run.id)) continue;
          active_[run.id] = nullptr;
          // Its place among the job slots is taken now, in queue order, not
          // when its thread gets there.
          auto waker = std::make_shared<RunnerWaker>();
          std::shared_ptr<engine::JobSlots> slots =
              slots_.ForRun(run.id, [waker] { waker->Wake(); });
          // Started now, in queue order (its thread may get going later).
          workers_[run.id] = std::thread([this, id = run.id, slots, waker, at = clock_.Now()] {
            Execute(id, slots.get(), *waker, at);
          });
          --room;
        }
      }
    }
    poked_ = false;
    wake_.wait_for(lock, std::chrono::seconds(1), [&] { return poked_ || stopping_; });
  }
}

void Dispatcher::Execute(int64_t run_id, engine::JobSlots* slots, RunnerWaker& waker,
                         TimePoint started_at) {
  auto done = [&] {
    std::lock_guard lock(mutex_);
    active_.erase(run_id);
    cancel_requested_.erase(run_id);
    finished_.push_back(run_id);
    poked_ = true;
    wake_.notify_all();
  };
  Result<std::unique_ptr<store::Store>> opened = store::Store::Open(layout_.database());
  if (!opened) {
    fmt::print(stderr, "tauon: run {}: {}\n", run_id, opened.error().message);
    return done();
  }
  store::Store& store = **opened;
  Result<std::optional<store::RunRecord>> found = store.GetRun(run_id);
  if (!found || !*found || (*found)->status != engine::RunStatus::kQueued) return done();
  const store::RunRecord& record = **found;

  runs::RunRequest request;
  request.repo_dir = layout_.mirror(record.repo);
  request.repo_name = record.repo;
  request.ref = record.commit;
  request.branch = record.branch;
  request.event = record.event;
  if (record.rerun_of && record.reuse_succeeded) {
    Result<std::vector<store::JobRecord>> earlier = store.GetJobs(*record.rerun_of);
    if (earlier) {
      // The latest attempt of each job decides; reused rows count as what they carry.
      std::map<std::string, const store::JobRecord*> latest;
      for (const store::JobRecord& job : *earlier) latest[job.name] = &job;
      for (const auto& [name, job] : latest) {
        if (job->status == engine::JobStatus::kSuccess) request.reuse[name] = job->id;
      }
    }
  }
  exec::LocalProcessRunner runner(clock_, options_.kill_grace);
  waker.Attach(&runner);
  struct Detach {
    RunnerWaker& waker;
    ~Detach() { waker.Attach(nullptr); }
  } detach{waker};
  request.slots = slots;

  auto fail = [&](const std::string& error) {
    (void)store.StartRun(run_id, started_at, "");
    (void)store.FinishRun(run_id, engine::RunStatus::kFailed, clock_.Now(), error);
    fmt::print(stderr, "tauon: run {} failed: {}\n", run_id, error);
  };
  Result<std::unique_ptr<runs::PreparedRun>> prepared = runs::PreparedRun::Prepare(request);
  if (!prepared) {
    fail(prepared.error().message);
  } else if (Status attached = (*prepared)->Attach(store, run_id, started_at); !attached) {
    fail(attached.error().message);
  } else {
    {
      std::lock_guard lock(mutex_);
      active_[run_id] = &runner;
      // Cancelled or stopping between queue and start: the engine sees it at once.
      if (cancel_requested_[run_id] || stopping_) runner.Interrupt();
    }
    fmt::print(stderr, "tauon: run {} started: {} {} @ {}\n", run_id, record.repo, record.branch,
               record.commit.substr(0, 12));
    ServerLog log(run_id, (*prepared)->plan());
    Result<engine::RunStatus> status =
        (*prepared)->Execute(store, layout_, runner, clock_, log);
    bool server_stopping = false;
    {
      std::lock_guard lock(mutex_);
      active_[run_id] = nullptr;
      server_stopping = stopping_ && !cancel_requested_[run_id];
    }
    if (status && *status == engine::RunStatus::kCancelled && server_stopping) {
      // Stopped by a restart, not by anyone's choice: the next start runs it
      // again, reusing what succeeded, as after a crash.
      if (Status ok = store.InterruptRun(run_id, clock_.Now(), "interrupted: the server stopped");
          ok) {
        status = engine::RunStatus::kInterrupted;
        if (Result<std::vector<int64_t>> again = Requeue({run_id}, /*stopped=*/true); !again) {
          fmt::print(stderr, "tauon: run {}: {}\n", run_id, again.error().message);
        }
      }
    }
    if (!status) {
      fmt::print(stderr, "tauon: run {}: {}\n", run_id, status.error().message);
    } else {
      fmt::print(stderr, "tauon: run {} {}\n", run_id, engine::Name(*status));
    }
    if (const auto& version = (*prepared)->registered()) {
      fmt::print(stderr, "tauon: run {} registered model {} version {}\n", run_id, version->name,
                 version->version);
      Result<std::unique_ptr<scm::GitRepository>> mirror =
          scm::GitRepository::Open(layout_.mirror(record.repo));
      if (on_registered_ && mirror && (*mirror)->DefaultBranch() == version->branch) {
        on_registered_(*version);
      }
    }
  }
  if (notifier_) {
    if (Result<nlohmann::json> run = api::RunJson(store, run_id); run) {
      notifier_->Notify(NoticeOf(*run, public_url_));
    }
  }
  done();
}

}  // namespace tauon::server
