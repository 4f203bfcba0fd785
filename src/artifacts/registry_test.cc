#include "artifacts/registry.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <thread>

#include "util/strings.h"

namespace tauon::artifacts {
namespace {

namespace fs = std::filesystem;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / ("registry_test_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    store_ = std::move(*store::Store::Open(root_ / "tauon.db"));
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(root_);
  }

  int Register(const std::string& branch, const std::string& metrics = "{}") {
    store::ModelVersionRecord version;
    version.name = "digits";
    version.branch = branch;
    version.metrics = metrics;
    version.params = "{}";
    version.files = "[]";
    version.run_id = 1;
    store::RunRecord run;
    run.repo = "r";
    run.commit = "c";
    run.event = "push";
    run.created_at = clock_.Now();
    version.run_id = *store_->CreateRun(run);
    Result<int> number = store_->RegisterModelVersion(version);
    EXPECT_TRUE(number.has_value());
    return number.value_or(0);
  }

  fs::path root_;
  std::unique_ptr<store::Store> store_;
  FakeClock clock_;
};

TEST_F(RegistryTest, ParsesReferences) {
  EXPECT_EQ(ParseModelRef("digits")->name, "digits");
  EXPECT_EQ(ParseModelRef("digits@3")->version, 3);
  EXPECT_EQ(ParseModelRef("digits@production")->alias, "production");
  EXPECT_EQ(ParseModelRef("digits@").error().message,
            "invalid model 'digits@': expected NAME, NAME@VERSION or NAME@ALIAS");
  EXPECT_EQ(ParseModelRef("@3").error().message,
            "invalid model '@3': expected NAME, NAME@VERSION or NAME@ALIAS");
  EXPECT_EQ(ParseModelRef("digits@0").error().message, "invalid model version '0'");
}

TEST_F(RegistryTest, VersionsCountUpPerName) {
  EXPECT_EQ(Register("main"), 1);
  EXPECT_EQ(Register("main"), 2);
  EXPECT_EQ(ResolveModel(*store_, *ParseModelRef("digits"))->version, 2);
  EXPECT_EQ(ResolveModel(*store_, *ParseModelRef("digits@1"))->version, 1);
  EXPECT_EQ(ResolveModel(*store_, *ParseModelRef("digits@7")).error().message,
            "model 'digits' has no version 7");
  EXPECT_EQ(ResolveModel(*store_, *ParseModelRef("other")).error().message,
            "no model named 'other'");
}

TEST_F(RegistryTest, ConcurrentRegistrationsGetDistinctVersions) {
  // Each thread is a separate process's connection to the same database.
  constexpr int kThreads = 4, kEach = 10;
  store::RunRecord run;
  run.repo = "r";
  run.commit = "c";
  run.event = "push";
  run.created_at = clock_.Now();
  const int64_t run_id = *store_->CreateRun(run);
  std::vector<std::thread> threads;
  std::vector<std::vector<int>> numbers(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<store::Store> store = std::move(*store::Store::Open(root_ / "tauon.db"));
      for (int i = 0; i < kEach; ++i) {
        store::ModelVersionRecord version;
        version.name = "digits";
        version.metrics = version.params = "{}";
        version.files = "[]";
        version.run_id = run_id;
        Result<int> number = store->RegisterModelVersion(version);
        EXPECT_TRUE(number.has_value()) << number.error().message;
        if (number) numbers[t].push_back(*number);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<int> all;
  for (const auto& of_thread : numbers) all.insert(of_thread.begin(), of_thread.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kEach);
}

TEST_F(RegistryTest, AliasesMoveAndKeepTheirHistory) {
  Register("main");
  Register("main");
  ASSERT_TRUE(store_->SetModelAlias("digits", "production", 1, clock_.Now(), "alice"));
  clock_.Advance(Duration(1000));
  ASSERT_TRUE(store_->SetModelAlias("digits", "production", 2, clock_.Now(), "bob"));
  EXPECT_EQ((*store_->GetModelAliases("digits"))["production"], 2);
  EXPECT_EQ(ResolveModel(*store_, *ParseModelRef("digits@production"))->version, 2);
  std::vector<store::AliasRecord> history = *store_->GetModelAliasHistory("digits");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].version, 1);
  EXPECT_EQ(history[0].set_by, "alice");
  EXPECT_EQ(history[1].version, 2);
  EXPECT_EQ(ResolveModel(*store_, *ParseModelRef("digits@staging")).error().message,
            "model 'digits' has no alias 'staging'");
}

TEST_F(RegistryTest, BaselineIsProductionThenStagingThenTheDefaultBranch) {
  EXPECT_FALSE(SelectBaseline(*store_, "digits", "main")->has_value());  // Nothing yet.
  Register("feature");  // 1
  EXPECT_FALSE(SelectBaseline(*store_, "digits", "main")->has_value());
  Register("main");  // 2
  Register("main");  // 3
  Register("feature");  // 4
  EXPECT_EQ((*SelectBaseline(*store_, "digits", "main"))->version, 3);
  ASSERT_TRUE(store_->SetModelAlias("digits", "staging", 1, clock_.Now(), "x"));
  EXPECT_EQ((*SelectBaseline(*store_, "digits", "main"))->version, 1);
  ASSERT_TRUE(store_->SetModelAlias("digits", "production", 2, clock_.Now(), "x"));
  EXPECT_EQ((*SelectBaseline(*store_, "digits", "main"))->version, 2);
}

TEST_F(RegistryTest, BaselineMetricsOfTheSameJobElseMerged) {
  store::ModelVersionRecord version;
  version.metrics = R"json({"evaluate (split=holdout)": {"accuracy": 0.97},
                        "evaluate (split=validation)": {"accuracy": 0.98, "f1": 0.9}})json";
  EXPECT_EQ(BaselineMetricsFor(version, "evaluate (split=holdout)"),
            (reports::Metrics{{"accuracy", 0.97}}));
  reports::Metrics merged = BaselineMetricsFor(version, "evaluate (split=test)");
  EXPECT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged["f1"], 0.9);
}

