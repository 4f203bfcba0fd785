// Runs the replicas of releases on this machine: each replica is a process
// group started with `sh -c COMMAND` and its own port in $PORT. The
// supervisor gates traffic on readiness checks, restarts crashed or
// unhealthy replicas with exponential backoff, keeps each replica's output in
// a log file and stops replicas gracefully (SIGTERM, SIGKILL after the stop
// timeout). It knows nothing of routers or environments: whoever drives it
// (the deploy controller) learns of changes through Hooks and routes traffic
// to the ready replicas itself.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "spec/pipeline.h"
#include "util/clock.h"

namespace tauon::runtime {

// How to run the replicas of one group (a release).
struct ReplicaTemplate {
  std::string command;  // Run with sh -c.
  std::filesystem::path cwd;
  // The whole environment, "KEY=VALUE"; the supervisor adds PORT and
  // TAUON_REPLICA per replica.
  std::vector<std::string> env;
  std::optional<spec::HttpProbe> readiness;
  std::optional<spec::HttpProbe> liveness;
  Duration stop_timeout{10'000};
  std::filesystem::path log_dir;  // Replica NAME writes to LOG_DIR/NAME.log.
};

enum class ReplicaState {
  kStarting,  // Started, readiness not passed yet.
  kReady,     // Gets traffic.
  kUnready,   // Was ready, now fails its readiness check: out of rotation.
  kBackoff,   // Exited; started again at restart_at.
  kStopping,  // SIGTERM sent.
  kStopped,   // Exited and will not be started again.
};
std::string_view Name(ReplicaState state);

struct ReplicaStatus {
  std::string name;  // "r1", "r2", ...
  ReplicaState state = ReplicaState::kStarting;
  int pid = 0;
  int port = 0;
  int restarts = 0;
  std::string last_exit;  // "exit code 1", "killed by SIGKILL", "liveness check failed 3 times"
  TimePoint since;        // When it entered `state`.
  std::optional<TimePoint> restart_at;  // kBackoff: when it starts again.
  std::filesystem::path log;
};

class Supervisor {
 public:
  struct Hooks {
    // A group's replicas changed state (e.g. one became ready), or the last
    // process of a stopped group exited. Called on the supervisor's thread:
    // it may call back into the supervisor.
    std::function<void(int64_t group)> on_change;
    // A replica's process group started or ended: recorded so that a
    // restarted server can kill what this one leaves behind. `leader` is the
    // ProcessIdentity of the group leader.
    std::function<void(int64_t group, const std::string& replica, int pgid,
                       const std::string& leader)>
        on_started;
    std::function<void(int64_t group, const std::string& replica)> on_exited;
  };

  Supervisor(const Clock& clock, Hooks hooks);
  // Stops every replica (SIGTERM, then SIGKILL after its stop timeout) and
  // joins the supervisor's thread.
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Runs `count` replicas of `group`. Replaces nothing: a group runs once.
  void Run(int64_t group, ReplicaTemplate replica, int count);
  // Stops every replica of `group` once `drain` has passed (time for the
  // requests sent to them to finish); on_change once the last one exited.
  void Stop(int64_t group, Duration drain = Duration(0));
  // A rolling update grows and shrinks groups one replica at a time:
  // Scale() starts new replicas (named after the last one) until `count` of
  // the group's replicas are neither stopping nor stopped; it never stops
  // any. StopReplica() stops one replica for good (SIGTERM, then SIGKILL
  // after the stop timeout); its name is not reused.
  void Scale(int64_t group, int count);
  void StopReplica(int64_t group, const std::string& name);

  // A copy of the group's replicas, by name; empty for an unknown group.
  std::vector<ReplicaStatus> Replicas(int64_t group) const;
  // True once `group` was stopped and all its processes exited (or it is unknown).
  bool Stopped(int64_t group) const;

  // Ports handed to replicas come from [first, last], a range below the
  // kernel's ephemeral ports so that no outgoing connection takes one.
  static constexpr int kFirstPort = 20000;
  static constexpr int kLastPort = 29999;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tauon::runtime
