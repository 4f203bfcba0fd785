#include "engine/plan.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "spec/parser.h"

namespace tauon::engine {
namespace {

using Names = std::vector<std::string>;
using Indices = std::vector<size_t>;

// The jobs of DESIGN.md's example, without model and deploy.
constexpr std::string_view kDesignJobs = R"(jobs:
  lint:
    steps:
      - run: python3 -m pyflakes src tests
  test:
    steps:
      - name: unit tests
        run: python3 -m pytest -q --junitxml=out/junit.xml tests
    reports: { junit: out/junit.xml }
  train:
    needs: [lint, test]
    steps:
      - run: python3 src/train.py --out out/model
    artifacts: [out/model/]
  evaluate:
    needs: [train]
    matrix: { split: [validation, holdout] }
    steps:
      - run: python3 src/evaluate.py out/model --split ${{ matrix.split }} --out out/metrics.json
    metrics: out/metrics.json
)";

// Parses a pipeline that must be valid.
spec::Pipeline ParseValid(std::string_view source) {
  auto pipeline = spec::ParsePipeline(source);
  if (!pipeline) {
    ADD_FAILURE() << spec::FormatDiagnostics(".tauon.yml", source, pipeline.error());
    return {};
  }
  return std::move(*pipeline);
}

// Plans a valid pipeline; a planning failure fails the test.
Plan PlanOf(std::string_view source, const std::vector<std::string>& only = {}) {
  Result<Plan> plan = BuildPlan(ParseValid(source), only);
  if (!plan) {
    ADD_FAILURE() << plan.error().message;
    return {};
  }
  return std::move(*plan);
}

// The message of a planning failure, or "planned".
std::string PlanError(std::string_view source, const std::vector<std::string>& only) {
  Result<Plan> plan = BuildPlan(ParseValid(source), only);
  return plan ? "planned" : plan.error().message;
}

Names JobNames(const Plan& plan) {
  Names names;
  for (const PlannedJob& job : plan.jobs) names.push_back(job.name);
  return names;
}

// Names of the jobs at `indices` of `plan`.
Names NamesAt(const Plan& plan, const Indices& indices) {
  Names names;
  for (size_t i : indices) names.push_back(i < plan.jobs.size() ? plan.jobs[i].name : "?");
  return names;
}

TEST(ExpandedNameTest, ListsTheValuesInAxisOrder) {
  EXPECT_EQ(ExpandedName("evaluate", {{"split", "holdout"}, {"seed", "1"}}),
            "evaluate (split=holdout, seed=1)");
  EXPECT_EQ(ExpandedName("evaluate", {{"split", "holdout"}}), "evaluate (split=holdout)");
  EXPECT_EQ(ExpandedName("lint", {}), "lint");
}

TEST(PlanTest, JobsWithoutMatrixKeepTheirNames) {
  Plan plan = PlanOf(R"(jobs:
  lint:
    steps: [{run: make lint}]
)");
  ASSERT_EQ(plan.jobs.size(), 1u);
  EXPECT_EQ(plan.jobs[0].name, "lint");
  EXPECT_TRUE(plan.jobs[0].matrix.empty());
  EXPECT_EQ(plan.jobs[0].spec.name, "lint");
  EXPECT_EQ(plan.jobs[0].spec.steps[0].run, "make lint");
}

TEST(PlanTest, MatrixExpandsLastAxisFastest) {
  Plan plan = PlanOf(R"(jobs:
  evaluate:
    matrix: { split: [validation, holdout], seed: [1, 2, 3] }
    steps: [{run: "evaluate --split ${{ matrix.split }} --seed ${{ matrix.seed }}"}]
)");
  EXPECT_EQ(JobNames(plan), (Names{
                                "evaluate (split=validation, seed=1)",
                                "evaluate (split=validation, seed=2)",
                                "evaluate (split=validation, seed=3)",
                                "evaluate (split=holdout, seed=1)",
                                "evaluate (split=holdout, seed=2)",
                                "evaluate (split=holdout, seed=3)",
                            }));
  ASSERT_EQ(plan.jobs.size(), 6u);
  using Values = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(plan.jobs[3].matrix, (Values{{"split", "holdout"}, {"seed", "1"}}));
  EXPECT_EQ(plan.jobs[3].spec.steps[0].run, "evaluate --split holdout --seed 1");
  EXPECT_EQ(plan.jobs[3].spec.name, "evaluate");
  EXPECT_EQ(plan.jobs[3].spec.matrix.size(), 2u);
}

TEST(PlanTest, MatrixValuesAreSubstitutedEverywhere) {
  Plan plan = PlanOf(R"(jobs:
  evaluate:
    matrix: { split: [holdout] }
    env: { SPLIT: "${{ matrix.split }}", FIXED: "x" }
    services:
      db:
        run: db --name ${{ matrix.split }}
        readiness: db-ready ${{ matrix.split }}
        env: { DB: "db-${{ matrix.split }}" }
    steps:
      - name: evaluate ${{ matrix.split }}
        run: evaluate ${{ matrix.split }}
        env: { OUT: "out/${{ matrix.split }}" }
      - run: |
          echo ${{matrix.split}}-${{ matrix.split }}
          echo $HOME ${HOME} done
    artifacts: ["out/${{ matrix.split }}/model"]
    reports: { junit: "out/${{ matrix.split }}.xml" }
    metrics: out/${{ matrix.split }}.json
)");
  ASSERT_EQ(plan.jobs.size(), 1u);
  const spec::Job& job = plan.jobs[0].spec;
  EXPECT_EQ(job.env, (spec::EnvList{{"SPLIT", "holdout"}, {"FIXED", "x"}}));
  ASSERT_EQ(job.services.size(), 1u);
  EXPECT_EQ(job.services[0].run, "db --name holdout");
  EXPECT_EQ(job.services[0].readiness, "db-ready holdout");
  EXPECT_EQ(job.services[0].env, (spec::EnvList{{"DB", "db-holdout"}}));
  ASSERT_EQ(job.steps.size(), 2u);
  EXPECT_EQ(job.steps[0].name, "evaluate holdout");
  EXPECT_EQ(job.steps[0].run, "evaluate holdout");
  EXPECT_EQ(job.steps[0].env, (spec::EnvList{{"OUT", "out/holdout"}}));
  // The default name comes from `run` and is substituted too.
  EXPECT_EQ(job.steps[1].name, "echo holdout-holdout");
  EXPECT_EQ(job.steps[1].run, "echo holdout-holdout\necho $HOME ${HOME} done\n");
  EXPECT_EQ(job.artifacts, (Names{"out/holdout/model"}));
  EXPECT_EQ(job.junit, "out/holdout.xml");
  EXPECT_EQ(job.metrics, "out/holdout.json");
}

TEST(PlanTest, NeedsOnAMatrixJobMeanAllItsExpansions) {
  Plan plan = PlanOf(R"(jobs:
  train:
    steps: [{run: x}]
  evaluate:
    needs: [train]
    matrix: { split: [validation, holdout] }
    steps: [{run: x}]
  report:
    needs: [evaluate]
    steps: [{run: x}]
)");
  ASSERT_EQ(JobNames(plan),
            (Names{"train", "evaluate (split=validation)", "evaluate (split=holdout)", "report"}));
  EXPECT_EQ(NamesAt(plan, plan.jobs[1].needs), (Names{"train"}));
  EXPECT_EQ(NamesAt(plan, plan.jobs[2].needs), (Names{"train"}));
  EXPECT_EQ(NamesAt(plan, plan.jobs[3].needs),
            (Names{"evaluate (split=validation)", "evaluate (split=holdout)"}));
  EXPECT_EQ(plan.jobs[3].upstream, (Indices{0, 1, 2}));
}

TEST(PlanTest, UpstreamIsEveryJobNeededInPlanOrder) {
  Plan plan = PlanOf(kDesignJobs);
  ASSERT_EQ(JobNames(plan), (Names{"lint", "test", "train", "evaluate (split=validation)",
                                   "evaluate (split=holdout)"}));
  EXPECT_TRUE(plan.jobs[0].needs.empty());
  EXPECT_TRUE(plan.jobs[0].upstream.empty());
  EXPECT_EQ(plan.jobs[2].needs, (Indices{0, 1}));
  EXPECT_EQ(plan.jobs[2].upstream, (Indices{0, 1}));
  EXPECT_EQ(plan.jobs[4].needs, (Indices{2}));
  EXPECT_EQ(plan.jobs[4].upstream, (Indices{0, 1, 2}));
}

TEST(PlanTest, UpstreamHasNoDuplicatesForDiamonds) {
  Plan plan = PlanOf(R"(jobs:
  base:
    steps: [{run: x}]
  left:
    needs: base
    steps: [{run: x}]
  right:
    needs: base
    steps: [{run: x}]
  top:
    needs: [right, left]
    steps: [{run: x}]
)");
  ASSERT_EQ(JobNames(plan), (Names{"base", "left", "right", "top"}));
  // Direct needs keep the order written; upstream is in plan order.
  EXPECT_EQ(plan.jobs[3].needs, (Indices{2, 1}));
  EXPECT_EQ(plan.jobs[3].upstream, (Indices{0, 1, 2}));
}

TEST(PlanTest, OrderIsTheFileOrderWhenNeedsAllowIt) {
  Plan plan = PlanOf(R"(jobs:
  c:
    steps: [{run: x}]
  a:
    steps: [{run: x}]
  b:
    needs: [a]
    steps: [{run: x}]
  d:
    steps: [{run: x}]
)");
  EXPECT_EQ(JobNames(plan), (Names{"c", "a", "b", "d"}));
}

TEST(PlanTest, JobsComeAfterWhatTheyNeed) {
  // Jobs are placed in rounds: each round takes, in file order, every job
  // whose needs are already placed.
  Plan plan = PlanOf(R"(jobs:
  report:
    needs: [evaluate]
    steps: [{run: x}]
  evaluate:
    needs: [train]
    steps: [{run: x}]
  train:
    steps: [{run: x}]
  lint:
    steps: [{run: x}]
)");
  EXPECT_EQ(JobNames(plan), (Names{"train", "lint", "evaluate", "report"}));
  EXPECT_EQ(NamesAt(plan, plan.jobs[3].upstream), (Names{"train", "evaluate"}));
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    for (size_t need : plan.jobs[i].needs) EXPECT_LT(need, i) << plan.jobs[i].name;
  }
}

