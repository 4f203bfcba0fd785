// Executes queued runs: the oldest first, each on its own thread with its own
// process runner and store connection, all sharing one pool of job slots
// (--max-jobs). Cancels on request; re-queues runs its predecessor left
// interrupted.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "exec/local_runner.h"
#include "notify/notifier.h"
#include "runs/layout.h"
#include "server/shared_slots.h"
#include "store/records.h"

namespace tauon::server {

struct DispatcherOptions {
  int max_jobs = 2;
  // How often a run interrupted by a dead server is re-queued (0: never).
  // Only runs that were not themselves re-queued are.
  int requeue_interrupted = 1;
  Duration kill_grace{5000};
};

class Dispatcher {
 public:
  // `notifier` may be null.
  Dispatcher(runs::DataLayout layout, DispatcherOptions options, notify::Notifier* notifier);
  ~Dispatcher();

  // Recovers what a dead predecessor left (see runs::RecoverAbandonedRuns):
  // kills its jobs' processes, marks its runs interrupted (notifying them)
  // and re-queues them. Call before anything else, before listening.
  // Returns the interrupted ids.
  Result<std::vector<int64_t>> Recover();
  // Starts dispatching. `public_url` prefixes the links in notifications.
  void Start(std::string public_url);
  // Called (on a run's thread) when a run of a repository's default branch
  // registers a model version. Set before Start().
  void OnModelRegistered(std::function<void(const store::ModelVersionRecord&)> hook) {
    on_registered_ = std::move(hook);
  }
  // Cancels the runs being executed, waits for them, and stops. Queued runs
  // stay queued for the next start.
  void Stop();

  // Looks for queued runs now (after something was queued).
  void Poke();
  // Cancels a run: a queued one at once, a running one by stopping its jobs.
  // Returns false if the run is neither queued nor running.
  Result<bool> Cancel(int64_t run_id);

  int max_jobs() const { return options_.max_jobs; }
  int busy_slots() const { return slots_.in_use(); }

 private:
  std::function<void(const store::ModelVersionRecord&)> on_registered_;
  // Wakes a run's process runner once it has one (job slots may call it first).
  class RunnerWaker {
   public:
    void Attach(exec::LocalProcessRunner* runner) {
      std::lock_guard lock(mutex_);
      runner_ = runner;
    }
    void Wake() {
      std::lock_guard lock(mutex_);
      if (runner_) runner_->Wake();
    }

   private:
    std::mutex mutex_;
    exec::LocalProcessRunner* runner_ = nullptr;  // GUARDED_BY(mutex_)
  };

  void Loop();
  // On the run's own thread, with its job slots.
  void Execute(int64_t run_id, engine::JobSlots* slots, RunnerWaker& waker, TimePoint started_at);
  // Queues each interrupted run again, as a new run of its commit that reuses
  // what succeeded. After a crash, a run already re-queued once is not (it
  // may be what crashed the server); after a graceful stop (`stopped`), it is.
  Result<std::vector<int64_t>> Requeue(const std::vector<int64_t>& interrupted,
                                       bool stopped = false);

  const runs::DataLayout layout_;
  const DispatcherOptions options_;
  notify::Notifier* const notifier_;
  SharedSlots slots_;
  SystemClock clock_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool poked_ = false;     // GUARDED_BY(mutex_)
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  // Runs being executed; the runner while its engine runs. GUARDED_BY(mutex_)
  std::map<int64_t, exec::LocalProcessRunner*> active_;
  std::map<int64_t, bool> cancel_requested_;  // GUARDED_BY(mutex_)
  std::map<int64_t, std::thread> workers_;    // GUARDED_BY(mutex_)
  std::vector<int64_t> finished_;             // GUARDED_BY(mutex_): workers to join
  std::string public_url_;  // Set by Start().
  std::thread thread_;
};

}  // namespace tauon::server
