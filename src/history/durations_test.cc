#include "history/durations.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "history/test_history.h"
#include "history/test_ranking.h"
#include "store/store.h"

namespace tauon::history {
namespace {

using State = JobProgress::State;
using std::chrono::milliseconds;

TEST(EstimateTimeLeftTest, FollowsTheNeedsGraph) {
  // a -> b, a -> c, c -> d: the longest chain is a + c + d.
  std::vector<std::vector<size_t>> needs = {{}, {0}, {0}, {2}};
  std::vector<std::optional<Duration>> expected = {milliseconds(100), milliseconds(300),
                                                   milliseconds(200), milliseconds(250)};
  std::vector<JobProgress> progress(4);
  TimePoint now{};
  EXPECT_EQ(EstimateTimeLeft(needs, expected, progress, now), milliseconds(550));
  // a ran 40ms of its 100: 60 left for it.
  progress[0] = {State::kRunning, now - milliseconds(40)};
  EXPECT_EQ(EstimateTimeLeft(needs, expected, progress, now), milliseconds(510));
  // a done; b running for 100 (200 left); c is next: 200 + 250.
  progress[0].state = State::kDone;
  progress[1] = {State::kRunning, now - milliseconds(100)};
  EXPECT_EQ(EstimateTimeLeft(needs, expected, progress, now), milliseconds(450));
  // Over its expectation, a running job is taken to end now.
  progress[1].started = now - milliseconds(900);
  progress[2] = {State::kRunning, now - milliseconds(900)};
  EXPECT_EQ(EstimateTimeLeft(needs, expected, progress, now), milliseconds(250));
  for (auto& p : progress) p.state = State::kDone;
  EXPECT_EQ(EstimateTimeLeft(needs, expected, progress, now), milliseconds(0));
}

TEST(EstimateTimeLeftTest, UnknownWhenAJobHasNoHistory) {
  std::vector<JobProgress> progress(2);
  EXPECT_FALSE(EstimateTimeLeft({{}, {0}}, {milliseconds(1), std::nullopt}, progress, TimePoint{}));
  progress[1].state = State::kDone;  // A done job needs no expectation.
  EXPECT_EQ(EstimateTimeLeft({{}, {0}}, {milliseconds(1), std::nullopt}, progress, TimePoint{}),
            milliseconds(1));
}

class StoreHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tauon_durations_test_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = std::move(*store::Store::Open(dir_ / "tauon.db"));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int64_t Run(const std::string& repo) {
    store::RunRecord run;
    run.repo = repo;
    run.commit = "c" + std::to_string(++runs_);
    run.event = "push";
    run.status = engine::RunStatus::kSuccess;
    return *store_->CreateRun(run);
  }
  int64_t Job(int64_t run, const std::string& name, engine::JobStatus status, int64_t ms,
              int attempt = 1) {
    store::JobRecord job;
    job.run_id = run;
    job.name = name;
    job.attempt = attempt;
    int64_t id = *store_->CreateJob(job);
    EXPECT_TRUE(store_->FinishJob(id, status, TimePoint{}, ms, ""));
    return id;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  int runs_ = 0;
};

TEST_F(StoreHistoryTest, ExpectedDurationsAreMediansOfRecentSuccesses) {
  using engine::JobStatus;
  for (int64_t ms : {100, 300, 200}) Job(Run("r"), "build", JobStatus::kSuccess, ms);
  int64_t failing = Run("r");
  Job(failing, "build", JobStatus::kFailed, 5);  // Failures do not count next to successes.
  Job(failing, "lint", JobStatus::kFailed, 40);  // Only failures: their median.
  Job(Run("other"), "build", JobStatus::kSuccess, 9000);  // Another repository.
  int64_t next = Run("r");
  Result<std::map<std::string, Duration>> expected =
      ExpectedJobDurations(store_->database(), "r", next);
  ASSERT_TRUE(expected) << expected.error().message;
  EXPECT_EQ(*expected, (std::map<std::string, Duration>{{"build", milliseconds(200)},
                                                        {"lint", milliseconds(40)}}));
  // Window of 2: the two latest successes, 300 and 200.
  EXPECT_EQ(ExpectedJobDurations(store_->database(), "r", next, 2)->at("build"), milliseconds(250));
  EXPECT_TRUE(ExpectedJobDurations(store_->database(), "r", 1)->empty());
}

TEST_F(StoreHistoryTest, TestHistoryAndKnownFlakyMarks) {
  using engine::JobStatus;
  int64_t run = Run("r");
  int64_t job = Job(run, "test", JobStatus::kFailed, 10);
  reports::TestCase a{"s", "pkg.A", "t1", reports::TestStatus::kFailed, false, 5, "boom", ""};
  reports::TestCase b{"s", "", "t2", reports::TestStatus::kPassed, false, 7, "", ""};
  ASSERT_TRUE(store_->SetTestResults(job, {a, b}));
  Result<std::vector<TestExecution>> history =
      LoadTestHistory(store_->database(), {"r", "test", std::nullopt});
  ASSERT_TRUE(history) << history.error().message;
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].id(), "pkg.A::t1");
  EXPECT_TRUE((*history)[0].failed());
  EXPECT_EQ((*history)[0].commit, "c1");
  EXPECT_EQ((*history)[1].id(), "t2");
  EXPECT_EQ((*history)[1].duration_ms, 7);
  EXPECT_TRUE(LoadTestHistory(store_->database(), {"r", "test", run})->empty());
  EXPECT_TRUE(LoadTestHistory(store_->database(), {"r", "other", std::nullopt})->empty());
  EXPECT_EQ(*JobsWithTests(store_->database(), "r"), std::vector<std::string>{"test"});
  // Only the latest runs: a second run, then a limit of one run.
  int64_t second = Job(Run("r"), "test", JobStatus::kSuccess, 10);
  ASSERT_TRUE(store_->SetTestResults(second, {b}));
  EXPECT_EQ(LoadTestHistory(store_->database(), {"r", "test", std::nullopt})->size(), 3u);
  HistoryQuery latest{"r", "test", std::nullopt};
  latest.max_runs = 1;
  Result<std::vector<TestExecution>> last = LoadTestHistory(store_->database(), latest);
  ASSERT_TRUE(last) << last.error().message;
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ((*last)[0].commit, "c2");
}