TEST(PlanTest, FindByExpandedName) {
  Plan plan = PlanOf(kDesignJobs);
  ASSERT_NE(plan.Find("evaluate (split=holdout)"), nullptr);
  EXPECT_EQ(plan.Find("evaluate (split=holdout)"), &plan.jobs[4]);
  EXPECT_EQ(plan.Find("train"), &plan.jobs[2]);
  EXPECT_EQ(plan.Find("evaluate"), nullptr);
}

TEST(PlanTest, OnlyByJobNameKeepsWhatItNeeds) {
  Plan plan = PlanOf(kDesignJobs, {"train"});
  EXPECT_EQ(JobNames(plan), (Names{"lint", "test", "train"}));
  EXPECT_EQ(plan.jobs[2].needs, (Indices{0, 1}));
  EXPECT_EQ(plan.jobs[2].upstream, (Indices{0, 1}));
}

TEST(PlanTest, OnlyByJobNameTakesEveryExpansion) {
  Plan plan = PlanOf(kDesignJobs, {"evaluate"});
  EXPECT_EQ(JobNames(plan), (Names{"lint", "test", "train", "evaluate (split=validation)",
                                   "evaluate (split=holdout)"}));
}

TEST(PlanTest, OnlyByExpandedNameRenumbers) {
  Plan plan = PlanOf(R"(jobs:
  train:
    steps: [{run: x}]
  lint:
    steps: [{run: x}]
  evaluate:
    needs: [train]
    matrix: { split: [validation, holdout] }
    steps: [{run: x}]
)",
                     {"evaluate (split=holdout)"});
  ASSERT_EQ(JobNames(plan), (Names{"train", "evaluate (split=holdout)"}));
  EXPECT_EQ(plan.jobs[1].needs, (Indices{0}));
  EXPECT_EQ(plan.jobs[1].upstream, (Indices{0}));
}

