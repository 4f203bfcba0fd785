#include "runtime/supervisor.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "exec/local_runner.h"
#include "http/client.h"
#include "util/process_identity.h"

namespace tauon::runtime {
namespace {

// Restart backoff: 1 s, 2 s, 4 s, ... up to 30 s; a replica that ran this long
// before it exited starts again from 1 s.
constexpr Duration kFirstBackoff{1000};
constexpr Duration kMaxBackoff{30'000};
constexpr Duration kStableRun{30'000};

// The wait before the next start of a replica that exited `crash_streak` times in a row.
Duration Backoff(int crash_streak) {
  return std::min(kMaxBackoff, kFirstBackoff * (1 << std::min(crash_streak - 1, 5)));
}
// The first readiness check comes soon after the start: most servers are up
// well before a whole period.
constexpr Duration kFirstCheck{100};

// True if nothing listens on 127.0.0.1:port (and so a replica may bind it).
bool PortIsFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool free = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return free;
}

// Checks one running replica over HTTP on its own thread, every period,
// until cancelled; each result goes to `report`.
class Probe {
 public:
  Probe(spec::HttpProbe spec, int port, Duration first_delay,
        std::function<void(bool ok, std::string detail)> report)
      : spec_(std::move(spec)), port_(port), report_(std::move(report)) {
    thread_ = std::thread([this, first_delay] { Loop(first_delay); });
  }
  ~Probe() {
    Cancel();
    thread_.join();
  }
  void Cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  void Loop(Duration delay) {
    while (true) {
      {
        std::unique_lock lock(mu_);
        if (cv_.wait_for(lock, delay, [this] { return cancelled_; })) return;
      }
      delay = spec_.period;
      http::ClientRequest request;
      request.url = fmt::format("http://127.0.0.1:{}{}", port_, spec_.path);
      request.timeout = spec_.timeout;
      Result<http::ClientResponse> response = http::Fetch(request);
      if (!response) {
        report_(false, response.error().message);
      } else if (response->status < 200 || response->status > 299) {
        report_(false, fmt::format("GET {} answered {}", spec_.path, response->status));
      } else {
        report_(true, "");
      }
    }
  }

  const spec::HttpProbe spec_;
  const int port_;
  const std::function<void(bool, std::string)> report_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  std::thread thread_;
};

}  // namespace

std::string_view Name(ReplicaState state) {
  switch (state) {
    case ReplicaState::kStarting: return "starting";
    case ReplicaState::kReady: return "ready";
    case ReplicaState::kUnready: return "unready";
    case ReplicaState::kBackoff: return "backoff";
    case ReplicaState::kStopping: return "stopping";
    case ReplicaState::kStopped: return "stopped";
  }
  return "unknown";
}

struct Supervisor::Impl {
  struct Replica {
    ReplicaStatus status;
    exec::ProcessId process = 0;  // 0 while not running.
    uint64_t generation = 0;      // One per start: results of older probes are dropped.
    TimePoint started_at;
    int crash_streak = 0;
    int readiness_failures = 0;
    int liveness_failures = 0;
    std::string kill_reason;  // Why the supervisor terminated it, if it did.
    int log_fd = -1;
    std::unique_ptr<Probe> readiness;
    std::unique_ptr<Probe> liveness;
  };
  struct Group {
    ReplicaTemplate tmpl;
    std::vector<Replica> replicas;
    bool stopping = false;
    std::optional<TimePoint> stop_at;  // A Stop() with a drain time.
  };
  struct ProbeResult {
    int64_t group;
    size_t index;
    uint64_t generation;
    bool liveness;
    bool ok;
    std::string detail;
  };

  Impl(const Clock& clock, Hooks hooks) : clock(clock), hooks(std::move(hooks)), runner(clock) {}

  // Called from any thread: runs `command` on the supervisor's thread.
  void Post(std::function<void()> command) {
    {
      std::lock_guard lock(inbox_mu);
      commands.push_back(std::move(command));
    }
    runner.Wake();
  }

  void Loop();
  void Drain();
  void StartReplica(int64_t group_id, size_t index);
  void OnExit(exec::ProcessId id, const exec::ExitStatus& status);
  void OnProbe(const ProbeResult& result);
  void StopGroup(int64_t group_id);
  // Adds `count` replicas to the group and starts them.
  void Grow(int64_t group_id, int count);
  void StopOne(Replica& replica);
  void SetState(Replica& replica, ReplicaState state) {
    replica.status.state = state;
    replica.status.since = clock.Now();
  }
  void Changed(int64_t group_id) {
    if (hooks.on_change) hooks.on_change(group_id);
  }
  int AllocatePort();
  // Copies `group`'s replica statuses into the snapshot read by Replicas().
  void Publish(int64_t group_id);

