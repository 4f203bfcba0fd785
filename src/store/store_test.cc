#include "store/store.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace tauon::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("store_test_" + std::to_string(getpid()) + ".db");
    std::filesystem::remove(path_);
    Result<std::unique_ptr<Store>> store = Store::Open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix);
  }

  int64_t NewRun(const std::string& branch = "main") {
    RunRecord run;
    run.repo = "digits";
    run.commit = "0123456789abcdef";
    run.branch = branch;
    run.event = "push";
    run.created_at = TimePoint(Duration(1'700'000'000'000));
    Result<int64_t> id = store_->CreateRun(run);
    EXPECT_TRUE(id.has_value());
    return *id;
  }

  std::filesystem::path path_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, RunLifecycle) {
  int64_t id = NewRun();
  TimePoint start(Duration(1'700'000'001'000));
  ASSERT_TRUE(store_->StartRun(id, start, "boot:1:2").has_value());
  ASSERT_TRUE(store_->FinishRun(id, engine::RunStatus::kFailed, start + Duration(2500), "boom"));
  Result<std::optional<RunRecord>> run = store_->GetRun(id);
  ASSERT_TRUE(run.has_value() && run->has_value());
  EXPECT_EQ((*run)->status, engine::RunStatus::kFailed);
  EXPECT_EQ((*run)->error, "boom");
  EXPECT_EQ((*run)->started_at, start);
  EXPECT_EQ((*run)->finished_at, start + Duration(2500));
  EXPECT_EQ(*store_->LatestRunId(), id);
  EXPECT_FALSE(store_->GetRun(id + 100)->has_value());
}

TEST_F(StoreTest, ListsRunsNewestFirstWithFilters) {
  int64_t a = NewRun("main"), b = NewRun("dev"), c = NewRun("main");
  RunFilter all;
  std::vector<RunRecord> runs = *store_->ListRuns(all);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].id, c);
  RunFilter main_only;
  main_only.branch = "main";
  runs = *store_->ListRuns(main_only);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].id, a);
  RunFilter page;
  page.limit = 1;
  page.before_id = c;
  runs = *store_->ListRuns(page);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id, b);
}

TEST_F(StoreTest, JobsStepsTestsAndArtifacts) {
  int64_t run = NewRun();
  JobRecord job;
  job.run_id = run;
  job.name = "test";
  job.needs = {"lint"};
  int64_t job_id = *store_->CreateJob(job);
  ASSERT_TRUE(store_->StartJob(job_id, TimePoint(Duration(1000))));
  StepRecord step;
  step.job_id = job_id;
  step.name = "unit tests";
  step.status = engine::StepStatus::kRunning;
  step.log_path = "runs/1/logs/0-test/1/0.log";
  step.id = *store_->CreateStep(step);
  step.status = engine::StepStatus::kFailed;
  step.exit_code = 2;
  step.duration_ms = 40;
  ASSERT_TRUE(store_->FinishStep(step));
  ASSERT_TRUE(store_->FinishJob(job_id, engine::JobStatus::kFailed, TimePoint(Duration(2000)),
                                1000, "step 'unit tests' failed: exit code 2"));
  ASSERT_TRUE(store_->AddJobWarning(job_id, "report is odd"));

  reports::TestCase failed;
  failed.name = "test_accuracy";
  failed.status = reports::TestStatus::kFailed;
  failed.message = "assert 0.5 > 0.9";
  ASSERT_TRUE(store_->SetTestResults(job_id, {failed, reports::TestCase{}}));
  ASSERT_TRUE(store_->AddArtifacts(job_id, {{job_id, "out/model/w.bin", 8, "sha256:ab", 0644}}));

  std::vector<JobRecord> jobs = *store_->GetJobs(run);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].status, engine::JobStatus::kFailed);
  EXPECT_EQ(jobs[0].needs, std::vector<std::string>{"lint"});
  EXPECT_EQ(jobs[0].warnings, std::vector<std::string>{"report is odd"});
  EXPECT_EQ(jobs[0].duration_ms, 1000);
  std::vector<StepRecord> steps = *store_->GetRunSteps(run);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].exit_code, 2);
  EXPECT_EQ(steps[0].log_path, "runs/1/logs/0-test/1/0.log");
  std::vector<TestRecord> tests = *store_->GetRunTestResults(run);
  ASSERT_EQ(tests.size(), 2u);
  EXPECT_EQ(tests[0].status, "failed");
  EXPECT_EQ(tests[0].message, "assert 0.5 > 0.9");
  // Replacing results of the same attempt does not duplicate them.
  ASSERT_TRUE(store_->SetTestResults(job_id, {failed}));
  EXPECT_EQ(store_->GetRunTestResults(run)->size(), 1u);
  EXPECT_EQ(store_->GetRunArtifacts(run)->at(0).digest, "sha256:ab");
}

