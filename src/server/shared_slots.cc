#include "server/shared_slots.h"

namespace tauon::server {

class SharedSlots::RunSlots final : public engine::JobSlots {
 public:
  RunSlots(SharedSlots& shared, int64_t order, std::function<void()> wake)
      : shared_(shared), order_(order), wake_(std::move(wake)) {}
  ~RunSlots() override { shared_.Forget(order_); }
  bool TryAcquire() override { return shared_.TryAcquire(order_, wake_); }
  void Release() override { shared_.Release(); }

 private:
  SharedSlots& shared_;
  const int64_t order_;
  const std::function<void()> wake_;
};

std::unique_ptr<engine::JobSlots> SharedSlots::ForRun(int64_t order, std::function<void()> wake) {
  {
    std::lock_guard lock(mutex_);
    waiting_[order] = wake;
  }
  return std::make_unique<RunSlots>(*this, order, std::move(wake));
}

int SharedSlots::in_use() const {
  std::lock_guard lock(mutex_);
  return used_;
}

bool SharedSlots::TryAcquire(int64_t order, const std::function<void()>& wake) {
  std::lock_guard lock(mutex_);
  // An older run waiting for a slot goes first.
  bool first = waiting_.empty() || waiting_.begin()->first >= order;
  if (used_ < capacity_ && first) {
    ++used_;
    waiting_.erase(order);
    return true;
  }
  waiting_[order] = wake;
  return false;
}

std::function<void()> SharedSlots::NextToWake() {
  if (used_ >= capacity_ || waiting_.empty()) return nullptr;
  return waiting_.begin()->second;
}

void SharedSlots::Release() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    --used_;
    wake = NextToWake();
  }
  if (wake) wake();
}

void SharedSlots::Forget(int64_t order) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    waiting_.erase(order);
    wake = NextToWake();
  }
  if (wake) wake();
}

}  // namespace tauon::server
