#include "runtime/supervisor.h"

#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "http/client.h"

namespace tauon::runtime {
namespace {

namespace fs = std::filesystem;

// Real processes, real ports: python3's http.server as the replica.
class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("tauon-supervisor-{}-{}", getpid(),
                                                   ::testing::UnitTest::GetInstance()->random_seed());
    fs::create_directories(dir_ / "www");
    std::ofstream(dir_ / "www" / "healthz") << "ok\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  ReplicaTemplate Template(std::string command) {
    ReplicaTemplate tmpl;
    tmpl.command = std::move(command);
    tmpl.cwd = dir_ / "www";
    tmpl.env = {"PATH=/usr/bin:/bin"};
    tmpl.stop_timeout = Duration(2000);
    tmpl.log_dir = dir_ / "logs";
    return tmpl;
  }
  static spec::HttpProbe Probe(std::string path) {
    spec::HttpProbe probe;
    probe.path = std::move(path);
    probe.period = Duration(100);
    probe.timeout = Duration(500);
    probe.failure_threshold = 2;
    return probe;
  }

  // Waits (at most 20 s) until `done` holds for the group's replicas.
  template <typename Pred>
  bool WaitFor(Supervisor& supervisor, int64_t group, Pred done) {
    for (int i = 0; i < 400; ++i) {
      if (done(supervisor.Replicas(group))) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  static bool AllReady(const std::vector<ReplicaStatus>& replicas) {
    return !replicas.empty() && std::all_of(replicas.begin(), replicas.end(), [](const auto& r) {
      return r.state == ReplicaState::kReady;
    });
  }

  fs::path dir_;
  SystemClock clock_;
};

constexpr const char* kHttpServer = "exec /usr/bin/python3 -m http.server --bind 127.0.0.1 $PORT";

TEST_F(SupervisorTest, ReplicasBecomeReadyGetDistinctPortsAndStop) {
  std::atomic<int> changes = 0;
  std::vector<std::string> started, exited;
  std::mutex mu;
  Supervisor::Hooks hooks;
  hooks.on_change = [&](int64_t) { ++changes; };
  hooks.on_started = [&](int64_t group, const std::string& replica, int pgid,
                         const std::string& leader) {
    std::lock_guard lock(mu);
    started.push_back(fmt::format("{}/{}", group, replica));
    EXPECT_GT(pgid, 0);
    EXPECT_FALSE(leader.empty());
  };
  hooks.on_exited = [&](int64_t group, const std::string& replica) {
    std::lock_guard lock(mu);
    exited.push_back(fmt::format("{}/{}", group, replica));
  };
  Supervisor supervisor(clock_, hooks);
  ReplicaTemplate tmpl = Template(kHttpServer);
  tmpl.readiness = Probe("/healthz");
  supervisor.Run(7, tmpl, 2);
  EXPECT_FALSE(supervisor.Stopped(7));
  ASSERT_TRUE(WaitFor(supervisor, 7, AllReady));
  std::vector<ReplicaStatus> replicas = supervisor.Replicas(7);
  ASSERT_EQ(replicas.size(), 2u);
  EXPECT_EQ(replicas[0].name, "r1");
  EXPECT_EQ(replicas[1].name, "r2");
  EXPECT_NE(replicas[0].port, replicas[1].port);
  for (const ReplicaStatus& replica : replicas) {
    EXPECT_GE(replica.port, Supervisor::kFirstPort);
    EXPECT_LE(replica.port, Supervisor::kLastPort);
    http::ClientRequest request;
    request.url = fmt::format("http://127.0.0.1:{}/healthz", replica.port);
    Result<http::ClientResponse> response = http::Fetch(request);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->body, "ok\n");
  }
  EXPECT_GE(changes.load(), 1);

  supervisor.Stop(7);
  for (int i = 0; i < 200 && !supervisor.Stopped(7); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(supervisor.Stopped(7));
  for (const ReplicaStatus& replica : supervisor.Replicas(7)) {
    EXPECT_EQ(replica.state, ReplicaState::kStopped);
    EXPECT_NE(kill(replica.pid, 0), 0) << "replica process still running";
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(started, (std::vector<std::string>{"7/r1", "7/r2"}));
  std::sort(exited.begin(), exited.end());
  EXPECT_EQ(exited, (std::vector<std::string>{"7/r1", "7/r2"}));
  // Each replica's output went to its log.
  std::string log;
  for (int i = 0; i < 100 && log.find("GET /healthz") == std::string::npos; ++i) {
    std::stringstream content;
    content << std::ifstream(replicas[0].log).rdbuf();
    log = content.str();
    if (log.find("GET /healthz") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_NE(log.find("GET /healthz"), std::string::npos) << log;
}

TEST_F(SupervisorTest, AKilledReplicaIsRestarted) {
  Supervisor supervisor(clock_, {});
  ReplicaTemplate tmpl = Template(kHttpServer);
  tmpl.readiness = Probe("/healthz");
  supervisor.Run(1, tmpl, 1);
  ASSERT_TRUE(WaitFor(supervisor, 1, AllReady));
  int pid = supervisor.Replicas(1)[0].pid;
  ASSERT_EQ(kill(-pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor(supervisor, 1, [&](const std::vector<ReplicaStatus>& replicas) {
    return replicas[0].restarts == 1 && replicas[0].state == ReplicaState::kReady;
  }));
  ReplicaStatus replica = supervisor.Replicas(1)[0];
  EXPECT_NE(replica.pid, pid);
  EXPECT_EQ(replica.last_exit, "killed by SIGKILL");
}

TEST_F(SupervisorTest, ACrashLoopBacksOff) {
  Supervisor supervisor(clock_, {});
  supervisor.Run(1, Template("echo starting; exit 3"), 1);
  ASSERT_TRUE(WaitFor(supervisor, 1, [](const std::vector<ReplicaStatus>& replicas) {
    return !replicas.empty() && replicas[0].restarts >= 1 &&
           replicas[0].state == ReplicaState::kBackoff;
  }));
  ReplicaStatus replica = supervisor.Replicas(1)[0];
  EXPECT_EQ(replica.last_exit, "exit code 3");
  ASSERT_TRUE(replica.restart_at);
  // The second restart waits 2 s: longer than the first's 1 s.
  EXPECT_GE(*replica.restart_at - replica.since, Duration(1900));
  std::stringstream log;
  log << std::ifstream(replica.log).rdbuf();
  EXPECT_EQ(log.str(), "starting\nstarting\n");
}

TEST_F(SupervisorTest, AFailingLivenessCheckRestartsTheReplica) {
  Supervisor supervisor(clock_, {});
  ReplicaTemplate tmpl = Template(kHttpServer);
  tmpl.readiness = Probe("/healthz");
  tmpl.liveness = Probe("/missing");  // http.server answers 404.
  supervisor.Run(1, tmpl, 1);
  ASSERT_TRUE(WaitFor(supervisor, 1, [](const std::vector<ReplicaStatus>& replicas) {
    return !replicas.empty() && replicas[0].restarts >= 1;
  }));
  EXPECT_EQ(supervisor.Replicas(1)[0].last_exit.substr(0, 37),
            "liveness check failed 2 times: GET /m");
}

TEST_F(SupervisorTest, NotReadyUntilTheCheckPasses) {
  Supervisor supervisor(clock_, {});
  ReplicaTemplate tmpl = Template("sleep 1; " + std::string(kHttpServer));
  tmpl.readiness = Probe("/healthz");
  supervisor.Run(3, tmpl, 1);
  ASSERT_TRUE(WaitFor(supervisor, 3, [](const std::vector<ReplicaStatus>& r) { return !r.empty(); }));
  EXPECT_EQ(supervisor.Replicas(3)[0].state, ReplicaState::kStarting);
  ASSERT_TRUE(WaitFor(supervisor, 3, AllReady));
  EXPECT_EQ(supervisor.Replicas(3)[0].restarts, 0);
  EXPECT_TRUE(supervisor.Stopped(99));  // Unknown groups count as stopped.
}

TEST_F(SupervisorTest, ScaleAddsReplicasAndStopReplicaRemovesOneForGood) {
  Supervisor supervisor(clock_, {});
  ReplicaTemplate tmpl = Template(kHttpServer);
  tmpl.readiness = Probe("/healthz");
  supervisor.Run(1, tmpl, 1);
  ASSERT_TRUE(WaitFor(supervisor, 1, AllReady));
  supervisor.Scale(1, 2);
  ASSERT_TRUE(WaitFor(supervisor, 1, [](const std::vector<ReplicaStatus>& r) {
    return r.size() == 2 && AllReady(r);
  }));
  EXPECT_EQ(supervisor.Replicas(1)[1].name, "r2");
  EXPECT_NE(supervisor.Replicas(1)[0].port, supervisor.Replicas(1)[1].port);

  const int pid = supervisor.Replicas(1)[0].pid;
  supervisor.StopReplica(1, "r1");
  ASSERT_TRUE(WaitFor(supervisor, 1, [](const std::vector<ReplicaStatus>& r) {
    return r[0].state == ReplicaState::kStopped;
  }));
  EXPECT_EQ(kill(pid, 0), -1);  // Gone, and not restarted:
  EXPECT_EQ(supervisor.Replicas(1)[0].restarts, 0);
  EXPECT_EQ(supervisor.Replicas(1)[1].state, ReplicaState::kReady);
  EXPECT_FALSE(supervisor.Stopped(1));

  // Scale counts the replicas still running: one more, named r3.
  supervisor.Scale(1, 2);
  ASSERT_TRUE(WaitFor(supervisor, 1, [](const std::vector<ReplicaStatus>& r) {
    return r.size() == 3 && r[2].state == ReplicaState::kReady;
  }));
  EXPECT_EQ(supervisor.Replicas(1)[2].name, "r3");
  supervisor.Scale(1, 1);  // Never shrinks.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(supervisor.Replicas(1).size(), 3u);
}

}  // namespace
}  // namespace tauon::runtime