TEST_F(StoreTest, DashboardQueriesReadLastAttemptsAndLatestRuns) {
  // Run 1 (main): test job fails at attempt 1, passes at attempt 2.
  // Run 2 (dev): passes. Run 3 (main): fails. Run 4 is another repo's.
  auto add_job = [&](int64_t run, int attempt, reports::TestStatus status) {
    JobRecord job;
    job.run_id = run;
    job.name = "test";
    job.attempt = attempt;
    int64_t id = *store_->CreateJob(job);
    reports::TestCase unit;
    unit.classname = "tests.test_model";
    unit.name = "test_accuracy";
    unit.status = status;
    reports::TestCase skipped;
    skipped.name = "test_slow";
    skipped.status = reports::TestStatus::kSkipped;
    EXPECT_TRUE(store_->SetTestResults(id, {unit, skipped}));
  };
  int64_t run1 = NewRun("main");
  add_job(run1, 1, reports::TestStatus::kFailed);
  add_job(run1, 2, reports::TestStatus::kPassed);
  int64_t run2 = NewRun("dev");
  add_job(run2, 1, reports::TestStatus::kPassed);
  int64_t run3 = NewRun("main");
  add_job(run3, 1, reports::TestStatus::kError);
  RunRecord other;
  other.repo = "other";
  other.branch = "main";
  other.event = "push";
  int64_t run4 = *store_->CreateRun(other);

  std::vector<RunRecord> latest = *store_->LatestRunPerBranch();
  ASSERT_EQ(latest.size(), 3u);
  EXPECT_EQ(latest[0].repo + "/" + latest[0].branch + "#" + std::to_string(latest[0].id),
            "digits/dev#" + std::to_string(run2));
  EXPECT_EQ(latest[1].id, run3);
  EXPECT_EQ(latest[2].id, run4);

  std::map<int64_t, Store::TestCounts> counts = *store_->CountRunTests(run1, run4);
  ASSERT_EQ(counts.size(), 3u);  // Run 4 has no tests.
  EXPECT_EQ(counts[run1].total, 2);  // Only the last attempt counts.
  EXPECT_EQ(counts[run1].passed, 1);
  EXPECT_EQ(counts[run1].failed, 0);
  EXPECT_EQ(counts[run1].skipped, 1);
  EXPECT_EQ(counts[run3].failed, 1);  // Errors count as failures.
  EXPECT_EQ(store_->CountRunTests(run2, run2)->size(), 1u);

  std::vector<Store::TestVerdict> verdicts = *store_->RecentTestVerdicts("digits", run3, 2);
  ASSERT_EQ(verdicts.size(), 4u);  // Runs 3 and 2, two tests each.
  EXPECT_EQ(verdicts[0].run_id, run3);
  EXPECT_EQ(verdicts[0].job, "test");
  EXPECT_EQ(verdicts[0].classname, "tests.test_model");
  EXPECT_EQ(verdicts[0].status, "error");
  EXPECT_EQ(verdicts[2].run_id, run2);
  verdicts = *store_->RecentTestVerdicts("digits", run1, 10);
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].status, "passed");  // Attempt 2's verdict.
  EXPECT_TRUE(store_->RecentTestVerdicts("nope", run4, 10)->empty());
}

TEST_F(StoreTest, ReopeningKeepsDataAndSchema) {
  int64_t id = NewRun();
  store_.reset();
  Result<std::unique_ptr<Store>> again = Store::Open(path_);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE((*again)->GetRun(id)->has_value());
}

TEST_F(StoreTest, RefusesADatabaseFromANewerTauon) {
  ASSERT_TRUE(store_->database().Execute("PRAGMA user_version = 999"));
  store_.reset();
  Result<std::unique_ptr<Store>> again = Store::Open(path_);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message.find("schema version 999, newer than this tauon"),
            std::string::npos);
}

}  // namespace
}  // namespace tauon::store
