// How the engine runs commands. The engine sees only this interface: the
// local runner below spawns real process groups; tests use a fake that
// scripts exits and advances a FakeClock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.h"
#include "util/error.h"

namespace tauon::exec {

// Names a started process; assigned by the runner, never reused.
using ProcessId = uint64_t;

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH if it has no '/'.
  std::vector<std::string> env;   // The whole environment, "KEY=VALUE".
  std::filesystem::path cwd;
  // Receives stdout and stderr, interleaved as written, in chunks of any size.
  // Called from Wait() only.
  std::function<void(std::string_view)> on_output;
  // When set, stderr goes to this file (created or truncated) instead, and
  // on_output receives stdout only: for commands whose stdout is data.
  std::optional<std::filesystem::path> stderr_path;
  // Time between Terminate()'s SIGTERM and SIGKILL; unset: the runner's own.
  std::optional<Duration> kill_grace;
};

struct ExitStatus {
  int code = -1;   // Exit code, or -1 when killed by a signal.
  int signal = 0;  // The signal that killed it, or 0.
  bool ok() const { return code == 0; }
  // "exit code 3", "killed by SIGKILL".
  std::string Describe() const;
};

struct WaitResult {
  enum class Kind {
    kExited,       // `id` exited with `status`; all its output was delivered first.
    kDeadline,     // The deadline passed.
    kInterrupted,  // Interrupt() was called (e.g. from a SIGINT handler).
    kWoken,        // Someone asked the waiter to look around (e.g. a job slot freed).
  };
  Kind kind = Kind::kDeadline;
  ProcessId id = 0;
  ExitStatus status;
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;

  // Starts a process as the leader of a new process group, stdin from
  // /dev/null. Fails (with the program and the reason) if it cannot start.
  virtual Result<ProcessId> Start(ProcessSpec spec) = 0;

  // Blocks until a started process exits, `deadline` passes, or an interrupt
  // or wake-up arrives, delivering output meanwhile. With nothing running and
  // no deadline it waits for an interrupt or wake-up only.
  virtual WaitResult Wait(std::optional<TimePoint> deadline) = 0;

  // Asks the process group of `id` to stop: SIGTERM now, SIGKILL once the
  // grace period has passed. Idempotent; the exit is still reported by Wait.
  virtual void Terminate(ProcessId id) = 0;

  // SIGKILL to the process group of `id` now.
  virtual void Kill(ProcessId id) = 0;

  // The OS process group of a running process (0 if unknown), so that a
  // restarted server can kill what a dead one left behind.
  virtual int ProcessGroupOf(ProcessId id) const = 0;
};

}  // namespace tauon::exec
