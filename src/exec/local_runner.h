// ProcessRunner for real processes on this machine.
#pragma once

#include <map>
#include <memory>

#include "exec/process_runner.h"

namespace tauon::exec {

class LocalProcessRunner final : public ProcessRunner {
 public:
  // `kill_grace`: time between SIGTERM and SIGKILL in Terminate().
  explicit LocalProcessRunner(const Clock& clock, Duration kill_grace = Duration(5000));
  ~LocalProcessRunner() override;  // Kills every process group still running.

  Result<ProcessId> Start(ProcessSpec spec) override;
  WaitResult Wait(std::optional<TimePoint> deadline) override;
  void Terminate(ProcessId id) override;
  void Kill(ProcessId id) override;
  int ProcessGroupOf(ProcessId id) const override;

  // Makes the current or next Wait() return kInterrupted. Async-signal-safe:
  // meant to be called from a signal handler.
  void Interrupt();

  // Makes the current or next Wait() return kWoken. Thread-safe.
  void Wake();

  size_t running() const { return processes_.size(); }

 private:
  struct Process {
    pid_t pid = 0;
    int pidfd = -1;
    int output_fd = -1;  // Read end of the stdout/stderr pipe; -1 after EOF.
    std::function<void(std::string_view)> on_output;
    Duration kill_grace{0};
    std::optional<TimePoint> kill_at;  // When Terminate()'s SIGKILL is due.
  };

  // Reads what is available from `process`'s pipe; closes it at EOF.
  void ReadOutput(Process& process);
  ExitStatus Reap(Process& process);

  const Clock& clock_;
  const Duration kill_grace_;
  int interrupt_fd_ = -1;  // eventfd written by Interrupt().
  int wake_fd_ = -1;       // eventfd written by Wake().
  ProcessId next_id_ = 1;
  std::map<ProcessId, Process> processes_;
  std::unique_ptr<char[]> buffer_;
};

}  // namespace tauon::exec
