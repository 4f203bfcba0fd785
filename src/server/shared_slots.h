// The server's job slots (--max-jobs), shared by every run it executes. A
// freed slot goes to the oldest run waiting for one, so runs start, and
// progress, in the order they were queued. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "engine/job_slots.h"

namespace tauon::server {

class SharedSlots {
 public:
  explicit SharedSlots(int capacity) : capacity_(capacity) {}

  // The slots as one run sees them. `order` ranks runs (lower goes first:
  // the run id); `wake` is called, from any thread, when a slot frees up
  // while the run waits for one. The run counts as waiting from now until
  // its first TryAcquire succeeds, so younger runs cannot overtake it while
  // it prepares. Destroying the handle forgets the run.
  std::unique_ptr<engine::JobSlots> ForRun(int64_t order, std::function<void()> wake);

  int capacity() const { return capacity_; }
  int in_use() const;

 private:
  class RunSlots;
  bool TryAcquire(int64_t order, const std::function<void()>& wake);
  void Release();
  void Forget(int64_t order);
  // Wakes the first waiter if a slot is free. REQUIRES: mutex_ held.
  std::function<void()> NextToWake();

  const int capacity_;
  mutable std::mutex mutex_;
  int used_ = 0;                                          // GUARDED_BY(mutex_)
  std::map<int64_t, std::function<void()>> waiting_;  // GUARDED_BY(mutex_), by order
};

}  // namespace tauon::server