TEST(PlanTest, OnlyRenumbersNeedsAndUpstream) {
  Plan plan = PlanOf(R"(jobs:
  a:
    steps: [{run: x}]
  unrelated:
    steps: [{run: x}]
  b:
    needs: [a]
    steps: [{run: x}]
  other:
    steps: [{run: x}]
  c:
    needs: [b]
    steps: [{run: x}]
)",
                     {"c"});
  ASSERT_EQ(JobNames(plan), (Names{"a", "b", "c"}));
  EXPECT_EQ(plan.jobs[1].needs, (Indices{0}));
  EXPECT_EQ(plan.jobs[2].needs, (Indices{1}));
  EXPECT_EQ(plan.jobs[2].upstream, (Indices{0, 1}));
}

TEST(PlanTest, OnlySeveralNames) {
  Plan plan = PlanOf(kDesignJobs, {"test", "lint", "test"});
  EXPECT_EQ(JobNames(plan), (Names{"lint", "test"}));
}

TEST(PlanTest, OnlyUnknownNameSuggestsClosest) {
  EXPECT_EQ(PlanError(kDesignJobs, {"evalute"}),
            "no job named 'evalute' in the pipeline (did you mean 'evaluate'?)");
}

TEST(PlanTest, OnlyUnknownNameListsTheJobs) {
  EXPECT_EQ(PlanError(kDesignJobs, {"deploy"}),
            "no job named 'deploy' in the pipeline (jobs: lint, test, train, evaluate)");
}

