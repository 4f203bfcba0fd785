#include "engine/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "exec/fake_runner.h"
#include "spec/parser.h"

namespace tauon::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Behavior = exec::FakeProcessRunner::Behavior;

Duration Seconds(int s) { return Duration(s * 1000); }

// Records what the engine reports as compact strings.
class RecordingObserver final : public RunObserver {
 public:
  explicit RecordingObserver(const Plan& plan) : plan_(plan) {}

  void JobStarted(size_t job, int attempt, TimePoint) override {
    events.push_back(fmt::format("start {}#{}", Name(job), attempt));
  }
  void StepStarted(size_t, int, size_t, TimePoint) override {}
  void StepOutput(size_t job, int, size_t step, std::string_view lines) override {
    output += fmt::format("{}/{}: {}", Name(job), step, lines);
  }
  void StepFinished(size_t job, int attempt, size_t step, const StepOutcome& outcome) override {
    steps.push_back(fmt::format("{}#{} step {} {}{}", Name(job), attempt, step,
                                engine::Name(outcome.status),
                                outcome.error.empty() ? "" : ": " + outcome.error));
  }
  void ServiceOutput(size_t job, int, size_t service, std::string_view lines) override {
    output += fmt::format("{}[{}]: {}", Name(job), service, lines);
  }
  void JobMessage(size_t job, int, std::string_view message) override {
    messages.push_back(fmt::format("{}: {}", Name(job), message));
  }
  void JobFinished(size_t job, int attempt, const JobOutcome& outcome) override {
    events.push_back(fmt::format("finish {}#{} {}{}{}", Name(job), attempt,
                                 engine::Name(outcome.status),
                                 outcome.error.empty() ? "" : ": " + outcome.error,
                                 outcome.will_retry ? " (retry)" : ""));
    durations[plan_.jobs[job].name] = outcome.finished - outcome.started;
  }
  void JobNotRun(size_t job, JobStatus status, std::string_view reason) override {
    events.push_back(fmt::format("{} {}: {}", engine::Name(status), Name(job), reason));
  }
  void ProcessStarted(size_t, int, int pgid) override { live_groups.insert(pgid); }
  void ProcessExited(size_t, int pgid) override { live_groups.erase(pgid); }
  std::optional<TimePoint> Flush(bool) override {
    ++flushes;
    return std::nullopt;
  }

  std::set<int> live_groups;
  int flushes = 0;

  std::vector<std::string> events;
  std::vector<std::string> steps;
  std::vector<std::string> messages;
  std::string output;
  std::map<std::string, Duration> durations;

 private:
  const std::string& Name(size_t job) const { return plan_.jobs[job].name; }
  const Plan& plan_;
};

class FakeHost final : public JobHost {
 public:
  Result<std::filesystem::path> PrepareWorkspace(size_t job, int attempt) override {
    prepared.push_back(fmt::format("{}#{}", job, attempt));
    if (fail_prepare) return Fail("disk full");
    return std::filesystem::path(fmt::format("/ws/{}.{}", job, attempt));
  }
  Status CollectOutputs(size_t job, int, const std::filesystem::path&, bool succeeded) override {
    collected.push_back(fmt::format("{}:{}", job, succeeded ? "ok" : "failed"));
    if (fail_collect) return Fail("artifact 'out/model' does not exist in the workspace");
    return Ok();
  }
  void RemoveWorkspace(const std::filesystem::path& workspace) override {
    removed.push_back(workspace.string());
  }
  spec::EnvList JobEnvironment(size_t job, int attempt) override {
    if (!with_test_order) return {};
    return {{"TAUON_TEST_ORDER", fmt::format("/orders/{}.{}", job, attempt)}};
  }
  bool ExcuseFailure(size_t job, int attempt) override {
    asked_to_excuse.push_back(fmt::format("{}#{}", job, attempt));
    return excuse;
  }

  bool with_test_order = false;
  bool excuse = false;
  std::vector<std::string> asked_to_excuse;
  bool fail_prepare = false;
  bool fail_collect = false;
  std::vector<std::string> prepared;
  std::vector<std::string> collected;
  std::vector<std::string> removed;
};

