// Forwards every engine event to several observers, in order.
#pragma once

#include <vector>

#include "engine/engine.h"

namespace tauon::runs {

class ObserverTee final : public engine::RunObserver {
 public:
  explicit ObserverTee(std::vector<engine::RunObserver*> observers)
      : observers_(std::move(observers)) {}

  void JobStarted(size_t job, int attempt, TimePoint at) override {
    for (auto* o : observers_) o->JobStarted(job, attempt, at);
  }
  void StepStarted(size_t job, int attempt, size_t step, TimePoint at) override {
    for (auto* o : observers_) o->StepStarted(job, attempt, step, at);
  }
  void StepOutput(size_t job, int attempt, size_t step, std::string_view lines) override {
    for (auto* o : observers_) o->StepOutput(job, attempt, step, lines);
  }
  void StepFinished(size_t job, int attempt, size_t step,
                    const engine::StepOutcome& outcome) override {
    for (auto* o : observers_) o->StepFinished(job, attempt, step, outcome);
  }
  void ServiceOutput(size_t job, int attempt, size_t service, std::string_view lines) override {
    for (auto* o : observers_) o->ServiceOutput(job, attempt, service, lines);
  }
  void JobMessage(size_t job, int attempt, std::string_view message) override {
    for (auto* o : observers_) o->JobMessage(job, attempt, message);
  }
  void JobFinished(size_t job, int attempt, const engine::JobOutcome& outcome) override {
    for (auto* o : observers_) o->JobFinished(job, attempt, outcome);
  }
  void JobNotRun(size_t job, engine::JobStatus status, std::string_view reason) override {
    for (auto* o : observers_) o->JobNotRun(job, status, reason);
  }
  void ProcessStarted(size_t job, int attempt, int pgid) override {
    for (auto* o : observers_) o->ProcessStarted(job, attempt, pgid);
  }
  void ProcessExited(size_t job, int pgid) override {
    for (auto* o : observers_) o->ProcessExited(job, pgid);
  }
  // Observers after one that holds changes back report only what it recorded.
  std::optional<TimePoint> Flush(bool force) override {
    for (auto* o : observers_) {
      if (std::optional<TimePoint> again = o->Flush(force)) return again;
    }
    return std::nullopt;
  }

 private:
  std::vector<engine::RunObserver*> observers_;
};

}  // namespace tauon::runs