TEST(PlanTest, MatrixValueThatEscapesTheWorkspaceIsRefused) {
  EXPECT_EQ(PlanError(R"(
jobs:
  test:
    matrix: { dir: [out, ".."] }
    steps: [ { run: make } ]
    reports: { junit: "${{ matrix.dir }}/junit.xml" }
)", {}),
            "job 'test (dir=..)': reports.junit '../junit.xml' must stay inside the workspace");
  EXPECT_EQ(PlanError(R"(
jobs:
  build:
    matrix: { root: ["/etc"] }
    steps: [ { run: make } ]
    artifacts: ["${{ matrix.root }}/passwd"]
)", {}),
            "job 'build (root=/etc)': artifact path '/etc/passwd' must stay inside the workspace");
}

TEST(PlanTest, CycleInAHandBuiltPipelineFails) {
  // ParsePipeline rejects cycles; BuildPlan still never loops on one.
  spec::Pipeline pipeline;
  pipeline.jobs.resize(2);
  pipeline.jobs[0].name = "a";
  pipeline.jobs[0].needs = {"b"};
  pipeline.jobs[1].name = "b";
  pipeline.jobs[1].needs = {"a"};
  Result<Plan> plan = BuildPlan(pipeline);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message, "the pipeline's needs form a cycle");
}

}  // namespace
}  // namespace tauon::engine

namespace tauon::engine {
namespace {

TEST(PlanTest, DefaultStepNamesComeFromTheSubstitutedCommand) {
  Plan plan = PlanOf(R"(
jobs:
  eval:
    matrix: { split: [holdout] }
    steps: [ { run: "python3 evaluate.py --split ${{ matrix.split }} --out out/metrics.json" } ]
)");
  EXPECT_EQ(plan.jobs[0].spec.steps[0].name,
            "python3 evaluate.py --split holdout --out out/metrics.json");
}

}  // namespace
}  // namespace tauon::engine