class EngineTest : public ::testing::Test {
 protected:
  // Parses `yaml` and runs it to the end.
  RunStatus Run(std::string_view yaml, int parallelism = 4) {
    auto pipeline = spec::ParsePipeline(yaml);
    if (!pipeline) {
      ADD_FAILURE() << spec::FormatDiagnostics(".tauon.yml", yaml, pipeline.error());
      return RunStatus::kFailed;
    }
    pipeline_ = std::move(*pipeline);
    Result<Plan> plan = BuildPlan(pipeline_);
    EXPECT_TRUE(plan.has_value());
    plan_ = std::move(*plan);
    observer_ = std::make_unique<RecordingObserver>(plan_);
    options_.parallelism = parallelism;
    engine_ = std::make_unique<Engine>(plan_, context_, options_, runner_, clock_, host_,
                                       *observer_);
    start_ = clock_.Now();
    return engine_->Execute();
  }

  Duration Elapsed() const { return clock_.Now() - start_; }
  const std::vector<std::string>& events() const { return observer_->events; }

  FakeClock clock_;
  exec::FakeProcessRunner runner_{clock_};
  FakeHost host_;
  RunContext context_{"7", "abc123", "main", "push"};
  EngineOptions options_;
  spec::Pipeline pipeline_;
  Plan plan_;
  std::unique_ptr<RecordingObserver> observer_;
  std::unique_ptr<Engine> engine_;
  TimePoint start_;
};