TEST_F(RegistryTest, RegisteringARunWithoutTheModelFilesFails) {
  store::RunRecord run;
  run.repo = "r";
  run.commit = "c";
  run.event = "push";
  run.created_at = clock_.Now();
  int64_t run_id = *store_->CreateRun(run);
  spec::ModelSpec model{"digits", "out/model/", std::nullopt, {}};
  Result<store::ModelVersionRecord> version =
      RegisterRunModel(*store_, root_ / "artifacts", root_, model, {run_id, "r", "c", "main", "a", clock_.Now()});
  ASSERT_FALSE(version.has_value());
  EXPECT_EQ(version.error().message,
            "model 'digits': no job stored files under 'out/model/' as artifacts (add "
            "'out/model/' to the artifacts of the job that writes it)");
}

TEST_F(RegistryTest, RegistersTheModelFilesMetricsAndParams) {
  store::RunRecord run;
  run.repo = "r";
  run.commit = "c0ffee";
  run.event = "push";
  run.created_at = clock_.Now();
  int64_t run_id = *store_->CreateRun(run);
  store::JobRecord train;
  train.run_id = run_id;
  train.name = "train";
  int64_t job_id = *store_->CreateJob(train);
  ASSERT_TRUE(store_->AddArtifacts(job_id, {{job_id, "out/model/w.npz", 10, "sha256:aa", 0644},
                                            {job_id, "out/other.txt", 1, "sha256:bb", 0644}}));
  ASSERT_TRUE(store_->SetJobMetrics(job_id, {{"accuracy", 0.97}}));
  std::ofstream(root_ / "params.json") << R"({"seed": 42})";
  spec::ModelSpec model{"digits", "out/model", std::string("params.json"), {}};
  Result<store::ModelVersionRecord> version = RegisterRunModel(
      *store_, root_ / "artifacts", root_, model, {run_id, "r", "c0ffee", "main", "a", clock_.Now()});
  ASSERT_TRUE(version.has_value()) << version.error().message;
  EXPECT_EQ(version->version, 1);
  EXPECT_EQ(version->files, R"([{"digest":"sha256:aa","path":"w.npz","size":10}])");
  EXPECT_EQ(version->metrics, R"({"train":{"accuracy":0.97}})");
  EXPECT_EQ(version->params, R"({"seed":42})");
  EXPECT_EQ(version->digest, "sha256:" + Sha256Hex(std::string("w.npz") + '\0' + "sha256:aa\n"));
}

}  // namespace
}  // namespace tauon::artifacts
