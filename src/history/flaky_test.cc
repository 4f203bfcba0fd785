#include "history/flaky.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "history/test_support.h"

#include "store/store.h"

namespace tauon::history {
namespace {

using test_support::Exec;

TEST(FlakyDetectorTest, SameCommitFlipsAndMarkers) {
  FlakyDetector detector;
  // a: fails then passes on a retry of commit c1. b: fails on two commits
  // (broken, not flaky). c: the runner said it passed after failing.
  for (const TestExecution& e :
       {Exec(1, 1, "c1aaaaaaaaaaaaaa", "a", "failed"),
        Exec(1, 1, "c1aaaaaaaaaaaaaa", "b", "failed"),
        Exec(1, 2, "c1aaaaaaaaaaaaaa", "a", "passed"), Exec(2, 1, "c2", "b", "failed"),
        Exec(2, 1, "c2", "a", "skipped")}) {
    detector.Observe(e);
  }
  TestExecution marked = Exec(3, 1, "c3", "c", "passed");
  marked.flaky_marker = true;
  detector.Observe(marked);
  EXPECT_EQ(detector.Judge("suite::a"),
            (FlakyEvidence{"passed and failed on the same commit", {1}, {"c1aaaaaaaaaa"}}));
  EXPECT_FALSE(detector.Judge("suite::b"));
  EXPECT_FALSE(detector.Judge("suite::nope"));
  EXPECT_EQ(detector.Judge("suite::c"),
            (FlakyEvidence{"passed only after failing within the test runner", {3}, {}}));
}

TEST(FlakyDetectorTest, FlipsOftenWithinTheLastTenVerdicts) {
  FlakyDetector detector;
  // 4 changes of verdict (runs 2 to 5), then 9 passes: the flips leave the
  // window of the last 10 verdicts.
  const char* verdicts[] = {"passed", "failed", "passed", "failed", "passed"};
  int64_t run = 0;
  auto observe = [&](const char* verdict) {
    ++run;
    detector.Observe(Exec(run, 1, "c" + std::to_string(run), "a", verdict));
  };
  for (const char* v : verdicts) observe(v);
  EXPECT_EQ(
      detector.Judge("suite::a"),
      (FlakyEvidence{"flips often: 4 changes of verdict in its last 5 runs", {2, 3, 4, 5}, {}}));
  for (int i = 0; i < 9; ++i) observe("passed");
  EXPECT_FALSE(detector.Judge("suite::a"));
}

TEST(FindFlakyTestsTest, OnlyFlakyTestsWithTheirCounts) {
  std::vector<FlakyTest> flaky = FindFlakyTests({
      Exec(1, 1, "c1", "a", "failed"),
      Exec(1, 1, "c1", "b", "passed"),
      Exec(1, 2, "c1", "a", "passed"),
      Exec(1, 2, "c1", "b", "passed"),
      Exec(2, 1, "c2", "a", "failed"),
      Exec(2, 1, "c2", "b", "failed"),
  });
  ASSERT_EQ(flaky.size(), 1u);
  EXPECT_EQ(flaky[0].job, "test");
  EXPECT_EQ(flaky[0].id, "suite::a");
  EXPECT_EQ(flaky[0].classname, "suite");
  EXPECT_EQ(flaky[0].name, "a");
  EXPECT_EQ(flaky[0].executions, 3);
  EXPECT_EQ(flaky[0].failures, 2);
  EXPECT_EQ(flaky[0].last_run, 2);
  EXPECT_EQ(flaky[0].last_status, "failed");
  EXPECT_EQ(flaky[0].evidence.runs, (std::vector<int64_t>{1}));
}

TEST(DescribeFlakyTest, ReasonThenRunsThenCommits) {
  EXPECT_EQ(DescribeFlaky({"passed and failed on the same commit", {3}, {"1a2b3c4d5e6f"}}),
            "passed and failed on the same commit: run 3 (commit 1a2b3c4d5e6f)");
  EXPECT_EQ(DescribeFlaky({"flips often", {2, 3}, {}}), "flips often: runs 2, 3");
  EXPECT_EQ(DescribeFlaky({"why", {}, {}}), "why");
}

class KnownFlakyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("tauon_flaky_test_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = std::move(*store::Store::Open(dir_ / "tauon.db"));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int64_t Run(const std::string& commit) {
    store::RunRecord run;
    run.repo = "r";
    run.commit = commit;
    run.event = "push";
    run.status = engine::RunStatus::kSuccess;
    return *store_->CreateRun(run);
  }
  int64_t Job(int64_t run, engine::JobStatus status, int attempt = 1) {
    store::JobRecord job;
    job.run_id = run;
    job.name = "test";
    job.attempt = attempt;
    int64_t id = *store_->CreateJob(job);
    EXPECT_TRUE(store_->FinishJob(id, status, TimePoint{}, 10, ""));
    return id;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

reports::TestCase Case(const std::string& classname, const std::string& name,
                       reports::TestStatus status) {
  return {"s", classname, name, status, false, 5, "", ""};
}

TEST_F(KnownFlakyTest, MarksFailuresWithTheirEvidence) {
  using reports::TestStatus;
  int64_t run = Run("c1");
  int64_t job = Job(run, engine::JobStatus::kFailed);
  ASSERT_TRUE(store_->SetTestResults(
      job, {Case("pkg.A", "t1", TestStatus::kFailed), Case("", "t2", TestStatus::kPassed)}));
  FlakyEvidence why{"passed and failed on the same commit", {1, 2}, {"abc", "def"}};
  // Only failing results are marked.
  ASSERT_TRUE(MarkKnownFlaky(store_->database(), job, {{"pkg.A::t1", why}, {"t2", why}}));
  auto flaky = KnownFlakyFailures(store_->database(), run);
  ASSERT_TRUE(flaky) << flaky.error().message;
  EXPECT_EQ(*flaky,
            (std::map<int64_t, std::map<std::string, FlakyEvidence>>{{job, {{"pkg.A::t1", why}}}}));
  EXPECT_TRUE(KnownFlakyFailures(store_->database(), run + 1)->empty());

  // A mark from before the evidence was kept reads as the reason alone.
  ASSERT_TRUE(store_->database().Execute(
      "UPDATE test_results SET known_flaky_evidence = '' WHERE name = 't1'"));
  EXPECT_EQ(KnownFlakyFailures(store_->database(), run)->at(job).at("pkg.A::t1"),
            (FlakyEvidence{why.reason, {}, {}}));
}

TEST_F(KnownFlakyTest, AReusedJobKeepsItsMarks) {
  using reports::TestStatus;
  // Run 1: the job succeeded with a quarantined known-flaky failure; run 2,
  // a `rerun --failed`, reuses it.
  int64_t first = Run("c1");
  int64_t job = Job(first, engine::JobStatus::kSuccess);
  ASSERT_TRUE(store_->SetTestResults(
      job, {Case("pkg", "flappy", TestStatus::kFailed), Case("pkg", "ok", TestStatus::kPassed)}));
  FlakyEvidence why{"flips often: 4 changes of verdict in its last 5 runs", {2, 3, 4, 5}, {}};
  ASSERT_TRUE(MarkKnownFlaky(store_->database(), job, {{"pkg::flappy", why}}));
  int64_t rerun = Run("c1");
  Result<int64_t> copy = store_->ReuseJob(job, rerun);
  ASSERT_TRUE(copy) << copy.error().message;
  auto flaky = KnownFlakyFailures(store_->database(), rerun);
  ASSERT_TRUE(flaky) << flaky.error().message;
  EXPECT_EQ(
      *flaky,
      (std::map<int64_t, std::map<std::string, FlakyEvidence>>{{*copy, {{"pkg::flappy", why}}}}));
  // The copy keeps the report's order.
  auto results = store_->GetRunTestResults(rerun);
  ASSERT_TRUE(results);
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ((*results)[0].name, "flappy");
  EXPECT_EQ((*results)[1].name, "ok");
  // And the dashboard's verdicts say which failure was a known-flaky one.
  auto verdicts = store_->RecentTestVerdicts("r", rerun, 5);
  ASSERT_TRUE(verdicts);
  ASSERT_EQ(verdicts->size(), 4u);
  EXPECT_TRUE((*verdicts)[0].known_flaky);
  EXPECT_FALSE((*verdicts)[1].known_flaky);
}

TEST_F(KnownFlakyTest, FlakyTestsOfRepoLeavesReusedJobsOut) {
  using reports::TestStatus;
  int64_t first = Run("c1aaaaaaaaaaaaaaa");
  int64_t failed = Job(first, engine::JobStatus::kFailed, 1);
  ASSERT_TRUE(store_->SetTestResults(failed, {Case("pkg", "flappy", TestStatus::kFailed)}));
  int64_t passed = Job(first, engine::JobStatus::kSuccess, 2);
  ASSERT_TRUE(store_->SetTestResults(passed, {Case("pkg", "flappy", TestStatus::kPassed)}));
  ASSERT_TRUE(store_->ReuseJob(passed, Run("c1aaaaaaaaaaaaaaa")));
  Result<std::vector<FlakyTest>> flaky = FlakyTestsOfRepo(store_->database(), "r");
  ASSERT_TRUE(flaky) << flaky.error().message;
  ASSERT_EQ(flaky->size(), 1u);
  EXPECT_EQ((*flaky)[0].id, "pkg::flappy");
  EXPECT_EQ((*flaky)[0].executions, 2);  // The reused copy does not count again.
  EXPECT_EQ((*flaky)[0].last_run, first);
  EXPECT_EQ((*flaky)[0].evidence,
            (FlakyEvidence{"passed and failed on the same commit", {first}, {"c1aaaaaaaaaa"}}));
  EXPECT_TRUE(FlakyTestsOfRepo(store_->database(), "other")->empty());
}

}  // namespace
}  // namespace tauon::history
