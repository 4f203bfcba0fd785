#include "runs/recorder.h"

#include <gtest/gtest.h>

#include "spec/parser.h"

namespace tauon::runs {
namespace {

namespace fs = std::filesystem;

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / ("recorder_test_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    layout_ = std::make_unique<DataLayout>(root_);
    store_ = std::move(*store::Store::Open(layout_->database()));
    observer_ = std::move(*store::Store::Open(layout_->database()));  // Another connection.
    auto pipeline = spec::ParsePipeline("jobs: { a: { steps: [ { run: x } ] } }");
    plan_ = std::move(*engine::BuildPlan(*pipeline));
    store::RunRecord run;
    run.repo = "r";
    run.commit = "c";
    run.event = "push";
    run.created_at = clock_.Now();
    run_id_ = *store_->CreateRun(run);
  }
  void TearDown() override {
    store_.reset();
    observer_.reset();
    fs::remove_all(root_);
  }

  // The job's status as another connection sees it: what is committed.
  std::string CommittedStatus() {
    return std::string(engine::Name((*observer_->GetJobs(run_id_))[0].status));
  }

  fs::path root_;
  std::unique_ptr<DataLayout> layout_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Store> observer_;
  engine::Plan plan_;
  FakeClock clock_;
  int64_t run_id_ = 0;
};

TEST_F(RecorderTest, CommitsAtMostOncePerIntervalAndSaysWhenAgain) {
  RunRecorder recorder(*store_, *layout_, run_id_, plan_, clock_, Duration(10));
  ASSERT_TRUE(recorder.CreateJobs().has_value());
  recorder.JobStarted(0, 1, clock_.Now());
  EXPECT_EQ(recorder.Flush(false), std::nullopt);  // The first commit goes at once.
  EXPECT_EQ(CommittedStatus(), "running");

  clock_.Advance(Duration(3));
  engine::JobOutcome outcome{engine::JobStatus::kSuccess, clock_.Now(), clock_.Now(), "", false};
  recorder.JobFinished(0, 1, outcome);
  // Held back: the last commit was 3 ms ago.
  EXPECT_EQ(recorder.Flush(false), clock_.Now() + Duration(7));
  EXPECT_EQ(CommittedStatus(), "running");
  clock_.Advance(Duration(7));
  EXPECT_EQ(recorder.Flush(false), std::nullopt);
  EXPECT_EQ(CommittedStatus(), "success");
  EXPECT_FALSE(recorder.error().has_value());
}

TEST_F(RecorderTest, OutputCommitsTheStateBeforeIt) {
  // The console prints output at once, so the state it follows must be durable.
  RunRecorder recorder(*store_, *layout_, run_id_, plan_, clock_, Duration(1000));
  ASSERT_TRUE(recorder.CreateJobs().has_value());
  recorder.Flush(false);
  recorder.JobStarted(0, 1, clock_.Now());
  EXPECT_EQ(CommittedStatus(), "pending");
  recorder.StepOutput(0, 1, 0, "hello\n");
  EXPECT_EQ(CommittedStatus(), "running");
}

TEST_F(RecorderTest, WithoutAnIntervalEveryFlushCommits) {
  RunRecorder recorder(*store_, *layout_, run_id_, plan_, clock_);
  ASSERT_TRUE(recorder.CreateJobs().has_value());
  recorder.JobStarted(0, 1, clock_.Now());
  EXPECT_EQ(recorder.Flush(false), std::nullopt);
  recorder.JobFinished(
      0, 1, engine::JobOutcome{engine::JobStatus::kFailed, clock_.Now(), clock_.Now(), "x", false});
  EXPECT_EQ(recorder.Flush(false), std::nullopt);
  EXPECT_EQ(CommittedStatus(), "failed");
}

}  // namespace
}  // namespace tauon::runs
