// A ProcessRunner for tests: processes are scripted (how long they run, what
// they print, how they exit) and time is a FakeClock that Wait() advances to
// the next event, so engine tests run instantly and deterministically.
#pragma once

#include <signal.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "exec/process_runner.h"

namespace tauon::exec {

class FakeProcessRunner final : public ProcessRunner {
 public:
  struct Behavior {
    Duration duration{0};
    int exit_code = 0;
    std::string output;
    bool ignores_sigterm = false;  // Then only SIGKILL (after the grace) stops it.
  };

  explicit FakeProcessRunner(FakeClock& clock, Duration kill_grace = Duration(5000))
      : clock_(clock), kill_grace_(kill_grace) {}

  // Commands whose script (last argv element) contains `needle` behave as
  // `behavior`; later rules win. Unmatched commands exit 0 at once.
  void On(std::string needle, Behavior behavior) { rules_.emplace_back(std::move(needle), behavior); }
  // Like On, but for the n-th (1-based) start of a matching command only.
  void OnNth(std::string needle, int n, Behavior behavior) {
    nth_rules_[{needle, n}] = behavior;
  }
  // Makes Wait() return kInterrupted once the clock reaches `at`.
  void InterruptAt(TimePoint at) { interrupts_.push_back(at); }
  // Makes Start() fail for commands containing `needle`.
  void FailToStart(std::string needle) { start_failures_.push_back(std::move(needle)); }

  struct Started {
    ProcessId id;
    ProcessSpec spec;
    TimePoint at;
    const std::string& script() const { return spec.argv.back(); }
  };
  const std::vector<Started>& started() const { return started_; }
  // Scripts in start order.
  std::vector<std::string> scripts() const {
    std::vector<std::string> out;
    for (const Started& s : started_) out.push_back(s.script());
    return out;
  }
  size_t running() const { return running_.size(); }
  size_t peak_running() const { return peak_; }
  std::vector<std::pair<ProcessId, int>> signals() const { return signals_; }

  Result<ProcessId> Start(ProcessSpec spec) override {
    const std::string& script = spec.argv.back();
    for (const std::string& needle : start_failures_) {
      if (script.find(needle) != std::string::npos) return Fail("cannot start '{}': fake failure", spec.argv[0]);
    }
    Behavior behavior;
    for (const auto& [needle, b] : rules_) {
      if (script.find(needle) != std::string::npos) behavior = b;
    }
    std::set<std::string> counted;  // Each needle counts a start once.
    for (const auto& [key, b] : nth_rules_) {
      if (script.find(key.first) == std::string::npos) continue;
      if (counted.insert(key.first).second) ++starts_[key.first];
      if (starts_[key.first] == key.second) behavior = b;
    }
    ProcessId id = next_id_++;
    started_.push_back({id, spec, clock_.Now()});
    running_[id] = Process{std::move(spec.on_output), behavior, clock_.Now() + behavior.duration,
                           behavior.exit_code, 0};
    peak_ = std::max(peak_, running_.size());
    return id;
  }

  WaitResult Wait(std::optional<TimePoint> deadline) override {
    // The next exit: earliest time, then lowest id.
    auto next = running_.end();
    for (auto it = running_.begin(); it != running_.end(); ++it) {
      if (next == running_.end() || it->second.exit_at < next->second.exit_at) next = it;
    }
    std::optional<TimePoint> interrupt;
    for (TimePoint t : interrupts_) {
      if (!interrupt || t < *interrupt) interrupt = t;
    }
    if (next == running_.end() && !deadline && !interrupt) {
      // A real runner would block until woken; here the caller is woken at once.
      return {WaitResult::Kind::kWoken, 0, {}};
    }
    TimePoint exit_at = next == running_.end() ? TimePoint::max() : next->second.exit_at;
    TimePoint limit = deadline.value_or(TimePoint::max());
    if (interrupt && *interrupt <= exit_at && *interrupt <= limit) {
      interrupts_.erase(std::find(interrupts_.begin(), interrupts_.end(), *interrupt));
      if (*interrupt > clock_.Now()) clock_.Set(*interrupt);
      return {WaitResult::Kind::kInterrupted, 0, {}};
    }
    if (next == running_.end() || exit_at > limit) {
      if (deadline && *deadline > clock_.Now()) clock_.Set(*deadline);
      return {WaitResult::Kind::kDeadline, 0, {}};
    }
    if (exit_at > clock_.Now()) clock_.Set(exit_at);
    Process process = std::move(next->second);
    ProcessId id = next->first;
    running_.erase(next);
    if (process.on_output && !process.behavior.output.empty()) {
      process.on_output(process.behavior.output);
    }
    ExitStatus status;
    if (process.signal) {
      status.signal = process.signal;
    } else {
      status.code = process.exit_code;
    }
    return {WaitResult::Kind::kExited, id, status};
  }

  void Terminate(ProcessId id) override {
    auto it = running_.find(id);
    if (it == running_.end()) return;
    signals_.emplace_back(id, SIGTERM);
    if (it->second.behavior.ignores_sigterm) {
      Stop(it->second, clock_.Now() + kill_grace_, SIGKILL);
    } else {
      Stop(it->second, clock_.Now(), SIGTERM);
    }
  }

  void Kill(ProcessId id) override {
    auto it = running_.find(id);
    if (it == running_.end()) return;
    signals_.emplace_back(id, SIGKILL);
    Stop(it->second, clock_.Now(), SIGKILL);
  }

  int ProcessGroupOf(ProcessId id) const override {
    return running_.contains(id) ? static_cast<int>(1000 + id) : 0;
  }

 private:
  struct Process {
    std::function<void(std::string_view)> on_output;
    Behavior behavior;
    TimePoint exit_at;
    int exit_code = 0;
    int signal = 0;
  };

  static void Stop(Process& process, TimePoint at, int signal) {
    if (at < process.exit_at) {
      process.exit_at = at;
      process.signal = signal;
    }
  }

  FakeClock& clock_;
  Duration kill_grace_;
  std::vector<std::pair<std::string, Behavior>> rules_;
  std::map<std::pair<std::string, int>, Behavior> nth_rules_;
  std::map<std::string, int> starts_;  // Starts per OnNth needle.
  std::vector<std::string> start_failures_;
  std::vector<TimePoint> interrupts_;
  std::vector<Started> started_;
  std::map<ProcessId, Process> running_;
  std::vector<std::pair<ProcessId, int>> signals_;
  ProcessId next_id_ = 1;
  size_t peak_ = 0;
};

}  // namespace tauon::exec