TEST_F(StoreHistoryTest, RankRepoTestsRanksEachJobWithTestResults) {
  using engine::JobStatus;
  reports::TestCase passed{"s", "pkg", "steady", reports::TestStatus::kPassed, false, 5, "", ""};
  reports::TestCase failed{"s", "pkg", "broken", reports::TestStatus::kFailed, false, 5, "x", ""};
  int64_t run = Run("r");
  ASSERT_TRUE(store_->SetTestResults(Job(run, "test", JobStatus::kFailed, 10), {passed, failed}));
  Job(run, "lint", JobStatus::kSuccess, 10);  // No test results: not ranked.
  Result<RepoTestRanking> all = RankRepoTests(store_->database(), "r", "", {});
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->problem, "");
  ASSERT_EQ(all->jobs.size(), 1u);
  EXPECT_EQ(all->jobs[0].job, "test");
  ASSERT_EQ(all->jobs[0].ranking.tests.size(), 2u);
  EXPECT_EQ(all->jobs[0].ranking.tests[0].id, "pkg::broken");
  // One job, by its name.
  Result<RepoTestRanking> one = RankRepoTests(store_->database(), "r", "test", {});
  ASSERT_TRUE(one);
  ASSERT_EQ(one->jobs.size(), 1u);
  // A job without test results, while another has some: why, with a suggestion.
  Result<RepoTestRanking> typo = RankRepoTests(store_->database(), "r", "tset", {});
  ASSERT_TRUE(typo);
  EXPECT_TRUE(typo->jobs.empty());
  EXPECT_EQ(typo->problem,
            "no test results for job 'tset' of 'r' (did you mean 'test'?) (jobs with tests: test)");
  // A repository without test results: nothing, and no problem to report.
  Result<RepoTestRanking> none = RankRepoTests(store_->database(), "other", "test", {});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->jobs.empty());
  EXPECT_EQ(none->problem, "");
}

}  // namespace
}  // namespace tauon::history
