// How many jobs may run at once. `tauon run` has its own slots (-j); the
// server shares one pool between all its runs (--max-jobs).
#pragma once

namespace tauon::engine {

class JobSlots {
 public:
  virtual ~JobSlots() = default;
  // Takes a slot if this run may start a job now. When it returns false the
  // caller is woken (its runner's Wait returns) once a slot may be free.
  virtual bool TryAcquire() = 0;
  // Gives back a slot taken by TryAcquire.
  virtual void Release() = 0;
};

// A fixed number of slots for one run. Not thread-safe.
class FixedSlots final : public JobSlots {
 public:
  explicit FixedSlots(int slots) : free_(slots) {}
  bool TryAcquire() override {
    if (free_ <= 0) return false;
    --free_;
    return true;
  }
  void Release() override { ++free_; }

 private:
  int free_;
};

}  // namespace tauon::engine