TEST_F(EngineTest, RunsJobsAfterTheirNeeds) {
  runner_.On("echo", {Seconds(1), 0, ""});
  EXPECT_EQ(Run(R"(
jobs:
  lint: { steps: [ { run: echo lint } ] }
  test: { steps: [ { run: echo test } ] }
  train: { needs: [lint, test], steps: [ { run: echo train } ] }
)"), RunStatus::kSuccess);
  EXPECT_THAT(runner_.scripts(), ElementsAre("echo lint", "echo test", "echo train"));
  EXPECT_THAT(events(), ElementsAre("start lint#1", "start test#1", "finish lint#1 success",
                                    "finish test#1 success", "start train#1",
                                    "finish train#1 success"));
  EXPECT_EQ(Elapsed(), Seconds(2));  // lint and test overlap.
  EXPECT_EQ(runner_.started()[2].at - start_, Seconds(1));
}

TEST_F(EngineTest, RespectsTheParallelismLimit) {
  runner_.On("sleep", {Seconds(10), 0, ""});
  EXPECT_EQ(Run(R"(
jobs:
  a: { steps: [ { run: sleep a } ] }
  b: { steps: [ { run: sleep b } ] }
  c: { steps: [ { run: sleep c } ] }
  d: { steps: [ { run: sleep d } ] }
  e: { steps: [ { run: sleep e } ] }
)", /*parallelism=*/2), RunStatus::kSuccess);
  EXPECT_EQ(runner_.peak_running(), 2u);
  EXPECT_EQ(Elapsed(), Seconds(30));
}

TEST_F(EngineTest, ServicesDoNotCountAgainstParallelism) {
  runner_.On("serve", {Seconds(1000), 0, ""});
  runner_.On("step", {Seconds(1), 0, ""});
  EXPECT_EQ(Run(R"(
jobs:
  a:
    services: { db: { run: serve db } }
    steps: [ { run: step a } ]
  b: { steps: [ { run: step b } ] }
)", /*parallelism=*/2), RunStatus::kSuccess);
  EXPECT_EQ(runner_.peak_running(), 3u);  // db, step a and step b at once.
  EXPECT_EQ(Elapsed(), Seconds(1));
}

TEST_F(EngineTest, FailedJobSkipsDependantsWhileOthersContinue) {
  runner_.On("fail", {Seconds(1), 3, "boom\n"});
  runner_.On("slow", {Seconds(5), 0, ""});
  EXPECT_EQ(Run(R"(
jobs:
  test: { steps: [ { run: fail } ] }
  train: { needs: [test], steps: [ { run: echo train } ] }
  evaluate: { needs: [train], steps: [ { run: echo evaluate } ] }
  docs: { steps: [ { run: slow docs } ] }
  publish: { needs: [docs], steps: [ { run: echo publish } ] }
)"), RunStatus::kFailed);
  EXPECT_THAT(events(),
              ElementsAre("start test#1", "start docs#1",
                          "finish test#1 failed: step 'fail' failed: exit code 3",
                          "skipped train: needs 'test' failed",
                          "skipped evaluate: needs 'train' skipped", "finish docs#1 success",
                          "start publish#1", "finish publish#1 success"));
  EXPECT_EQ(engine_->job_status(1), JobStatus::kSkipped);
  EXPECT_EQ(engine_->job_status(2), JobStatus::kSkipped);
  EXPECT_EQ(observer_->output, "test/0: boom\n");
}

TEST_F(EngineTest, LaterStepsAreSkippedAfterAFailureUnlessTheyAskToRun) {
  runner_.On("fail", {Seconds(1), 1, ""});
  EXPECT_EQ(Run(R"(
jobs:
  test:
    steps:
      - run: fail
      - run: echo never
      - { run: echo report, if: failure() }
      - { run: echo cleanup, if: always() }
      - { run: echo on-success, if: success() }
)"), RunStatus::kFailed);
  EXPECT_THAT(runner_.scripts(), ElementsAre("fail", "echo report", "echo cleanup"));
  EXPECT_THAT(observer_->steps,
              ElementsAre("test#1 step 0 failed: exit code 1",
                          "test#1 step 1 skipped: an earlier step failed",
                          "test#1 step 2 success", "test#1 step 3 success",
                          "test#1 step 4 skipped: condition 'success()' is false"));
}

TEST_F(EngineTest, ContinueOnErrorKeepsTheJobGoing) {
  runner_.On("flaky", {Seconds(1), 1, ""});
  EXPECT_EQ(Run(R"(
jobs:
  test:
    steps:
      - { run: flaky, continue_on_error: true }
      - run: echo next
)"), RunStatus::kSuccess);
  EXPECT_THAT(runner_.scripts(), ElementsAre("flaky", "echo next"));
  EXPECT_THAT(observer_->steps, ElementsAre("test#1 step 0 failed: exit code 1",
                                            "test#1 step 1 success"));
}

TEST_F(EngineTest, JobConditionsSeeTheRunAndTheirNeeds) {
  context_.branch = "feature/x";
  runner_.On("fail", {Seconds(1), 1, ""});
  EXPECT_EQ(Run(R"(
jobs:
  test: { steps: [ { run: fail } ] }
  deploy: { if: "branch == 'main'", steps: [ { run: echo deploy } ] }
  after-deploy: { needs: [deploy], steps: [ { run: echo after } ] }
  notify: { needs: [test], if: failure(), steps: [ { run: echo notify } ] }
  always: { needs: [test], if: "always() and event == 'push'", steps: [ { run: echo always } ] }
)"), RunStatus::kFailed);
  EXPECT_THAT(runner_.scripts(), ElementsAre("fail", "echo notify", "echo always"));
  EXPECT_THAT(events(), ::testing::Contains("skipped deploy: condition 'branch == 'main'' is false"));
  EXPECT_THAT(events(), ::testing::Contains("skipped after-deploy: needs 'deploy' skipped"));
}

TEST_F(EngineTest, StepTimeoutStopsTheStepAtItsDeadline) {
  runner_.On("sleep", {Seconds(600), 0, ""});
  EXPECT_EQ(Run(R"(
jobs:
  train:
    steps:
      - { run: sleep 600, timeout: 5s }
      - run: echo after
)"), RunStatus::kFailed);
  EXPECT_EQ(Elapsed(), Seconds(5));
  EXPECT_THAT(runner_.signals(), ElementsAre(std::pair<exec::ProcessId, int>(1, SIGTERM)));
  EXPECT_THAT(observer_->steps, ElementsAre("train#1 step 0 failed: timed out after 5.0s",
                                            "train#1 step 1 skipped: an earlier step failed"));
}

TEST_F(EngineTest, TimedOutStepFailsEvenIfItExitsZero) {
  // A step that traps SIGTERM and exits 0 still timed out.
  runner_.On("sleep", {Seconds(600), 0, ""});
  EXPECT_EQ(Run(R"(
jobs:
  train: { steps: [ { run: sleep 600, timeout: 5s }, { run: echo after } ] }
)"), RunStatus::kFailed);
  EXPECT_THAT(observer_->steps[0], "train#1 step 0 failed: timed out after 5.0s");
}

TEST_F(EngineTest, FailureMeansANeedFailedNotThatItWasSkipped) {
  context_.branch = "dev";
  EXPECT_EQ(Run(R"(
jobs:
  deploy: { if: "branch == 'main'", steps: [ { run: deploy } ] }
  on-failure: { needs: [deploy], if: failure(), steps: [ { run: alert } ] }
  cleanup: { needs: [deploy], if: always(), steps: [ { run: cleanup } ] }
)"), RunStatus::kSuccess);
  EXPECT_THAT(runner_.scripts(), ElementsAre("cleanup"));
  EXPECT_THAT(events(), ::testing::Contains("skipped on-failure: condition 'failure()' is false"));
}

TEST_F(EngineTest, SkipReasonNamesTheFailedNeedWhenTheConditionHolds) {
  runner_.On("fail", {Seconds(1), 1, ""});
  EXPECT_EQ(Run(R"(
jobs:
  test: { steps: [ { run: fail } ] }
  deploy: { needs: [test], if: "branch == 'main'", steps: [ { run: deploy } ] }
)"), RunStatus::kFailed);
  EXPECT_THAT(events(), ::testing::Contains("skipped deploy: needs 'test' failed"));
}

TEST_F(EngineTest, StepThatIgnoresSigtermIsKilledAfterTheGrace) {
  runner_.On("stubborn", {Seconds(600), 0, "", /*ignores_sigterm=*/true});
  EXPECT_EQ(Run(R"(
jobs:
  train: { steps: [ { run: stubborn, timeout: 1s } ] }
)"), RunStatus::kFailed);
  EXPECT_EQ(Elapsed(), Seconds(6));  // 1 s timeout + 5 s grace.
}

TEST_F(EngineTest, JobTimeoutStopsEverythingOfTheJob) {
  runner_.On("serve", {Seconds(1000), 0, ""});
  runner_.On("sleep", {Seconds(1000), 0, ""});
  EXPECT_EQ(Run(R"(
jobs:
  train:
    timeout: 1m
    services: { db: { run: serve } }
    steps: [ { run: echo quick }, { run: sleep long } ]
)"), RunStatus::kFailed);
  EXPECT_EQ(Elapsed(), Seconds(60));
  EXPECT_THAT(events().back(), "finish train#1 failed: the job timed out after 1m00s");
  EXPECT_EQ(runner_.running(), 0u);
  EXPECT_THAT(observer_->steps.back(),
              "train#1 step 1 failed: stopped: the job timed out after 1m00s");
}

TEST_F(EngineTest, RetryRunsFailedJobsAgainWithFreshWorkspaces) {
  runner_.OnNth("train", 1, {Seconds(1), 1, ""});
  runner_.OnNth("train", 2, {Seconds(1), 1, ""});
  runner_.OnNth("train", 3, {Seconds(1), 0, ""});
  EXPECT_EQ(Run(R"(
jobs:
  train: { retry: 2, steps: [ { run: train } ] }
  evaluate: { needs: [train], steps: [ { run: evaluate } ] }
)"), RunStatus::kSuccess);
  EXPECT_THAT(events(),
              ElementsAre("start train#1", "finish train#1 failed: step 'train' failed: exit code 1 (retry)",
                          "start train#2", "finish train#2 failed: step 'train' failed: exit code 1 (retry)",
                          "start train#3", "finish train#3 success", "start evaluate#1",
                          "finish evaluate#1 success"));
  EXPECT_THAT(host_.prepared, ElementsAre("0#1", "0#2", "0#3", "1#1"));
  EXPECT_EQ(engine_->job_attempt(0), 3);
}

TEST_F(EngineTest, RetriesRunOutAndTheJobFails) {
  runner_.On("train", {Seconds(1), 1, ""});
  EXPECT_EQ(Run("jobs: { train: { retry: 1, steps: [ { run: train } ] } }"), RunStatus::kFailed);
  EXPECT_EQ(engine_->job_attempt(0), 2);
  EXPECT_EQ(engine_->job_status(0), JobStatus::kFailed);
}

TEST_F(EngineTest, InterruptCancelsRunningAndPendingJobs) {
  runner_.On("sleep", {Seconds(100), 0, ""});
  runner_.On("serve", {Seconds(1000), 0, ""});
  runner_.InterruptAt(clock_.Now() + Seconds(3));
  EXPECT_EQ(Run(R"(
jobs:
  train:
    services: { db: { run: serve } }
    steps: [ { run: sleep 100 } ]
  evaluate: { needs: [train], steps: [ { run: echo evaluate } ] }
)"), RunStatus::kCancelled);
  EXPECT_EQ(Elapsed(), Seconds(3));
  EXPECT_EQ(runner_.running(), 0u);
  EXPECT_TRUE(observer_->live_groups.empty());  // Every started group was reported gone.
  EXPECT_THAT(events(), ElementsAre("start train#1", "cancelled evaluate: the run was cancelled",
                                    "finish train#1 cancelled: cancelled"));
  EXPECT_THAT(observer_->steps, ElementsAre("train#1 step 0 cancelled: cancelled"));
  EXPECT_TRUE(host_.collected.empty());  // Nothing is collected from a cancelled run.
  EXPECT_EQ(host_.removed.size(), 1u);
}

TEST_F(EngineTest, SecondInterruptKillsAtOnce) {
  runner_.On("stubborn", {Seconds(600), 0, "", /*ignores_sigterm=*/true});
  runner_.InterruptAt(clock_.Now() + Seconds(1));
  runner_.InterruptAt(clock_.Now() + Seconds(2));
  EXPECT_EQ(Run("jobs: { a: { steps: [ { run: stubborn } ] } }"), RunStatus::kCancelled);
  EXPECT_EQ(Elapsed(), Seconds(2));  // Not 1 s + 5 s of grace.
}

TEST_F(EngineTest, StepsStartOnceServicesAreReady) {
  runner_.On("serve", {Seconds(1000), 0, "listening\n"});
  runner_.OnNth("probe", 1, {Duration(10), 1, ""});
  runner_.OnNth("probe", 2, {Duration(10), 1, ""});
  runner_.OnNth("probe", 3, {Duration(10), 0, ""});
  EXPECT_EQ(Run(R"(
jobs:
  test:
    services:
      api: { run: serve, readiness: probe, readiness_interval: 1s }
    steps: [ { run: echo test } ]
)"), RunStatus::kSuccess);
  EXPECT_THAT(runner_.scripts(), ElementsAre("serve", "probe", "probe", "probe", "echo test"));
  // Probes at 1 s, 2.01 s and 3.02 s; the step right after the third.
  EXPECT_EQ(runner_.started()[4].at - start_, Duration(3030));
  EXPECT_EQ(runner_.running(), 0u);  // The service was stopped.
  EXPECT_THAT(observer_->messages, ElementsAre("test: service 'api' is ready"));
  EXPECT_EQ(observer_->output, "test[0]: listening\n");
}

TEST_F(EngineTest, ServiceThatNeverGetsReadyFailsTheJob) {
  runner_.On("serve", {Seconds(1000), 0, ""});
  runner_.On("probe", {Duration(10), 7, "connection refused\n"});
  EXPECT_EQ(Run(R"(
jobs:
  test:
    services:
      api: { run: serve, readiness: probe, readiness_timeout: 5s, readiness_interval: 1s }
    steps: [ { run: echo test } ]
)"), RunStatus::kFailed);
  EXPECT_THAT(events().back(),
              "finish test#1 failed: service 'api' was not ready after 5.0s: readiness command "
              "exit code 7: connection refused");
  EXPECT_EQ(runner_.running(), 0u);
  EXPECT_LE(Elapsed(), Seconds(6));
}

TEST_F(EngineTest, HangingReadinessProbeIsStoppedAtTheDeadline) {
  runner_.On("serve", {Seconds(1000), 0, ""});
  runner_.On("probe", {Seconds(1000), 0, ""});
  EXPECT_EQ(Run(R"(
jobs:
  test:
    services:
      api: { run: serve, readiness: probe, readiness_timeout: 5s, readiness_interval: 1s }
    steps: [ { run: echo test } ]
)"), RunStatus::kFailed);
  EXPECT_THAT(events().back(),
              "finish test#1 failed: service 'api' was not ready after 5.0s: readiness command "
              "killed by SIGTERM");
  EXPECT_EQ(Elapsed(), Seconds(5));
}

TEST_F(EngineTest, ServiceThatExitsBeforeReadyFailsTheJob) {
  runner_.On("serve", {Seconds(2), 1, ""});
  runner_.On("probe", {Duration(10), 1, ""});
  EXPECT_EQ(Run(R"(
jobs:
  test:
    services: { api: { run: serve, readiness: probe } }
    steps: [ { run: echo test } ]
)"), RunStatus::kFailed);
  EXPECT_THAT(events().back(),
              "finish test#1 failed: service 'api' exited (exit code 1) before it was ready");
}

TEST_F(EngineTest, WorkspaceAndOutputErrorsFailTheAttempt) {
  host_.fail_collect = true;
  EXPECT_EQ(Run("jobs: { train: { steps: [ { run: echo } ] } }"), RunStatus::kFailed);
  EXPECT_THAT(events().back(),
              "finish train#1 failed: artifact 'out/model' does not exist in the workspace");
  EXPECT_THAT(host_.collected, ElementsAre("0:ok"));
}

TEST_F(EngineTest, WorkspaceErrorIsRetried) {
  host_.fail_prepare = true;
  EXPECT_EQ(Run("jobs: { train: { retry: 1, steps: [ { run: echo } ] } }"), RunStatus::kFailed);
  EXPECT_THAT(events(), ElementsAre("start train#1", "finish train#1 failed: disk full (retry)",
                                    "start train#2", "finish train#2 failed: disk full"));
  EXPECT_TRUE(runner_.started().empty());
}

TEST_F(EngineTest, StepThatCannotStartFailsTheJob) {
  runner_.FailToStart("broken");
  EXPECT_EQ(Run("jobs: { a: { steps: [ { run: broken }, { run: echo next } ] } }"),
            RunStatus::kFailed);
  EXPECT_THAT(observer_->steps,
              ElementsAre("a#1 step 0 failed: cannot start '/bin/sh': fake failure",
                          "a#1 step 1 skipped: an earlier step failed"));
}

TEST_F(EngineTest, StepsGetTheMergedEnvironment) {
  options_.base_env = {"PATH=/usr/bin", "HOME=/root", "SEED=0"};
  options_.overrides = {{"OVERRIDE", "cli"}};
  options_.secrets = {{"TOKEN", "s3cret"}};
  EXPECT_EQ(Run(R"(
env: { SEED: "42", LEVEL: pipeline, OVERRIDE: file }
jobs:
  train:
    env: { LEVEL: job }
    steps:
      - { run: env, env: { STEP: "yes" } }
)"), RunStatus::kSuccess);
  const std::vector<std::string>& env = runner_.started()[0].spec.env;
  for (const char* var :
       {"PATH=/usr/bin", "HOME=/root", "SEED=42", "LEVEL=job", "STEP=yes", "OVERRIDE=cli",
        "TOKEN=s3cret", "CI=true", "TAUON_RUN_ID=7", "TAUON_COMMIT=abc123", "TAUON_BRANCH=main",
        "TAUON_EVENT=push", "TAUON_JOB=train", "TAUON_ATTEMPT=1", "TAUON_WORKSPACE=/ws/0.1"}) {
    EXPECT_THAT(env, ::testing::Contains(var));
  }
  EXPECT_EQ(runner_.started()[0].spec.cwd, "/ws/0.1");
  EXPECT_THAT(runner_.started()[0].spec.argv, ElementsAre("/bin/sh", "-e", "-c", "env"));
}

TEST_F(EngineTest, TheHostAddsVariablesPerAttempt) {
  host_.with_test_order = true;
  runner_.OnNth("test", 1, {Seconds(1), 1, ""});
  runner_.OnNth("test", 2, {Seconds(1), 0, ""});
  EXPECT_EQ(Run("jobs: { test: { retry: 1, steps: [ { run: test } ] } }"),
            RunStatus::kSuccess);
  ASSERT_EQ(runner_.started().size(), 2u);
  EXPECT_THAT(runner_.started()[0].spec.env, ::testing::Contains("TAUON_TEST_ORDER=/orders/0.1"));
  EXPECT_THAT(runner_.started()[1].spec.env, ::testing::Contains("TAUON_TEST_ORDER=/orders/0.2"));
}

TEST_F(EngineTest, AnExcusedFailureSucceedsWithoutRetry) {
  host_.excuse = true;
  runner_.On("test", {Seconds(1), 1, ""});
  EXPECT_EQ(Run(R"(
jobs:
  test: { retry: 2, steps: [ { run: test } ] }
  deploy: { needs: [test], steps: [ { run: deploy } ] }
)"), RunStatus::kSuccess);
  EXPECT_THAT(events(), ElementsAre("start test#1", "finish test#1 success", "start deploy#1",
                                    "finish deploy#1 success"));
  EXPECT_THAT(host_.asked_to_excuse, ElementsAre("0#1"));  // Only failed attempts are asked.
  EXPECT_THAT(observer_->steps, ::testing::Contains("test#1 step 0 failed: exit code 1"));
}

TEST_F(EngineTest, BashStepsUsePipefail) {
  EXPECT_EQ(Run("jobs: { a: { steps: [ { run: 'false | true', shell: bash } ] } }"),
            RunStatus::kSuccess);
  EXPECT_THAT(runner_.started()[0].spec.argv,
              ElementsAre("bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c",
                          "false | true"));
}

TEST_F(EngineTest, OutputIsMaskedAndSplitIntoLines) {
  logs::SecretMasker masker({"hunter2"});
  options_.masker = &masker;
  runner_.On("print", {Seconds(1), 0, "password is hunter2\nno newline at the end"});
  EXPECT_EQ(Run("jobs: { a: { steps: [ { run: print } ] } }"), RunStatus::kSuccess);
  EXPECT_EQ(observer_->output, "a/0: password is ***\na/0: no newline at the end\n");
}

TEST_F(EngineTest, ReusedJobsCountAsSucceededAndNeverRun) {
  options_.succeeded = {0, 1};  // lint and train, from an earlier run.
  EXPECT_EQ(Run(R"(
jobs:
  lint: { steps: [ { run: lint } ] }
  train: { needs: [lint], steps: [ { run: train } ] }
  evaluate: { needs: [train], steps: [ { run: evaluate } ] }
)"), RunStatus::kSuccess);
  EXPECT_THAT(runner_.scripts(), ElementsAre("evaluate"));
  EXPECT_THAT(events(), ElementsAre("start evaluate#1", "finish evaluate#1 success"));
  EXPECT_EQ(engine_->job_status(0), JobStatus::kSuccess);
}

TEST_F(EngineTest, SharedSlotsThatAreTakenMakeJobsWait) {
  // Another run holds the only slot: nothing starts until it is released.
  class Slots final : public JobSlots {
   public:
    bool TryAcquire() override { return ++tries > 2; }
    void Release() override { ++released; }
    int tries = 0;
    int released = 0;
  } slots;
  options_.slots = &slots;
  runner_.On("wait", {Seconds(1), 0, ""});
  EXPECT_EQ(Run("jobs: { a: { steps: [ { run: wait } ] }, b: { steps: [ { run: wait } ] } }"),
            RunStatus::kSuccess);
  EXPECT_EQ(slots.released, 2);
}

TEST_F(EngineTest, MatrixJobsRunAsSeparateJobs) {
  EXPECT_EQ(Run(R"(
jobs:
  train: { steps: [ { run: train } ] }
  evaluate:
    needs: [train]
    matrix: { split: [validation, holdout] }
    steps: [ { run: "evaluate --split ${{ matrix.split }}" } ]
  report: { needs: [evaluate], steps: [ { run: report } ] }
)"), RunStatus::kSuccess);
  EXPECT_THAT(runner_.scripts(), ElementsAre("train", "evaluate --split validation",
                                             "evaluate --split holdout", "report"));
}

}  // namespace
}  // namespace tauon::engine