  const Clock& clock;
  const Hooks hooks;
  exec::LocalProcessRunner runner;  // Supervisor thread only (Wake() is thread-safe).
  std::map<int64_t, Group> groups;  // Supervisor thread only.
  std::set<int> ports_in_use;
  // Where the search for a free port starts: random, so that two servers on
  // one machine rarely try the same ports (a port another server's replica
  // took between our check and our replica's bind would pass its checks).
  int next_port = kFirstPort + static_cast<int>(std::random_device{}() % (kLastPort - kFirstPort + 1));
  bool quitting = false;

  std::mutex inbox_mu;
  std::vector<std::function<void()>> commands;
  std::vector<ProbeResult> probe_results;

  mutable std::mutex snapshot_mu;
  std::map<int64_t, std::vector<ReplicaStatus>> snapshot;
  std::set<int64_t> stopped_groups;

  std::thread thread;
};

int Supervisor::Impl::AllocatePort() {
  for (int tries = 0; tries <= kLastPort - kFirstPort; ++tries) {
    int port = next_port;
    next_port = next_port == kLastPort ? kFirstPort : next_port + 1;
    if (!ports_in_use.contains(port) && PortIsFree(port)) {
      ports_in_use.insert(port);
      return port;
    }
  }
  return 0;
}

void Supervisor::Impl::Publish(int64_t group_id) {
  std::vector<ReplicaStatus> statuses;
  bool stopped = true;
  auto it = groups.find(group_id);
  if (it != groups.end()) {
    for (const Replica& replica : it->second.replicas) {
      statuses.push_back(replica.status);
      if (replica.process != 0) stopped = false;
    }
    stopped = stopped && it->second.stopping;
  }
  std::lock_guard lock(snapshot_mu);
  snapshot[group_id] = std::move(statuses);
  if (stopped) stopped_groups.insert(group_id);
}

void Supervisor::Impl::StartReplica(int64_t group_id, size_t index) {
  Group& group = groups.at(group_id);
  Replica& replica = group.replicas[index];
  ReplicaStatus& status = replica.status;
  if (status.port == 0 || !PortIsFree(status.port)) {
    if (status.port != 0) ports_in_use.erase(status.port);
    status.port = AllocatePort();
  }
  if (status.port == 0) {
    status.last_exit = "no free port";
    SetState(replica, ReplicaState::kBackoff);
    status.restart_at = clock.Now() + kMaxBackoff;
    return;
  }
  if (replica.log_fd < 0) {
    std::error_code ec;
    std::filesystem::create_directories(group.tmpl.log_dir, ec);
    replica.log_fd = open(status.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  exec::ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", group.tmpl.command};
  spec.env = group.tmpl.env;
  std::erase_if(spec.env, [](const std::string& entry) {
    return entry.starts_with("PORT=") || entry.starts_with("TAUON_REPLICA=");
  });
  spec.env.push_back(fmt::format("PORT={}", status.port));
  spec.env.push_back(fmt::format("TAUON_REPLICA={}", status.name));
  spec.cwd = group.tmpl.cwd;
  spec.kill_grace = group.tmpl.stop_timeout;
  int fd = replica.log_fd;
  spec.on_output = [fd](std::string_view data) {
    if (fd >= 0 && write(fd, data.data(), data.size()) < 0) {
      // A full disk loses replica output, not the replica.
    }
  };
  ++replica.generation;
  replica.readiness_failures = 0;
  replica.liveness_failures = 0;
  replica.kill_reason.clear();
  status.restart_at.reset();
  Result<exec::ProcessId> started = runner.Start(std::move(spec));
  if (!started) {
    status.last_exit = started.error().message;
    status.pid = 0;
    replica.crash_streak++;
    SetState(replica, ReplicaState::kBackoff);
    status.restart_at = clock.Now() + Backoff(replica.crash_streak);
    return;
  }
  replica.process = *started;
  replica.started_at = clock.Now();
  int pgid = runner.ProcessGroupOf(*started);
  status.pid = pgid;
  if (hooks.on_started) {
    std::optional<ProcessIdentity> leader = ProcessIdentity::Of(pgid);
    hooks.on_started(group_id, status.name, pgid, leader ? leader->ToString() : "");
  }
  const uint64_t generation = replica.generation;
  auto report = [this, group_id, index, generation](bool liveness) {
    return [this, group_id, index, generation, liveness](bool ok, std::string detail) {
      {
        std::lock_guard lock(inbox_mu);
        probe_results.push_back({group_id, index, generation, liveness, ok, std::move(detail)});
      }
      runner.Wake();
    };
  };
  if (group.tmpl.readiness) {
    SetState(replica, ReplicaState::kStarting);
    replica.readiness = std::make_unique<Probe>(*group.tmpl.readiness, status.port, kFirstCheck,
                                                report(false));
  } else {
    SetState(replica, ReplicaState::kReady);
  }
  if (group.tmpl.liveness) {
    replica.liveness = std::make_unique<Probe>(*group.tmpl.liveness, status.port,
                                               group.tmpl.liveness->period, report(true));
  }
}

void Supervisor::Impl::OnExit(exec::ProcessId id, const exec::ExitStatus& exit) {
  for (auto& [group_id, group] : groups) {
    for (Replica& replica : group.replicas) {
      if (replica.process != id) continue;
      replica.process = 0;
      replica.readiness.reset();  // Joins its thread: at most one check's timeout.
      replica.liveness.reset();
      ReplicaStatus& status = replica.status;
      status.last_exit = replica.kill_reason.empty() ? exit.Describe() : replica.kill_reason;
      if (hooks.on_exited) hooks.on_exited(group_id, status.name);
      if (group.stopping || status.state == ReplicaState::kStopping) {
        SetState(replica, ReplicaState::kStopped);
        ports_in_use.erase(status.port);
      } else {
        const TimePoint now = clock.Now();
        replica.crash_streak = now - replica.started_at >= kStableRun ? 1 : replica.crash_streak + 1;
        SetState(replica, ReplicaState::kBackoff);
        status.restart_at = now + Backoff(replica.crash_streak);
      }
      Publish(group_id);
      Changed(group_id);
      return;
    }
  }
}

void Supervisor::Impl::OnProbe(const ProbeResult& result) {
  auto it = groups.find(result.group);
  if (it == groups.end() || result.index >= it->second.replicas.size()) return;
  Group& group = it->second;
  Replica& replica = group.replicas[result.index];
  if (replica.generation != result.generation || replica.process == 0) return;  // Stale.
  ReplicaState before = replica.status.state;
  if (before == ReplicaState::kStopping || before == ReplicaState::kStopped) return;
  if (result.liveness) {
    if (before == ReplicaState::kStarting) return;  // Readiness governs until then.
    replica.liveness_failures = result.ok ? 0 : replica.liveness_failures + 1;
    if (replica.liveness_failures >= group.tmpl.liveness->failure_threshold) {
      replica.kill_reason = fmt::format("liveness check failed {} times: {}",
                                        replica.liveness_failures, result.detail);
      runner.Terminate(replica.process);  // Restarted when it exits.
      SetState(replica, ReplicaState::kUnready);
    }
  } else if (result.ok) {
    replica.readiness_failures = 0;
    if (before != ReplicaState::kReady) SetState(replica, ReplicaState::kReady);
  } else {
    replica.readiness_failures++;
    if (before == ReplicaState::kReady &&
        replica.readiness_failures >= group.tmpl.readiness->failure_threshold) {
      SetState(replica, ReplicaState::kUnready);
    }
  }
  if (replica.status.state != before) {
    Publish(result.group);
    Changed(result.group);
  }
}

void Supervisor::Impl::StopGroup(int64_t group_id) {
  auto it = groups.find(group_id);
  if (it == groups.end()) {
    std::lock_guard lock(snapshot_mu);
    stopped_groups.insert(group_id);
    return;
  }
  Group& group = it->second;
  group.stopping = true;
  for (Replica& replica : group.replicas) StopOne(replica);
  Publish(group_id);
  Changed(group_id);
}

void Supervisor::Impl::StopOne(Replica& replica) {
  if (replica.process != 0) {
    if (replica.status.state != ReplicaState::kStopping) runner.Terminate(replica.process);
    SetState(replica, ReplicaState::kStopping);
  } else if (replica.status.state != ReplicaState::kStopped) {
    SetState(replica, ReplicaState::kStopped);
    ports_in_use.erase(replica.status.port);
  }
  replica.status.restart_at.reset();
}

void Supervisor::Impl::Grow(int64_t group_id, int count) {
  Group& group = groups.at(group_id);
  const size_t first = group.replicas.size();
  group.replicas.resize(first + static_cast<size_t>(count));
  for (size_t i = first; i < group.replicas.size(); ++i) {
    Replica& replica = group.replicas[i];
    replica.status.name = fmt::format("r{}", i + 1);
    replica.status.log = group.tmpl.log_dir / (replica.status.name + ".log");
    StartReplica(group_id, i);
  }
  Publish(group_id);
  Changed(group_id);
}

void Supervisor::Impl::Drain() {
  std::vector<std::function<void()>> posted;
  std::vector<ProbeResult> results;
  {
    std::lock_guard lock(inbox_mu);
    posted.swap(commands);
    results.swap(probe_results);
  }
  for (auto& command : posted) command();
  for (const ProbeResult& result : results) OnProbe(result);
}

void Supervisor::Impl::Loop() {
  while (true) {
    Drain();
    const TimePoint now = clock.Now();
    std::optional<TimePoint> deadline;
    bool running = false;
    for (auto& [group_id, group] : groups) {
      if (group.stop_at && !group.stopping) {
        if (*group.stop_at <= now) {
          StopGroup(group_id);
        } else {
          deadline = deadline ? std::min(*deadline, *group.stop_at) : *group.stop_at;
        }
      }
      for (size_t i = 0; i < group.replicas.size(); ++i) {
        Replica& replica = group.replicas[i];
        if (replica.process != 0) running = true;
        if (replica.status.state != ReplicaState::kBackoff || !replica.status.restart_at) continue;
        if (*replica.status.restart_at <= now) {
          replica.status.restarts++;
          StartReplica(group_id, i);
          if (replica.process != 0) running = true;
          Publish(group_id);
          Changed(group_id);
        }
        if (replica.status.restart_at) {
          deadline = deadline ? std::min(*deadline, *replica.status.restart_at)
                              : *replica.status.restart_at;
        }
      }
    }
    if (quitting && !running) return;
    exec::WaitResult result = runner.Wait(deadline);
    if (result.kind == exec::WaitResult::Kind::kExited) OnExit(result.id, result.status);
  }
}

Supervisor::Supervisor(const Clock& clock, Hooks hooks)
    : impl_(std::make_unique<Impl>(clock, std::move(hooks))) {
  impl_->thread = std::thread([this] { impl_->Loop(); });
}

Supervisor::~Supervisor() {
  impl_->Post([impl = impl_.get()] {
    impl->quitting = true;
    for (auto& [group_id, group] : impl->groups) {
      if (!group.stopping) impl->StopGroup(group_id);
    }
  });
  impl_->thread.join();
  for (auto& [group_id, group] : impl_->groups) {
    for (Impl::Replica& replica : group.replicas) {
      if (replica.log_fd >= 0) close(replica.log_fd);
    }
  }
}

void Supervisor::Run(int64_t group_id, ReplicaTemplate tmpl, int count) {
  {
    // Known (and not stopped) from now on, before the supervisor's thread gets to it.
    std::lock_guard lock(impl_->snapshot_mu);
    impl_->snapshot.try_emplace(group_id);
  }
  impl_->Post([impl = impl_.get(), group_id, tmpl = std::move(tmpl), count]() mutable {
    if (impl->groups.contains(group_id)) return;
    Impl::Group& group = impl->groups[group_id];
    group.tmpl = std::move(tmpl);
    impl->Grow(group_id, count);
  });
}

void Supervisor::Scale(int64_t group_id, int count) {
  impl_->Post([impl = impl_.get(), group_id, count] {
    auto it = impl->groups.find(group_id);
    if (it == impl->groups.end() || it->second.stopping) return;
    int running = 0;
    for (const Impl::Replica& replica : it->second.replicas) {
      if (replica.status.state != ReplicaState::kStopping &&
          replica.status.state != ReplicaState::kStopped) {
        ++running;
      }
    }
    if (running < count) impl->Grow(group_id, count - running);
  });
}

void Supervisor::StopReplica(int64_t group_id, const std::string& name) {
  impl_->Post([impl = impl_.get(), group_id, name] {
    auto it = impl->groups.find(group_id);
    if (it == impl->groups.end()) return;
    for (Impl::Replica& replica : it->second.replicas) {
      if (replica.status.name == name) impl->StopOne(replica);
    }
    impl->Publish(group_id);
    impl->Changed(group_id);
  });
}

void Supervisor::Stop(int64_t group_id, Duration drain) {
  impl_->Post([impl = impl_.get(), group_id, drain] {
    auto it = impl->groups.find(group_id);
    if (drain > Duration(0) && it != impl->groups.end()) {
      it->second.stop_at = impl->clock.Now() + drain;
    } else {
      impl->StopGroup(group_id);
    }
  });
}

std::vector<ReplicaStatus> Supervisor::Replicas(int64_t group_id) const {
  std::lock_guard lock(impl_->snapshot_mu);
  auto it = impl_->snapshot.find(group_id);
  return it == impl_->snapshot.end() ? std::vector<ReplicaStatus>{} : it->second;
}

bool Supervisor::Stopped(int64_t group_id) const {
  std::lock_guard lock(impl_->snapshot_mu);
  return impl_->stopped_groups.contains(group_id) || !impl_->snapshot.contains(group_id);
}

}  // namespace tauon::runtime
