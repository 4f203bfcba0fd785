#include "exec/local_runner.h"

#include <fcntl.h>
#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace tauon::exec {
namespace {

class LocalRunnerTest : public ::testing::Test {
 protected:
  // Starts `/bin/sh -c script`, collecting its output into output_[id].
  ProcessId Start(const std::string& script, std::filesystem::path cwd = "/") {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
    spec.cwd = std::move(cwd);
    auto slot = std::make_shared<std::string>();
    spec.on_output = [slot](std::string_view chunk) { slot->append(chunk); };
    Result<ProcessId> id = runner_.Start(std::move(spec));
    EXPECT_TRUE(id.has_value()) << id.error().message;
    outputs_[*id] = slot;
    return *id;
  }

  // Waits (at most 10 s) for the next exit.
  WaitResult WaitForExit() {
    WaitResult result = runner_.Wait(clock_.Now() + Duration(10'000));
    EXPECT_EQ(result.kind, WaitResult::Kind::kExited);
    return result;
  }

  SystemClock clock_;
  LocalProcessRunner runner_{clock_, Duration(300)};
  std::map<ProcessId, std::shared_ptr<std::string>> outputs_;
};

TEST_F(LocalRunnerTest, CollectsOutputAndExitCode) {
  ProcessId id = Start("echo $GREETING; echo oops >&2; pwd; exit 3", "/tmp");
  WaitResult result = WaitForExit();
  EXPECT_EQ(result.id, id);
  EXPECT_EQ(result.status.code, 3);
  EXPECT_EQ(result.status.Describe(), "exit code 3");
  EXPECT_EQ(*outputs_[id], "hello\noops\n/tmp\n");
}

TEST_F(LocalRunnerTest, ChildrenInheritNoOtherDescriptors) {
  int leaky = open("/dev/null", O_RDONLY);  // Deliberately without O_CLOEXEC.
  ASSERT_GE(leaky, 3);
  ProcessId id = Start("ls /proc/self/fd | sort -n | tr '\\n' ' '");
  WaitResult result = WaitForExit();
  close(leaky);
  EXPECT_EQ(result.id, id);
  // stdin, stdout, stderr, and the fd `ls` opens to read the directory.
  EXPECT_EQ(*outputs_[id], "0 1 2 3 ");
}

TEST_F(LocalRunnerTest, ReportsStartFailures) {
  ProcessSpec spec;
  spec.argv = {"/nonexistent/program"};
  Result<ProcessId> id = runner_.Start(std::move(spec));
  ASSERT_FALSE(id.has_value());
  EXPECT_EQ(id.error().message, "cannot start '/nonexistent/program': No such file or directory");
  ProcessSpec in_missing_dir;
  in_missing_dir.argv = {"/bin/true"};
  in_missing_dir.cwd = "/nonexistent/dir";
  id = runner_.Start(std::move(in_missing_dir));
  ASSERT_FALSE(id.has_value());
  EXPECT_EQ(id.error().message,
            "cannot start '/bin/true': working directory /nonexistent/dir does not exist");
}

TEST_F(LocalRunnerTest, DeadlinePassesWhileProcessRuns) {
  Start("sleep 5");
  TimePoint before = clock_.Now();
  WaitResult result = runner_.Wait(before + Duration(50));
  EXPECT_EQ(result.kind, WaitResult::Kind::kDeadline);
  EXPECT_GE(clock_.Now() - before, Duration(50));
}

TEST_F(LocalRunnerTest, TerminateStopsTheWholeProcessGroup) {
  // The child writes its background grandchild's pid, then waits.
  std::string pid_file = ::testing::TempDir() + "/grandchild.pid";
  std::filesystem::remove(pid_file);
  ProcessId id = Start("sleep 300 & echo $! > " + pid_file + "; wait");
  for (int i = 0; i < 200 && !std::filesystem::exists(pid_file); ++i) runner_.Wait(clock_.Now() + Duration(10));
  std::ifstream in(pid_file);
  pid_t grandchild = 0;
  in >> grandchild;
  ASSERT_GT(grandchild, 0);
  runner_.Terminate(id);
  WaitResult result = WaitForExit();
  EXPECT_EQ(result.status.signal, SIGTERM);
  EXPECT_EQ(result.status.Describe(), "killed by SIGTERM");
  // The grandchild is gone too: killed, and either reaped or a zombie
  // waiting for whoever adopted it.
  auto alive = [&] {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string pid, command, state;
    return stat >> pid >> command >> state && state != "Z";
  };
  for (int i = 0; i < 100 && alive(); ++i) usleep(10'000);
  EXPECT_FALSE(alive());
}

TEST_F(LocalRunnerTest, KillsAfterTheGraceWhenSigtermIsIgnored) {
  ProcessId id = Start("trap '' TERM; echo ready; while :; do sleep 0.05; done");
  while (outputs_[id]->empty()) runner_.Wait(clock_.Now() + Duration(10));
  TimePoint before = clock_.Now();
  runner_.Terminate(id);
  WaitResult result = WaitForExit();
  EXPECT_EQ(result.status.signal, SIGKILL);
  EXPECT_GE(clock_.Now() - before, Duration(300));
}

TEST_F(LocalRunnerTest, BackgroundChildrenDoNotHoldTheStepOpen) {
  // The background sleep inherits the output pipe; the step still ends when
  // its shell exits, and the sleep is killed with the group.
  Start("sleep 300 & echo done");
  TimePoint before = clock_.Now();
  WaitResult result = WaitForExit();
  EXPECT_EQ(result.status.code, 0);
  EXPECT_LT(clock_.Now() - before, Duration(5000));
}

TEST_F(LocalRunnerTest, InterruptWakesWait) {
  Start("sleep 5");
  runner_.Interrupt();
  EXPECT_EQ(runner_.Wait(std::nullopt).kind, WaitResult::Kind::kInterrupted);
}

TEST_F(LocalRunnerTest, WakeReturnsFromAnIdleWait) {
  std::thread waker([&] {
    usleep(20'000);
    runner_.Wake();
  });
  EXPECT_EQ(runner_.Wait(std::nullopt).kind, WaitResult::Kind::kWoken);
  waker.join();
}

TEST_F(LocalRunnerTest, ManyProcessesAtOnce) {
  std::set<ProcessId> ids;
  for (int i = 0; i < 50; ++i) ids.insert(Start("echo " + std::to_string(i)));
  for (int i = 0; i < 50; ++i) ids.erase(WaitForExit().id);
  EXPECT_TRUE(ids.empty());
  EXPECT_EQ(runner_.running(), 0u);
  EXPECT_EQ(runner_.Wait(clock_.Now()).kind, WaitResult::Kind::kDeadline);
}

}  // namespace
}  // namespace tauon::exec
